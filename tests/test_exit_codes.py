"""Every exit code of revops/exit_codes.py, produced by the real `revops` executable (docs/sync.md): expected failures are
one line on stderr and never a traceback. The sync's codes come from the sandbox CRM on 127.0.0.1 and the S
warehouse of conftest's `two_day_build`; nothing is mocked."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from revops.exit_codes import ExitCode
from sandbox.crm_server import CRMServer, ServerConfig

REPO = Path(__file__).resolve().parents[1]
REVOPS = str(Path(sys.executable).parent / "revops")
TOKEN = "exit-codes-test"
# variables of the caller that would change what a command does
_CLEAN = ("HUBSPOT_BASE_URL", "HUBSPOT_TOKEN", "REVOPS_ALLOW_INSECURE_HTTP", "REVOPS_DUCKDB_PATH", "REVOPS_WORLD_DIR",
          "REVOPS_LANDING_DIR", "REVOPS_SNAPSHOT_DIR", "REVOPS_FAULT_KILL_AT_BATCH")


def revops(*args, env: dict | None = None, cwd=None, timeout: float = 300) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in _CLEAN}
    return subprocess.run([REVOPS, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**base, **(env or {})}, cwd=cwd, check=False)


def one_line_error(res: subprocess.CompletedProcess, code: int) -> str:
    """The run ended with `code` and exactly one line on stderr, `error: ...`, and no traceback anywhere."""
    assert res.returncode == code, (res.returncode, res.stdout[-2000:], res.stderr[-2000:])
    assert "Traceback" not in res.stderr + res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


def test_the_table_is_one_enum_and_documented():
    codes = {int(c) for c in ExitCode}
    assert codes == {0, 1, 2, 3, 4, 5, 6, 130}
    doc = (REPO / "docs" / "operations.md").read_text()
    table = doc[doc.index("## Exit codes"):doc.index("## Security rules")]
    assert {int(m) for m in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)} == codes
    # the CLI's own help names them too
    help_text = revops("--help").stdout
    for code in (1, 2, 3, 4, 5, 6):
        assert f"{code} " in help_text


# ---------------------------------------------------------------- 2: wrong usage

@pytest.mark.parametrize("args, says", [
    (["check", "--layer", "nosuch"], "unknown layer 'nosuch'; valid layers: marts, raw"),
    (["sync", "--object", "deals"], "the sync does not write 'deals'; it writes contacts, companies"),
    (["land", "--source", "nope"], "unknown source(s) nope; choose from crm, esp_events"),
    (["land", "--source", "esp_events", "--landing-dir", "{tmp}/no-such-folder"], "landing folder"),
    (["sandbox", "counts", "--world", "{tmp}/no-world"], "no generated world in"),
    (["sandbox", "generate", "--scale", "XL", "--out", "{tmp}/w"], "unknown scale 'XL'"),
    (["check", "--layer", "raw", "--duckdb", "{tmp}/missing.duckdb"], "no warehouse at"),
    (["sync", "--duckdb", "{tmp}/missing.duckdb"], "no warehouse at"),
    (["snapshot", "--duckdb", "{tmp}/missing.duckdb"], "no warehouse at"),
    (["eval", "scoring", "--duckdb", "{tmp}/missing.duckdb", "--world", "{tmp}/no-world"], "not found"),
    (["kpis", "--duckdb", "{tmp}/missing.duckdb"], "database does not exist"),
    (["no-such-command"], "No such command"),
    (["check", "--no-such-option"], "No such option"),
])
def test_wrong_usage_is_one_line_and_exit_2(tmp_path, args, says):
    res = revops(*[a.replace("{tmp}", str(tmp_path)) for a in args], cwd=tmp_path)
    line = one_line_error(res, ExitCode.USAGE)
    assert says in line
    assert not (tmp_path / "missing.duckdb").exists()  # a command that reads a warehouse never creates one


# ---------------------------------------------------------------- 0, 1, 3, 4 without a CRM

def test_ok_is_0(world_s):
    res = revops("sandbox", "counts", "--world", world_s)
    assert res.returncode == ExitCode.OK and res.stderr == "" and "crm/contacts" in res.stdout


def test_a_warehouse_not_built_yet_is_one_line_and_exit_1(tmp_path):
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    for args, says in ((["calibrate", "scoring"], "int_signal_features_dated does not exist"),
                       (["kpis"], "does not exist"),  # whichever KPI mart it reads first
                       (["sync", "--dry-run"], "sync_hubspot__contacts does not exist"),
                       (["snapshot"], "no marts to publish")):
        line = one_line_error(revops(*args, "--duckdb", db), ExitCode.FAILED)
        assert says in line and ("build" in line), line


def test_failed_contracts_end_in_exit_1_with_one_error_line(tmp_path):
    db = tmp_path / "w.duckdb"
    from revops.landing import files

    con = duckdb.connect(str(db))
    files.ensure_schema(con)  # empty raw tables: the row-count and freshness checks fail
    con.close()
    res = revops("check", "--layer", "raw", "--duckdb", db)
    assert res.returncode == ExitCode.FAILED and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [next(x for x in res.stderr.splitlines() if x.startswith("error: "))]
    assert "FAILED" in res.stdout


def test_unreadable_files_land_the_rest_and_exit_3(tmp_path, world_s):
    landing = tmp_path / "landing"
    shutil.copytree(world_s / "landing" / "segment", landing / "segment")
    bad = landing / "segment" / "2026" / "10" / "31" / "events-broken.jsonl.gz"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"\x1f\x8b\x08\x00 this is not a whole gzip stream")
    db = tmp_path / "w.duckdb"
    res = revops("land", "--source", "segment_events", "--landing-dir", landing, "--duckdb", db)
    assert res.returncode == ExitCode.FILES_REFUSED, res.stderr
    assert "Traceback" not in res.stderr and "events-broken.jsonl.gz" in res.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.segment_events").fetchone()[0] > 1_000  # the rest landed
    con.close()


def test_a_held_warehouse_is_one_line_and_exit_4(tmp_path):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table dim_x as select 1 as x")
    con.close()
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(120)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for args in (["check", "--layer", "raw"], ["snapshot"], ["sync", "--dry-run"]):
            line = one_line_error(revops(*args, "--duckdb", db), ExitCode.WAREHOUSE_IN_USE)
            assert f"pid {holder.pid}" in line or "another process" in line, line
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------- the sync: 0, 1, 5, 6

@pytest.fixture()
def crm(two_day_build, world_s, tmp_path):
    """A copy of the S warehouse and a fresh sandbox CRM on 127.0.0.1; yields (warehouse, env for `revops`)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(two_day_build[0], db)
    srv = CRMServer(ServerConfig(db_path=tmp_path / "crm.sqlite", world_dir=world_s, token=TOKEN)).start()
    assert srv.url.startswith("http://127.0.0.1:")
    try:
        yield db, {"HUBSPOT_BASE_URL": srv.url, "HUBSPOT_TOKEN": TOKEN, "REVOPS_SNAPSHOT_DIR": str(tmp_path / "snaps")}
    finally:
        srv.stop()


