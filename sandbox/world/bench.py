"""Generation benchmark (not a test): wall time, peak memory and rows per source for each scale.

    python -m sandbox.world.bench --scales S M L

Each scale runs in its own process so its peak RSS is its own. Targets (issue 2): M < 60 s;
L < 15 min with peak memory < 8 GiB. Results go to stdout and bench_results/generation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"M": {"seconds": 60}, "L": {"seconds": 900, "peak_gib": 8}}


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (from /proc), 0 once it is gone."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run(scale: str, seed: int, out: Path) -> dict:
    code = ("import sys; from pathlib import Path; from sandbox.world.config import WorldConfig; "
            "from sandbox.world.generate import generate_world; "
            f"generate_world(WorldConfig.for_scale('{scale}', seed={seed}), Path(sys.argv[1]), progress=print)")
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)])
    tree_peak = 0
    while proc.poll() is None:  # sample every 0.2 s: the generator and its block worker together
        tree_peak = max(tree_peak, _tree_rss_bytes(proc.pid))
        time.sleep(0.2)
    if proc.returncode:
        raise SystemExit(f"generation of {scale} failed with exit code {proc.returncode}")
    seconds = time.perf_counter() - t
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far
    manifest = json.loads((out / "truth" / "manifest.json").read_text())
    return {"scale": scale, "seconds": round(seconds, 1), "peak_gib": round(peak_kib / 2**20, 2),
            "peak_all_processes_gib": round(tree_peak / 2**30, 2),
            "crm": manifest["crm"], "landing": manifest["landing"],
            "targets": TARGETS.get(scale, {})}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", nargs="+", default=["S", "M"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", type=Path, help="write the worlds under this folder instead of a temp dir")
    args = ap.parse_args()
    results = []
    for scale in args.scales:  # smallest first: ru_maxrss of children is a running maximum
        with tempfile.TemporaryDirectory() as tmp:
            out = (args.keep / scale) if args.keep else Path(tmp) / scale
            res = run(scale, args.seed, out)
        results.append(res)
        # memory target against all processes together (generator + its block worker), not just the largest
        measured = {"seconds": res["seconds"], "peak_gib": res["peak_all_processes_gib"]}
        ok = all(measured[k] <= v for k, v in res["targets"].items())
        print(f"{scale}: {res['seconds']} s, peak {res['peak_gib']} GiB (largest process; "
              f"{res['peak_all_processes_gib']} GiB all processes together), "
              f"{sum(res['landing'].values()):,} landing records, {sum(res['crm'].values()):,} CRM records "
              f"{'(within target)' if ok else '(OVER TARGET ' + str(res['targets']) + ')'}", flush=True)
    Path("bench_results").mkdir(exist_ok=True)
    Path("bench_results/generation.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
