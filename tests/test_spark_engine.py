"""The same project on Spark (REVOPS_ENGINE=spark; docs/architecture.md, Engines): the S world landed once and built
on both engines through `revops build` must give the same marts and sync models (EXCEPT both ways, doubles rounded
to 9 places, timestamps in UTC) and the same `revops kpis`; a Spark publish or a sync killed with SIGKILL ends, after
a rerun, exactly where an undisturbed one would. Marked `spark`: `make test-spark` runs them (a JVM and two builds,
~N min), `make test` the rest."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml

from revops import engine
from revops.engine_compare import compare

REPO = Path(__file__).resolve().parents[1]
REVOPS = str(Path(sys.executable).parent / "revops")
TOKEN = "spark-engine-test"


def test_profile_spark_settings_are_the_engine_modules(tmp_path):
    """dbt's Spark session (profiles.yml) and our own (revops/engine.py) must be configured alike: one catalog,
    one warehouse folder, UTC, loopback."""
    profile = yaml.safe_load((REPO / "dbt_project" / "profiles.yml").read_text())["revops_warehouse"]
    env = {"REVOPS_SPARK_DIR": str(tmp_path / "w.spark"), "REVOPS_SPARK_DRIVER_MEMORY": "3g"}
    render = jinja2.Environment().from_string
    params = {k: render(str(v)).render(env_var=lambda name, default=None: env.get(name, default))
              for k, v in profile["outputs"]["spark"]["server_side_parameters"].items()}
    os.environ["REVOPS_SPARK_DRIVER_MEMORY"] = "3g"
    try:
        assert params == engine.spark_conf(tmp_path / "w.spark")
    finally:
        del os.environ["REVOPS_SPARK_DRIVER_MEMORY"]
    assert render(profile["target"]).render(env_var=lambda name, default=None: "spark") == "spark"
    assert set(profile["outputs"]) == set(engine.ENGINES)


def test_engine_switch_names_the_engine_or_refuses(monkeypatch):
    monkeypatch.setenv("REVOPS_ENGINE", "Spark")
    assert engine.is_spark()
    monkeypatch.delenv("REVOPS_ENGINE")
    assert engine.name() == "duckdb"
    monkeypatch.setenv("REVOPS_ENGINE", "trino")
    with pytest.raises(engine.UnknownEngine, match="trino"):
        engine.name()


def _env(db: Path, eng: str, **extra) -> dict:
    return {**os.environ, "REVOPS_ENGINE": eng, "REVOPS_DUCKDB_PATH": str(db), "DAGSTER_HOME": "",
            "REVOPS_SNAPSHOT_DIR": str(db.parent / f"snapshots_{eng}"), "HUBSPOT_TOKEN": TOKEN, **extra}


def _run(args: list[str], env: dict, ok=(0,)) -> subprocess.CompletedProcess:
    res = subprocess.run(args, env=env, capture_output=True, text=True, cwd=REPO)
    assert res.returncode in ok, (res.stdout[-3000:], res.stderr[-3000:])
    return res


@pytest.fixture(scope="module")
def two_engines(world_s, tmp_path_factory):
    """The S world landed once (CRM from the sandbox server, every file), then built by `revops build` on each
    engine from a copy: (duckdb control store, spark control store, CRM server url, tmp dir)."""
    from sandbox.crm_server import CRMServer, ServerConfig

    tmp = tmp_path_factory.mktemp("two_engines")
    landed = tmp / "landed.duckdb"
    srv = CRMServer(ServerConfig(db_path=tmp / "crm.sqlite", world_dir=world_s, token=TOKEN)).start()
    try:
        _run([REVOPS, "land", "--landing-dir", str(world_s / "landing"), "--duckdb", str(landed)],
             _env(landed, "duckdb", HUBSPOT_BASE_URL=srv.url), ok=(0, 3))
    finally:
        srv.stop()
    dbs = {}
    for eng in engine.ENGINES:
        (tmp / eng).mkdir()
        dbs[eng] = tmp / eng / "warehouse.duckdb"
        shutil.copy(landed, dbs[eng])
        _run([REVOPS, "build"], _env(dbs[eng], eng))
    return dbs["duckdb"], dbs["spark"], world_s, tmp


@pytest.mark.spark
def test_every_mart_and_sync_model_is_the_same_on_both_engines(two_engines):
    duck, spark, _, _ = two_engines
    diffs = compare(duck, spark)
    assert len(diffs) >= 35  # every dim_/fct_/mart_/bridge_/sync_ model (37 on S), not an empty comparison
    assert all(d.rows_a > 0 for d in diffs if d.table.startswith(("sync_hubspot__contacts", "fct_lead_scores",
                                                                      "dim_person", "mart_stage_map")))
    unequal = [f"{d.table}: {d.problem or f'{d.only_a} only on duckdb, {d.only_b} only on spark'} {d.examples[:2]}"
               for d in diffs if not d.equal]
    assert not unequal, "\n".join(unequal)


@pytest.mark.spark
def test_kpis_read_the_same_numbers_on_both_engines(two_engines):
    duck, spark, _, _ = two_engines
    out = {eng: _run([REVOPS, "kpis", "--duckdb", str(db)], _env(db, eng)).stdout.splitlines()[1:]
           for eng, db in (("duckdb", duck), ("spark", spark))}
    assert len(out["duckdb"]) > 5
    assert out["duckdb"] == out["spark"]


def _spark_counts(db: Path) -> dict[str, int]:
    code = ("import json, sys; from pathlib import Path; from revops import engine, spark_store; "
            "s = engine.spark_session(Path(sys.argv[1])); "
            "print(json.dumps({f'{d}.{t}': s.table(f'{d}.{t}').count() for d in spark_store.CONTROL_SCHEMAS "
            "for t in spark_store.tables_of(s, d)}))")
    res = _run([sys.executable, "-c", code, str(db)], {**os.environ, "REVOPS_SPARK_DIR": str(engine.spark_dir(db))})
    import json

    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.spark
def test_a_publish_killed_after_writing_a_table_is_repaired_by_the_next(two_engines):
    """Killed (SIGKILL) after Spark wrote the 3rd changed table and before the control store recorded it: the next
    publish writes that table and every later one again, and a third writes nothing; Spark then holds exactly the
    control store's rows."""
    _, spark_db, world_s, tmp = two_engines
    db = tmp / "publish_kill" / "warehouse.duckdb"
    db.parent.mkdir()
    shutil.copy(spark_db, db)  # no Spark folder beside the copy: it publishes into a fresh catalog of its own
    con = duckdb.connect(str(db))
    con.execute("delete from ops.spark_published")
    expected = {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
                for s, t in con.execute("select table_schema, table_name from information_schema.tables where "
                                        "table_schema in ('raw', 'ops', 'crm_sync') and table_type = 'BASE TABLE' "
                                        "and table_name <> 'spark_published'").fetchall()}
    con.close()
    cmd = [sys.executable, "-m", "revops.spark_store", "publish", "--duckdb", str(db)]
    env = {**os.environ, "REVOPS_SPARK_DIR": str(engine.spark_dir(db))}
    crash = subprocess.run(cmd, env={**env, "REVOPS_FAULT_KILL_AT_SPARK_TABLE": "3"}, capture_output=True, text=True)
    assert crash.returncode == -signal.SIGKILL, crash.stderr[-2000:]
    con = duckdb.connect(str(db), read_only=True)
    recorded = con.execute("select count(*) from ops.spark_published").fetchone()[0]
    con.close()
    assert recorded == 2
    import json

    rerun = _run(cmd, env)
    done = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert sum(v == "written" for v in done.values()) == len(expected) - 2
    again = json.loads(_run(cmd, env).stdout.strip().splitlines()[-1])
    assert set(again.values()) == {"unchanged"}
    assert _spark_counts(db) == expected


