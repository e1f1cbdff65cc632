"""Score Splink's record clusters against the sandbox truth, on identifier nodes as the dbt resolution is scored.

    .venv/bin/python benchmarks/splink/score.py --records records.parquet --run-dir DIR --world WORLD \\
        [--out bench_results/splink_identity.json]

Splink clusters records; the truth and `revops.evaluation.identity.pairwise` speak of identifier nodes. A node takes
the cluster of the records that carry it; one carried by records Splink put in different clusters takes the
smallest cluster id, and is counted in `conflicts` (the deterministic edge a shared identifier is, which Splink
did not follow)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import polars as pl

from revops.evaluation.identity import pairwise, truth_nodes


def nodes_to_clusters(records: pl.DataFrame, clusters: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """(identifier_id -> cluster_id, number of nodes whose records sit in more than one cluster)."""
    carried = (records.select("unique_id", "nodes").explode("nodes").rename({"nodes": "identifier_id"})
               .join(clusters.select("unique_id", "cluster_id"), on="unique_id", how="left"))
    per_node = carried.group_by("identifier_id").agg(cluster_id=pl.col("cluster_id").min(),
                                                     n_clusters=pl.col("cluster_id").n_unique())
    return per_node.select("identifier_id", "cluster_id"), per_node.filter(pl.col("n_clusters") > 1).height


def identifier_components(records: pl.DataFrame) -> pl.DataFrame:
    """identifier_id -> cluster_id by connected components over the nodes each record carries, no model at all:
    the reference that says how much of Splink's score exact identifiers alone would give."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for nodes in records["nodes"]:
        root = find(nodes[0])
        for node in nodes[1:]:
            other = find(node)
            if other != root:
                root, other = min(root, other), max(root, other)
                parent[other] = root
    return pl.DataFrame({"identifier_id": list(parent)}).with_columns(
        cluster_id=pl.col("identifier_id").map_elements(find, return_dtype=pl.String))


def linked_nodes(records: pl.DataFrame) -> pl.DataFrame:
    """Nodes some record carries together with another node: the "linked_in_sources" subset `revops eval identity`
    reports (a visitor never identified, an address only the ESP knows, give any resolver nothing to go on)."""
    return (records.filter(pl.col("nodes").list.len() > 1).select(identifier_id=pl.col("nodes"))
            .explode("identifier_id").unique())


def _summary(scores: dict) -> dict:
    return {"precision": round(scores["precision"], 4), "recall": round(scores["recall"], 4),
            "f1": round(scores["f1"], 4), "over_merged_clusters": scores["over_merged_clusters"],
            "split_true": scores["split_true"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", required=True, type=Path, help="export_records.py output")
    ap.add_argument("--run-dir", required=True, type=Path, help="run_splink.py output directory")
    ap.add_argument("--world", required=True, type=Path, help="the generated world (its truth/ is read)")
    ap.add_argument("--out", type=Path, default=Path("bench_results/splink_identity.json"))
    args = ap.parse_args()

    t0 = time.perf_counter()
    export = json.loads(args.records.with_suffix(".json").read_text())
    run = json.loads((args.run_dir / "splink_run.json").read_text())
    records = pl.read_parquet(args.records)
    all_clusters = pl.read_parquet(args.run_dir / "clusters.parquet")
    truth = truth_nodes(args.world)
    world_config = json.loads((args.world / "truth" / "manifest.json").read_text())["config"]

    linked_truth = truth.join(linked_nodes(records), on="identifier_id", how="semi")
    by_threshold = {}
    for (threshold,), clusters in all_clusters.group_by("threshold", maintain_order=True):
        pred, conflicts = nodes_to_clusters(records, clusters)
        scores = pairwise(pred, truth)
        by_threshold[f"{threshold:g}"] = {
            **_summary(scores), "conflicts": conflicts, "record_clusters": clusters["cluster_id"].n_unique(),
            "linked_in_sources": _summary(pairwise(pred, linked_truth)),
            "true_pairs": scores["true_pairs"], "predicted_pairs": scores["predicted_pairs"],
            "correct_pairs": scores["correct_pairs"], "scored_nodes": scores["items"], "unseen_nodes": scores["unseen"],
        }
    score_seconds = time.perf_counter() - t0
    components = identifier_components(records)
    reference = {**_summary(pairwise(components, truth)),
                 "linked_in_sources": _summary(pairwise(components, linked_truth))}

    headline = f"{run['headline_threshold']:g}"
    seconds = {"export": export["seconds"], **run["seconds"], "score": round(score_seconds, 2)}
    result = {
        "benchmark": "splink_identity",
        "world": {k: world_config.get(k) for k in ("scale", "seed", "as_of")},
        "splink_version": run["splink_version"],
        "duckdb_version": run["duckdb_version"],
        "threads": run["threads"],
        "records": export["records"],
        "records_by_source": export["records_by_source"],
        "predicted_pairs_scored": run["predicted_pairs_at_or_above_min_threshold"],
        "headline_threshold": run["headline_threshold"],
        "seconds": seconds,
        # train + predict + cluster at the headline threshold: Splink's own cost, export and scoring aside
        "seconds_splink": round(run["seconds"]["train"] + run["seconds"]["predict"]
                                + run["seconds"][f"cluster_{headline}"], 2),
        "train_seconds": run["train_seconds"],
        # the model's prior and training settings, to read the scores with
        "probability_two_random_records_match": run["probability_two_random_records_match"],
        "deterministic_recall_assumed": run["deterministic_recall_assumed"],
        "u_max_pairs": run["u_max_pairs"],
        **{k: by_threshold[headline][k] for k in
           ("precision", "recall", "f1", "over_merged_clusters", "split_true", "conflicts")},
        "by_threshold": by_threshold,
        "identifier_components_reference": reference,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    print(f"{result['records']:,} records; seconds {seconds}")
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'f1':>7} {'over_merged':>11} {'split_true':>10} "
          f"{'conflicts':>9}")
    for t, s in by_threshold.items():
        ln = s["linked_in_sources"]
        print(f"{t:>9} {s['precision']:>9.4f} {s['recall']:>7.4f} {s['f1']:>7.4f} {s['over_merged_clusters']:>11,} "
              f"{s['split_true']:>10,} {s['conflicts']:>9,}   linked in sources: precision {ln['precision']:.4f} "
              f"recall {ln['recall']:.4f}")
    print(f"{'exact ids':>9} {reference['precision']:>9.4f} {reference['recall']:>7.4f} {reference['f1']:>7.4f} "
          f"{reference['over_merged_clusters']:>11,} {reference['split_true']:>10,}  (connected components, no model)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
