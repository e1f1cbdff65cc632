"""Lead scoring scored against the sandbox truth (docs/decisions.md, Measuring the score).

The people are the truth's persons (role mailboxes aside) that the warehouse knows as leads (by an email, a CRM
contact or a prospect: an anonymous visitor is no one to contact), each through the warehouse person holding most
of their identifiers (`true_person_owners`), less those whose opportunity came before as_of (the truth's
`opportunity_before_as_of`: they cannot open a first one in the next 30 days). For them:

- the built `lead_score` (whichever weights the warehouse was built with), the oracle (the generator's own
  propensity), fit and intent alone, grade-A precision and top-decile lift, as before;
- the hand-set and the calibrated scores recomputed from the features at as_of (`int_signal_features_dated`
  cut-off 0 and the fit levels) with the seeds and with `config.*_calibrated`, so one build reports both:
  `calibrated AUC`, the Brier score and a 10-bin reliability table of `p_opportunity_30d`, its top-decile lift;
- the **bound**: a logistic regression on the *truth* labels over the same features, 5-fold cross-validated —
  what a model of this form can reach on this data, the yardstick of the calibrated AUC.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from revops.calibration.scoring import (C_GRID, ScoringModel, dbt_var, design_for, fit_levels,
                                        has_calibrated_model, signal_features)
from revops.evaluation.identity import true_person_owners
from revops.warehouse import frame

RELIABILITY_BINS = 10  # equal-width bins of predicted probability: [0, 0.1), [0.1, 0.2) ... [0.9, 1]


def auc(scores: pl.Series, labels: pl.Series) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula; ties get average ranks."""
    ranks = scores.rank(method="average")
    pos = labels.cast(pl.Boolean)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks.filter(pos).sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc_numpy(scores, labels) -> float:
    return auc(pl.Series(np.asarray(scores, dtype=float)), pl.Series(np.asarray(labels).astype(bool)))


def brier(p, y) -> float:
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(p) else float("nan")


def reliability(p, y, bins: int = RELIABILITY_BINS) -> list[dict]:
    """Per equal-width bin of predicted probability: people, mean predicted, observed rate, their gap."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        m = idx == b
        n = int(m.sum())
        out.append({"bin": b, "lower": b / bins, "upper": (b + 1) / bins, "people": n,
                    "mean_predicted": float(p[m].mean()) if n else None,
                    "observed_rate": float(y[m].mean()) if n else None,
                    "gap": float(abs(p[m].mean() - y[m].mean())) if n else None})
    return out


def top_decile_lift(scores, y) -> float:
    scores, y = np.asarray(scores, dtype=float), np.asarray(y, dtype=float)
    n = max(1, len(y) // 10)
    order = np.lexsort((np.arange(len(y)), -scores))  # stable: ties keep their row order
    base = y.mean()
    return float(y[order[:n]].mean() / base) if base else float("nan")


def bound_auc(X: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """AUC of out-of-fold predictions of an L2 logistic regression (strength chosen inside each training fold by
    the same grid calibration searches) fitted on the truth labels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict

    model = GridSearchCV(LogisticRegression(max_iter=2000), {"C": list(C_GRID)}, cv=3, scoring="neg_log_loss")
    oof = cross_val_predict(model, X, y, cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                            method="predict_proba")[:, 1]
    return auc_numpy(oof, y)


def scoring_frame(con, world: Path) -> pl.DataFrame:
    """The evaluated people: truth outcome and oracle, the built scores, fit levels and signal features at as_of."""
    persons = pl.read_csv(world / "truth" / "persons.csv", infer_schema_length=0)
    before = (pl.col("opportunity_before_as_of") == "true") if "opportunity_before_as_of" in persons.columns \
        else pl.lit(False)
    persons = persons.select("true_person_id", pl.col("propensity").cast(pl.Float64),
                             outcome=pl.col("outcome_opportunity_30d") == "true", opportunity_before_as_of=before)
    built = frame(con, """select person_id, lead_score, fit_score, intent_score, grade, p_opportunity_30d
                          from fct_lead_scores""")
    icp = frame(con, "select * from config.icp_rules")
    df = (true_person_owners(con, world).join(built, on="person_id").join(persons, on="true_person_id")
          .filter(~pl.col("opportunity_before_as_of")))
    feats = signal_features(con, [0]).drop("cutoff_days_before_as_of", strict=False)
    # leads only: a person the warehouse knows by no email, CRM contact or prospect (an anonymous visitor) is no one
    # to contact, and calibration learns from leads alone
    return (df.join(fit_levels(con, icp), on="person_id", how="inner")
            .filter(pl.col("lead_known_at").is_not_null())
            .join(feats, on="person_id", how="left").sort("true_person_id"))


