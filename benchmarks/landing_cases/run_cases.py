"""Issue 13's hand-broken landing cases, run against one code root (a checkout of the project).

For every case: copy the landing folder of a generated S world, inject the case, land the seven file sources with
`python -m revops.cli land` (PYTHONPATH=<root>, cwd=<root>) into a copy of a warehouse whose CRM was landed once
from the sandbox server, then `revops check --layer raw`, then (cases that reach the models) `dbt build` in
<root>/dbt_project; record exit codes, what the user sees, what went to quarantine and a few numbers read from the
warehouse. Results go to one JSON file per root; `--table` turns a before and an after JSON into markdown.

    python run_cases.py run --root /tmp/before --label before --world /tmp/cases_world --work /tmp/cases_runs
    python run_cases.py run --root /work/main  --label after  --world /tmp/cases_world --work /tmp/cases_runs
    python run_cases.py table /tmp/cases_runs/before.json /tmp/cases_runs/after.json > RESULTS.md

Nothing is written below <root>: dbt's target and log folders go under --work.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb

VENV_BIN = Path(os.environ.get("REVOPS_CASES_VENV_BIN", "/work/main/.venv/bin"))
PY = str(VENV_BIN / "python")
DBT = str(VENV_BIN / "dbt")
FILE_SOURCES = ["esp_events", "segment_events", "se_prospects", "se_sequence_states", "se_mailings",
                "enrichment_companies", "enrichment_signals"]
TOKEN = "sandbox-local-token"


# --- the cases ------------------------------------------------------------------------------------------------
# Each injector changes a copy of `landing/` and returns the landing-relative paths it created or changed (the
# quarantine is read for these), plus optional facts the metrics need.

def _write_jsonl(path: Path, records: list[dict] | list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, bytes) else json.dumps(r, separators=(",", ":")).encode() for r in records]
    path.write_bytes(b"\n".join(lines) + b"\n")


def _write_esp(path: Path, events: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[\n" + ",\n".join(json.dumps(e, separators=(",", ":")) for e in events) + "\n]\n")


def _esp_events(landing: Path, day: str) -> list[dict]:
    return json.loads(next((landing / "esp/events/2026/10" / day).glob("*.json")).read_text())


def _segment_call(**kw) -> dict:
    base = {"type": "track", "timestamp": "2026-10-15T12:00:00.000Z", "receivedAt": "2026-10-15T12:00:01.000Z",
            "sentAt": "2026-10-15T12:00:00.100Z", "originalTimestamp": "2026-10-15T12:00:00.000Z",
            "event": "Signed Up", "properties": {"email": None, "source": None},
            "context": {"ip": "1.2.3.4", "userAgent": "Mozilla/5.0", "page": {"path": None, "url": None}}}
    base.update(kw)
    return base


def case_baseline(landing: Path, outside: Path) -> dict:
    return {"files": []}


def case_provider_renamed(landing: Path, outside: Path) -> dict:
    (landing / "enrichment/firmograph").rename(landing / "enrichment/acme_data")
    return {"files": [], "provider": "acme_data"}


def case_userid_only(landing: Path, outside: Path) -> dict:
    rel = "segment/2026/10/15/case-userid-only.jsonl"
    call = _segment_call(messageId="case-userid-only-1", userId="usr_case_userid_only")  # no anonymousId at all
    _write_jsonl(landing / rel, [call])
    return {"files": [rel]}


def case_esp_ts_far(landing: Path, outside: Path) -> dict:
    ev = dict(_esp_events(landing, "15")[0], sg_event_id="case-esp-ts-far-1", timestamp=9999999999999)
    rel = "esp/events/2026/10/15/case-ts-far.json"
    _write_esp(landing / rel, [ev])
    return {"files": [rel]}


def case_employees_text(landing: Path, outside: Path) -> dict:
    src = landing / "enrichment/firmograph/companies"
    first = json.loads(next(iter(sorted(src.glob("*.jsonl")))).read_text().splitlines()[0])
    rec = dict(first, employees="about 329", observed_at="2026-10-30T00:00:00.000Z")
    rel = "enrichment/firmograph/companies/case-employees-text.jsonl"
    _write_jsonl(landing / rel, [rec])
    return {"files": [rel], "domain": rec["domain"]}


def case_time_range(landing: Path, outside: Path) -> dict:
    # year 9999 in two ISO fields (a Segment page, a sales mailing's deliveredAt: a touch) and a negative ESP
    # timestamp on a `delivered` event (a touch too): the KPI days run from the first to the last touch
    seg = "segment/2026/10/15/case-year-9999.jsonl"
    _write_jsonl(landing / seg, [_segment_call(messageId="case-year-9999-1", type="page", event=None,
                                               anonymousId="anon-case-9999", name="/pricing",
                                               timestamp="9999-12-31T23:59:59.000Z",
                                               originalTimestamp="9999-12-31T23:59:59.000Z",
                                               properties={"path": "/pricing", "url": "https://x/pricing"})])
    mailing_src = sorted((landing / "sales_engagement/mailings").rglob("*.jsonl"))
    delivered_mailing = next(json.loads(ln) for f in mailing_src for ln in f.read_text().splitlines()
                             if ln.strip().startswith("{") and '"deliveredAt":"2' in ln)
    mail = "sales_engagement/mailings/2026/10/15/case-year-9999.jsonl"
    _write_jsonl(landing / mail, [dict(delivered_mailing, id=990_000_001, deliveredAt="9999-12-31T23:59:59.000Z")])
    esp = "esp/events/2026/10/15/case-negative-ts.json"
    delivered = next(e for e in _esp_events(landing, "15") if e["event"] == "delivered")
    _write_esp(landing / esp, [dict(delivered, sg_event_id="case-negative-ts-1", timestamp=-1)])
    return {"files": [seg, mail, esp]}


def case_invalid_utf8(landing: Path, outside: Path) -> dict:
    rel = "segment/2026/10/15/case-utf8.jsonl"
    line = (b'{"messageId":"case-utf8-1","type":"identify","anonymousId":"anon-case-utf8","userId":"usr_case_utf8",'
            b'"timestamp":"2026-10-15T12:00:00.000Z","traits":{"email":"caf\xe9@x.com"}}')
    _write_jsonl(landing / rel, [line])
    return {"files": [rel]}


def case_truncated_gzip(landing: Path, outside: Path) -> dict:
    # gzip a plain Segment file, cut its last 100 bytes, and put it first (2026/10/01 sorts before every day)
    plain = sorted(p for p in (landing / "segment").rglob("*.jsonl"))[0]
    data = gzip.compress(plain.read_bytes(), mtime=0)
    rel = "segment/2026/10/01/case-truncated.jsonl.gz"
    (landing / rel).parent.mkdir(parents=True, exist_ok=True)
    (landing / rel).write_bytes(data[:-100])
    return {"files": [rel], "rerun": True}


def case_conflicts(landing: Path, outside: Path) -> dict:
    delivered = next(e for e in _esp_events(landing, "15") if e["event"] == "delivered")
    bounce = dict(delivered, event="bounce", type="bounce", reason="550 5.1.1 The email account does not exist",
                  status="5.1.1", timestamp=delivered["timestamp"] + 60)
    esp = "esp/events/2026/10/31/zz-case-conflict.json"
    _write_esp(landing / esp, [bounce])
    ss_file = sorted((landing / "sales_engagement/sequence_states").rglob("*.jsonl"))[0]
    state = json.loads(ss_file.read_text().splitlines()[0])
    other = dict(state, state="finished" if state["state"] != "finished" else "paused")
    ss = "sales_engagement/sequence_states/2026/10/31/zz-case-conflict.jsonl"
    _write_jsonl(landing / ss, [other])
    return {"files": [esp, ss], "sg_event_id": delivered["sg_event_id"], "sequence_state_id": state["id"],
            "states": [state["state"], other["state"]]}


def case_files(landing: Path, outside: Path) -> dict:
    outside.mkdir(parents=True, exist_ok=True)
    target = outside / "outside.jsonl"
    _write_jsonl(target, [_segment_call(messageId="case-outside-1", anonymousId="anon-case-outside")])
    d = landing / "segment/2026/10/15"
    (d / "case-link-out.jsonl").symlink_to(target)
    (d / "case-loop.jsonl").symlink_to(d / "case-loop.jsonl")
    long_email = "x" * 10_000 + "@example.com"
    esp = "esp/events/2026/10/15/case-long-email.json"
    _write_esp(landing / esp, [dict(_esp_events(landing, "15")[0], sg_event_id="case-long-email-1",
                                    email=long_email)])
    empty = "segment/2026/10/16/case-empty.jsonl.gz"
    (landing / empty).parent.mkdir(parents=True, exist_ok=True)
    (landing / empty).write_bytes(b"")
    return {"files": ["segment/2026/10/15/case-link-out.jsonl", "segment/2026/10/15/case-loop.jsonl", esp, empty]}


def case_locked(landing: Path, outside: Path) -> dict:
    return {"files": [], "locked": True}


CASES = {  # name: (injector, issue item, run dbt build)
    "c0_baseline": (case_baseline, "clean S world (reference numbers)", True),
    "c1_provider_renamed": (case_provider_renamed, "(1) enrichment/firmograph renamed to enrichment/acme_data", True),
    "c2_userid_only": (case_userid_only, "(2) a Segment call with only userId", True),
    "c3_esp_ts_far": (case_esp_ts_far, "(3) ESP timestamp 9999999999999", True),
    "c4_employees_text": (case_employees_text, '(4) enrichment employees "about 329"', True),
    "c5_time_range": (case_time_range, "(5) year 9999 in ISO timestamps (a Segment page, a sales mailing's "
                                       "deliveredAt) + ESP `delivered` event with timestamp -1", True),
    "c6_invalid_utf8": (case_invalid_utf8, "(6) invalid UTF-8 byte in a Segment string (caf\\xe9@x.com)", True),
    "c7_truncated_gzip": (case_truncated_gzip, "(7) truncated .jsonl.gz placed before the other files", False),
    "c8_conflicts": (case_conflicts, "(8) same sg_event_id as a bounce; same sequence-state id+updatedAt, "
                                     "other state", True),
    "c9_files": (case_files, "(9) symlink out, symlink loop, 10 kB email, 0-byte .jsonl.gz", True),
    "c10_locked": (case_locked, "(10) another process holds the DuckDB file", False),
}


# --- running ----------------------------------------------------------------------------------------------------

def _env(root: Path, db: Path | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REVOPS_", "HUBSPOT_", "DAGSTER_HOME", "PYTHONPATH", "VIRTUAL_ENV"))}
    env.update(PYTHONPATH=str(root), DO_NOT_TRACK="1", DAGSTER_DISABLE_TELEMETRY="1",
               SODA_CORE_TELEMETRY_ENABLED="false", DBT_SEND_ANONYMOUS_USAGE_STATS="false",
               PYTHONUNBUFFERED="1", COLUMNS="200", NO_COLOR="1", TERM="dumb")
    if db:
        env["REVOPS_DUCKDB_PATH"] = str(db)
    env.update(extra)
    return env


def _run(cmd: list[str], cwd: Path, env: dict, log: Path, timeout: int = 1800) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, errors="backslashreplace",
                       timeout=timeout)
    secs = round(time.perf_counter() - t0, 1)
    log.write_text(f"$ {' '.join(cmd)}\n# cwd {cwd}  exit {p.returncode}  {secs} s\n--- stdout\n{p.stdout}"
                   f"\n--- stderr\n{p.stderr}")
    return {"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr, "seconds": secs}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def land_crm_template(root: Path, world: Path, work: Path) -> dict:
    """The CRM landed once from the sandbox server (the root's own server and landing code) into a template
    warehouse that every case copies: the dbt project needs the CRM tables to build."""
    tmpl = work / "crm_template.duckdb"
    for p in (tmpl, work / "crm.sqlite", work / "crm.url"):
        p.unlink(missing_ok=True)
    port = _free_port()
    env = _env(root, HUBSPOT_TOKEN=TOKEN)
    srv_log = (work / "crm_server.log").open("w")
    srv = subprocess.Popen([PY, "-m", "revops.cli", "sandbox", "serve", "--world", str(world), "--db",
                            str(work / "crm.sqlite"), "--port", str(port), "--reseed", "--ready-file",
                            str(work / "crm.url")], cwd=root, env=env, stdout=srv_log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            if (work / "crm.url").exists() and (work / "crm.url").read_text().strip():
                break
            if srv.poll() is not None:
                raise RuntimeError(f"CRM server exited {srv.returncode}: see {work / 'crm_server.log'}")
            time.sleep(0.1)
        else:
            raise RuntimeError("CRM server did not start within 60 s")
        url = (work / "crm.url").read_text().strip()
        r = _run([PY, "-m", "revops.cli", "land", "--source", "crm", "--duckdb", str(tmpl)], root,
                 _env(root, HUBSPOT_TOKEN=TOKEN, HUBSPOT_BASE_URL=url), work / "crm_land.log")
    finally:
        srv.send_signal(signal.SIGINT)
        try:
            srv.wait(timeout=20)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        srv_log.close()
    if r["rc"] != 0:
        raise RuntimeError(f"landing the CRM failed (exit {r['rc']}): see {work / 'crm_land.log'}")
    return {"rc": r["rc"], "seconds": r["seconds"], "url": url}


def _land_cmd(landing: Path, db: Path) -> list[str]:
    cmd = [PY, "-m", "revops.cli", "land", "--landing-dir", str(landing), "--duckdb", str(db)]
    for s in FILE_SOURCES:
        cmd += ["--source", s]
    return cmd


TRACEBACK_LAST = re.compile(r"^(\w+(\.\w+)*(Error|Exception|Exit)\b.*|Aborted!?)$")


def user_sees(out: str, err: str, rc: int, reasons: list[str] = ()) -> list[str]:
    """The lines a person acts on: for a failure, the error lines (a traceback's last line, 'Aborted', 'error:'),
    else the lines that name a problem (could not be landed / refused / unreadable / note:), and the lines of the
    printed quarantine summary that carry one of the case's own reasons."""
    lines = [ln.rstrip() for ln in (err + "\n" + out).splitlines() if ln.strip()]
    keys = {re.sub(r"\d+", "N", r)[:50] for r in reasons}
    keep = [ln for ln in lines if re.search(r"could not be landed|unreadable file|refused file|^note:|^error:|"
                                            r"^Error|Aborted|Traceback|lock", ln)
            or (keys and re.match(r"^\s+\w+\s+[\d,]+\s+\S", ln)
                and any(k in re.sub(r"\d+", "N", ln) for k in keys))]
    if rc != 0:
        tb_last = [ln for ln in lines if TRACEBACK_LAST.match(ln.strip())]
        keep = keep + tb_last[-2:]
    seen, outl = set(), []
    keep = ["(a rich traceback box)" if ln.lstrip().startswith("╭") and "Traceback" in ln else ln for ln in keep]
    for ln in keep:
        if ln not in seen:
            seen.add(ln)
            outl.append(ln.strip())
    return outl[:8]


def land_table(out: str) -> dict:
    """The per-source summary table printed by `revops land`."""
    rows, header = {}, None
    for ln in out.splitlines():
        parts = ln.split()
        if parts[:2] == ["source", "files"]:
            header = [h for h in parts[1:] if h != "seconds"]
            continue
        if header is None:
            continue
        if not parts:
            if rows:
                break
            continue
        if parts[0] in FILE_SOURCES:
            rows[parts[0]] = {k: int(v.replace(",", "")) for k, v in zip(header, parts[1:])}
    return rows


def check_summary(r: dict) -> list[str]:
    return [ln.strip() for ln in (r["stdout"] + r["stderr"]).splitlines()
            if "FAILED" in ln or ln.startswith("    ") or "contract(s) failed" in ln
            or (r["rc"] not in (0, 1) and ln.strip())][:12]


def dbt_summary(target: Path, r: dict) -> dict:
    res = {"rc": r["rc"], "seconds": r["seconds"]}
    rr = target / "run_results.json"
    if rr.exists() and rr.stat().st_mtime >= time.time() - r["seconds"] - 5:
        results = json.loads(rr.read_text())["results"]
        counts: dict[str, int] = {}
        for x in results:
            counts[x["status"]] = counts.get(x["status"], 0) + 1
        res["statuses"] = counts
        res["nodes"] = len(results)
        res["failures"] = [f"{x['unique_id']}: " + " / ".join((x.get("message") or "").strip().splitlines()[:2])[:400]
                           for x in results if x["status"] in ("error", "fail")][:6]
        res["warnings"] = [x["unique_id"] for x in results if x["status"] == "warn"][:20]
    else:
        res["failures"] = [ln for ln in r["stdout"].splitlines() if "Error" in ln][:6]
    return res


def _q(con, sql: str, params=None):
    try:
        return con.execute(sql, params or []).fetchall()
    except duckdb.Error as e:
        return f"error: {str(e).splitlines()[0][:200]}"


def metrics(db: Path, case: str, info: dict, built: bool) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    m: dict = {}
    m["raw_rows"] = {}
    for s in FILE_SOURCES:
        n = _q(con, f"select count(*) from raw.{s}")
        m["raw_rows"][s] = n if isinstance(n, str) else n[0][0]
    m["quarantine_total"] = _q(con, "select count(*) from raw.quarantine")[0][0]
    m["quarantine_by_source"] = dict(_q(con, "select source, count(*) from raw.quarantine group by 1 order by 1"))
    files = info.get("files", [])
    qrows = _q(con, "select source, file, line, error from raw.quarantine where file in (select unnest(?::varchar[])) "
                    "order by file, line", [files]) if files else []
    m["case_quarantine"] = [{"source": s, "file": f, "line": ln, "error": e[:400]} for s, f, ln, e in qrows] \
        if not isinstance(qrows, str) else qrows
    if files:
        landed = {}
        for s in FILE_SOURCES:
            n = _q(con, f"select count(*) from raw.{s} where file in (select unnest(?::varchar[]))", [files])
            if not isinstance(n, str) and n[0][0]:
                landed[s] = n[0][0]
        m["case_landed_rows"] = landed
    man = _q(con, "select path, rows_read, rows_landed, rows_quarantined, rows_duplicate from raw.landing_manifest "
                  "where path in (select unnest(?::varchar[]))", [files]) if files else []
    m["case_manifest"] = man if isinstance(man, str) else [list(x) for x in man]
    if case == "c1_provider_renamed" or case == "c0_baseline":
        m["providers_landed"] = dict(_q(con, "select provider, count(*) from raw.enrichment_companies group by 1"))
    if case == "c6_invalid_utf8":
        m["raw_segment_with_U+FFFD"] = _q(con, "select count(*) from raw.segment_events "
                                               "where record::varchar like '%' || chr(65533) || '%'")[0][0]
    if case == "c8_conflicts":
        m["raw_esp_copies"] = _q(con, "select record_key, record->>'event' from raw.esp_events "
                                      "where record_key like ? order by 1", [info["sg_event_id"] + "%"])
        m["raw_sequence_state_versions"] = _q(con, "select record_key, record->>'state' from raw.se_sequence_states "
                                                   "where cast(record->>'id' as bigint) = ? order by 1",
                                              [info["sequence_state_id"]])
    if case == "c9_files":
        m["raw_segment_from_outside"] = _q(con, "select count(*) from raw.segment_events "
                                                "where record->>'messageId' = 'case-outside-1'")[0][0]
        m["raw_esp_email_over_254"] = _q(con, "select count(*) from raw.esp_events "
                                              "where length(record->>'email') > 254")[0][0]
    if built:
        a0 = _q(con, "select as_of from main.int_as_of_dated")
        m["as_of"] = a0 if isinstance(a0, str) else str(a0[0][0])
        g = _q(con, "select count(*) filter (where grade = 'A'), round(avg(intent_score), 3), count(*) "
                    "from main.fct_lead_scores")
        if not isinstance(g, str):
            m["grade_a"], m["mean_intent"], m["lead_scores_rows"] = g[0]
        k = _q(con, "select count(*) from main.mart_revops_kpis")
        m["mart_revops_kpis_rows"] = k[0][0] if not isinstance(k, str) else k
        prov = info.get("provider", "firmograph")
        a = _q(con, f"""select count(*),
                   count(*) filter (where ? in (account_name_source, employee_count_source, industry_source,
                                               country_source, funding_stage_source)),
                   count(funding_stage),
                   count(*) filter (where coalesce(account_name_source, '') not in ('', 'crm')
                                       or coalesce(employee_count_source, '') not in ('', 'crm')
                                       or coalesce(industry_source, '') not in ('', 'crm')
                                       or coalesce(country_source, '') not in ('', 'crm')
                                       or funding_stage_source is not null)
                   from main.dim_account""", [prov])
        if not isinstance(a, str):
            m["dim_account_rows"], m[f"accounts_with_firmographics_from_{prov}"], m["funding_stage_set"], \
                m["accounts_with_any_enrichment"] = a[0]
        else:
            m["dim_account"] = a
        nn = _q(con, "select count(employee_count), count(industry), count(country), count(funding_stage), "
                     "count(*) filter (where coalesce(employee_count::varchar, industry, country, funding_stage) "
                     "is null) from main.dim_account")
        if not isinstance(nn, str):
            m["dim_account_non_null_employees/industry/country/funding_stage"] = list(nn[0][:4])
            m["accounts_without_any_firmographic"] = nn[0][4]
        if case == "c4_employees_text":
            m["dim_account_row"] = _q(con, "select employee_count, employee_count_source from main.dim_account "
                                           "where account_domain = ?", [info["domain"]])
        if case == "c6_invalid_utf8":
            m["identifiers_with_U+FFFD"] = _q(con, "select identifier_type, identifier_value "
                                                   "from main.bridge_person_identifier "
                                                   "where identifier_value like '%' || chr(65533) || '%'")
        if case == "c8_conflicts":
            m["stg_esp_events_for_id"] = _q(con, "select event_type from main.stg_esp__events "
                                                 "where esp_event_id like ? order by 1", [info["sg_event_id"] + "%"])
        if case == "c9_files":
            m["dim_person_best_email_over_254"] = _q(con, "select count(*) from main.dim_person "
                                                          "where length(best_email) > 254")
    con.close()
    return m


def _case_reasons(db: Path, files: list[str]) -> list[str]:
    if not files:
        return []
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute("select distinct error from raw.quarantine "
                                          "where file in (select unnest(?::varchar[]))", [files]).fetchall()]
    except duckdb.Error:
        return []
    finally:
        con.close()


def hold_lock(db: Path) -> subprocess.Popen:
    """A second process that opens the warehouse for writing and keeps it open."""
    code = ("import duckdb, sys, time\n"
            f"con = duckdb.connect({str(db)!r})\n"
            "con.execute('create table if not exists _held (x int)')\n"
            "print('ready', flush=True)\n"
            "time.sleep(900)\n")
    p = subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready", "the lock holder did not start"
    return p


def run_case(root: Path, label: str, world: Path, work: Path, case: str, no_build: bool) -> dict:
    inject, title, build = CASES[case]
    d = work / label / case
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    landing = d / "landing"
    shutil.copytree(world / "landing", landing, symlinks=True)
    info = inject(landing, work / "outside")
    db = d / "warehouse.duckdb"
    shutil.copy(work / label / "crm_template.duckdb", db)
    out = {"case": case, "title": title, "injected": info.get("files", []), "info": info}
    env = _env(root, db)
    holder = hold_lock(db) if info.get("locked") else None
    if holder is not None:
        info["holder_pid"] = holder.pid
    try:
        r = _run(_land_cmd(landing, db), root, env, d / "land.log")
        reasons = _case_reasons(db, info.get("files", [])) if not holder else []
        out["land"] = {"rc": r["rc"], "seconds": r["seconds"], "table": land_table(r["stdout"]),
                       "user_sees": user_sees(r["stdout"], r["stderr"], r["rc"], reasons)}
        if info.get("rerun"):
            r2 = _run(_land_cmd(landing, db), root, env, d / "land_rerun.log")
            out["land_rerun"] = {"rc": r2["rc"], "table": land_table(r2["stdout"]),
                                 "user_sees": user_sees(r2["stdout"], r2["stderr"], r2["rc"], reasons)}
        c = _run([PY, "-m", "revops.cli", "check", "--layer", "raw", "--duckdb", str(db)], root, env, d / "check.log")
        out["check"] = {"rc": c["rc"], "failed": check_summary(c)}
        if holder is not None:
            out["check"]["user_sees"] = user_sees(c["stdout"], c["stderr"], c["rc"])
    finally:
        if holder is not None:
            holder.terminate()
            holder.wait()
    built = False
    if build and not no_build:
        target = work / label / "dbt_target"
        b = _run([DBT, "build", "--profiles-dir", ".", "--target-path", str(target), "--log-path",
                  str(work / label / "dbt_logs")], root / "dbt_project", env, d / "dbt_build.log", timeout=3600)
        out["build"] = dbt_summary(target, b)
        built = True
    out["metrics"] = metrics(db, case, info, built)
    return out


def code_state(root: Path) -> dict:
    def git(*a):
        return subprocess.run(["git", "-C", str(root), *a], capture_output=True, text=True).stdout.strip()
    diff = subprocess.run(["git", "-C", str(root), "diff", "HEAD"], capture_output=True).stdout
    return {"root": str(root), "head": git("rev-parse", "--short", "HEAD"),
            "dirty_files": [ln for ln in git("status", "--short", "--untracked-files=no").splitlines()],
            "diff_sha256": hashlib.sha256(diff).hexdigest()[:12], "at": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                                                    time.gmtime())}


