"""Landing through Dagster: the assets materialize on a temp DuckDB with reconciled metadata, and the sensor
asks for a run only when there are new files."""

import os
import time

import dagster as dg
import duckdb

from dagster_project.defs.landing.assets import file_landing_assets
from dagster_project.defs.common.resources import WarehouseResource
from dagster_project.defs.reverse_etl.sensors import build_when_data_changed, fast_lane_on_new_files


def test_landing_assets_materialize_with_reconciled_metadata(world_s, tmp_path):
    wh = WarehouseResource(path=str(tmp_path / "w.duckdb"), landing_dir=str(world_s / "landing"))
    result = dg.materialize(file_landing_assets, resources={"warehouse": wh}, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    mats = {}
    for ev in result.get_asset_materialization_events():
        md = ev.materialization.metadata
        mats[ev.materialization.asset_key.path[-1]] = {k: v.value for k, v in md.items()}
    assert set(mats) == {a.key.path[-1] for a in file_landing_assets}
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    for name, md in mats.items():
        assert md["rows_read"] == md["rows_landed"] + md["rows_quarantined"] + md["rows_duplicate"]
        assert md["table_rows"] == md["rows_landed"] == con.execute(f"select count(*) from raw.{name}").fetchone()[0]
        assert md["files_skipped"] == 0
    assert mats["esp_events"]["rows_duplicate"] > 0 and mats["segment_events"]["rows_quarantined"] > 0
    con.close()  # one process may not hold the file read-only and read-write at once
    # a second materialization skips every file and lands nothing
    again = dg.materialize(file_landing_assets, resources={"warehouse": wh}, instance=dg.DagsterInstance.ephemeral())
    for ev in again.get_asset_materialization_events():
        md = ev.materialization.metadata
        assert md["files_landed"].value == 0 and md["rows_landed"].value == 0


def test_fast_lane_requests_a_run_only_for_new_files_and_only_the_sync_path(world_s, tmp_path):
    wh = WarehouseResource(path=str(tmp_path / "w.duckdb"), landing_dir=str(world_s / "landing"))
    with dg.build_sensor_context(resources={"warehouse": wh}) as ctx:
        first = fast_lane_on_new_files(ctx)
        assert isinstance(first, dg.RunRequest)
        assert len([k for k in first.asset_selection if k.path[0] == "raw"]) == 7
        cursor = ctx.cursor
    with dg.build_sensor_context(cursor=cursor, resources={"warehouse": wh}) as ctx:
        assert isinstance(fast_lane_on_new_files(ctx), dg.SkipReason)
    # a new Segment file arrives
    new = world_s / "landing" / "segment" / "2026" / "10" / "31" / "events-late-0000.jsonl"
    new.write_text('{"messageId":"m-new","type":"track","timestamp":"2026-10-31T10:00:00Z","event":"Signed Up"}\n')
    try:
        os.utime(new, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        with dg.build_sensor_context(cursor=cursor, resources={"warehouse": wh}) as ctx:
            req = fast_lane_on_new_files(ctx)
    finally:
        new.unlink()
    assert isinstance(req, dg.RunRequest)
    names = {k.to_user_string() for k in req.asset_selection}
    assert {n for n in names if n.startswith("raw/")} == {"raw/segment_events"}
    # what a demo request needs to reach the CRM, and nothing the sync does not read
    assert {"stg_segment__events", "fct_lead_scores", "mart_stage_map", "sync_hubspot__tasks", "crm_sync"} <= names
    assert not names & {"mart_revops_kpis", "fct_signal_attribution", "dashboard_snapshot", "stg_esp__events"}
    assert req.run_config["ops"]["dbt_warehouse"]["config"]["unit_tests"] is False


def test_build_sensor_plans_from_the_build_state(tmp_path):
    from revops import build_state, settings

    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    wh = WarehouseResource(path=str(db))
    with dg.build_sensor_context(resources={"warehouse": wh}, instance=dg.DagsterInstance.ephemeral()) as ctx:
        req = build_when_data_changed(ctx)
    # never built through the planner: everything, with the unit tests, then the sync, snapshot and alerts
    assert isinstance(req, dg.RunRequest) and req.run_config["ops"]["dbt_warehouse"]["config"]["unit_tests"]
    names = {k.to_user_string() for k in req.asset_selection}
    assert {"mart_revops_kpis", "crm_sync", "dashboard_snapshot", "alerts"} <= names
    manifest = build_state.load_manifest(settings.dbt_manifest_path())
    con = duckdb.connect(str(db))
    build_state.record(con, manifest, build_state.snapshot(con, manifest),
                       {u for u in manifest["nodes"] if u.startswith("model.")}, settings.dbt_project_dir(),
                       whole_project=True)
    con.close()
    with dg.build_sensor_context(resources={"warehouse": wh}, instance=dg.DagsterInstance.ephemeral()) as ctx:
        again = build_when_data_changed(ctx)
    assert isinstance(again, dg.SkipReason) and "no new data" in again.skip_message


def test_crm_extraction_asset_against_the_sandbox(world_s, tmp_path, monkeypatch):
    from dagster_project.defs.landing.crm_assets import crm_extraction
    from sandbox.crm_server import CRMServer, ServerConfig

    srv = CRMServer(ServerConfig(db_path=tmp_path / "crm.sqlite", world_dir=world_s, token="dagster-test")).start()
    monkeypatch.setenv("HUBSPOT_BASE_URL", srv.url)
    monkeypatch.setenv("HUBSPOT_TOKEN", "dagster-test")
    try:
        wh = WarehouseResource(path=str(tmp_path / "w.duckdb"), landing_dir=str(world_s / "landing"))
        result = dg.materialize([crm_extraction], resources={"warehouse": wh}, instance=dg.DagsterInstance.ephemeral())
    finally:
        srv.stop()
    assert result.success
    md = {ev.materialization.asset_key.path[-1]: {k: v.value for k, v in ev.materialization.metadata.items()}
          for ev in result.get_asset_materialization_events()}
    n_contacts = sum(1 for _ in (world_s / "crm" / "contacts.jsonl").open())
    assert md["crm_contacts"]["rows_landed"] + md["crm_contacts"]["archived"] == n_contacts
    assert md["crm_owners"]["rows_landed"] == sum(1 for _ in (world_s / "crm" / "owners.jsonl").open())
