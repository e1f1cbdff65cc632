"""Demo-request latency benchmark (not a test): how long a demo request takes from a new landing file to its
owner's task in the CRM, through the Dagster fast lane. `make bench-latency` runs it on M (DESIGN 9, issue 17:
p95 <= 60 s).

    python -m revops.latency_bench [--world /tmp/worlds/m] [--workdir /tmp/bench_latency] [--requests 20]

Set-up (not timed), everything under `<workdir>/<scale>` (emptied first, only if this benchmark made it):
 1. the world: `--world` reused when its truth/manifest.json has the scale and seed, else generated there; its
    landing folder mirrored by hard links into the work folder (the world is never changed);
 2. the sandbox CRM (`revops sandbox serve --reseed`, a free 127.0.0.1 port, its own SQLite file, an access log);
 3. one full pipeline run as `make demo` does it: `revops land` (CRM + files), `revops build --changed`, `revops
    sync`, so the warehouse and the CRM are in steady state; `dbt parse` first with the same environment, so the
    runs' dbt invocations find a partial-parse file that matches their profile (as `make manifest` gives the demo);
 4. a Dagster instance of its own (DAGSTER_HOME with a copy of dagster_home/dagster.yaml: one warehouse writer at
    a time), `dagster-daemon run -m dagster_project.definitions`, the cursor of `fast_lane_on_new_files` set to the
    newest landing file (so its first tick does not re-run every source), then the sensors `fast_lane_on_new_files`
    and `build_when_data_changed` started; the benchmark waits until both have ticked and nothing runs.
Timed:
 5. `--requests` known people without an open call task (a person in nurture with a Segment identity, a CRM
    contact and an email, who has no task in sync_hubspot__tasks) get one `Demo Requested` track event each, in ONE
    new Segment file (landing/segment/YYYY/MM/DD/bench-latency-*.jsonl, written under another name and renamed into
    place), shaped like the world's own Demo Requested events, timestamped just after the warehouse's as_of (same
    UTC day, so nothing else's dates move);
 6. the CRM is polled every `--poll` s (one task search by revops_action_key = person:call:1..3 of the people not
    reached yet, one contacts batch read for revops_next_action): a person's latency is from the file's rename to
    the first poll that sees their call task (their hand-raise action); `--timeout` s at most, the rest are listed
    as timeouts (and count as the timeout in p50/p95, then lower bounds). The time until the contact's
    revops_next_action changed to a demo-request sentence is reported beside it;
 7. the Dagster runs started after the drop (the fast lane's, then build_when_data_changed's), their queue and
    launch times, each step's duration, the dbt models each ran (run_results.json) and the CRM requests the sandbox
    answered meanwhile; printed, and written as JSON (`--out`) whatever happens.
Every process it started (the daemon with its code server and run workers, the CRM server) is stopped at the end,
also after a failure or Ctrl-C. `--reuse` skips the set-up and starts from the warehouse and CRM a previous run left
(another sample, other people; a fresh Dagster instance).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from revops import settings
from revops.e2e_bench import (GIB, _code_version, _free_port, parse_access, run_child, stop_group,
                               world_matches)

TARGET_P95_S = 60.0  # DESIGN 9
MARKER = ".latency_bench"
ACTION_KIND = "call"  # a hand raise's next action (int_next_actions_decided: qualified/routed + hand raise -> call)
CYCLES = (1, 2, 3)  # task cycles searched per person (cycle n+1 after a rep completed cycle n)
SENSORS = ("fast_lane_on_new_files", "build_when_data_changed")
DBT_STEP = "dbt_warehouse"  # the step of the dbt assets (dagster_project/defs/dbt/assets.py)
CODE_MODULE = "dagster_project.definitions"


def _iso_ms(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


def _tree_pids(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
            out.append(p)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return out


@dataclass
class Person:
    person_id: str
    email: str
    crm_contact_id: str
    user_id: str | None
    anonymous_id: str | None
    owner_id: str | None
    stage_before: str
    next_action_before: str
    event_at: str = ""
    message_id: str = ""
    task_seconds: float | None = None
    task_key: str | None = None
    task_id: str | None = None
    task_subject: str | None = None
    task_owner: str | None = None
    task_priority: str | None = None
    next_action_crm_before: str | None = None  # the contact's revops_next_action in the CRM before the drop
    next_action_seconds: float | None = None
    next_action_after: str | None = None


@dataclass
class Result:
    meta: dict = field(default_factory=dict)
    setup: list[dict] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    ticks: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


class LatencyBench:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.work = a.workdir / a.scale
        self.world = a.world or (a.workdir / f"world_{a.scale}")
        self.landing = self.work / "landing"
        self.db = self.work / "warehouse.duckdb"
        self.home = self.work / "dagster_home"
        self.dbt_target = self.work / "dbt_target"
        self.logs = self.work / "logs"
        self.access_log = self.work / "crm_access.log"
        self.server: subprocess.Popen | None = None
        self.daemon: subprocess.Popen | None = None
        self.daemon_pids: set[int] = set()
        self.crm_url: str | None = None
        self.res = Result()
        self.bin = Path(sys.executable).parent
        self.env = dict(os.environ, **settings.TELEMETRY_OFF, REVOPS_DUCKDB_PATH=str(self.db),
                        REVOPS_WORLD_DIR=str(self.world), REVOPS_LANDING_DIR=str(self.landing),
                        DAGSTER_HOME=str(self.home), DBT_TARGET_PATH=str(self.dbt_target),
                        REVOPS_SNAPSHOT_DIR=str(self.work / "snapshots"), PYTHONUNBUFFERED="1",
                        PYTHONPATH=os.pathsep.join([str(settings.REPO_ROOT)]
                                                   + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH")
                                                      else [])))
        self.env.setdefault("HUBSPOT_TOKEN", "sandbox-local-token")  # the sandbox's own token (Makefile)
        self.env.pop("HUBSPOT_BASE_URL", None)  # only ever the sandbox started here
        self.res.meta = {"scale": a.scale, "seed": a.seed, "world": str(self.world), "workdir": str(self.work),
                         "requests": a.requests, "poll_s": a.poll, "timeout_s": a.timeout,
                         "started": datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
                         "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1),
                         "load_average_at_start": os.getloadavg(), "code": _code_version(),
                         "repo": str(settings.REPO_ROOT)}

    # --- helpers -------------------------------------------------------------------------------------------------

    def say(self, msg: str) -> None:
        print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)

    def revops(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "revops.cli", *args]

    def dagster(self, *args: str) -> list[str]:
        return [str(self.bin / "dagster"), *args, "-m", CODE_MODULE, "-d", str(settings.REPO_ROOT)]

    def step(self, label: str, args: list[str], env: dict | None = None, ok: tuple[int, ...] = (0,)) -> dict:
        self.say(f"{label}: {' '.join(args)[:200]}")
        p = run_child(label, args, self.logs / f"{label}.log", env or self.env, nice=0, max_rss=self.a.max_rss_gib * GIB,
                      timeout=self.a.step_timeout, every=60.0)
        row = {"step": label, "seconds": round(p.seconds, 1), "exit": p.returncode, "log": str(p.log)}
        self.res.setup.append(row)
        self.write()
        if p.returncode not in ok or p.stopped:
            tail = p.log.read_text(errors="replace").strip().splitlines()[-15:]
            raise RuntimeError(f"set-up step {label} failed (exit {p.returncode}{', ' + p.stopped if p.stopped else ''})"
                               f"; see {p.log}:\n  " + "\n  ".join(tail))
        self.say(f"{label}: done in {p.seconds:.1f} s (exit {p.returncode})")
        return row

    def write(self) -> None:
        out = self.a.out
        out.parent.mkdir(parents=True, exist_ok=True)
        data = {**self.res.meta, "summary": self.res.summary, "setup": self.res.setup,
                "persons": [p.__dict__ for p in self.res.persons], "runs": self.res.runs, "ticks": self.res.ticks}
        out.write_text(json.dumps(data, indent=2, default=str) + "\n")

    # --- set-up --------------------------------------------------------------------------------------------------

    def prepare(self) -> bool:
        """A clean work folder; with --reuse, the one a previous run left in steady state (its warehouse, CRM and
        dbt target kept, a fresh Dagster instance). True: reused."""
        done = self.work / "setup_done"
        if self.a.reuse and done.exists() and (self.work / MARKER).exists():
            shutil.rmtree(self.home, ignore_errors=True)
            self.home.mkdir(parents=True)
            shutil.copy(settings.REPO_ROOT / "dagster_home" / "dagster.yaml", self.home / "dagster.yaml")
            self.res.meta["reused_setup"] = done.read_text().strip()
            return True
        if self.work.exists():
            if not (self.work / MARKER).exists():
                raise SystemExit(f"{self.work} exists and was not made by this benchmark: choose another --workdir")
            shutil.rmtree(self.work)
        for d in (self.home, self.dbt_target, self.logs):
            d.mkdir(parents=True)
        (self.work / MARKER).write_text("made by python -m revops.latency_bench; emptied by its next run\n")
        shutil.copy(settings.REPO_ROOT / "dagster_home" / "dagster.yaml", self.home / "dagster.yaml")
        return False

    def world_ready(self) -> None:
        if world_matches(self.world, self.a.scale, self.a.seed):
            self.say(f"world: reusing {self.world}")
            self.res.meta["world_status"] = "reused"
        else:
            if self.world.exists() and any(self.world.iterdir()):
                raise SystemExit(f"{self.world} holds something else than a {self.a.scale} world of seed "
                                 f"{self.a.seed}: pass an empty or matching --world")
            self.step("generate", self.revops("sandbox", "generate", "--scale", self.a.scale, "--seed",
                                              str(self.a.seed), "--out", str(self.world)))
            self.res.meta["world_status"] = "generated"
        n = 0
        src = self.world / "landing"
        for p in src.rglob("*"):
            if p.is_file() and not p.is_symlink():
                out = self.landing / p.relative_to(src)
                out.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(p, out)
                except OSError:
                    shutil.copy2(p, out)
                n += 1
        self.say(f"landing folder mirrored into {self.landing}: {n:,} files")

    def start_server(self, reseed: bool = True) -> None:
        ready = self.work / "crm_server.url"
        ready.unlink(missing_ok=True)
        log = self.logs / "crm_server.log"
        env = dict(self.env, SANDBOX_CRM_ACCESS_LOG=str(self.access_log))
        t0 = time.perf_counter()
        with log.open("ab") as out:
            self.server = subprocess.Popen(
                self.revops("sandbox", "serve", "--world", str(self.world), "--db", str(self.work / "crm.sqlite"),
                            "--host", "127.0.0.1", "--port", str(_free_port()), "--ready-file", str(ready),
                            *(["--reseed"] if reseed else [])),
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        while not (ready.exists() and ready.read_text().strip()):
            if self.server.poll() is not None:
                raise RuntimeError(f"the CRM server stopped (exit {self.server.returncode}): see {log}")
            if time.perf_counter() - t0 > 600:
                raise RuntimeError(f"the CRM server was not ready after 600 s: see {log}")
            time.sleep(0.2)
        self.crm_url = ready.read_text().strip()
        self.res.setup.append({"step": "crm_server (seed + start)", "seconds": round(time.perf_counter() - t0, 1),
                               "url": self.crm_url})
        self.say(f"CRM server at {self.crm_url} ({time.perf_counter() - t0:.1f} s)")

    def pipeline(self) -> None:
        crm_env = dict(self.env, HUBSPOT_BASE_URL=self.crm_url)
        # the partial-parse file every dbt invocation of the runs starts from (DBT_TARGET_PATH), parsed with the
        # profile it will run with (REVOPS_DUCKDB_PATH is part of it): `make manifest` gives the demo the same
        self.step("dbt_parse", [str(self.bin / "dbt"), "parse", "--quiet", "--project-dir",
                                str(settings.dbt_project_dir()), "--profiles-dir", str(settings.dbt_project_dir())])
        self.step("land", self.revops("land", "--landing-dir", str(self.landing), "--duckdb", str(self.db)), crm_env,
                  ok=(0, 3))
        self.step("build", self.revops("build", "--changed", "--duckdb", str(self.db)))
        self.step("sync", self.revops("sync", "--duckdb", str(self.db)), crm_env, ok=(0, 5))

    def start_daemon(self) -> None:
        env = dict(self.env, HUBSPOT_BASE_URL=self.crm_url)
        log = self.logs / "dagster_daemon.log"
        with log.open("ab") as out:
            self.daemon = subprocess.Popen(
                [str(self.bin / "dagster-daemon"), "run", "-m", CODE_MODULE, "-d", str(settings.REPO_ROOT)],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=settings.REPO_ROOT, start_new_session=True)
        self.say(f"dagster-daemon started (pid {self.daemon.pid}, log {log})")
        # the fast lane's cursor at the newest landing file: its first tick must not re-run every source
        from revops.landing.files import SOURCES, source_files

        newest = max((p.stat().st_mtime_ns for s in SOURCES.values() for p in source_files(s, self.landing)),
                     default=0)
        self.step("sensor_cursor", self.dagster("sensor", "cursor", "fast_lane_on_new_files", "--set", str(newest)),
                  env)
        for name in SENSORS:
            self.step(f"sensor_start_{name}", self.dagster("sensor", "start", name), env)
        self.res.meta["fast_lane_cursor_ns"] = newest

    # --- the Dagster instance ----------------------------------------------------------------------------------

    def instance(self):
        os.environ["DAGSTER_HOME"] = str(self.home)
        import dagster as dg

        if not hasattr(self, "_instance"):
            self._instance = dg.DagsterInstance.get()
        return self._instance

    def sensor_states(self) -> dict:
        from dagster._core.definitions.run_request import InstigatorType

        return {s.instigator_name: s for s in self.instance().all_instigator_state(instigator_type=InstigatorType.SENSOR)}

    def ticks(self, name: str, after: float) -> list:
        st = self.sensor_states().get(name)
        if st is None:
            return []
        return [t for t in self.instance().get_ticks(st.instigator_origin_id, st.selector_id, after=after, limit=1000)]

    def active_runs(self) -> list:
        import dagster as dg

        active = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                  dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
        return list(self.instance().get_run_records(dg.RunsFilter(statuses=active)))

    def check_daemon(self) -> None:
        if self.daemon is not None and self.daemon.poll() is not None:
            raise RuntimeError(f"dagster-daemon exited ({self.daemon.returncode}): see {self.logs / 'dagster_daemon.log'}")
        if self.daemon is not None:
            self.daemon_pids |= set(_tree_pids(self.daemon.pid))

    def wait_steady(self) -> None:
        """Until both sensors ticked (after the last run ended, build_when_data_changed twice) and nothing runs."""
        from dagster._core.scheduler.instigation import TickStatus

        t0 = time.time()
        since = t0 - 5
        last_note = 0.0
        pre_runs: set[str] = set()
        while True:
            self.check_daemon()
            active = self.active_runs()
            pre_runs |= {r.dagster_run.run_id for r in active}
            fast = [t for t in self.ticks("fast_lane_on_new_files", since) if t.status != TickStatus.STARTED]
            build = [t for t in self.ticks("build_when_data_changed", since) if t.status != TickStatus.STARTED]
            for t in fast + build:
                if t.status == TickStatus.FAILURE:
                    raise RuntimeError(f"a sensor tick failed: {t.error.message.strip()[:500] if t.error else '?'}")
            if fast and any(t.status == TickStatus.SUCCESS for t in fast):
                raise RuntimeError("the fast lane started a run before the drop (its cursor was not taken): "
                                   f"{[t.run_ids for t in fast]}")
            quiet_build = [t for t in build if t.status == TickStatus.SKIPPED]
            if not active and fast and len(quiet_build) >= 2:
                break
            if time.time() - t0 > self.a.steady_timeout:
                raise RuntimeError(f"no steady state after {self.a.steady_timeout:.0f} s: {len(active)} run(s) "
                                   f"active, fast-lane ticks {len(fast)}, build ticks {[t.status.value for t in build[:3]]}")
            if time.time() - last_note > 30:
                self.say(f"waiting for steady state: {len(active)} run(s) active, fast-lane ticks {len(fast)}, "
                         f"build_when_data_changed ticks {[t.status.value for t in build[:3]]}")
                last_note = time.time()
            if active:
                since = time.time()  # ticks before a run ended do not count
            time.sleep(2)
        self.res.meta["steady_after_s"] = round(time.time() - t0, 1)
        self.res.meta["runs_before_drop"] = sorted(pre_runs)
        self.say(f"steady: sensors ticking, nothing running ({time.time() - t0:.0f} s"
                 + (f"; {len(pre_runs)} run(s) before the drop" if pre_runs else "") + ")")

    # --- the people and their file ------------------------------------------------------------------------------

    def choose(self) -> tuple[list[Person], datetime]:
        from revops.warehouse import connect

        con = connect(self.db, read_only=True)
        try:
            as_of = con.execute("select max(as_of) from mart_stage_map").fetchone()[0]
            rows = con.execute("""
                with candidates as (
                    select m.person_id, p.best_email, p.primary_crm_contact_id, m.owner_id, m.stage,
                           m.next_action
                    from mart_stage_map as m
                    inner join dim_person as p on p.person_id = m.person_id
                    where m.stage = 'nurture' and m.route = 'nurture' and m.suppression_reason is null
                        and p.primary_crm_contact_id is not null and p.best_email is not null
                        and not coalesce(p.is_shared_mailbox, false) and not coalesce(p.is_oversized_cluster, false)
                ),
                segment_ids as (
                    select person_id,
                        max(identifier_value) filter (where identifier_type = 'segment_user_id') as user_id,
                        arg_max(identifier_value, last_seen_at)
                            filter (where identifier_type = 'segment_anonymous_id') as anonymous_id
                    from bridge_person_identifier
                    where identifier_type in ('segment_user_id', 'segment_anonymous_id')
                    group by person_id
                ),
                tasked as (
                    select person_id from sync_hubspot__tasks
                    union
                    select split_part(action_key, ':', 1) from crm_sync.tasks where state = 'open'
                )
                select c.person_id, c.best_email, c.primary_crm_contact_id, s.user_id, s.anonymous_id, c.owner_id,
                       c.stage, c.next_action
                from candidates as c
                inner join segment_ids as s on s.person_id = c.person_id
                where c.person_id not in (select person_id from tasked)
                    and (s.user_id is not null or s.anonymous_id is not null)
                order by hash(c.person_id || ?)
                limit ?""", [str(self.a.seed), self.a.requests]).fetchall()
        finally:
            con.close()
        if len(rows) < self.a.requests:
            raise RuntimeError(f"only {len(rows)} people fit (nurture, Segment identity, CRM contact, no task)")
        return [Person(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows], as_of

    def template(self) -> dict:
        """A Demo Requested event of the world, newest file first: the shape the new events copy."""
        files = sorted((self.landing / "segment").rglob("*.jsonl*"), reverse=True)
        for f in files:
            opener = gzip.open if f.name.endswith(".gz") else open
            with opener(f, "rt", encoding="utf-8") as fh:
                for line in fh:
                    if '"Demo Requested"' in line:
                        ev = json.loads(line)
                        if ev.get("type") == "track" and ev.get("event") == "Demo Requested":
                            return ev
        raise RuntimeError("no Demo Requested event in the world's Segment files to copy the shape of")

    def drop(self, persons: list[Person], as_of: datetime) -> tuple[Path, float]:
        tpl = self.template()
        start = as_of.replace(tzinfo=timezone.utc) if as_of.tzinfo is None else as_of.astimezone(timezone.utc)
        day_end = datetime(start.year, start.month, start.day, tzinfo=timezone.utc) + timedelta(days=1)
        step = min(timedelta(milliseconds=100), (day_end - start) / (len(persons) + 2))
        lines = []
        for i, p in enumerate(persons):
            t = start + step * (i + 1)
            ev = json.loads(json.dumps(tpl))
            ev.update({"messageId": f"ajs-bench-{uuid.uuid4().hex}", "type": "track", "event": "Demo Requested",
                       "userId": p.user_id, "anonymousId": p.anonymous_id, "timestamp": _iso_ms(t),
                       "originalTimestamp": _iso_ms(t), "sentAt": _iso_ms(t + timedelta(milliseconds=120)),
                       "receivedAt": _iso_ms(t + timedelta(milliseconds=340))})
            ev["properties"] = {**(ev.get("properties") or {}), "email": p.email}
            p.event_at, p.message_id = ev["timestamp"], ev["messageId"]
            lines.append(json.dumps(ev, separators=(",", ":")))
        last = start + step * len(persons)
        if last.date() != start.date():
            raise RuntimeError(f"as_of {start} leaves no room on its day for {len(persons)} events")
        folder = self.landing / "segment" / f"{last:%Y/%m/%d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"bench-latency-{int(time.time())}.jsonl"
        tmp = folder / (name + ".partial")  # outside the source's pattern until renamed (docs/operations.md)
        tmp.write_text("\n".join(lines) + "\n")
        os.rename(tmp, folder / name)
        t0 = time.time()
        self.res.meta["drop"] = {"file": str(folder / name), "at": datetime.fromtimestamp(t0).isoformat(),
                                 "as_of_before": str(as_of), "first_event": persons[0].event_at,
                                 "last_event": persons[-1].event_at, "template_message": tpl.get("messageId")}
        return folder / name, t0

    # --- the clock ----------------------------------------------------------------------------------------------

    def poll(self, persons: list[Person], t0: float) -> None:
        from revops.hubspot import HubSpotClient

        by_id = {p.person_id: p for p in persons}
        loads = []
        with HubSpotClient(base_url=self.crm_url, token=self.env["HUBSPOT_TOKEN"]) as client:
            while True:
                now = time.time()
                waiting = [p for p in persons if p.task_seconds is None]
                if waiting:
                    keys = [f"{p.person_id}:{ACTION_KIND}:{c}" for p in waiting for c in CYCLES]
                    body = {"filterGroups": [{"filters": [{"propertyName": "revops_action_key", "operator": "IN",
                                                           "values": keys}]}],
                            "properties": ["revops_action_key", "hs_task_subject", "hubspot_owner_id",
                                           "hs_task_status", "hs_task_priority"], "limit": 200}
                    try:
                        found = client.request("POST", "/crm/v3/objects/tasks/search", json=body).get("results", [])
                    except Exception as e:  # a lost answer: the next poll asks again
                        found = []
                        self.res.meta.setdefault("poll_errors", []).append(f"{now - t0:.1f} s tasks: {e}"[:300])
                    seen = time.time() - t0
                    for r in found:
                        props = r.get("properties") or {}
                        p = by_id.get(str(props.get("revops_action_key", "")).split(":", 1)[0])
                        if p and p.task_seconds is None:
                            p.task_seconds, p.task_key, p.task_id = round(seen, 2), props["revops_action_key"], r["id"]
                            p.task_subject, p.task_owner = props.get("hs_task_subject"), props.get("hubspot_owner_id")
                            p.task_priority = props.get("hs_task_priority")
                            self.say(f"  task for {p.person_id} after {seen:.1f} s: {p.task_key} {p.task_subject}")
                pending = [p for p in persons if p.next_action_seconds is None]
                if pending:
                    try:
                        values = self.next_actions(client, pending)
                    except Exception as e:
                        values = {}
                        self.res.meta.setdefault("poll_errors", []).append(f"{now - t0:.1f} s contacts: {e}"[:300])
                    seen = time.time() - t0
                    for p in pending:
                        v = values.get(p.crm_contact_id)
                        if v is not None and v != p.next_action_crm_before and "demo requested" in v.lower():
                            p.next_action_seconds, p.next_action_after = round(seen, 2), v
                loads.append(os.getloadavg()[0])
                if all(p.task_seconds is not None for p in persons):
                    break
                if time.time() - t0 > self.a.timeout:
                    self.say(f"timeout after {self.a.timeout:.0f} s: "
                             f"{sum(p.task_seconds is None for p in persons)} person(s) without a task")
                    break
                self.check_daemon()
                time.sleep(max(0.0, self.a.poll - (time.time() - now)))
            self.res.meta["poller_requests"] = client.stats["requests"]
        self.res.meta["load_average_1min_while_timed"] = {"min": min(loads), "max": max(loads),
                                                          "mean": round(sum(loads) / len(loads), 2)}

    @staticmethod
    def next_actions(client, persons: list[Person]) -> dict[str, str]:
        """revops_next_action of the persons' CRM contacts (one batch read)."""
        body = {"inputs": [{"id": p.crm_contact_id} for p in persons], "properties": ["revops_next_action"]}
        read = client.request("POST", "/crm/v3/objects/contacts/batch/read", json=body)
        return {str(r.get("id")): (r.get("properties") or {}).get("revops_next_action") or ""
                for r in read.get("results", [])}

    # --- where the time went ------------------------------------------------------------------------------------

    def wait_runs(self, t0: float) -> None:
        """Until the runs started since the drop have ended and, after the fast lane's, build_when_data_changed has
        ticked and its run (the rest of the models) has ended too (at most --follow-up-wait s): their figures are
        read after."""
        import dagster as dg
        from dagster._core.scheduler.instigation import TickStatus

        end = time.time() + self.a.follow_up_wait
        after = datetime.fromtimestamp(t0 - 1, timezone.utc)
        while time.time() < end:
            self.check_daemon()
            if not self.active_runs():
                if not self.a.follow_up:
                    return
                fast = [r for r in self.instance().get_run_records(dg.RunsFilter(created_after=after,
                                                                                  job_name="fast_lane"))]
                ended = max((r.end_time for r in fast if r.end_time), default=None)
                if ended is None:
                    return
                ticks = [t for t in self.ticks("build_when_data_changed", ended)
                         if t.status in (TickStatus.SKIPPED, TickStatus.SUCCESS, TickStatus.FAILURE)]
                if ticks:
                    return
            time.sleep(2)
        self.say(f"stopped waiting for the runs after {self.a.follow_up_wait:.0f} s")

    def collect(self, t0: float) -> None:
        import dagster as dg

        inst = self.instance()
        records = sorted(inst.get_run_records(dg.RunsFilter(created_after=datetime.fromtimestamp(t0 - 1, timezone.utc))),
                         key=lambda r: r.create_timestamp)
        for rec in records:
            run = rec.dagster_run
            marks: dict[str, float] = {}
            steps: dict[str, dict] = {}
            for e in inst.all_logs(run.run_id):
                de = e.dagster_event
                if de is None:
                    continue
                kind = de.event_type_value
                rel = round(e.timestamp - t0, 2)
                if kind.startswith(("PIPELINE_", "RUN_")):
                    marks.setdefault(kind.replace("PIPELINE_", "RUN_"), rel)
                if de.step_key and kind in ("STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "RESOURCE_INIT_STARTED",
                                            "STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "ASSET_MATERIALIZATION"):
                    st = steps.setdefault(de.step_key, {"step": de.step_key})
                    if kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                        st["end"], st["status"] = rel, kind.removeprefix("STEP_").lower()
                    elif kind == "ASSET_MATERIALIZATION":
                        st["materializations"] = st.get("materializations", 0) + 1
                    else:
                        st.setdefault({"STEP_WORKER_STARTING": "worker_starting", "STEP_WORKER_STARTED": "worker_started",
                                       "RESOURCE_INIT_STARTED": "resources", "STEP_START": "start"}[kind], rel)
            for st in steps.values():
                if "start" in st and "end" in st:
                    st["seconds"] = round(st["end"] - st["start"], 2)
                if "start" in st and "worker_starting" in st:
                    st["process_startup_seconds"] = round(st["start"] - st["worker_starting"], 2)
            row = {"run_id": run.run_id, "job": run.job_name, "status": run.status.value,
                   "created": round(rec.create_timestamp.timestamp() - t0, 2),
                   "tags": {k: v for k, v in run.tags.items() if k.startswith(("revops/", "dagster/sensor"))},
                   "marks": marks, "steps": sorted(steps.values(), key=lambda x: x.get("start", x.get("end", 1e9))),
                   "assets_selected": len(run.asset_selection or ()),
                   "dbt": self.dbt_results(run.run_id, t0)}
            self.res.runs.append(row)
        for name in SENSORS:
            for t in reversed(self.ticks(name, t0 - 15)):
                self.res.ticks.append({"sensor": name, "at": round(t.timestamp - t0, 2),
                                       "end": round(t.end_timestamp - t0, 2) if t.end_timestamp else None,
                                       "status": t.status.value, "run_ids": list(t.run_ids),
                                       "skip_reason": (t.skip_reason or "")[:200]})

    def dbt_results(self, run_id: str, t0: float) -> dict:
        found = sorted(self.dbt_target.glob(f"*-{run_id[:7]}-*/run_results.json"))
        if not found:
            return {}
        out: dict = {"invocations": len(found), "elapsed_s": 0.0}
        rows, starts, ends = [], [], []
        for f in found:
            data = json.loads(f.read_text())
            out["elapsed_s"] = round(out["elapsed_s"] + (data.get("elapsed_time") or 0), 1)
            for r in data.get("results", []):
                rows.append({"node": r["unique_id"].split(".", 2)[-1], "type": r["unique_id"].split(".", 1)[0],
                             "status": r["status"], "seconds": round(r.get("execution_time") or 0.0, 2)})
                for t in r.get("timing") or []:
                    for k, acc in (("started_at", starts), ("completed_at", ends)):
                        if t.get(k):
                            acc.append(datetime.fromisoformat(t[k].replace("Z", "+00:00")).timestamp())
        rows.sort(key=lambda r: -r["seconds"])
        if starts and ends:
            out["first_node_start"] = round(min(starts) - t0, 2)
            out["last_node_end"] = round(max(ends) - t0, 2)
        out["nodes"] = len(rows)
        out["models"] = sum(r["type"] == "model" for r in rows)
        out["tests"] = sum(r["type"] in ("test", "unit_test") for r in rows)
        out["seconds_by_type"] = {t: round(sum(r["seconds"] for r in rows if r["type"] == t), 1)
                                  for t in sorted({r["type"] for r in rows})}
        out["failed"] = [r["node"] for r in rows if r["status"] in ("error", "fail")]
        out["slowest"] = rows[:25]
        out["all"] = rows
        return out

    # --- report -------------------------------------------------------------------------------------------------

    def breakdown(self, run: dict, tick: dict | None, reached: list[float]) -> dict:
        """The fast lane's time, end to end, as consecutive pieces (seconds; they add up to the last task seen)."""
        m, b, groups = run["marks"], {}, {"dagster": 0.0, "landing": 0.0, "dbt": 0.0, "sync": 0.0, "poll": 0.0}

        def put(label: str, seconds: float, group: str) -> None:
            b[label] = round(seconds, 2)
            groups[group] += seconds

        prev = 0.0
        if tick:
            put("sensor: drop -> tick that saw the file", tick["at"], "dagster")
            prev = tick["at"]
        enq = m.get("RUN_ENQUEUED", run["created"])
        put("sensor tick: evaluate, create and enqueue the run", enq - prev, "dagster")
        starting = m.get("RUN_STARTING", enq)
        put("run queue (enqueued -> dequeued)", starting - enq, "dagster")
        started = m.get("RUN_START", starting)
        put("run worker process start-up", started - starting, "dagster")
        prev = started
        dbt = run.get("dbt") or {}
        for st in run["steps"]:
            if "start" not in st or "end" not in st:
                continue
            name = st["step"]
            group = ("sync" if name == "crm_sync" else "dbt" if name == DBT_STEP else "landing")
            put(f"{name}: step process start-up", st["start"] - prev, "dagster")
            if group == "dbt" and "first_node_start" in dbt:
                put(f"{name}: dbt start-up (parse, adapter) until the first node", dbt["first_node_start"] - st["start"],
                    "dbt")
                put(f"{name}: dbt nodes ({dbt['models']} models, {dbt['tests']} tests)",
                    dbt["last_node_end"] - dbt["first_node_start"], "dbt")
                put(f"{name}: after the last node (build state, events)", st["end"] - dbt["last_node_end"], "dbt")
            else:
                put(f"{name}: step", st["end"] - st["start"], group)
            prev = st["end"]
        if reached:  # negative when the last task was seen before its step had ended
            put("poll: the last task seen, after the end of the last step", max(reached) - prev, "poll")
        return {"pieces": b, "groups": {k: round(v, 1) for k, v in groups.items()}}

    def summarize(self, t0: float | None) -> None:
        persons = self.res.persons
        reached = [p.task_seconds for p in persons if p.task_seconds is not None]
        s: dict = {"people": len(persons), "reached": len(reached),
                   "timeouts": [p.person_id for p in persons if p.task_seconds is None]}
        if persons:  # a timeout counts as the timeout: the percentiles are then lower bounds
            vals = [p.task_seconds if p.task_seconds is not None else float(self.a.timeout) for p in persons]
            s["p50_s"], s["p95_s"] = _pct(vals, 50), _pct(vals, 95)
            s["lower_bounds"] = len(reached) < len(persons)
        if reached:
            s["min_s"], s["max_s"] = min(reached), max(reached)
        na = [p.next_action_seconds for p in persons if p.next_action_seconds is not None]
        if na:
            s["next_action_reached"] = len(na)
            s["next_action_p50_s"], s["next_action_p95_s"] = _pct(na, 50), _pct(na, 95)
        if "p95_s" in s:
            s["target_p95_s"] = TARGET_P95_S
            s["verdict"] = "ok" if s["p95_s"] <= TARGET_P95_S and not s["lower_bounds"] else "MISSED"
        fast = next((r for r in self.res.runs if r["job"] == "fast_lane"), None)
        if fast:
            tick = next((t for t in self.res.ticks if fast["run_id"] in t["run_ids"]), None)
            s["fast_lane"] = self.breakdown(fast, tick, reached)
        if self.access_log.exists() and t0 is not None and "access_offset" in self.res.meta:
            req = parse_access(self.access_log, self.res.meta["access_offset"])
            req["poller"] = self.res.meta.get("poller_requests")
            s["crm_requests_after_drop"] = req
        self.res.summary = s

    def report(self) -> None:
        meta, s = self.res.meta, self.res.summary
        print()
        print(f"bench-latency: scale {meta['scale']} (seed {meta['seed']}), code {meta['code']}, {meta['cpus']} CPUs, "
              f"{meta['memory_gib']} GiB; load average at start "
              f"{', '.join(f'{x:.1f}' for x in meta['load_average_at_start'])}"
              + (f", at the drop {', '.join(f'{x:.1f}' for x in meta['load_average_at_drop'])}"
                 if "load_average_at_drop" in meta else "")
              + (f", at the end {', '.join(f'{x:.1f}' for x in meta['load_average_at_end'])}"
                 if "load_average_at_end" in meta else ""))
        if "load_average_1min_while_timed" in meta:
            la = meta["load_average_1min_while_timed"]
            print(f"load average (1 min) while timed: {la['min']:.1f} .. {la['max']:.1f}, mean {la['mean']:.1f}")
        if self.res.setup:
            print("set-up: " + ", ".join(f"{r['step']} {r['seconds']} s" for r in self.res.setup))
        if self.res.persons:
            print(f"\n{'person':<22} {'event':<25} {'task s':>7} {'next action s':>14}  task")
            for p in sorted(self.res.persons, key=lambda p: (p.task_seconds is None, p.task_seconds or 0)):
                print(f"{p.person_id:<22} {p.event_at:<25} "
                      f"{(f'{p.task_seconds:.1f}' if p.task_seconds is not None else 'TIMEOUT'):>7} "
                      f"{(f'{p.next_action_seconds:.1f}' if p.next_action_seconds is not None else '-'):>14}  "
                      f"{p.task_key or ''} {(p.task_subject or '')[:56]}")
        for r in self.res.runs:
            m = r["marks"]
            print(f"\nrun {r['run_id']} ({r['job']}, {r['status']}, {r['assets_selected']} assets): created "
                  f"+{r['created']} s" + "".join(f", {k.removeprefix('RUN_').lower()} +{v} s" for k, v in m.items()))
            if r.get("tags"):
                print("  tags: " + ", ".join(f"{k}={v[:100]}" for k, v in r["tags"].items()))
            for st in r["steps"]:
                if "seconds" in st:
                    print(f"  step {st['step']:<36} +{st['start']:>7.1f} .. +{st['end']:>7.1f} s {st['seconds']:>7.1f} s"
                          + (f"  (its process started in {st['process_startup_seconds']:.1f} s)"
                             if "process_startup_seconds" in st else "") + f" {st.get('status', '')}")
                else:
                    print(f"  step {st['step']:<36} not finished: {st}")
            d = r.get("dbt")
            if d:
                print(f"  dbt: {d['models']} models, {d['tests']} tests; elapsed {d['elapsed_s']} s, node seconds by "
                      "type " + ", ".join(f"{k} {v}" for k, v in d["seconds_by_type"].items())
                      + (f"; FAILED {d['failed']}" if d["failed"] else ""))
                print("  slowest: " + ", ".join(f"{n['node'].split('.')[-1]} {n['seconds']:.1f}"
                                                for n in d["slowest"][:12]))
        if fl := s.get("fast_lane"):
            print("\nthe fast lane, drop to the last task seen (consecutive pieces, s):")
            for k, v in fl["pieces"].items():
                print(f"  {k:<72} {v:>7.1f}")
            print("  by kind: " + ", ".join(f"{k} {v} s" for k, v in fl["groups"].items()))
        if req := s.get("crm_requests_after_drop"):
            print(f"CRM requests after the drop: {req['requests']} ({req['search']} search, {req['other']} other, "
                  f"{req['rate_limited_429']} answered 429), the poller's {req.get('poller')} of them")
        if s.get("timeouts"):
            print(f"\nTIMEOUTS ({len(s['timeouts'])}): " + ", ".join(s["timeouts"]))
        if meta.get("harness_error"):
            print(f"\nHARNESS ERROR: {meta['harness_error']}")
        if "p95_s" in s:
            bound = " (lower bounds: timeouts count as the timeout)" if s["lower_bounds"] else ""
            print(f"\nreached {s['reached']}/{s['people']} (call task in the CRM); "
                  f"p50 {s['p50_s']:.1f} s  p95 {s['p95_s']:.1f} s{bound}  — target p95 <= {TARGET_P95_S:.0f} s: "
                  f"{s['verdict']}")
        print(f"written to {self.a.out}; logs in {self.logs}")

    # --- all of it ----------------------------------------------------------------------------------------------

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon_pids |= set(_tree_pids(self.daemon.pid))
            stop_group(self.daemon)
            time.sleep(1)
            for pid in self.daemon_pids:  # a run worker or code server that left the group: ours by its DAGSTER_HOME
                try:
                    ours = f"DAGSTER_HOME={self.home}\0".encode() in Path(f"/proc/{pid}/environ").read_bytes()
                    if ours:
                        os.kill(pid, signal.SIGKILL)
                except (FileNotFoundError, ProcessLookupError, PermissionError):
                    pass
            self.daemon = None
        if self.server is not None:
            stop_group(self.server)
            self.server = None

    def run(self) -> int:
        t0 = None
        reused = self.prepare()
        try:
            if reused:
                self.say(f"reusing the set-up in {self.work} ({self.res.meta['reused_setup']})")
                self.start_server(reseed=False)
            else:
                self.world_ready()
                self.start_server()
                self.pipeline()
                (self.work / "setup_done").write_text(f"set up {datetime.now().isoformat(timespec='seconds')} by "
                                                      f"code {self.res.meta['code']}\n")
            self.start_daemon()
            self.wait_steady()
            persons, as_of = self.choose()
            self.res.persons = persons
            from revops.hubspot import HubSpotClient

            with HubSpotClient(base_url=self.crm_url, token=self.env["HUBSPOT_TOKEN"]) as client:
                before = self.next_actions(client, persons)
            for p in persons:
                p.next_action_crm_before = before.get(p.crm_contact_id)
            self.res.meta["access_offset"] = self.access_log.stat().st_size if self.access_log.exists() else 0
            self.res.meta["load_average_at_drop"] = os.getloadavg()
            path, t0 = self.drop(persons, as_of)
            self.say(f"dropped {path} ({len(persons)} Demo Requested events); polling the CRM every {self.a.poll:g} s")
            self.poll(persons, t0)
            self.say("waiting for the runs started since the drop to end"
                     + (" (and build_when_data_changed's after the fast lane)" if self.a.follow_up else ""))
            self.wait_runs(t0)
        except KeyboardInterrupt:
            print("interrupted: what ran so far follows", flush=True)
            self.res.meta["interrupted"] = True
        except Exception as e:
            import traceback

            traceback.print_exc()
            self.res.meta["harness_error"] = f"{type(e).__name__}: {e}"
        finally:
            try:
                if t0 is not None:
                    self.collect(t0)
            except Exception as e:  # the report goes out whatever the instance says
                self.res.meta["collect_error"] = f"{type(e).__name__}: {e}"
            self.stop()
            self.res.meta["finished"] = datetime.now().isoformat(timespec="seconds")
            self.res.meta["load_average_at_end"] = os.getloadavg()
            self.summarize(t0)
            self.write()
            self.report()
        return 1 if "harness_error" in self.res.meta else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="M")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--world", type=Path, help="world folder: reused when its truth/ is this scale and seed, else "
                    "generated there (default <workdir>/world_<scale>)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench_latency"),
                    help="work folder; <workdir>/<scale> is emptied at the start (only if this benchmark made it)")
    ap.add_argument("--out", type=Path, help="JSON results (default bench_results/latency_<scale>.json)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the warehouse and CRM a previous run left in the work folder (no set-up; another 20 "
                         "people); a fresh Dagster instance")
    ap.add_argument("--requests", type=int, default=20, help="demo requests in the dropped file")
    ap.add_argument("--poll", type=float, default=1.0, help="seconds between CRM polls")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the tasks")
    ap.add_argument("--follow-up", action=argparse.BooleanOptionalAction, default=True,
                    help="after the fast lane, wait for build_when_data_changed's run too (the rest of the models)")
    ap.add_argument("--follow-up-wait", type=float, default=1200.0,
                    help="seconds to wait after the clock for the runs started since the drop to end (their step "
                         "figures are read after)")
    ap.add_argument("--steady-timeout", type=float, default=1800.0, help="seconds to wait for a steady state")
    ap.add_argument("--max-rss-gib", type=float, default=16.0, help="stop a set-up step whose processes pass this")
    ap.add_argument("--step-timeout", type=float, default=60 * 60, help="stop a set-up step after this many seconds")
    args = ap.parse_args()
    args.out = (args.out or Path(f"bench_results/latency_{args.scale}.json")).absolute()
    args.workdir = args.workdir.absolute()
    args.world = args.world.absolute() if args.world else None
    sys.exit(LatencyBench(args).run())


if __name__ == "__main__":
    main()
