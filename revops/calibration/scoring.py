"""Calibrate the scoring weights from past outcomes in the warehouse (issue 5's calibration step).

Features are taken as of `as_of - window_days`: the fit level of each ICP dimension (employees band, industry,
territory, seniority; unknown as its own level) and, per signal type, the decayed sum Σ 0.5^(age / half_life)
with the seed half-lives. The label is the outcome the warehouse itself saw afterwards: a deal created for the
person's contact or account in the next `window_days`. A ridge-penalised logistic regression (IRLS, numpy) gives
log-odds coefficients, turned back into the seeds' units so lead_score keeps its docs/decisions.md form: a fit level earns
(coefficient - coefficient of "unknown") × k points, a signal type weighs coefficient × k, with k chosen so the best
fit is 50 points; negative values become 0. The result is written to config.icp_rules_calibrated and
config.signal_weights_calibrated (the seeds' columns); `REVOPS_SCORING_WEIGHTS=calibrated` makes dbt read them."""

from __future__ import annotations

import numpy as np
import polars as pl

from revops.warehouse import frame

DIMENSIONS = ("employees", "industry", "territory", "seniority")


def _features(con, window_days: int) -> pl.DataFrame:
    fit = frame(con, """
        select f.person_id, f.employee_count, f.industry, f.territory, f.seniority
        from int_persons_fit_scored f""")
    bands = frame(con, "select min_value, max_value from config.icp_rules where dimension = 'employees'")
    band = pl.lit(None, dtype=pl.String)
    for lo, hi in bands.sort("min_value", descending=True).rows():
        cond = pl.col("employee_count") >= lo
        if hi is not None:
            cond = cond & (pl.col("employee_count") <= hi)
        band = pl.when(cond).then(pl.lit(f"{lo}-{'' if hi is None else hi}")).otherwise(band)
    fit = fit.with_columns(employees=band).rename({"industry": "industry", "territory": "territory"})
    intent = frame(con, f"""
        with as_of as (select as_of - interval {int(window_days)} day as as_of from int_as_of_dated),
        person_signals as (
            select person_id, signal_type, signal_at from fct_signals where person_id is not null
            union all
            select p.person_id, s.signal_type, s.signal_at
            from fct_signals s join dim_person p on p.account_id = s.account_id where s.person_id is null
        )
        select ps.person_id, ps.signal_type,
               sum(power(0.5, date_diff('second', ps.signal_at, as_of.as_of) / 86400.0 / w.half_life_days)) as x
        from person_signals ps join config.signal_weights w using (signal_type) cross join as_of
        where ps.signal_at <= as_of.as_of
        group by ps.person_id, ps.signal_type""")
    label = frame(con, f"""
        with window_deals as (
            select d.deal_id from stg_hubspot__deals d cross join int_as_of_dated a
            where d.created_at > a.as_of - interval {int(window_days)} day and d.created_at <= a.as_of
        )
        select distinct b.person_id
        from window_deals d
        join stg_hubspot__associations x on x.from_object = 'deals' and x.from_object_id = d.deal_id
             and x.to_object = 'contacts'
        join bridge_person_identifier b on b.identifier_type = 'crm_contact_id' and b.identifier_value = x.to_object_id
        union
        select distinct p.person_id
        from window_deals d
        join stg_hubspot__associations x on x.from_object = 'deals' and x.from_object_id = d.deal_id
             and x.to_object = 'companies'
        join dim_account ac on ac.crm_company_id = x.to_object_id
        join dim_person p on p.account_id = ac.account_id""").with_columns(y=pl.lit(1.0))
    wide = intent.pivot(on="signal_type", index="person_id", values="x") if intent.height else intent
    return (fit.join(wide, on="person_id", how="left").join(label, on="person_id", how="left")
            .with_columns(pl.col("y").fill_null(0.0)))


def _logistic(X: np.ndarray, y: np.ndarray, l2: float, iterations: int = 50) -> np.ndarray:
    w = np.zeros(X.shape[1])
    penalty = l2 * np.eye(X.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-X @ w))
        step = np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]) + penalty, X.T @ (y - p) - penalty @ w)
        w += step
        if np.abs(step).max() < 1e-8:
            break
    return w


def calibrate(con, window_days: int = 30, l2: float = 2.0) -> dict:
    df = _features(con, window_days)
    signal_weights = frame(con, "select * from config.signal_weights")
    types = [t for t in signal_weights["signal_type"].to_list() if t in df.columns]
    levels = {d: sorted(v for v in df[d].unique().to_list() if v is not None) for d in DIMENSIONS}
    columns, names = [np.ones(df.height)], ["intercept"]
    for d, values in levels.items():  # unknown is the reference level of each dimension
        for v in values:
            columns.append((df[d] == v).fill_null(False).cast(pl.Float64).to_numpy())
            names.append(f"{d}={v}")
    for t in types:
        columns.append(df[t].fill_null(0.0).to_numpy())
        names.append(f"signal={t}")
    y = df["y"].to_numpy()
    if y.sum() < 10:
        raise ValueError(f"only {int(y.sum())} past outcomes in the window: too few to calibrate")
    coef = dict(zip(names, _logistic(np.column_stack(columns), y, l2)))
    best = sum(max([0.0] + [coef[f"{d}={v}"] for v in values]) for d, values in levels.items())
    k = 50.0 / best if best > 0 else 0.0
    icp = frame(con, "select * from config.icp_rules")

    def level_points(row) -> float:
        if row["dimension"] == "employees":
            key = f"employees={row['min_value']}-{'' if row['max_value'] is None else row['max_value']}"
        else:
            key = f"{row['dimension']}={row['match_value']}"
        return round(max(0.0, coef.get(key, 0.0)) * k, 2)

    icp_cal = icp.with_columns(points=pl.Series([level_points(r) for r in icp.iter_rows(named=True)]))
    sw_cal = signal_weights.with_columns(weight=pl.Series(
        [round(max(0.0, coef.get(f"signal={t}", 0.0)) * k, 2) for t in signal_weights["signal_type"]]))
    con.execute("begin transaction")
    for name, weights in (("icp_rules_calibrated", icp_cal), ("signal_weights_calibrated", sw_cal)):
        con.register("_calibrated", weights)
        con.execute(f"create or replace table config.{name} as select * from _calibrated")
        con.unregister("_calibrated")
    con.execute("commit")
    return {"people": df.height, "positives": int(y.sum()), "window_days": window_days, "points_per_log_odds": k,
            "coefficients": coef, "icp_rules": icp_cal, "signal_weights": sw_cal}