@pytest.mark.spark
def test_kill_9_mid_sync_with_spark_as_the_warehouse_then_rerun_ends_correct(two_engines, tmp_path):
    """The sync's state stays in the control store's transactions (docs/architecture.md): a sync of the Spark-built
    warehouse killed at its 4th batch, then rerun, leaves the CRM equal to the desired state with every value
    written once."""
    from revops.hubspot import HubSpotClient
    from sandbox.crm_server import CRMServer, ServerConfig
    from test_reverse_etl import _desired_vs_crm, _each_value_changed_once, _unconfirmed_contacts

    _, spark_db, world_s, _ = two_engines
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(spark_db, db)
    srv = CRMServer(ServerConfig(db_path=tmp_path / "crm.sqlite", world_dir=world_s, token=TOKEN)).start()
    env = _env(db, "spark", HUBSPOT_BASE_URL=srv.url, REVOPS_SPARK_DIR=str(engine.spark_dir(spark_db)))
    try:
        crash = subprocess.run([REVOPS, "sync", "--duckdb", str(db)], env={**env, "REVOPS_FAULT_KILL_AT_BATCH": "4"},
                               capture_output=True, text=True)
        assert crash.returncode == -signal.SIGKILL, crash.stdout[-2000:] + crash.stderr[-2000:]
        _run([REVOPS, "sync", "--duckdb", str(db)], env)
        con = duckdb.connect(str(db))
        with HubSpotClient(base_url=srv.url, token=TOKEN) as client:
            desired, got = _desired_vs_crm(con, client)
        unconfirmed = _unconfirmed_contacts(con)
        con.close()
        once = _each_value_changed_once(srv)
    finally:
        srv.stop()
    assert desired and got == desired and unconfirmed == 0 and once