def evaluate_scoring(con, world: Path, grade_a_min_score: float | None = None, with_bound: bool = True) -> dict:
    if grade_a_min_score is None:
        grade_a_min_score = float(dbt_var("grade_a_min_score"))
    df = scoring_frame(con, world)
    y = df["outcome"].to_numpy().astype(int)
    base = float(y.mean()) if len(y) else float("nan")
    grade_a = df.filter(pl.col("grade") == "A")
    hand = ScoringModel.from_warehouse(con, calibrated=False).score(df)
    m = {
        "people": df.height, "positives": int(y.sum()), "base_rate": base,
        "auc_lead_score": auc(df["lead_score"], df["outcome"]),
        "auc_oracle_propensity": auc(df["propensity"], df["outcome"]),
        "auc_fit_only": auc(df["fit_score"], df["outcome"]),
        "auc_intent_only": auc(df["intent_score"], df["outcome"]),
        "grade_a_people": grade_a.height,
        "grade_a_precision": grade_a["outcome"].mean() if grade_a.height else float("nan"),
        "top_decile_rate": top_decile_lift(df["lead_score"], y) * base if base else float("nan"),
        "top_decile_lift": top_decile_lift(df["lead_score"], y),
        "grades": dict(df.group_by("grade").len().sort("grade").rows()),
        "auc_hand_set": auc_numpy(hand["lead_score"], y),
        "auc_calibrated": None, "brier_calibrated": None, "top_decile_lift_calibrated": None,
        "grade_a_precision_calibrated": None, "grade_a_people_calibrated": None, "reliability": [],
        "auc_bound": None, "mean_predicted": None,
    }
    if has_calibrated_model(con):
        cal = ScoringModel.from_warehouse(con, calibrated=True).score(df)
        p = cal["p_opportunity_30d"]
        a = cal["lead_score"] >= grade_a_min_score
        m.update(auc_calibrated=auc_numpy(p, y), brier_calibrated=brier(p, y), mean_predicted=float(p.mean()),
                 top_decile_lift_calibrated=top_decile_lift(p, y), reliability=reliability(p, y),
                 grade_a_people_calibrated=int(a.sum()),
                 grade_a_precision_calibrated=float(y[a].mean()) if a.any() else float("nan"))
    if with_bound and 0 < y.sum() < len(y):
        design = design_for(frame(con, "select * from config.icp_rules"),
                            frame(con, "select * from config.signal_weights"))
        m["auc_bound"] = bound_auc(design.matrix(df), y)
    return m


SCORING_DDL = """
create schema if not exists eval;
create table if not exists eval.scoring_metrics (
    evaluated_at timestamptz not null, world varchar not null, scale varchar, weights varchar,
    people bigint, positives bigint, base_rate double, auc_lead_score double, auc_oracle_propensity double,
    auc_fit_only double, auc_intent_only double, grade_a_people bigint, grade_a_precision double,
    top_decile_rate double, top_decile_lift double
);
alter table eval.scoring_metrics add column if not exists auc_hand_set double;
alter table eval.scoring_metrics add column if not exists auc_calibrated double;
alter table eval.scoring_metrics add column if not exists auc_bound double;
alter table eval.scoring_metrics add column if not exists brier_calibrated double;
alter table eval.scoring_metrics add column if not exists top_decile_lift_calibrated double;
alter table eval.scoring_metrics add column if not exists grade_a_precision_calibrated double;
alter table eval.scoring_metrics add column if not exists reliability_json varchar;
"""

RECORDED = ("people", "positives", "base_rate", "auc_lead_score", "auc_oracle_propensity", "auc_fit_only",
            "auc_intent_only", "grade_a_people", "grade_a_precision", "top_decile_rate", "top_decile_lift",
            "auc_hand_set", "auc_calibrated", "auc_bound", "brier_calibrated", "top_decile_lift_calibrated",
            "grade_a_precision_calibrated")


def distributions(con) -> dict:
    """Route and stage counts of the stage map: what the sales team will see."""
    return {
        "routes": dict(con.execute("select route, count(*) from mart_stage_map group by 1 order by 2 desc").fetchall()),
        "stages": dict(con.execute("select stage, count(*) from mart_stage_map group by 1 order by 2 desc").fetchall()),
    }


def record(con, world: Path, weights: str, m: dict) -> None:
    from datetime import datetime, timezone

    manifest = world / "truth" / "manifest.json"
    scale = json.loads(manifest.read_text())["config"]["scale"] if manifest.exists() else None
    con.execute(SCORING_DDL)
    columns = ("evaluated_at", "world", "scale", "weights", *RECORDED, "reliability_json")
    values = [datetime.now(timezone.utc), str(world), scale, weights, *(m[c] for c in RECORDED),
              json.dumps(m["reliability"])]
    con.execute(f"insert into eval.scoring_metrics ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                values)