def _open_dead_letters(db) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select count(*) from crm_sync.dead_letters where resolved_at is null").fetchone()[0]
    finally:
        con.close()


def test_sync_exit_codes_dead_letters_5_then_0_then_a_large_change_6(crm):
    db, env = crm
    # a wrong token: the CRM answers 401; one line, exit 1, the token in no output
    res = revops("sync", "--duckdb", db, env={**env, "HUBSPOT_TOKEN": "wrong-secret-token"})
    line = one_line_error(res, ExitCode.FAILED)
    assert "HTTP 401" in line and "check HUBSPOT_TOKEN" in line
    assert "wrong-secret-token" not in res.stdout + res.stderr

    # 50 contacts point at CRM ids the CRM does not have: their updates fail, the rest is confirmed
    con = duckdb.connect(str(db))
    keys = [r[0] for r in con.execute("select sync_key from main.sync_hubspot__contacts where crm_contact_id is not "
                                      "null order by sync_key limit 50").fetchall()]
    con.execute("update main.sync_hubspot__contacts set crm_contact_id = '9' || crm_contact_id || '9' "
                "where sync_key in (select unnest(?::varchar[]))", [keys])
    con.close()
    res = revops("sync", "--duckdb", db, env=env)
    line = one_line_error(res, ExitCode.DEAD_LETTERED)
    assert "50 record(s) dead-lettered" in line and "the next sync retries them" in line
    assert _open_dead_letters(db) == 50

    # the ids are right again: the next sync retries exactly the dead letters, confirms them, exits 0
    con = duckdb.connect(str(db))
    con.execute("update main.sync_hubspot__contacts set crm_contact_id = substr(crm_contact_id, 2, "
                "length(crm_contact_id) - 2) where sync_key in (select unnest(?::varchar[]))", [keys])
    con.close()
    res = revops("sync", "--duckdb", db, env=env)
    assert res.returncode == ExitCode.OK, res.stderr
    assert res.stderr == "" and "dead-lettered 0" in res.stdout and "sent 50," in res.stdout
    assert _open_dead_letters(db) == 0

    # a model gone wrong would change every confirmed record: the guard aborts before sending, exit 6
    con = duckdb.connect(str(db))
    con.execute("update main.sync_hubspot__contacts set revops_lead_score = '0', payload_hash = md5(sync_key)")
    con.close()
    res = revops("sync", "--duckdb", db, env=env)
    line = one_line_error(res, ExitCode.SYNC_ABORTED)
    assert "aborted" in line and "--force" in line and "sent 0," in res.stdout
    # a dry run of the same plan is not a failure
    assert revops("sync", "--dry-run", "--duckdb", db, env=env).returncode == ExitCode.OK


def test_the_circuit_breaker_exits_6(crm):
    db, env = crm
    # every contact points at a CRM id the CRM does not have: more than half of what is sent fails
    con = duckdb.connect(str(db))
    con.execute("update main.sync_hubspot__contacts set crm_contact_id = '9' || crm_contact_id || '9' "
                "where crm_contact_id is not null")
    con.close()
    started = time.monotonic()
    res = revops("sync", "--object", "contacts", "--duckdb", db, env=env)
    line = one_line_error(res, ExitCode.SYNC_ABORTED)
    assert "stopped" in line and "circuit breaker" in line and "dead_letters" in line
    assert time.monotonic() - started < 240
