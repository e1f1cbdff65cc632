"""Lead scoring scored against the sandbox truth (docs/decisions.md): AUC of lead_score for the true 30-day outcome beside the
oracle AUC of the generator's own propensity on the same people, precision of grade A, top-decile lift.

The people are the truth's persons (role mailboxes aside) that the warehouse knows, each through the warehouse
person holding most of their identifiers (`true_person_owners`)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from revops.evaluation.identity import true_person_owners
from revops.warehouse import frame


def auc(scores: pl.Series, labels: pl.Series) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula; ties get average ranks."""
    ranks = scores.rank(method="average")
    pos = labels.cast(pl.Boolean)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks.filter(pos).sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def evaluate_scoring(con, world: Path) -> dict:
    persons = pl.read_csv(world / "truth" / "persons.csv", infer_schema_length=0).select(
        "true_person_id", pl.col("propensity").cast(pl.Float64),
        outcome=pl.col("outcome_opportunity_30d") == "true")
    scores = frame(con, "select person_id, lead_score, fit_score, intent_score, grade from fct_lead_scores")
    df = true_person_owners(con, world).join(scores, on="person_id").join(persons, on="true_person_id")
    base = df["outcome"].mean()
    top = df.sort("lead_score", descending=True).head(max(1, df.height // 10))
    grade_a = df.filter(pl.col("grade") == "A")
    return {
        "people": df.height, "positives": int(df["outcome"].sum()), "base_rate": base,
        "auc_lead_score": auc(df["lead_score"], df["outcome"]),
        "auc_oracle_propensity": auc(df["propensity"], df["outcome"]),
        "auc_fit_only": auc(df["fit_score"], df["outcome"]),
        "auc_intent_only": auc(df["intent_score"], df["outcome"]),
        "grade_a_people": grade_a.height,
        "grade_a_precision": grade_a["outcome"].mean() if grade_a.height else float("nan"),
        "top_decile_rate": top["outcome"].mean(),
        "top_decile_lift": top["outcome"].mean() / base if base else float("nan"),
        "grades": dict(df.group_by("grade").len().sort("grade").rows()),
    }


SCORING_DDL = """
create schema if not exists eval;
create table if not exists eval.scoring_metrics (
    evaluated_at timestamptz not null, world varchar not null, scale varchar, weights varchar,
    people bigint, positives bigint, base_rate double, auc_lead_score double, auc_oracle_propensity double,
    auc_fit_only double, auc_intent_only double, grade_a_people bigint, grade_a_precision double,
    top_decile_rate double, top_decile_lift double
);
"""


def distributions(con) -> dict:
    """Route and stage counts of the stage map: what the sales team will see."""
    return {
        "routes": dict(con.execute("select route, count(*) from mart_stage_map group by 1 order by 2 desc").fetchall()),
        "stages": dict(con.execute("select stage, count(*) from mart_stage_map group by 1 order by 2 desc").fetchall()),
    }


def record(con, world: Path, weights: str, m: dict) -> None:
    import json
    from datetime import datetime, timezone

    manifest = world / "truth" / "manifest.json"
    scale = json.loads(manifest.read_text())["config"]["scale"] if manifest.exists() else None
    con.execute(SCORING_DDL)
    con.execute("insert into eval.scoring_metrics values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [datetime.now(timezone.utc), str(world), scale, weights, m["people"], m["positives"], m["base_rate"],
                 m["auc_lead_score"], m["auc_oracle_propensity"], m["auc_fit_only"], m["auc_intent_only"],
                 m["grade_a_people"], m["grade_a_precision"], m["top_decile_rate"], m["top_decile_lift"]])
