"""End-to-end benchmark (not a test): a world through the whole pipeline, step by step, each step in its own
child process so its time and peak memory are its own. `make bench-l` runs it on L (DESIGN 9, issue 17).

    python -m revops.e2e_bench --scale L [--world /tmp/worlds/l] [--workdir /tmp/bench_l] [--out FILE]

Steps (the commands an operator runs, `revops ...`, as child processes):
 1. generate the world (`revops sandbox generate`), or reuse `--world` when its truth/manifest.json has the same
    scale and seed;
 2. land the files, all but the world's last day: the landing folder is mirrored by hard links into the work
    folder (the world is never changed) and the last day's day-partitioned files (.../YYYY/MM/DD/... or a
    YYYY-MM-DD file name) are held back in a side folder;
 3. the CRM: `revops sandbox serve --reseed` on 127.0.0.1 (its seeding timed apart), then `revops land --source
    crm`; requests counted from the server's access log against the sandbox's limits (sandbox/crm_server/
    ratelimit.py: 100 per rolling 10 s, search 5 per second on its own): the ceiling for the request mix is
    (searches + others) / max(searches / 5, others / 10) per second;
 4. the full build (`revops build`), with the slowest dbt models from its run_results.json;
 5. one new day: the held-back files moved in, `revops land` (CRM too), `revops build` — with the build's
    state-aware option when `revops build --help` offers one (or `--new-day-build-args`);
 6. a run with nothing new: land + build again.

Peak memory of a step is the largest sum of resident memory over its process tree (sampled every 0.2 s, the
CRM server included where the step talks to it) — the figure the 8 GiB target is checked against — and the
largest single process (getrusage of the waited child). A step that fails, runs out of memory, passes
`--max-rss-gib` (the machine is shared: it is stopped) or `--step-timeout` (`--build-timeout` for a build) is
reported as such and the benchmark goes on; the table is printed and written (`--out`, JSON) whatever happens,
and the JSON after every step. Targets (DESIGN 9): files landed + full build <= 20 min at <= 8 GiB (L); CRM
extraction >= 90 % of the rate-limit ceiling; at M a run with no new data <= 10 s and one new day <= 10 % of a
full build.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from revops import settings
from sandbox.world.bench import _tree_rss_bytes

GIB = 2**30
SEARCH_PER_S = 5.0  # the sandbox's defaults (sandbox/crm_server/config.py)
OTHER_PER_S = 100 / 10.0
GENERATION_TARGETS = {"M": {"seconds": 60}, "L": {"seconds": 900, "peak_gib": 8}}  # sandbox/world/bench.py
FILES_AND_BUILD = {"seconds": 20 * 60, "peak_gib": 8.0}  # DESIGN 9, stated for L
NO_CHANGE_S = 10.0  # DESIGN 9, stated for M
NEW_DAY_SHARE = 0.10  # of a full build, DESIGN 9, stated for M
CRM_SHARE = 0.90  # of the rate-limit ceiling
MARKER = ".e2e_bench"  # a work folder this benchmark made (and may empty again)
DAY_DIRS = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")
DAY_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass
class Step:
    name: str
    seconds: float | None = None
    records: int | None = None
    unit: str = "records"
    rate: float | None = None
    rate_unit: str = ""
    peak_gib: float | None = None  # all processes of the step together
    peak_process_gib: float | None = None  # the largest one
    target: str = ""
    verdict: str = ""
    status: str = "not run"  # ok | failed (exit N) | killed by signal N (OOM?) | stopped: ... | skipped: ...
    detail: dict = field(default_factory=dict)


@dataclass
class Proc:
    returncode: int | None
    seconds: float
    peak_bytes: int
    peak_process_bytes: int
    log: Path
    stopped: str = ""  # why the harness stopped it


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_DBT_PROGRESS = re.compile(r"^\d+ of \d+ ")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _tail_lines(log: Path, size: int = 65536) -> list[str] | None:
    """The last `size` bytes of `log` as stripped lines without colour codes; None when there is no log yet."""
    try:
        with log.open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - size))
            return [_ANSI.sub("", ln).strip() for ln in f.read().decode("utf-8", "replace").splitlines()]
    except FileNotFoundError:
        return None


def _last_line(log: Path, width: int = 150) -> str:
    """The last line of `log` worth showing: dbt's latest `N of M ...` line where there is one (Dagster's
    debug lines come between), else the last line."""
    lines = _tail_lines(log)
    if lines is None:
        return ""
    lines = [ln for ln in lines if ln]
    dbt = [re.sub(r"\s*\.{3,}.*$", "", ln) for ln in lines if _DBT_PROGRESS.match(ln)]  # without ..... [RUN]
    return (dbt or lines or [""])[-1][:width]


def _failure_line(log: Path, width: int = 300) -> str:
    """What a failed command said last about its error (dbt's `Runtime Error ...`, the CLI's `error: ...`)."""
    lines = _tail_lines(log)
    if lines is None:
        return ""
    lines = [ln for ln in lines if ln and not ln.startswith(("File ", "Traceback", "^"))]
    hits = [i for i, ln in enumerate(lines) if re.search(r"Error in |error:|Error:|FAILED |OutOfMemory|Killed", ln)]
    if not hits:
        return (lines or [""])[-1][:width]
    i = hits[0] if "Error in " in lines[hits[0]] else hits[-1]
    return " ".join(lines[i:i + 2])[:width]


def _kill_group(pid: int, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def stop_group(proc: subprocess.Popen, timeout_s: float = 30) -> None:
    """Stop a child started in its own process group: SIGTERM, then SIGKILL if it is still there after
    `timeout_s`."""
    _kill_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid, signal.SIGKILL)
        proc.wait()


def run_child(label: str, args: list[str], log: Path, env: dict, also: list[int] = (), *, nice: int = 0,
              max_rss: float, timeout: float, every: float) -> Proc:
    """Run `args` in its own process group with output to `log`; sample the memory of its tree (plus the trees
    of the pids in `also`) every 0.2 s and print a progress line every `every` s. Stopped (the whole group) when
    the tree passes `max_rss` bytes or `timeout` seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"$ {' '.join(args)}\n".encode())
        out.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                preexec_fn=(lambda: os.nice(nice)) if nice else None)
    peak = peak_process = 0
    stopped, last_print, status, kill_at = "", t0, None, None
    while True:
        pid, wstatus, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = wstatus
            peak_process = usage.ru_maxrss * 1024  # KiB: the largest process of the child and what it waited for
            break
        rss = _tree_rss_bytes(proc.pid) + sum(_tree_rss_bytes(p) for p in also)
        peak = max(peak, rss)
        now = time.perf_counter()
        if not stopped and rss > max_rss:
            stopped = f"stopped at {rss / GIB:.1f} GiB (over --max-rss-gib) after {now - t0:.0f} s: {_last_line(log)}"
        elif not stopped and now - t0 > timeout:
            stopped = f"stopped after {now - t0:.0f} s (over --step-timeout) at {rss / GIB:.1f} GiB: {_last_line(log)}"
        if stopped and kill_at is None:  # SIGTERM to the group now, SIGKILL if it has not gone in 20 s
            print(f"  [{label}] {stopped}", flush=True)
            _kill_group(proc.pid, signal.SIGTERM)
            kill_at = now + 20
        if kill_at is not None and now > kill_at:
            _kill_group(proc.pid, signal.SIGKILL)
            kill_at = float("inf")
        if now - last_print >= every:
            print(f"  [{label}] {now - t0:6.0f} s  {rss / GIB:5.2f} GiB  {_last_line(log)}", flush=True)
            last_print = now
        time.sleep(0.2)
    seconds = time.perf_counter() - t0
    _kill_group(proc.pid, signal.SIGKILL)  # anything it left behind in its group
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    return Proc(code, seconds, max(peak, peak_process), peak_process, log, stopped)


