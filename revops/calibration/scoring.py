"""Lead scoring learned from the warehouse's own history (docs/decisions.md, Calibrated scoring).

Examples are cut from the past: at each cut-off of `int_signal_features_dated` (30, 37, 44 ... days before as_of)
a lead's features are the ones the lead score uses, as the warehouse could know them then (signals up to the
cut-off; a fit field unknown before its source was first seen), and the label is whether the warehouse later saw
an opportunity for them within the label window (dbt var scoring_label_window_days, 30 days): a deal on one of
their CRM contacts, or a deal of their account that names no contact. Only leads known at the cut-off (an email,
CRM contact or prospect) without a deal by then are examples.

scikit-learn's L2 logistic regression with a trend term (the pool of leads not yet converted thins out; the term
is 0 at as_of, so the scores carry it in their intercept) is fitted with C chosen by time-ordered cross-validation;
the latest cut-off is held out and scored by the model of every earlier one. Isotonic regression on the latest
out-of-time predictions calibrates the probabilities, written as segments the models interpolate (a Platt sigmoid
left a bin of 250 people 0.06 off on M). The model goes back into the seeds' units, so lead_score keeps its form
(fit 0-50 + capped intent) and its reasons stay contributions in points: a fit level earns (coefficient − the
dimension's lowest) × k points, a signal type weighs coefficient × k, with k chosen so the best fit is 50 points;
the rest of the log-odds is the intercept. A signal type whose coefficient comes out negative is dropped (weight 0)
and the model refitted, so points only ever add.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl

from revops.warehouse import frame

DIMENSIONS = ("employees", "industry", "territory", "seniority")
UNKNOWN = "(unknown)"  # the level of a field the warehouse does not know (icp_rules_calibrated's match_value)
C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)  # inverse L2 strengths tried by the time-ordered CV (log-spaced)
MIN_HISTORY_DAYS = 21  # a cut-off needs this much history before it: 3 half-lives of the 7-day intent signals


def dbt_var(name: str):
    """A var of dbt_project.yml, so the Python scoring uses the numbers the models use (intent_cap, grade bands)."""
    import yaml

    from revops import settings

    return yaml.safe_load((settings.REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"][name]


class CalibrationError(ValueError):
    """Too little history to learn from; the message says what is missing."""


def _band_key(lo, hi) -> str:
    return f"{lo}-{'' if hi is None else hi}"


def fit_levels(con, icp: pl.DataFrame) -> pl.DataFrame:
    """person_id and, per dimension, the ICP rule level the person falls in (UNKNOWN when no rule matches), as
    int_persons_fit_scored matches them; with the times the warehouse first knew the person as a lead, their
    account and their title (int_persons_profiled)."""
    fit = frame(con, """select person_id, employee_count, industry, territory, seniority, lead_known_at,
                               account_known_at, title_known_at from int_persons_fit_scored""")
    band = pl.lit(UNKNOWN)
    bands = icp.filter((pl.col("dimension") == "employees") & pl.col("min_value").is_not_null())
    for lo, hi in bands.sort("min_value", descending=True).select("min_value", "max_value").rows():
        cond = pl.col("employee_count") >= lo
        if hi is not None:
            cond = cond & (pl.col("employee_count") <= hi)
        band = pl.when(cond).then(pl.lit(_band_key(lo, hi))).otherwise(band)
    cols = [band.alias("employees")]
    for d in DIMENSIONS[1:]:
        values = icp.filter((pl.col("dimension") == d) & (pl.col("match_value") != UNKNOWN))["match_value"].to_list()
        cols.append(pl.when(pl.col(d).is_in(values)).then(pl.col(d)).otherwise(pl.lit(UNKNOWN)).alias(d))
    return fit.select("person_id", *cols, "lead_known_at", "account_known_at", "title_known_at")


def as_known_at(levels: pl.DataFrame, at) -> pl.DataFrame:
    """The fit levels as the warehouse could have known them at `at`: size and industry need the account, seniority
    the title, territory either (the account's country, else the contact's). A CRM contact created when a meeting
    was booked must not make the past look better informed than the present is."""
    def unknown(col):
        return pl.col(col).is_null() | (pl.col(col) > at)

    return levels.with_columns(
        employees=pl.when(unknown("account_known_at")).then(pl.lit(UNKNOWN)).otherwise("employees"),
        industry=pl.when(unknown("account_known_at")).then(pl.lit(UNKNOWN)).otherwise("industry"),
        seniority=pl.when(unknown("title_known_at")).then(pl.lit(UNKNOWN)).otherwise("seniority"),
        territory=pl.when(unknown("account_known_at") & unknown("title_known_at")).then(pl.lit(UNKNOWN))
        .otherwise("territory"))


def signal_features(con, cutoffs: list[int] | None = None) -> pl.DataFrame:
    """(person_id, cutoff_days_before_as_of) × decayed count per signal type, wide; only pairs with a signal."""
    where = "" if cutoffs is None else f"where cutoff_days_before_as_of in ({', '.join(str(int(c)) for c in cutoffs)})"
    long = frame(con, f"""
        select person_id, cutoff_days_before_as_of, signal_type, decayed_count
        from int_signal_features_dated {where}""")
    if long.height == 0:
        return pl.DataFrame(schema={"person_id": pl.String, "cutoff_days_before_as_of": pl.Int64})
    return long.pivot(on="signal_type", index=["person_id", "cutoff_days_before_as_of"], values="decayed_count")


@dataclass
class Design:
    """The feature matrix's columns: one per (dimension, level), then one per signal type."""

    levels: dict[str, list[str]]
    signal_types: list[str]

    @property
    def names(self) -> list[str]:
        return [f"{d}={v}" for d, vs in self.levels.items() for v in vs] + [f"signal={t}" for t in self.signal_types]

    def matrix(self, df: pl.DataFrame) -> np.ndarray:
        cols = [(df[d] == v).cast(pl.Float64).to_numpy() for d, vs in self.levels.items() for v in vs]
        cols += [(df[t].fill_null(0.0) if t in df.columns else pl.Series(np.zeros(df.height))).to_numpy()
                 for t in self.signal_types]
        return np.column_stack(cols) if cols else np.zeros((df.height, 0))