def cmd_run(a) -> None:
    root, world, work = Path(a.root).resolve(), Path(a.world).resolve(), Path(a.work).resolve()
    (work / a.label).mkdir(parents=True, exist_ok=True)
    cases = a.cases.split(",") if a.cases else list(CASES)
    out_path = work / f"{a.label}.json"
    doc = json.loads(out_path.read_text()) if (a.cases and out_path.exists()) else {}
    doc["code"] = code_state(root)
    # a full run lands the CRM afresh with the root's current code; a subset reuses the template if there is one
    if not (work / a.label / "crm_template.duckdb").exists() or a.reland_crm or not a.cases:
        print(f"[{a.label}] landing the CRM into the template warehouse", flush=True)
        doc["crm"] = land_crm_template(root, world, work / a.label)
    doc.setdefault("cases", {})
    for case in cases:
        t0 = time.perf_counter()
        print(f"[{a.label}] {case} ...", flush=True)
        res = run_case(root, a.label, world, work, case, a.no_build)
        res["seconds"] = round(time.perf_counter() - t0, 1)
        doc["cases"][case] = res
        out_path.write_text(json.dumps(doc, indent=1, default=str))
        b = res.get("build", {})
        print(f"[{a.label}] {case}: land {res['land']['rc']} check {res['check']['rc']} "
              f"build {b.get('rc', '-')} ({res['seconds']} s)", flush=True)
    doc["code_at_end"] = code_state(root)
    out_path.write_text(json.dumps(doc, indent=1, default=str))
    print(f"wrote {out_path}")