def _status(p: Proc) -> str:
    if p.stopped:
        return p.stopped
    if p.returncode == 0:
        return "ok"
    if p.returncode < 0:
        sig = -p.returncode
        return f"killed by signal {sig}" + (" (out of memory?)" if sig == signal.SIGKILL else "")
    return f"failed (exit {p.returncode}): {_failure_line(p.log)}"


def _fill(step: Step, p: Proc) -> Step:
    step.seconds = round(p.seconds, 1)
    step.peak_gib = round(p.peak_bytes / GIB, 2)
    step.peak_process_gib = round(p.peak_process_bytes / GIB, 2)
    step.status = _status(p)
    step.detail["log"] = str(p.log)
    return step


# --- what the commands printed ---------------------------------------------------------------------------------

_FILE_ROW = re.compile(r"^(\w+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+"
                       r"([\d.]+)\s*$")
_CRM_ROW = re.compile(r"^\s*crm (\w+)\s+read\s+([\d,]+)\s+landed\s+([\d,]+)")


def parse_land(log: Path, since: int) -> dict:
    """Per file source (files, skipped, read, landed, ...) and per CRM object (read, landed) from the output of
    `revops land` written after byte `since` of its log."""
    from revops.landing.files import SOURCES

    text = log.read_bytes()[since:].decode("utf-8", "replace")
    files, crm = {}, {}
    for line in text.splitlines():
        if (m := _FILE_ROW.match(line)) and m.group(1) in SOURCES:
            n = [int(x.replace(",", "")) for x in m.groups()[1:8]]
            files[m.group(1)] = dict(zip(["files", "skipped", "read", "landed", "quarantined", "duplicates",
                                          "conflicting"], n), seconds=float(m.group(9)))
        elif m := _CRM_ROW.match(line):
            crm[m.group(1)] = {"read": int(m.group(2).replace(",", "")), "landed": int(m.group(3).replace(",", ""))}
    return {"files": files, "crm": crm}