def design_for(icp: pl.DataFrame, signal_weights: pl.DataFrame) -> Design:
    levels = {"employees": [_band_key(lo, hi) for lo, hi in
                            icp.filter(pl.col("dimension") == "employees").select("min_value", "max_value").rows()
                            if lo is not None] + [UNKNOWN]}
    for d in DIMENSIONS[1:]:
        values = icp.filter((pl.col("dimension") == d) & (pl.col("match_value") != UNKNOWN))["match_value"].to_list()
        levels[d] = values + [UNKNOWN]
    return Design(levels=levels, signal_types=signal_weights["signal_type"].to_list())


def examples(con, window_days: int | None = None,
             min_history_days: int = MIN_HISTORY_DAYS) -> tuple[pl.DataFrame, list[int]]:
    """One row per (person, past cut-off): fit levels and signal features as of the cut-off, label y. The people are
    the leads the warehouse knew at the cut-off (an email, CRM contact or prospect seen by then) without a deal by
    then. Returns the rows and the cut-offs used (days before as_of, earliest first). The label window is the dbt
    var scoring_label_window_days unless given: the cut-offs of int_signal_features_dated are placed by it."""
    if window_days is None:
        window_days = int(dbt_var("scoring_label_window_days"))
    cut = frame(con, f"""
        select distinct cutoff_days_before_as_of as days, cutoff_at from int_signal_features_dated
        where cutoff_days_before_as_of >= {int(window_days)}""")
    # history begins with the signals: their first percentile, as a few records dated long before the rest (a
    # meeting booked before the first page view landed) would otherwise make a short history look long
    start = con.execute("select quantile_disc(signal_at, 0.01) from fct_signals").fetchall()[0][0]
    as_of = con.execute("select as_of from int_as_of_dated").fetchall()[0][0]
    if start is None or cut.height == 0:
        raise CalibrationError("no signals or no past cut-offs in int_signal_features_dated: nothing to learn from")
    history = (as_of - start).total_seconds() / 86400
    usable = sorted((d for d in cut["days"].to_list() if d <= history - min_history_days), reverse=True)
    if len(usable) < 3:
        raise CalibrationError(
            f"the warehouse holds {history:.0f} days of signals; calibration needs cut-offs with {min_history_days} "
            f"days of history before them and {window_days} days of outcomes after: at least "
            f"{window_days + min_history_days + 14} days (three cut-offs)")
    # a person's deals: the ones on their contacts; a deal naming no contact belongs to everyone at its account
    deals = frame(con, """
        with parties as (
            select deal_id, created_at, person_id, account_id, party_object from int_deals_resolved
        ),
        named as (
            select distinct deal_id from parties where party_object = 'contacts' and person_id is not null
        )
        select distinct parties.deal_id, parties.created_at, parties.person_id
        from parties where parties.party_object = 'contacts' and parties.person_id is not null
        union
        select distinct parties.deal_id, parties.created_at, persons.person_id
        from parties
        join dim_person persons on persons.account_id = parties.account_id
        where parties.party_object = 'companies' and parties.deal_id not in (select deal_id from named)""")
    icp = frame(con, "select * from config.icp_rules")
    levels = fit_levels(con, icp)
    feats = signal_features(con, usable)
    rows = []
    cut_at = dict(cut.select("days", "cutoff_at").rows())
    for days in usable:
        at = cut_at[days]
        end = at + timedelta(days=window_days)
        by_person = deals.group_by("person_id").agg(
            prior=(pl.col("created_at") <= at).any(),
            y=((pl.col("created_at") > at) & (pl.col("created_at") <= end)).any())
        known = as_known_at(levels.filter(pl.col("lead_known_at") <= at), at)
        part = (known
                .join(by_person, on="person_id", how="left")
                .filter(~pl.col("prior").fill_null(False))
                .join(feats.filter(pl.col("cutoff_days_before_as_of") == days).drop("cutoff_days_before_as_of"),
                      on="person_id", how="left")
                .with_columns(y=pl.col("y").fill_null(False).cast(pl.Int8), cutoff_days_before_as_of=pl.lit(days))
                .drop("prior", "lead_known_at", "account_known_at", "title_known_at"))
        rows.append(part)
    return pl.concat(rows, how="diagonal_relaxed"), usable


