"""The marts snapshot the dashboard reads (revops/snapshot.py): what it copies, that a publish is atomic, that a
reader holding a snapshot is never broken by later publishes and never blocks the writer, and that a publish
failing half-way leaves the current snapshot as it was."""

import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from revops import snapshot


def _warehouse(path, requests: int = 3):
    con = duckdb.connect(str(path))
    con.execute("create or replace table fct_speed_to_lead as select range as request_id from range(?)", [requests])
    con.execute("create or replace table mart_revops_kpis as select 1 as day_utc, ? as inbound_requests", [requests])
    con.execute("create or replace table dim_owner as select 'o1' as owner_id")
    con.execute("create or replace table int_persons_routed as select 1 as not_a_mart")
    con.execute("create or replace view stg_hubspot__owners as select 1 as not_a_mart")
    con.execute("create schema if not exists crm_sync")
    con.execute("""create or replace table crm_sync.runs as select 'r1' as run_id""")
    # a view over the sync's audit table, named by the warehouse's catalog, as dbt-duckdb writes it
    con.execute(f'create or replace view mart_sync_health as select run_id from "{path.stem}".crm_sync.runs')
    con.execute("""create or replace table crm_sync.dead_letters as
        select 'contacts' as object, k as sync_key, '{}'::json as payload, 'h' as payload_hash, 'PROPERTY_DOESNT_EXIST'
            as error, 3 as attempts, now() as first_failed_at, now() as last_failed_at,
            case when k = 'k2' then now() end as resolved_at
        from (values ('k1'), ('k2')) as t(k)""")
    # the dbt view of the open dead letters, as dbt-duckdb writes it
    con.execute(f'create or replace view mart_sync_dead_letters as select object as crm_object, sync_key, error '
                f'from "{path.stem}".crm_sync.dead_letters where resolved_at is null')
    con.close()


def test_publish_copies_the_marts_and_open_dead_letters(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    _warehouse(wh)
    snap = snapshot.publish(wh, tmp_path / "snaps")
    assert snapshot.current_path(tmp_path / "snaps") == snap.path
    con = duckdb.connect(str(snap.path), read_only=True)
    tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    assert tables == {"fct_speed_to_lead", "mart_revops_kpis", "dim_owner", "mart_sync_health",
                      "mart_sync_dead_letters", "snapshot_info"}
    assert con.execute("select count(*) from fct_speed_to_lead").fetchall() == [(3,)]
    assert con.execute("select run_id from mart_sync_health").fetchall() == [("r1",)]  # the view's rows, as a table
    assert con.execute("select sync_key, error from mart_sync_dead_letters").fetchall() == [
        ("k1", "PROPERTY_DOESNT_EXIST")]
    assert con.execute("select tables, warehouse from snapshot_info").fetchall() == [(5, str(wh))]
    con.close()
    assert not list((tmp_path / "snaps").glob(".*tmp"))


def test_publish_without_marts_is_a_clear_error(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(wh)).close()
    with pytest.raises(RuntimeError, match="no marts to publish"):
        snapshot.publish(wh, tmp_path / "snaps")
    assert snapshot.current_path(tmp_path / "snaps") is None


def test_old_snapshots_are_pruned_but_never_the_current(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    _warehouse(wh)
    snaps = [snapshot.publish(wh, tmp_path / "snaps", keep=2).path for _ in range(4)]
    assert sorted((tmp_path / "snaps").glob("marts-*.duckdb")) == snaps[-2:]
    assert snapshot.current_path(tmp_path / "snaps") == snaps[-1]


def test_a_failing_publish_leaves_the_current_snapshot(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    _warehouse(wh)
    good = snapshot.publish(wh, tmp_path / "snaps")
    con = duckdb.connect(str(wh))
    # a mart view over a table that is gone: the copy fails after the marts before it were copied
    con.execute("create table gone as select 1 as x")
    con.execute("create view mart_zz_broken as select * from gone")
    con.execute("drop table gone")
    con.close()
    with pytest.raises(duckdb.Error):
        snapshot.publish(wh, tmp_path / "snaps")
    assert snapshot.current_path(tmp_path / "snaps") == good.path
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == ["CURRENT", good.path.name]


READER = textwrap.dedent("""
    import sys, time
    from revops import snapshot
    snap, con = snapshot.open_current(sys.argv[1])
    print("opened", snap.name, flush=True)
    seen = set()
    deadline = time.time() + float(sys.argv[2])
    while time.time() < deadline:
        seen.add(con.execute("select inbound_requests from mart_revops_kpis").fetchall()[0][0])
        time.sleep(0.01)
    print("read", sorted(seen), flush=True)
""")


def test_an_open_reader_neither_blocks_the_pipeline_nor_breaks(tmp_path):
    """A dashboard process holds the current snapshot open and reads it in a loop. Meanwhile the pipeline writes
    the warehouse and publishes five newer snapshots (pruning the reader's file): every write succeeds, the reader
    reads its own numbers throughout without an error, and a new reader sees the newest numbers."""
    wh, out = tmp_path / "warehouse.duckdb", tmp_path / "snaps"
    _warehouse(wh, requests=3)
    first = snapshot.publish(wh, out, keep=2)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(out), "4"], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().split() == ["opened", first.name]
    for n in range(4, 9):
        _warehouse(wh, requests=n)  # the pipeline opens the warehouse for writing: nothing holds it
        snapshot.publish(wh, out, keep=2)
        time.sleep(0.1)
    assert not first.path.exists()  # pruned while the reader has it open
    rest, _ = reader.communicate(timeout=30)
    assert reader.returncode == 0
    assert rest.split() == ["read", "[3]"]
    snap, con = snapshot.open_current(out)
    assert con.execute("select inbound_requests from mart_revops_kpis").fetchall() == [(8,)]
    con.close()


def test_snapshots_go_beside_the_warehouse_published(tmp_path, monkeypatch):
    """`revops sync --duckdb other.duckdb` with the demo's REVOPS_DUCKDB_PATH in the environment must not publish
    into the demo dashboard's snapshots."""
    monkeypatch.delenv("REVOPS_SNAPSHOT_DIR", raising=False)
    monkeypatch.setenv("REVOPS_DUCKDB_PATH", str(tmp_path / "demo" / "warehouse.duckdb"))
    other = tmp_path / "other" / "warehouse.duckdb"
    other.parent.mkdir()
    _warehouse(other)
    assert snapshot.publish(other).path.parent == tmp_path / "other" / "snapshots"
    assert not (tmp_path / "demo").exists()
    monkeypatch.setenv("REVOPS_SNAPSHOT_DIR", str(tmp_path / "chosen"))
    assert snapshot.publish(other).path.parent == tmp_path / "chosen"