def parse_access(log: Path, since: int) -> dict:
    """The requests the sandbox CRM answered after byte `since` of its access log: counts by kind, 429s, the
    active span (first to last answer) and the ceiling the limits allow for this mix."""
    search = other = limited = failed = 0
    server_ms = {"search": 0.0, "other": 0.0}
    first = last = None
    with log.open("rb") as f:
        f.seek(since)
        for raw in f:
            parts = raw.decode("utf-8", "replace").split()
            if len(parts) < 5 or parts[2] == "/health":
                continue
            ts = datetime.fromisoformat(parts[0].replace("Z", "+00:00")).timestamp()
            first = ts if first is None else first
            last = ts
            if parts[3] == "429":
                limited += 1
                continue
            failed += not parts[3].startswith(("2", "3"))
            kind = "search" if parts[2].rstrip("/").endswith("/search") else "other"
            search += kind == "search"
            other += kind == "other"
            server_ms[kind] += float(parts[4].removesuffix("ms"))
    span = (last - first) if first is not None else 0.0
    floor_s = max(search / SEARCH_PER_S, other / OTHER_PER_S)  # the least time the limits allow for the mix
    total = search + other
    return {"requests": total, "search": search, "other": other, "rate_limited_429": limited,
            "errors": failed, "active_seconds": round(span, 2),
            "rate_per_s": round(total / span, 2) if span else None,
            "ceiling_per_s": round(total / floor_s, 2) if floor_s else None,
            "share_of_ceiling": round(floor_s / span, 3) if span else None,
            "server_ms_per_search": round(server_ms["search"] / search, 1) if search else None,
            "server_ms_per_other": round(server_ms["other"] / other, 1) if other else None}


_NODE_DONE = re.compile(r"^\d+ of \d+ (OK created|PASS|WARN|ERROR creating|ERROR|FAIL \d+|FAIL)\s+(?:sql \w+ )?"
                        r"(model|seed|unit_test|test)?\s*(?:main\.)?(\S+).*?\bin ([\d.]+)s\]")


def nodes_from_log(text: str) -> list[dict]:
    """The nodes dbt finished, from its `N of M OK ... in 1.23s` lines, for a build stopped before its
    run_results.json (a node without a type word is a data test)."""
    rows, seen = [], set()
    for line in text.splitlines():
        if (m := _NODE_DONE.match(_ANSI.sub("", line).strip())) and m.group(3) not in seen:  # errors come twice
            seen.add(m.group(3))
            ok = m.group(1).startswith(("OK", "PASS", "WARN"))
            rows.append({"node": m.group(3), "type": m.group(2) or ("unit_test" if "::" in m.group(3) else "test"),
                         "status": "success" if ok else "error", "seconds": float(m.group(4))})
    return sorted(rows, key=lambda r: -r["seconds"])


def run_results(target_root: Path, since: float) -> list[dict]:
    """(model, status, seconds) of the newest dbt run_results.json written under `target_root` after `since`."""
    found = [p for p in target_root.glob("*/run_results.json") if p.stat().st_mtime >= since]
    if not found:
        return []
    data = json.loads(max(found, key=lambda p: p.stat().st_mtime).read_text())
    rows = [{"node": r["unique_id"].split(".", 2)[-1], "type": r["unique_id"].split(".", 1)[0],
             "status": r["status"], "seconds": round(r.get("execution_time") or 0.0, 1)}
            for r in data.get("results", [])]
    return sorted(rows, key=lambda r: -r["seconds"])