def _fit(X: np.ndarray, y: np.ndarray, C: float, signal_cols: list[int]):
    """L2 logistic regression; signal columns with a negative coefficient are dropped (fixed at 0) and the model
    refitted, so a signal never lowers a score. Returns (intercept, coefficients over all columns)."""
    from sklearn.linear_model import LogisticRegression

    active = np.ones(X.shape[1], dtype=bool)
    while True:
        model = LogisticRegression(C=C, max_iter=2000)
        model.fit(X[:, active], y)
        coef = np.zeros(X.shape[1])
        coef[active] = model.coef_[0]
        negative = [c for c in signal_cols if active[c] and coef[c] < 0]
        if not negative:
            return float(model.intercept_[0]), coef
        active[negative] = False


def _logit(X: np.ndarray, intercept: float, coef: np.ndarray) -> np.ndarray:
    return intercept + X @ coef


def _isotonic(z: np.ndarray, y: np.ndarray) -> pl.DataFrame:
    """The monotone calibration curve from logit to probability (scikit-learn's isotonic regression) as segments:
    p rises linearly from p_from to p_to over [logit_from, logit_to); the first and last are open-ended and flat."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(z, y)
    x, p = iso.X_thresholds_.astype(float), iso.y_thresholds_.astype(float)
    return pl.DataFrame({
        "logit_from": [None, *x.tolist()], "logit_to": [*x.tolist(), None],
        "p_from": [p[0], *p.tolist()], "p_to": [p[0], *p[1:].tolist(), p[-1]],
    }, schema={"logit_from": pl.Float64, "logit_to": pl.Float64, "p_from": pl.Float64, "p_to": pl.Float64})


def apply_curve(curve: pl.DataFrame, z: np.ndarray) -> np.ndarray:
    """p for each logit by the curve, as fct_lead_scores computes it."""
    inner = curve.filter(pl.col("logit_from").is_not_null() & pl.col("logit_to").is_not_null())
    x = np.r_[inner["logit_from"].to_numpy(), inner["logit_to"].to_numpy()[-1:]] if inner.height else \
        curve.filter(pl.col("logit_from").is_not_null())["logit_from"].to_numpy()
    p = np.r_[inner["p_from"].to_numpy(), inner["p_to"].to_numpy()[-1:]] if inner.height else \
        curve.filter(pl.col("logit_from").is_not_null())["p_from"].to_numpy()
    return np.interp(np.asarray(z, dtype=float), x, p)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def calibrate(con, window_days: int | None = None, min_history_days: int = MIN_HISTORY_DAYS,
              write: bool = True) -> dict:
    from revops.evaluation.scoring import auc_numpy, brier, reliability

    if window_days is None:
        window_days = int(dbt_var("scoring_label_window_days"))
    df, cutoffs = examples(con, window_days, min_history_days)
    icp = frame(con, "select * from config.icp_rules")
    signal_weights = frame(con, "select * from config.signal_weights")
    design = design_for(icp, signal_weights)
    cut = df["cutoff_days_before_as_of"].to_numpy()
    # a trend term, in units of 30 days before as_of (0 at as_of, so the scores carry it in their intercept): the
    # leads left without an opportunity convert less as the earlier converters leave the pool (on M 9.9 % of them
    # at 65 days before as_of, 8.6 % at 30, 7.7 % after as_of), and the model must extrapolate that to now
    X = np.column_stack([design.matrix(df), -cut / 30.0])
    y = df["y"].to_numpy().astype(int)
    if y.sum() < 20:
        raise CalibrationError(f"only {int(y.sum())} opportunities followed a past cut-off: too few to learn from")
    n_design = len(design.names)
    signal_cols = list(range(n_design - len(design.signal_types), n_design))
    holdout = cutoffs[-1]  # the latest past cut-off (days before as_of, smallest)
    dev = cutoffs[:-1]

    def fit_predict(train, predict, C):
        b, w = _fit(X[train], y[train], C, signal_cols)
        return _logit(X[predict], b, w)

    # time-ordered CV: validate on each dev cut-off with a model trained on every earlier one
    folds = [(np.isin(cut, dev[:i]), cut == dev[i]) for i in range(1, len(dev))]
    cv = {C: float(np.mean([_log_loss(sigmoid(fit_predict(train, val, C)), y[val]) for train, val in folds]))
          for C in C_GRID}
    best_C = min(cv, key=cv.get)
    # calibration curves come from the latest out-of-time predictions: the trend moves older ones off
    latest_dev = cut == dev[-1]
    curve_dev = _isotonic(fit_predict(np.isin(cut, dev[:-1]), latest_dev, best_C), y[latest_dev])
    # the held-out period: the latest cut-off, scored by the model of every earlier one and the curve fitted before
    # it. Their label windows overlap its own in time (a 30-day window, cut-offs 7 days apart), but they are other
    # moments' examples: a model of some forty features shared by every lead cannot remember a person. (Purging the
    # overlap left one cut-off to learn from, whose model could not learn the trend: AUC 0.70, gaps of 0.1.)
    z_hold = fit_predict(np.isin(cut, dev), cut == holdout, best_C)
    y_hold = y[cut == holdout]
    p_hold = apply_curve(curve_dev, z_hold)
    held_out = {"cutoff_days_before_as_of": holdout, "people": int(len(y_hold)), "positives": int(y_hold.sum()),
                "trained_on": dev, "auc": auc_numpy(p_hold, y_hold), "brier": brier(p_hold, y_hold),
                "reliability": reliability(p_hold, y_hold)}
    # the model written: every cut-off; its curve from the held-out cut-off's out-of-time predictions
    intercept, coef_all = _fit(X, y, best_C, signal_cols)
    coef, trend = coef_all[:n_design], float(coef_all[n_design])
    curve = _isotonic(z_hold, y_hold)
    coefs = dict(zip(design.names, coef))
    lowest = {d: min(coefs[f"{d}={v}"] for v in vs) for d, vs in design.levels.items()}
    span = sum(max(coefs[f"{d}={v}"] for v in vs) - lowest[d] for d, vs in design.levels.items())
    k = 50.0 / span if span > 0 else 1.0
    intercept_log_odds = intercept + sum(lowest.values())

    def level_points(row) -> float:
        d = row["dimension"]
        key = f"{d}={_band_key(row['min_value'], row['max_value'])}" if d == "employees" and row["match_value"] != UNKNOWN \
            else f"{d}={row['match_value']}"
        return round((coefs[key] - lowest[d]) * k, 6)

    icp_rules = icp.filter(pl.col("match_value").is_null() | (pl.col("match_value") != UNKNOWN))
    icp_rules = pl.concat([icp_rules, pl.DataFrame({"dimension": list(DIMENSIONS), "match_value": [UNKNOWN] * 4})],
                          how="diagonal_relaxed")
    icp_cal = icp_rules.with_columns(points=pl.Series([level_points(r) for r in icp_rules.iter_rows(named=True)],
                                                      dtype=pl.Float64))
    sw_cal = signal_weights.with_columns(weight=pl.Series(
        [round(coefs[f"signal={t}"] * k, 6) for t in signal_weights["signal_type"]], dtype=pl.Float64))
    model = pl.DataFrame({
        "intercept_log_odds": [intercept_log_odds], "points_per_log_odds": [k],
        "calibration": ["isotonic"], "curve_segments": [curve.height], "regularization_c": [best_C],
        "label_window_days": [window_days], "cutoffs_days_before_as_of": [",".join(map(str, cutoffs))],
        "trend_log_odds_per_30_days": [trend],
        "examples": [int(len(y))], "positives": [int(y.sum())],
        "holdout_auc": [held_out["auc"]], "holdout_brier": [held_out["brier"]],
        "fitted_at": [datetime.now(timezone.utc)],
    })
    if write:
        con.execute("create schema if not exists config")
        con.execute("begin transaction")
        for name, table in (("icp_rules_calibrated", icp_cal), ("signal_weights_calibrated", sw_cal),
                            ("scoring_model_calibrated", model), ("scoring_curve_calibrated", curve)):
            con.register("_calibrated", table)
            con.execute(f"create or replace table config.{name} as select * from _calibrated")
            con.unregister("_calibrated")
        con.execute("commit")
    return {"examples": int(len(y)), "positives": int(y.sum()), "cutoffs": cutoffs, "window_days": window_days,
            "cv_log_loss": cv, "regularization_c": best_C, "trend_log_odds_per_30_days": trend,
            "points_per_log_odds": k, "intercept_log_odds": intercept_log_odds, "curve": curve,
            "held_out": held_out, "coefficients": coefs, "icp_rules": icp_cal, "signal_weights": sw_cal}


@dataclass
class ScoringModel:
    """A weight set applied in Python to the features at a cut-off, as the dbt models apply it (tests keep the two
    equal): fit points by level, signal weights, intent cap; and, when calibrated, the logit and the calibration curve."""

    icp: pl.DataFrame
    signal_weights: pl.DataFrame
    intent_cap: float = 50.0
    model: dict | None = None
    curve: pl.DataFrame | None = None

    @classmethod
    def from_warehouse(cls, con, calibrated: bool, intent_cap: float | None = None) -> "ScoringModel":
        suffix = "_calibrated" if calibrated else ""
        model = frame(con, "select * from config.scoring_model_calibrated").row(0, named=True) if calibrated else None
        curve = frame(con, "select * from config.scoring_curve_calibrated") if calibrated else None
        return cls(frame(con, f"select * from config.icp_rules{suffix}"),
                   frame(con, f"select * from config.signal_weights{suffix}"),
                   float(dbt_var("intent_cap") if intent_cap is None else intent_cap), model, curve)

    def fit_points(self, levels: pl.DataFrame) -> np.ndarray:
        total = np.zeros(levels.height)
        for d in DIMENSIONS:
            rules = self.icp.filter(pl.col("dimension") == d)
            if d == "employees":
                keys = [(_band_key(lo, hi) if mv != UNKNOWN else UNKNOWN, pts) for mv, lo, hi, pts in
                        rules.select("match_value", "min_value", "max_value", "points").rows()]
            else:
                keys = rules.select("match_value", "points").rows()
            table = dict(keys)
            total += np.array([table.get(v, table.get(UNKNOWN, 0.0)) or 0.0 for v in levels[d].to_list()])
        return total

    def intent_points(self, features: pl.DataFrame) -> np.ndarray:
        total = np.zeros(features.height)
        for t, wt in self.signal_weights.select("signal_type", "weight").rows():
            if t in features.columns:
                total += wt * features[t].fill_null(0.0).to_numpy()
        return total

    def score(self, levels_and_features: pl.DataFrame) -> dict[str, np.ndarray]:
        fit = self.fit_points(levels_and_features)
        intent = self.intent_points(levels_and_features)
        out = {"fit_score": fit, "intent_uncapped": intent, "lead_score": fit + np.minimum(self.intent_cap, intent)}
        if self.model:
            m = self.model
            z = m["intercept_log_odds"] + (fit + intent) / m["points_per_log_odds"]
            out["logit"] = z
            out["p_opportunity_30d"] = apply_curve(self.curve, z)
        return out


def has_calibrated_model(con) -> bool:
    return bool(con.execute("""select count(*) from information_schema.tables
                               where table_schema = 'config' and table_name = 'scoring_model_calibrated'""").fetchall()[0][0])


def describe_level(row: dict) -> str:
    if row["dimension"] == "employees" and row["match_value"] != UNKNOWN:
        return _band_key(row["min_value"], row["max_value"])
    return str(row["match_value"])

