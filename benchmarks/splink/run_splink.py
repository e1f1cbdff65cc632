"""Splink (Fellegi-Sunter, DuckDB backend) over the exported records: train, predict, cluster.

    $SPLINK_VENV/bin/python benchmarks/splink/run_splink.py --records records.parquet --out-dir DIR

Runs in its own venv (splink, duckdb<2): Splink 5.0.0 declares no DuckDB cap but fails on DuckDB 2, the project's
(`ResourceInUseException`: DuckDB 2 refuses new work while a result is unfetched). Writes
DIR/clusters.parquet (threshold, unique_id, cluster_id) for every threshold, DIR/splink_model.json (the trained
model) and DIR/splink_run.json (seconds per phase, versions, pair and cluster counts)."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import duckdb
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

THRESHOLDS = (0.5, 0.9, 0.99)
HEADLINE_THRESHOLD = 0.9
SEED = 42


def email_comparison() -> cl.CustomComparison:
    """Exact primary email, then any email shared (prospects and visitors can carry several), then a similar local
    part: the same person's address at another domain."""
    return cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            cll.ArrayIntersectLevel("emails", min_intersection=1).configure(label_for_charts="shares an email"),
            cll.JaroWinklerLevel("email_local", 0.88).configure(label_for_charts="local part Jaro-Winkler >= 0.88"),
            cll.ElseLevel(),
        ],
    )


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            email_comparison(),
            # names come from a small vocabulary, so how common a name is carries much of its evidence
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("last_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            # a large customer's domain is shared by many people: agreeing on it says less
            cl.ExactMatch("company_domain").configure(term_frequency_adjustments=True),
            cl.ExactMatch("segment_user_id"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("emails", arrays_to_explode=["emails"]),
            block_on("segment_user_id"),
            block_on("first_name", "last_name"),
            block_on("last_name", "company_domain"),
        ],
        additional_columns_to_retain=["source"],
        retain_intermediate_calculation_columns=False,
    )


def train(linker: Linker, recall: float, u_max_pairs: float) -> dict[str, float]:
    """Seconds per training step."""
    seconds = {}
    t0 = time.perf_counter()
    # Deterministic rules admit few false positives; `recall` is a guess at the share of true pairs they find
    # (anonymous-only visitors, personal addresses and job changers share no identifier with the rest).
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("segment_user_id")], recall=recall)
    seconds["prior"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=SEED)
    seconds["u_random_sampling"] = time.perf_counter() - t0

    # EM on two blocks that fix different comparisons, so each comparison's m is estimated at least once.
    # Same email trains names, domain and user id. Same company domain trains email and names: colleagues differ
    # in name, so the non-matching levels are seen. A same-full-name block is avoided: local parts are built from
    # names, so namesakes at different companies agree on both and EM takes them for matches.
    t0 = time.perf_counter()
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("company_domain"))
    seconds["m_expectation_maximisation"] = time.perf_counter() - t0
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", required=True, type=Path)
    ap.add_argument("--out-dir", required=True, type=Path)
    ap.add_argument("--recall", type=float, default=0.7, help="assumed recall of the deterministic rules")
    ap.add_argument("--u-max-pairs", type=float, default=1e7, help="random pairs sampled to estimate u")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)

    con = duckdb.connect()
    con.execute(f"set threads = {args.threads}")
    db_api = DuckDBAPI(connection=con)
    records = db_api.register(con.read_parquet(str(args.records)), dataset_display_name="records")
    linker = Linker(records, settings(), log_level=logging.WARNING)

    seconds: dict[str, float] = {}
    train_seconds = train(linker, args.recall, args.u_max_pairs)
    seconds["train"] = sum(train_seconds.values())

    # one scoring pass at the lowest threshold; the higher ones only filter its edges when clustering
    t0 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=min(THRESHOLDS))
    n_pairs = con.execute(f"select count(*) from {predictions.physical_name}").fetchone()[0]
    seconds["predict"] = time.perf_counter() - t0

    clusters_by_threshold = {}
    for threshold in THRESHOLDS:
        t0 = time.perf_counter()
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold)
        con.execute(f"create or replace table clusters_{int(threshold * 100)} as "
                    f"select {threshold}::double as threshold, unique_id, cluster_id from {clusters.physical_name}")
        seconds[f"cluster_{threshold}"] = time.perf_counter() - t0
        clusters_by_threshold[threshold] = con.execute(
            f"select count(distinct cluster_id) from clusters_{int(threshold * 100)}").fetchone()[0]

    union = " union all ".join(f"select * from clusters_{int(t * 100)}" for t in THRESHOLDS)
    # the path goes to the relation API, never pasted into SQL (a quote in --out-dir is just a character)
    con.sql(f"{union} order by threshold, unique_id").write_parquet(str(args.out_dir / "clusters.parquet"))
    linker.misc.save_model_to_json(str(args.out_dir / "splink_model.json"), overwrite=True)

    run = {
        "splink_version": splink.__version__,
        "duckdb_version": duckdb.__version__,
        "threads": args.threads,
        "records": con.execute(f"select count(*) from {records.physical_name}").fetchone()[0],
        "deterministic_recall_assumed": args.recall,
        "u_max_pairs": args.u_max_pairs,
        "probability_two_random_records_match": linker._settings_obj._probability_two_random_records_match,
        "predicted_pairs_at_or_above_min_threshold": n_pairs,
        "clusters": {str(t): n for t, n in clusters_by_threshold.items()},
        "headline_threshold": HEADLINE_THRESHOLD,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "train_seconds": {k: round(v, 2) for k, v in train_seconds.items()},
    }
    (args.out_dir / "splink_run.json").write_text(json.dumps(run, indent=2))
    print(json.dumps(run, indent=2))


if __name__ == "__main__":
    main()