# --- the table --------------------------------------------------------------------------------------------------

def _cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _quarantine_cell(res: dict) -> str:
    q = res["metrics"].get("case_quarantine", [])
    if isinstance(q, str):
        return q
    if not q:
        return "0"
    reasons: dict[str, int] = {}
    for x in q:
        key = f"{x['source']}: {x['error'][:220]}"
        reasons[key] = reasons.get(key, 0) + 1
    return f"{len(q)}: " + "; ".join(f"{n}× {r}" if n > 1 else r for r, n in reasons.items())


def _build_cell(res: dict) -> str:
    b = res.get("build")
    if not b:
        return "not run"
    st = b.get("statuses", {})
    parts = [f"exit {b['rc']}"]
    if st:
        parts.append(", ".join(f"{k} {v}" for k, v in sorted(st.items())) + f" of {b.get('nodes')}")
    if b.get("failures"):
        parts.append("first failure: " + b["failures"][0][:260])
    return "; ".join(parts)


NUMBERS = ["as_of", "grade_a", "mean_intent", "mart_revops_kpis_rows", "dim_account_rows",
           "accounts_with_firmographics_from_firmograph", "accounts_with_firmographics_from_acme_data",
           "funding_stage_set", "accounts_with_any_enrichment",
           "dim_account_non_null_employees/industry/country/funding_stage", "accounts_without_any_firmographic",
           "dim_account_row", "raw_segment_with_U+FFFD",
           "identifiers_with_U+FFFD", "raw_esp_copies", "raw_sequence_state_versions", "stg_esp_events_for_id",
           "raw_segment_from_outside", "raw_esp_email_over_254", "dim_person_best_email_over_254",
           "providers_landed", "case_landed_rows"]


