"""The two engines side by side (not a test): one world through land, build and sync on DuckDB and on Spark, each
step a `revops` child process timed with its peak memory (the whole process tree: Spark's JVMs included), then the
marts of the two, as the builds left them, compared (revops/engine_compare.py). `make bench-engines` runs it on S and M; the README reports it.

    python -m revops.engine_bench --scale S [--world /tmp/worlds/s] [--workdir /tmp/bench_engines] [--out FILE]

Per engine, in a work folder of its own: `revops land` (the CRM from a freshly seeded sandbox server, and every
file; on Spark it ends with the publish into parquet), `revops build` (full), `revops sync` (into that engine's
own sandbox CRM, so both start from the same CRM), `revops kpis`. The engines run one after the other, never
together (2 cores). Exit 0 when every step ran and the marts are equal; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from revops import engine
from revops.e2e_bench import GIB, _free_port, run_child, stop_group, world_matches
from revops.engine_compare import compare

TOKEN = "engine-bench-token"


def _revops(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "revops"), *args]


def _start_crm(world: Path, work: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    ready = work / "crm.url"
    ready.unlink(missing_ok=True)
    log = (work / "crm_server.log").open("ab")
    proc = subprocess.Popen(_revops("sandbox", "serve", "--world", str(world), "--port", str(port), "--reseed",
                                    "--ready-file", str(ready)),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "HUBSPOT_TOKEN": TOKEN})
    for _ in range(600):
        if ready.exists() and ready.read_text().strip():
            return proc, ready.read_text().strip()
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    stop_group(proc)
    raise RuntimeError(f"the sandbox CRM did not start: see {work / 'crm_server.log'}")


def run_engine(eng: str, world: Path, work: Path, max_rss: float, timeout: float) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    db = work / "warehouse.duckdb"
    env = {**os.environ, "REVOPS_ENGINE": eng, "REVOPS_DUCKDB_PATH": str(db), "REVOPS_WORLD_DIR": str(world),
           "REVOPS_SNAPSHOT_DIR": str(work / "snapshots"), "DAGSTER_HOME": "", "HUBSPOT_TOKEN": TOKEN}
    env.pop("REVOPS_SPARK_DIR", None)
    steps = {}
    server, url = _start_crm(world, work)
    env["HUBSPOT_BASE_URL"] = url
    try:
        for name, args in (("land", ["land", "--landing-dir", str(world / "landing"), "--duckdb", str(db)]),
                           ("build", ["build"]),
                           ("sync", ["sync", "--duckdb", str(db)]),
                           ("kpis", ["kpis", "--duckdb", str(db)])):
            p = run_child(f"{eng} {name}", _revops(*args), work / f"{name}.log", env, also=[server.pid],
                          max_rss=max_rss, timeout=timeout, every=30)
            ok = p.returncode == 0 or (name == "land" and p.returncode == 3)  # 3: some files refused, rest landed
            steps[name] = {"seconds": round(p.seconds, 1), "peak_gib": round(p.peak_bytes / GIB, 2),
                           "status": "ok" if ok else f"exit {p.returncode}{' ' + p.stopped if p.stopped else ''}",
                           "log": str(p.log)}
            print(f"{eng:<7} {name:<6} {p.seconds:8.1f} s  {p.peak_bytes / GIB:5.2f} GiB  {steps[name]['status']}",
                  flush=True)
            if not ok:
                break
            if name == "build":
                # the marts as built, before the sync changes the sync views (revops/engine_compare.py compares
                # these); a folder of its own keeps the file's name, which DuckDB's views use as their catalog
                (work / "built").mkdir(exist_ok=True)
                shutil.copy(db, work / "built" / db.name)
    finally:
        stop_group(server)
    return {"db": str(db), "built": str(work / "built" / db.name), "steps": steps}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m revops.engine_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="S", choices=["S", "M", "L"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--world", type=Path)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench_engines"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--max-rss-gib", type=float, default=16.0)
    ap.add_argument("--step-timeout", type=float, default=3600.0)
    args = ap.parse_args(argv)
    world = args.world or args.workdir / f"world_{args.scale}"
    if not world_matches(world, args.scale, args.seed):
        print(f"generating the {args.scale} world (seed {args.seed}) in {world}", flush=True)
        subprocess.run(_revops("sandbox", "generate", "--scale", args.scale, "--seed", str(args.seed), "--out",
                               str(world)), check=True, stdout=subprocess.DEVNULL)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in engine.ENGINES:
            ap.error(f"--engines: {e!r} is not one of {', '.join(engine.ENGINES)}")
    result = {"scale": args.scale, "seed": args.seed, "world": str(world), "engines": {}}
    for e in engines:
        work = args.workdir / f"{args.scale}_{e}"
        shutil.rmtree(work, ignore_errors=True)
        result["engines"][e] = run_engine(e, world, work, args.max_rss_gib * GIB, args.step_timeout)
    ok = all(s["status"] == "ok" for r in result["engines"].values() for s in r["steps"].values()) and all(
        len(r["steps"]) == 4 for r in result["engines"].values())
    if ok and {"duckdb", "spark"} <= set(engines):
        diffs = compare(Path(result["engines"]["duckdb"]["built"]), Path(result["engines"]["spark"]["built"]))
        unequal = [d.table for d in diffs if not d.equal]
        result["compared"] = {"tables": len(diffs), "unequal": unequal}
        print(f"marts and sync models: {len(diffs) - len(unequal)} of {len(diffs)} equal"
              + (f"; unequal: {', '.join(unequal)}" if unequal else ""))
        ok = not unequal
    print(f"\n{'step':<8}" + "".join(f"{e:>22}" for e in engines))
    for step in ("land", "build", "sync", "kpis"):
        cells = []
        for e in engines:
            s = result["engines"][e]["steps"].get(step)
            cells.append(f"{s['seconds']:>9.1f} s {s['peak_gib']:>5.2f} GiB" if s else f"{'not run':>22}")
        print(f"{step:<8}" + "".join(f"{c:>22}" for c in cells))
    out = args.out or args.workdir / f"engines_{args.scale}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"written to {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