# --- the world and its last day ---------------------------------------------------------------------------------

def file_day(rel: str) -> date | None:
    m = DAY_DIRS.search("/" + rel) or DAY_NAME.search(rel.rsplit("/", 1)[-1])
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def mirror_landing(src: Path, dst: Path, held: Path) -> tuple[date | None, int, int]:
    """Hard links of every file below `src` in `dst` (a copy where links cannot be made), except the files of
    the last day, which go to `held`: (that day, files mirrored, files held back)."""
    files = [p for p in src.rglob("*") if p.is_file() and not p.is_symlink()]
    days = {p: file_day(p.relative_to(src).as_posix()) for p in files}
    last = max((d for d in days.values() if d), default=None)
    n = h = 0
    for p in files:
        rel = p.relative_to(src)
        out = (held if last and days[p] == last else dst) / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(p, out)
        except OSError:
            shutil.copy2(p, out)
        h += out.is_relative_to(held)
        n += 1
    return last, n - h, h


def move_in(held: Path, landing: Path) -> int:
    n = 0
    for p in sorted(held.rglob("*")):
        if p.is_file():
            out = landing / p.relative_to(held)
            out.parent.mkdir(parents=True, exist_ok=True)
            p.rename(out)
            n += 1
    return n


def world_matches(world: Path, scale: str, seed: int) -> bool:
    try:
        cfg = json.loads((world / "truth" / "manifest.json").read_text())["config"]
    except (FileNotFoundError, KeyError, ValueError):
        return False
    return cfg.get("scale", {}).get("name") == scale and cfg.get("seed") == seed and (world / "landing").is_dir()


def _code_version() -> str:
    """The commit the benchmark runs (REVOPS_BENCH_COMMIT for a copy without .git), '+dirty' with local edits."""
    if os.environ.get("REVOPS_BENCH_COMMIT"):
        return os.environ["REVOPS_BENCH_COMMIT"]
    try:
        git = ["git", "-C", str(settings.REPO_ROOT)]
        rev = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True).stdout.strip()
        return (rev + ("+dirty" if dirty else "")) or "unknown"
    except OSError:
        return "unknown"