def _numbers_cell(res: dict, case: str) -> str:
    m = res["metrics"]
    keys = [k for k in NUMBERS if k in m]
    if case in ("c7_truncated_gzip", "c10_locked"):
        keys = ["raw_rows"] + keys
    return "; ".join(f"{k} = {m[k]}" for k in keys)


CASE_SOURCES = {"c1_provider_renamed": ("enrichment_companies", "enrichment_signals"),
                "c7_truncated_gzip": tuple(FILE_SOURCES)}


def _source_of(rel: str) -> str | None:
    parts = rel.split("/")
    if parts[0] == "esp":
        return "esp_events"
    if parts[0] == "segment":
        return "segment_events"
    if parts[0] == "sales_engagement":
        return "se_" + parts[1]
    if parts[0] == "enrichment":
        return "enrichment_" + parts[2]
    return None


def _code_line(doc: dict) -> str:
    c, e = doc["code"], doc.get("code_at_end", doc["code"])
    s = f"`{c['root']}` at {c['head']}"
    if c["dirty_files"]:
        s += f" + uncommitted changes in {len(c['dirty_files'])} files (diff sha256 {c['diff_sha256']})"
    s += f", run started {c['at']}"
    if (e["head"], e["diff_sha256"]) != (c["head"], c["diff_sha256"]):
        s += (f"; **the code changed during the run**: at its end {e['head']} + {len(e['dirty_files'])} "
              f"changed files (diff sha256 {e['diff_sha256']}, {e['at']})")
    return s


