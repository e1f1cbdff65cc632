"""Identity resolution time and quality on a built warehouse (the M world after `make demo`).

    python -m revops.evaluation.identity_bench [--duckdb PATH] [--world DIR] [--out bench_results/identity.json]

Times `dbt run` of the identity models (the models/identity folder) on the warehouse, then their dbt
tests, then scores the result against the world's truth. The Splink peer runs beside it from
benchmarks/splink/run.sh on the same warehouse."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from revops import settings
from revops.evaluation.identity import evaluate_warehouse

REPO = Path(__file__).resolve().parents[2]
SELECTION = ["intermediate.identity", "marts.core"]


def _dbt(args: list[str], db: Path) -> float:
    t0 = time.perf_counter()
    res = subprocess.run([str(Path(sys.executable).parent / "dbt"), *args, "--profiles-dir", "."],
                         cwd=REPO / "dbt_project", capture_output=True, text=True,
                         env={**os.environ, "REVOPS_DUCKDB_PATH": str(db)})
    if res.returncode != 0:
        raise SystemExit(res.stdout[-3000:])
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duckdb", type=Path, default=None)
    ap.add_argument("--world", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("bench_results/identity.json"))
    args = ap.parse_args()
    db = args.duckdb or settings.duckdb_path()
    world = args.world or settings.world_dir()
    run_s = _dbt(["run", "--select", *SELECTION], db)
    test_s = _dbt(["test", "--select", *SELECTION], db)
    con = duckdb.connect(str(db), read_only=True)
    counts = dict(zip(("identifiers", "edges", "persons", "accounts"), con.execute(
        "select (select count(*) from bridge_person_identifier), (select count(*) from fct_identity_edges), "
        "(select count(*) from dim_person), (select count(*) from dim_account)").fetchall()[0]))
    t0 = time.perf_counter()
    result = evaluate_warehouse(con, world)
    eval_s = time.perf_counter() - t0
    con.close()
    scale = json.loads((world / "truth" / "manifest.json").read_text())["config"]["scale"]
    out = {"scale": scale, "dbt_run_seconds": round(run_s, 1), "dbt_test_seconds": round(test_s, 1),
           "eval_seconds": round(eval_s, 1), **counts, "metrics": result["metrics"], "errors": result["errors"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"{scale}: identity models {run_s:.1f} s (dbt run, includes dbt start-up), tests {test_s:.1f} s; "
          f"{counts['identifiers']:,} identifiers -> {counts['persons']:,} persons, {counts['accounts']:,} accounts")
    for m in result["metrics"]:
        print(f"  {m['scope']:<8} {m['subset']:<32} precision {m['precision']:.4f} recall {m['recall']:.4f}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
