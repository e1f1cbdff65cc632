"""File-source landing on the S world: reconciled, every broken record quarantined with its field, duplicated
deliveries landed once, idempotent, a changed file re-landed without duplicates, and crash-safe."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from revops.landing.files import SOURCES, ensure_schema, land_source

TRUTH_SOURCE = {"esp_events": "esp", "segment_events": "segment", "se_prospects": "sales_engagement/prospects",
                "se_sequence_states": "sales_engagement/sequence_states", "se_mailings": "sales_engagement/mailings",
                "enrichment_companies": "enrichment/*/companies", "enrichment_signals": "enrichment/*/signals"}


def land_all(db: Path, landing: Path) -> dict:
    con = duckdb.connect(str(db))
    ensure_schema(con)
    out = {name: land_source(con, src, landing) for name, src in SOURCES.items()}
    con.close()
    return out


def table_state(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    state = {name: con.execute(f"select record_key, provider, file, line, record::varchar from raw.{name} "
                               "order by all").fetchall() for name in SOURCES}
    state["quarantine"] = con.execute("select source, file, line, raw_text, error from raw.quarantine order by all").fetchall()
    state["manifest"] = con.execute("select path, sha256, rows_read, rows_landed, rows_quarantined, rows_duplicate "
                                    "from raw.landing_manifest order by path").fetchall()
    con.close()
    return state


@pytest.fixture(scope="module")
def landed(world_s, tmp_path_factory):
    db = tmp_path_factory.mktemp("landed") / "warehouse.duckdb"
    results = land_all(db, world_s / "landing")
    return db, results


def test_counts_reconcile_for_every_source_and_file(landed, world_s):
    db, results = landed
    phen = __import__("json").loads((world_s / "truth" / "phenomena.json").read_text())["messy_input"]["by_source"]
    con = duckdb.connect(str(db), read_only=True)
    for name, res in results.items():
        read = sum(r.read for r in res)
        assert read == sum(r.landed + r.quarantined + r.duplicates for r in res)
        expected = sum(v["records"] for k, v in phen.items()
                       if Path(k).match(TRUTH_SOURCE[name]) or k == TRUTH_SOURCE[name])
        assert read == expected, name  # every record in the files was read
        n = con.execute(f"select count(*), count(distinct (record_key, provider)) from raw.{name}").fetchone()
        assert n[0] == sum(r.landed for r in res) == n[1]  # each delivery key once
    bad = con.execute("select count(*) from raw.landing_manifest "
                      "where rows_read <> rows_landed + rows_quarantined + rows_duplicate").fetchone()[0]
    assert bad == 0


def test_every_broken_record_is_quarantined_with_a_reason_naming_the_field(landed, world_s):
    db, _ = landed
    truth = pl.read_csv(world_s / "truth" / "broken_records.csv")
    con = duckdb.connect(str(db), read_only=True)
    q = con.execute("select file, line, error, raw_text from raw.quarantine").fetchall()
    got = {(f, ln) for f, ln, _e, _r in q}
    assert got == set(zip(truth["file"], truth["line"]))
    kinds = dict(zip(zip(truth["file"], truth["line"]), truth["kind"]))
    for f, ln, err, raw in q:
        if kinds[(f, ln)] == "invalid_json":
            assert err.startswith("Invalid JSON") and "column" in err
        else:
            assert err.startswith("field '"), err  # names the field
        assert raw  # the raw text is kept


def test_duplicated_deliveries_land_once(landed, world_s):
    db, results = landed
    con = duckdb.connect(str(db), read_only=True)
    for name in ("esp_events", "segment_events", "se_mailings"):
        assert sum(r.duplicates for r in results[name]) > 0
    phen = __import__("json").loads((world_s / "truth" / "phenomena.json").read_text())["messy_input"]["by_source"]
    # every injected duplicate is skipped, except those whose other copy was broken (then quarantined)
    dups = sum(r.duplicates for r in results["esp_events"])
    assert phen["esp"]["duplicates"] - 10 <= dups <= phen["esp"]["duplicates"]
    assert con.execute("select count(*) - count(distinct record->>'sg_event_id') from raw.esp_events").fetchone()[0] == 0


def test_landing_twice_changes_nothing(landed, world_s, tmp_path):
    db, _ = landed
    copy = tmp_path / "again.duckdb"
    shutil.copyfile(db, copy)
    before = table_state(copy)
    again = land_all(copy, world_s / "landing")
    assert all(r.skipped for res in again.values() for r in res)
    assert table_state(copy) == before


def test_a_changed_file_is_relanded_without_duplicates(world_s, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(world_s / "landing" / "sales_engagement", landing / "sales_engagement")
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    src = SOURCES["se_prospects"]
    land_source(con, src, landing)
    n0 = con.execute("select count(*) from raw.se_prospects").fetchone()[0]
    path = sorted((landing / "sales_engagement" / "prospects").rglob("*.jsonl"))[3]
    first = path.read_text().splitlines()[0]
    path.write_text(path.read_text() + first + "\n"
                    + '{"id":99999999,"emails":["new@x.com"],"updatedAt":"2026-10-20T10:00:00.000Z"}\n')
    res = land_source(con, src, landing)
    changed = [r for r in res if not r.skipped]
    assert len(changed) == 1 and changed[0].landed == changed[0].read - 1 - changed[0].quarantined
    assert con.execute("select count(*) from raw.se_prospects").fetchone()[0] == n0 + 1
    assert con.execute("select rows_duplicate from raw.landing_manifest where path = ?",
                       [str(path.relative_to(landing))]).fetchone()[0] == 1


def test_kill_9_mid_landing_then_rerun_equals_a_clean_run(landed, world_s, tmp_path):
    clean_db, _ = landed
    db = tmp_path / "crashed.duckdb"
    cmd = [str(Path(sys.executable).parent / "revops"), "land", "--landing-dir", str(world_s / "landing"),
           "--duckdb", str(db), *[a for name in SOURCES for a in ("--source", name)]]
    # batches of 8 files: the ESP's 30 files are 4 batches, the 5th batch is Segment's first 8 files. Killed
    # (SIGKILL) inside the 5th batch's transaction: its rows were inserted, nothing committed
    env = {**os.environ, "REVOPS_FAULT_KILL_AT_BATCH": "5", "REVOPS_LANDING_BATCH_FILES": "8"}
    crash = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert crash.returncode == -signal.SIGKILL
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.landing_manifest").fetchone()[0] == 30
    assert con.execute("select count(distinct file) from raw.esp_events").fetchone()[0] == 30
    assert con.execute("select count(*) from raw.segment_events").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.quarantine where source = 'segment_events'").fetchone()[0] == 0
    con.close()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    crashed, clean = table_state(db), table_state(clean_db)
    for k in clean:
        assert crashed[k] == clean[k], k


def test_a_batch_that_commits_by_checkpointing_writes_no_log_and_lands_the_same(landed, world_s, tmp_path,
                                                                                  monkeypatch):
    """A batch of at least DIRECT_CHECKPOINT_BYTES commits as a checkpoint: its rows go into the database file once,
    never into the write-ahead log; the connection's checkpoint_threshold is as it was; the tables equal those of
    the clean landing (whose smaller batches commit through the log)."""
    import revops.landing.files as files

    clean_db, _ = landed
    db = tmp_path / "direct.duckdb"
    wal = Path(str(db) + ".wal")
    con = duckdb.connect(str(db))
    ensure_schema(con)
    con.execute("checkpoint")
    con.execute("set checkpoint_threshold = '123.0 MiB'")
    monkeypatch.setattr(files, "DIRECT_CHECKPOINT_BYTES", 0)
    for name, src in SOURCES.items():
        land_source(con, src, world_s / "landing")
        assert not wal.exists() or wal.stat().st_size == 0, name  # nothing of the batch went through the log
    assert con.execute("select current_setting('checkpoint_threshold')").fetchone()[0] == "123.0 MiB"
    con.close()
    assert table_state(db) == table_state(clean_db)


CHILD_KILLED_IN_CHECKPOINT = """
import sys
import time
from pathlib import Path

