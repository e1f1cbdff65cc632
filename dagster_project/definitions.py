"""The code location: everything Dagster runs, assembled in one place."""

from __future__ import annotations

from revops import settings  # noqa: F401  (turns telemetry off before Dagster starts anything)

import dagster as dg

from dagster_project.defs.alerts.assets import alerts
from dagster_project.defs.alerts.sensors import alert_on_run_failure
from dagster_project.defs.dashboard.assets import dashboard_snapshot
from dagster_project.defs.dbt.assets import dbt_warehouse
from dagster_project.defs.dbt.resources import dbt_resource
from dagster_project.defs.landing.assets import file_landing_assets
from dagster_project.defs.landing.crm_assets import crm_extraction
from dagster_project.defs.landing.schedules import crm_job, crm_schedule
from dagster_project.defs.common.resources import WarehouseResource
from dagster_project.defs.landing.sensors import file_landing_job
from dagster_project.defs.quality.checks import mart_contract_checks, raw_contract_checks
from dagster_project.defs.reverse_etl.assets import crm_sync
from dagster_project.defs.reverse_etl.schedules import (build_sync_job, fast_lane_job, land_build_sync_job,
                                                         sync_schedule)
from dagster_project.defs.reverse_etl.sensors import build_when_data_changed, fast_lane_on_new_files

defs = dg.Definitions(
    assets=[crm_extraction, *file_landing_assets, dbt_warehouse, crm_sync, dashboard_snapshot, alerts],
    asset_checks=[*raw_contract_checks, *mart_contract_checks],
    jobs=[file_landing_job, crm_job, land_build_sync_job, build_sync_job, fast_lane_job],
    schedules=[crm_schedule, sync_schedule],
    sensors=[fast_lane_on_new_files, build_when_data_changed, alert_on_run_failure],
    resources={"dbt": dbt_resource, "warehouse": WarehouseResource()},
)
