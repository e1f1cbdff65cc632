"""From new data to the CRM without waiting for a schedule.

- `fast_lane_on_new_files` (every 5 s; a tick lists the landing folder, ~800 files on M, in milliseconds): new
  files (a demo request in a Segment file) start one run that lands just those sources, builds only the models
  between them and the sync models (dagster_project/build.py), and syncs: the path a demo request takes to its
  owner's task (`make bench-latency` times it).
- `build_when_data_changed` (every 30 s): whatever landed since the last successful build (the CRM poll, the fast
  lane's sources, whose KPI marts it left for later, a `revops land` by hand) starts one `build_sync` run of the
  models downstream of the changed sources (revops/build_state.py), then the sync, snapshot and alerts. Nothing
  new, nothing started; the same data never asks twice, so a failed build waits for new data or a hand.
"""

from __future__ import annotations

import dagster as dg

from revops import build_state, settings
from revops.warehouse import WarehouseInUse, connect

from dagster_project.build import dbt_keys, dbt_run_config, sync_path_select
from dagster_project.defs.alerts.assets import alerts
from dagster_project.defs.common.resources import WAREHOUSE_WRITER_TAGS, WarehouseResource
from dagster_project.defs.dashboard.assets import MART_KEYS, dashboard_snapshot
from dagster_project.defs.landing.sensors import changed_file_sources

from .assets import crm_sync
from .schedules import build_sync_job, fast_lane_job

WRITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
           dg.DagsterRunStatus.STARTED]


@dg.sensor(job=fast_lane_job, minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.STOPPED)
def fast_lane_on_new_files(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    changed, newest = changed_file_sources(warehouse.landing_root(), int(context.cursor or 0))
    if not changed:
        return dg.SkipReason(f"no file newer than the cursor in {warehouse.landing_root()}")
    context.update_cursor(str(newest))
    manifest = build_state.load_manifest(settings.dbt_manifest_path())
    selectors = build_state.selectors_of_tables(manifest, [("raw", name) for name in changed])
    keys = {dg.AssetKey(["raw", n]) for n in changed} | set(dbt_keys(sync_path_select(selectors))) | {crm_sync.key}
    # a file already landed with the same checksum is skipped by its asset, so a spurious run costs little
    return dg.RunRequest(run_key=f"files-{newest}", asset_selection=sorted(keys, key=lambda k: k.path),
                         run_config=dbt_run_config(unit_tests=False), tags={"revops/trigger": ",".join(changed)})


@dg.sensor(job=build_sync_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED)
def build_when_data_changed(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    if context.instance.get_run_records(dg.RunsFilter(statuses=WRITING, tags=WAREHOUSE_WRITER_TAGS), limit=1):
        return dg.SkipReason("a run is writing the warehouse: planning after it")
    try:
        con = connect(warehouse.db_path(), read_only=True)
    except WarehouseInUse:
        return dg.SkipReason("another process is writing the warehouse: planning after it")
    try:
        plan = build_state.plan(con, build_state.load_manifest(settings.dbt_manifest_path()),
                                settings.dbt_project_dir())
    finally:
        con.close()
    if plan.nothing:
        return dg.SkipReason(plan.reason)
    keys = set(dbt_keys(plan.select))
    keys |= {crm_sync.key, alerts.key} | ({dashboard_snapshot.key} if keys & set(MART_KEYS) else set())
    return dg.RunRequest(run_key=f"plan-{plan.key()}", asset_selection=sorted(keys, key=lambda k: k.path),
                         run_config=dbt_run_config(unit_tests=plan.code_changed), tags={"revops/plan": plan.reason[:200]})