import duckdb

import revops.landing.files as files

con = duckdb.connect(sys.argv[1])
landing = Path(sys.argv[2])
files.ensure_schema(con)
files.land_source(con, files.SOURCES["se_prospects"], landing)
con.execute("checkpoint")
files.DIRECT_CHECKPOINT_BYTES = 0
commit = files._commit


def held(con, *args, **kwargs):
    # DuckDB's debug setting: the checkpoint waits a second after each table's row groups are written, before it
    # installs the new state (written at the end, whole)
    con.execute("set debug_checkpoint_scan_sleep_ms = 1000")
    print("committing", flush=True)
    commit(con, *args, **kwargs)


files._commit = held
files.land_source(con, files.SOURCES["se_mailings"], landing)
print("committed", flush=True)
"""


def test_kill_9_while_a_batch_commits_by_checkpointing_then_rerun_equals_a_clean_run(landed, world_s, tmp_path):
    """Killed (SIGKILL) inside the checkpoint that commits a batch, after it has written row groups into the file:
    nothing of the batch is landed (DuckDB installs a checkpoint whole or not at all), and a rerun equals a clean
    landing."""
    if not duckdb.connect().execute("select count(*) from duckdb_settings() "
                                    "where name = 'debug_checkpoint_scan_sleep_ms'").fetchone()[0]:
        pytest.skip("this DuckDB cannot hold a checkpoint midway")
    clean_db, _ = landed
    db = tmp_path / "crashed.duckdb"
    child = subprocess.Popen([sys.executable, "-c", CHILD_KILLED_IN_CHECKPOINT, str(db), str(world_s / "landing")],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "committing"
        size = db.stat().st_size
        deadline = time.monotonic() + 120
        while db.stat().st_size == size:  # the checkpoint has written row groups: it is past its first table
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.se_prospects").fetchone()[0] > 0
    assert con.execute("select count(*) from raw.se_mailings").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.landing_manifest where source = 'se_mailings'").fetchone()[0] == 0
    con.close()
    land_all(db, world_s / "landing")
    crashed, clean = table_state(db), table_state(clean_db)
    for k in clean:
        assert crashed[k] == clean[k], k
