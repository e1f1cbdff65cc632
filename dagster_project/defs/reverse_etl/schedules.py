"""Hourly land -> build -> sync -> dashboard snapshot and alerts (at :30, after the :15 CRM extraction)."""

import dagster as dg

from dagster_project.defs.landing.crm_assets import crm_extraction

from dagster_project.defs.alerts.assets import alerts
from dagster_project.defs.dashboard.assets import dashboard_snapshot

from .assets import crm_sync

# the CRM extraction is one multi-asset that cannot be split: take all of it with what the sync needs; the snapshot
# needs every mart and the sync, so the dashboard sees the KPI marts of the same run; the alerts follow the sync
land_build_sync_job = dg.define_asset_job(
    "land_build_sync",
    selection=dg.AssetSelection.assets(crm_sync, dashboard_snapshot, alerts).upstream()
    | dg.AssetSelection.assets(crm_extraction))
sync_schedule = dg.ScheduleDefinition(job=land_build_sync_job, cron_schedule="30 * * * *",
                                      default_status=dg.DefaultScheduleStatus.STOPPED)
