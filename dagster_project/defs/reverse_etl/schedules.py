"""The jobs that end in the CRM. `build_sync` builds what new data touches and syncs (started by the
`build_when_data_changed` sensor); `fast_lane` lands new files and pushes what they change at once (sensor
`fast_lane_on_new_files`); `land_build_sync` lands, builds and checks everything, daily at 02:30, as the safety net
that re-verifies the whole warehouse (unit tests included)."""

import dagster as dg

from dagster_project.defs.alerts.assets import alerts
from dagster_project.defs.common.resources import WAREHOUSE_WRITER_TAGS
from dagster_project.defs.dashboard.assets import dashboard_snapshot
from dagster_project.defs.dbt.assets import dbt_warehouse
from dagster_project.defs.landing.assets import file_landing_assets
from dagster_project.defs.landing.crm_assets import crm_extraction

from .assets import crm_sync

# the CRM extraction is one multi-asset that cannot be split: take all of it with what the sync needs; the snapshot
# needs every mart and the sync, so the dashboard sees the KPI marts of the same run; the alerts follow the sync
land_build_sync_job = dg.define_asset_job(
    "land_build_sync",
    selection=dg.AssetSelection.assets(crm_sync, dashboard_snapshot, alerts).upstream()
    | dg.AssetSelection.assets(crm_extraction),
    tags=WAREHOUSE_WRITER_TAGS, executor_def=dg.in_process_executor)
sync_schedule = dg.ScheduleDefinition(job=land_build_sync_job, cron_schedule="30 2 * * *",
                                      default_status=dg.DefaultScheduleStatus.STOPPED)

# run with an asset subset chosen by the sensors (revops/build_state.py plans it). One process per run, its steps in
# turn: DuckDB takes one writer, and with a process per step the sync and the marts' Soda checks ran side by side
# and one of them failed on the lock (every follow-up build in `make bench-latency`); it also saves a process
# start-up per step (12-27 s each on a busy 2-core machine: fast-lane p95 188 s -> 110 s)
build_sync_job = dg.define_asset_job(
    "build_sync", selection=dg.AssetSelection.assets(dbt_warehouse, crm_sync, dashboard_snapshot, alerts),
    tags=WAREHOUSE_WRITER_TAGS, executor_def=dg.in_process_executor)
fast_lane_job = dg.define_asset_job(
    "fast_lane", selection=dg.AssetSelection.assets(*file_landing_assets, dbt_warehouse, crm_sync),
    tags=WAREHOUSE_WRITER_TAGS, executor_def=dg.in_process_executor)