def cmd_table(a) -> None:
    before, after = (json.loads(Path(p).read_text()) for p in (a.before, a.after))
    out = ["# Issue 13: hand-broken landing cases, before and after", "",
           f"- before: {_code_line(before)}",
           f"- after: {_code_line(after)}",
           "- world: `revops sandbox generate --scale S --seed 42`; each case lands the 7 file sources "
           "(`python -m revops.cli land --source ...`) into a copy of a warehouse whose CRM was landed once from the "
           "sandbox server, then `revops check --layer raw`, then `dbt build` in the root's dbt_project.",
           "- produced by `benchmarks/landing_cases/run_cases.py` (see README.md there); exit codes are the "
           "processes' own.", ""]
    for case in CASES:
        b, f = before["cases"].get(case), after["cases"].get(case)
        if not b and not f:
            continue
        out.append(f"## {case}: {(b or f)['title']}")
        out.append("")
        out.append(f"Injected: {', '.join('`' + x + '`' for x in (b or f)['injected']) or '—'}")
        out.append("")
        out.append("| | before (5ade13c) | after (working tree) |")
        out.append("|---|---|---|")

        def row(name, fn):
            out.append(f"| {name} | {_cell(fn(b)) if b else 'n/a'} | {_cell(fn(f)) if f else 'n/a'} |")

        row("land exit", lambda r: r["land"]["rc"])
        row("what the user sees (land)", lambda r: " ⏎ ".join(r["land"]["user_sees"]) or "(nothing about the case)")
        if (b or f).get("land_rerun"):
            row("land again: exit / sees", lambda r: f"{r['land_rerun']['rc']} / "
                + (" ⏎ ".join(r["land_rerun"]["user_sees"]) or "(nothing)"))
        row("quarantined (injected files)", _quarantine_cell)
        row("land summary of the sources concerned", lambda r: "; ".join(
            f"{s}: " + ", ".join(f"{k} {v:,}" for k, v in t.items()) for s, t in r["land"]["table"].items()
            if s in CASE_SOURCES.get(case, ()) or any(_source_of(p) == s for p in r["injected"])) or "—")
        row("check --layer raw", lambda r: f"exit {r['check']['rc']}" + (
            ": " + " ⏎ ".join(r["check"].get("user_sees") or r["check"]["failed"]) if r["check"]["rc"] else ""))
        row("dbt build", _build_cell)
        row("numbers", lambda r: _numbers_cell(r, case))
        if (b or f)["info"].get("locked"):
            row("pid of the process holding the file", lambda r: r["info"].get("holder_pid"))
        out.append("")
    sys.stdout.write("\n".join(out) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the cases against one code root")
    r.add_argument("--root", required=True, help="code root (a checkout): its revops/, dbt_project/, seeds/")
    r.add_argument("--label", required=True, help="name of this run (before, after)")
    r.add_argument("--world", default="/tmp/cases_world", help="a generated world (crm/ and landing/)")
    r.add_argument("--work", default="/tmp/cases_runs", help="scratch folder for landings, warehouses and logs")
    r.add_argument("--cases", help=f"comma-separated subset of: {', '.join(CASES)}")
    r.add_argument("--no-build", action="store_true", help="skip dbt build")
    r.add_argument("--reland-crm", action="store_true",
                   help="land the CRM template again (a run of all cases always does)")
    t = sub.add_parser("table", help="markdown before/after table from two result files")
    t.add_argument("before")
    t.add_argument("after")
    a = ap.parse_args()
    cmd_run(a) if a.cmd == "run" else cmd_table(a)


if __name__ == "__main__":
    main()