# --- the benchmark ----------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.a = args
        self.scale = args.scale
        self.work = args.workdir / args.scale
        self.world = args.world or (args.workdir / f"world_{args.scale}")
        self.steps: list[Step] = []
        self.server: subprocess.Popen | None = None
        self.crm_url: str | None = None
        self.access_log = self.work / "crm_access.log"
        self.db = self.work / "warehouse.duckdb"
        self.landing = self.work / "landing"
        self.held = self.work / "held_back"
        self.dbt_target = self.work / "dbt_target"
        self.meta: dict = {"scale": args.scale, "seed": args.seed, "world": str(self.world),
                           "workdir": str(self.work), "started": datetime.now().isoformat(timespec="seconds"),
                           "cpus": os.cpu_count(), "nice": os.getpriority(os.PRIO_PROCESS, 0) + args.nice,
                           "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1),
                           "load_average_at_start": os.getloadavg(), "code": _code_version()}
        self.env = dict(os.environ, **settings.TELEMETRY_OFF, REVOPS_DUCKDB_PATH=str(self.db),
                        DAGSTER_HOME=str(self.work / "dagster_home"), DBT_TARGET_PATH=str(self.dbt_target),
                        REVOPS_SNAPSHOT_DIR=str(self.work / "snapshots"), PYTHONUNBUFFERED="1")
        self.env.setdefault("HUBSPOT_TOKEN", "sandbox-local-token")  # the sandbox's own token (Makefile)
        self.env.pop("HUBSPOT_BASE_URL", None)  # set per step: only ever the sandbox started here

    def revops(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "revops.cli", *args]

    def child(self, label: str, args: list[str], env: dict | None = None, also: list[int] = (),
              timeout: float | None = None) -> Proc:
        return run_child(label, args, self.work / "logs" / f"{label}.log", env or self.env, also, nice=self.a.nice,
                         max_rss=self.a.max_rss_gib * GIB, timeout=timeout or self.a.step_timeout,
                         every=self.a.progress_every)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        print(f"==> {step.name}: {step.status}"
              + (f", {step.seconds} s" if step.seconds is not None else "")
              + (f", {step.records:,} {step.unit}" if step.records is not None else "")
              + (f", peak {step.peak_gib} GiB" if step.peak_gib is not None else ""), flush=True)
        self.write()
        return step

    def write(self) -> None:
        self.a.out.parent.mkdir(parents=True, exist_ok=True)
        self.a.out.write_text(json.dumps({**self.meta, "steps": [asdict(s) for s in self.steps]}, indent=2) + "\n")

    # 0: a clean work folder
    def prepare(self) -> None:
        if self.work.exists():
            if not (self.work / MARKER).exists():
                raise SystemExit(f"{self.work} exists and was not made by this benchmark: choose another --workdir")
            shutil.rmtree(self.work)
        (self.work / "dagster_home").mkdir(parents=True)
        (self.work / MARKER).write_text("made by python -m revops.e2e_bench; emptied by its next run\n")
        (self.work / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    # 1
    def generate(self) -> bool:
        step = Step("1 generate world", target="")
        t = GENERATION_TARGETS.get(self.scale)
        if t:
            step.target = " ".join([f"<= {t['seconds']} s"] + ([f"<= {t['peak_gib']} GiB"] if "peak_gib" in t else []))
        if world_matches(self.world, self.scale, self.a.seed):
            step.status, step.target = "reused", ""
            step.verdict = "-"
            step.detail["world"] = f"reused {self.world} (truth/manifest.json: scale {self.scale}, seed {self.a.seed})"
        else:
            if self.world.exists() and any(self.world.iterdir()):
                step.status = f"skipped: {self.world} holds something else (not a {self.scale} world of seed " \
                              f"{self.a.seed}); pass an empty or matching --world"
                self.add(step)
                return False
            p = self.child("1_generate", self.revops("sandbox", "generate", "--scale", self.scale, "--seed",
                                                     str(self.a.seed), "--out", str(self.world)))
            _fill(step, p)
            if t and step.status == "ok":
                ok = step.seconds <= t["seconds"] and step.peak_gib <= t.get("peak_gib", float("inf"))
                step.verdict = "ok" if ok else "MISSED"
        if step.status in ("ok", "reused"):
            manifest = json.loads((self.world / "truth" / "manifest.json").read_text())
            step.records, step.unit = sum(manifest["landing"].values()), "landing records"
            step.detail["crm_records"] = sum(manifest["crm"].values())
            self.meta["world_counts"] = {"crm": manifest["crm"], "landing": manifest["landing"]}
        self.add(step)
        return step.status in ("ok", "reused")

    def land_step(self, name: str, label: str, crm: bool, files: bool = True) -> Step:
        from revops.landing.files import SOURCES

        step = Step(name)
        sources = ([] if not crm else ["crm"]) + (list(SOURCES) if files else [])
        env = dict(self.env, HUBSPOT_BASE_URL=self.crm_url) if crm else self.env
        log = self.work / "logs" / f"{label}.log"
        since = log.stat().st_size if log.exists() else 0
        acc_since = self.access_log.stat().st_size if crm and self.access_log.exists() else 0
        args = self.revops("land", "--landing-dir", str(self.landing), "--duckdb", str(self.db),
                           *[x for s in sources for x in ("--source", s)])
        p = self.child(label, args, env, also=[self.server.pid] if crm and self.server else [])
        _fill(step, p)
        if p.returncode == 3:  # landed, some files refused: counted, not a failure of the benchmark
            step.status = "ok (some files refused: exit 3)"
        out = parse_land(log, since)
        step.detail.update(out)
        step.records = sum(v["read"] for v in out["files"].values()) + sum(v["read"] for v in out["crm"].values())
        if step.seconds:
            step.rate, step.rate_unit = round(step.records / step.seconds), "rec/s"
        if crm and self.access_log.exists():
            step.detail["requests"] = parse_access(self.access_log, acc_since)
        return step

    # 2
    def land_files(self) -> None:
        last, n, held = mirror_landing(self.world / "landing", self.landing, self.held)
        self.meta["held_back"] = {"day": str(last), "files": held, "files_landed_first": n}
        print(f"landing folder mirrored into {self.landing}: {n:,} files; the last day {last} ({held:,} files) "
              f"held back in {self.held}", flush=True)
        self.add(self.land_step("2 land files (all but the last day)", "2_land_files", crm=False))

    # 3
    def start_server(self) -> None:
        step = Step("3a CRM server: seed + start")
        port = _free_port()
        ready = self.work / "crm_server.url"
        log = self.work / "logs" / "crm_server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = dict(self.env, SANDBOX_CRM_ACCESS_LOG=str(self.access_log))
        t0 = time.perf_counter()
        with log.open("ab") as out:
            self.server = subprocess.Popen(
                self.revops("sandbox", "serve", "--world", str(self.world), "--db", str(self.work / "crm.sqlite"),
                            "--host", "127.0.0.1", "--port", str(port), "--reseed", "--ready-file", str(ready)),
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                preexec_fn=(lambda: os.nice(self.a.nice)) if self.a.nice else None)
        peak, last_print = 0, t0
        while not ready.exists() or not ready.read_text().strip():
            if self.server.poll() is not None:
                step.status = f"failed (exit {self.server.returncode}): {_last_line(log)}"
                self.server = None
                break
            peak = max(peak, _tree_rss_bytes(self.server.pid))
            now = time.perf_counter()
            if now - t0 > self.a.step_timeout:
                step.status = f"stopped: not ready after {now - t0:.0f} s"
                _kill_group(self.server.pid, signal.SIGKILL)
                self.server.wait()
                self.server = None
                break
            if now - last_print >= self.a.progress_every:
                print(f"  [crm server] {now - t0:6.0f} s  {peak / GIB:5.2f} GiB  seeding ...", flush=True)
                last_print = now
            time.sleep(0.2)
        else:
            self.crm_url = ready.read_text().strip()
            step.status = "ok"
            step.detail["url"] = self.crm_url
        step.seconds, step.peak_gib, step.verdict = round(time.perf_counter() - t0, 1), round(peak / GIB, 2), "-"
        self.add(step)

    def extract_crm(self) -> None:
        if not self.server:
            self.add(Step("3b CRM extraction", status="skipped: no CRM server", verdict="-"))
            return
        step = self.land_step("3b CRM extraction", "3_crm", crm=True, files=False)
        req = step.detail.get("requests", {})
        step.target = f">= {CRM_SHARE:.0%} of ceiling"
        if req.get("requests"):
            step.records, step.unit = req["requests"], "requests"
            step.rate, step.rate_unit = req["rate_per_s"], "req/s"
            step.detail["crm_records_read"] = sum(v["read"] for v in step.detail["crm"].values())
            share = req["share_of_ceiling"] or 0
            step.target += f" ({req['ceiling_per_s']} req/s)"
            step.verdict = (f"{share:.0%} " + ("ok" if share >= CRM_SHARE else "MISSED")
                            if step.status.startswith("ok") else "-")
        self.add(step)

    # 4, and the builds of 5 and 6
    def build_step(self, name: str, label: str, extra: list[str] = ()) -> Step:
        step = Step(name)
        t0 = time.time()
        log = self.work / "logs" / f"{label}.log"
        since = log.stat().st_size if log.exists() else 0
        p = self.child(label, self.revops("build", "--duckdb", str(self.db), *extra), timeout=self.a.build_timeout)
        _fill(step, p)
        text = log.read_bytes()[since:].decode("utf-8", "replace")
        if m := re.search(r"built (\d+) dbt nodes", text):
            step.records, step.unit = int(m.group(1)), "dbt nodes"
        nodes = run_results(self.dbt_target, t0) or nodes_from_log(text)  # dbt writes run_results at its end
        started = [ln for ln in (_ANSI.sub("", x).strip() for x in text.splitlines())
                   if re.match(r"\d+ of \d+ START", ln)]
        if step.status != "ok" and started:
            step.detail["last_started"] = re.sub(r"\s*\.{2,}.*$", "", started[-1])
        if nodes:
            step.detail["slowest_models"] = [n for n in nodes if n["type"] == "model"][:15]
            step.detail["slowest_other"] = [n for n in nodes if n["type"] != "model"][:5]
            step.detail["seconds_by_type"] = {t: round(sum(n["seconds"] for n in nodes if n["type"] == t), 1)
                                              for t in sorted({n["type"] for n in nodes})}
            step.detail["nodes_run"] = len(nodes)
            step.detail["nodes_failed"] = [n["node"] for n in nodes if n["status"] in ("error", "fail")]
            step.detail["nodes_seconds_total"] = round(sum(n["seconds"] for n in nodes), 1)
            step.records = step.records if step.records is not None else len(nodes)
        if self.db.exists():
            step.detail["warehouse_gib"] = round(self.db.stat().st_size / GIB, 2)
        if extra:
            step.detail["build_args"] = list(extra)
        return step

    def full_build(self) -> None:
        self.add(self.build_step("4 full build", "4_build"))

    def state_aware_args(self) -> list[str]:
        """The build's option for building only what new data touches, if `revops build --help` offers one."""
        if self.a.new_day_build_args is not None:
            return self.a.new_day_build_args.split()
        out = subprocess.run(self.revops("build", "--help"), capture_output=True, text=True, env=self.env,
                             timeout=120).stdout
        opts = set(re.findall(r"(--[a-z][a-z0-9-]+)", out)) - {"--select", "--duckdb", "--help"}
        hits = sorted(o for o in opts if re.search(r"changed|state|new|affected|touch|increment|since|modified", o)
                      and not o.startswith("--no-"))
        return hits[:1]

    def run_pair(self, prefix: str, title: str, label: str) -> tuple[Step, Step]:
        crm = self.server is not None
        land = self.add(self.land_step(f"{prefix}a {title}: land" + (" (files + CRM)" if crm else " (files)"),
                                       f"{label}_land", crm=crm))
        build = self.add(self.build_step(f"{prefix}b {title}: build", f"{label}_build", self.state_aware_args()))
        return land, build

    def new_day(self) -> tuple[Step, Step]:
        moved = move_in(self.held, self.landing)
        print(f"the held-back day's {moved:,} files moved into {self.landing}", flush=True)
        return self.run_pair("5", f"new day {self.meta['held_back']['day']}", "5_new_day")

    def no_change(self) -> tuple[Step, Step]:
        return self.run_pair("6", "no change", "6_no_change")

    def totals(self, new_day: tuple[Step, Step] | None, no_change: tuple[Step, Step] | None) -> None:
        by = {s.name.split()[0]: s for s in self.steps}
        land, build = by.get("2"), by.get("4")
        if land and build and land.seconds is not None and build.seconds is not None:
            ok = land.status.startswith("ok") and build.status == "ok"
            t = Step("= files landed + full build", seconds=round(land.seconds + build.seconds, 1),
                     peak_gib=max(land.peak_gib, build.peak_gib),
                     peak_process_gib=max(land.peak_process_gib, build.peak_process_gib),
                     target=f"<= {FILES_AND_BUILD['seconds'] // 60} min, <= {FILES_AND_BUILD['peak_gib']:g} GiB",
                     status="ok" if ok else "incomplete")
            met = t.seconds <= FILES_AND_BUILD["seconds"] and t.peak_gib <= FILES_AND_BUILD["peak_gib"]
            t.verdict = ("ok" if met else "MISSED") if ok else _incomplete([land, build])
            if self.scale != "L":
                t.verdict += " (target stated for L)"
            self.steps.append(t)
        for pair, name, limit in ((new_day, "= one new day (land + build)", None),
                                  (no_change, "= no change (land + build)", NO_CHANGE_S)):
            if not pair or pair[0].seconds is None or pair[1].seconds is None:
                continue
            secs = round(pair[0].seconds + pair[1].seconds, 1)
            ok = all(s.status.startswith("ok") for s in pair)
            t = Step(name, seconds=secs, peak_gib=max(pair[0].peak_gib, pair[1].peak_gib),
                     peak_process_gib=max(pair[0].peak_process_gib, pair[1].peak_process_gib),
                     status="ok" if ok else "incomplete")
            if limit is None and build and build.seconds and build.status == "ok":
                t.target = f"<= {NEW_DAY_SHARE:.0%} of full build ({build.seconds * NEW_DAY_SHARE:.0f} s)"
                t.detail["share_of_full_build"] = round(secs / build.seconds, 3)
                met = secs <= build.seconds * NEW_DAY_SHARE
                t.verdict = f"{secs / build.seconds:.0%} " + ("ok" if met else "MISSED")
            elif limit is not None:
                t.target = f"<= {limit:g} s"
                t.verdict = "ok" if secs <= limit else "MISSED"
            else:
                t.target = f"<= {NEW_DAY_SHARE:.0%} of full build"
            if not ok:
                t.verdict = _incomplete(pair)
            if t.verdict and self.scale != "M":
                t.verdict += " (target stated for M)"
            self.steps.append(t)
        self.write()

    def stop_server(self) -> None:
        if self.server is not None:
            stop_group(self.server)
            self.server = None

    def run(self) -> None:
        self.prepare()
        new_day = no_change = None
        try:
            if not self.generate():
                return
            self.land_files()
            self.start_server()
            self.extract_crm()
            self.full_build()
            new_day = self.new_day()
            no_change = self.no_change()
        except KeyboardInterrupt:
            print("interrupted: the steps so far follow", flush=True)
        except Exception as e:  # a bug of the harness: the table of what ran still prints
            import traceback

            traceback.print_exc()
            self.meta["harness_error"] = f"{type(e).__name__}: {e}"
        finally:
            self.stop_server()
            self.meta["finished"] = datetime.now().isoformat(timespec="seconds")
            self.meta["load_average_at_end"] = os.getloadavg()
            self.totals(new_day, no_change)
            print_table(self.steps, self.meta)
            print(f"written to {self.a.out}; logs in {self.work / 'logs'}")


def _incomplete(parts: list[Step]) -> str:
    """The verdict of a total whose parts did not all end well: a part stopped over the memory or time limit
    has missed the target already; one that failed leaves it unmeasured."""
    bad = [s for s in parts if not s.status.startswith("ok")]
    if all(s.status.startswith("stopped") for s in bad):
        return "MISSED (" + ", ".join(s.name.split()[0] for s in bad) + " stopped)"
    return "FAILED"


def _num(v, fmt="{:,}") -> str:
    return "" if v is None else fmt.format(v)


def print_table(steps: list[Step], meta: dict) -> None:
    print(f"\nscale {meta['scale']} (seed {meta['seed']}), code {meta['code']}, {meta['cpus']} CPUs, "
          f"{meta['memory_gib']} GiB, nice {meta['nice']}; load average at start "
          + ", ".join(f"{x:.1f}" for x in meta["load_average_at_start"]))
    head = ("step", "seconds", "records", "rate", "peak RSS GiB", "target", "verdict")
    rows = [(s.name, _num(s.seconds, "{:,.1f}"), (f"{s.records:,} {s.unit}" if s.records is not None else ""),
             (f"{s.rate:,} {s.rate_unit}" if s.rate is not None else ""),
             (f"{s.peak_gib}" + (f" ({s.peak_process_gib})" if s.peak_process_gib is not None else "")
              if s.peak_gib is not None else ""), s.target,
             s.verdict or ("" if s.status.startswith("ok") else s.status[:60])) for s in steps]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print("peak RSS: all processes of the step together (the largest single process in brackets)")
    for s in steps:
        if not s.status.startswith(("ok", "reused", "incomplete")):
            print(f"  {s.name}: {s.status}")
        if req := s.detail.get("requests"):
            print(f"  {s.name}: {req['requests']:,} requests ({req['search']:,} search, {req['other']:,} other, "
                  f"{req['rate_limited_429']:,} answered 429) in {req['active_seconds']} s = {req['rate_per_s']} "
                  f"req/s; ceiling for this mix {req['ceiling_per_s']} req/s; server ms per search "
                  f"{req['server_ms_per_search']}, per other {req['server_ms_per_other']}")
        if slow := s.detail.get("slowest_models"):
            print(f"  {s.name}: slowest dbt models: " + ", ".join(f"{n['node']} {n['seconds']} s" for n in slow[:6])
                  + "; seconds by node type: " + ", ".join(f"{k} {v}" for k, v in s.detail["seconds_by_type"].items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="L")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--world", type=Path, help="world folder: reused when its truth/ is this scale and seed, "
                    "else generated there (default <workdir>/world_<scale>)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench_l"),
                    help="work folder; <workdir>/<scale> is emptied at the start (only if this benchmark made it)")
    ap.add_argument("--out", type=Path, help="JSON results (default bench_results/e2e_<scale>.json)")
    ap.add_argument("--nice", type=int, default=0, help="niceness of the steps (a shared machine)")
    ap.add_argument("--max-rss-gib", type=float, default=18.0, help="stop a step whose processes pass this")
    ap.add_argument("--step-timeout", type=float, default=3 * 3600, help="stop a step after this many seconds")
    ap.add_argument("--build-timeout", type=float, default=90 * 60, help="stop a build after this many seconds")
    ap.add_argument("--progress-every", type=float, default=30.0, help="seconds between progress lines")
    ap.add_argument("--new-day-build-args", help="arguments of `revops build` for the new-day and no-change "
                    "builds (default: the build's state-aware option if its --help shows one, else none)")
    args = ap.parse_args()
    args.out = args.out or Path(f"bench_results/e2e_{args.scale}.json")
    args.workdir = args.workdir.absolute()
    args.world = args.world.absolute() if args.world else None
    args.out = args.out.absolute()
    Bench(args).run()


if __name__ == "__main__":
    main()
