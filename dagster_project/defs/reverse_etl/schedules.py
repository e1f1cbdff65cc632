"""Hourly land -> build -> sync (at :30, after the :15 CRM extraction): everything upstream of the CRM sync."""

import dagster as dg

from dagster_project.defs.landing.crm_assets import crm_extraction

from .assets import crm_sync

# the CRM extraction is one multi-asset that cannot be split: take all of it with what the sync needs
land_build_sync_job = dg.define_asset_job(
    "land_build_sync",
    selection=dg.AssetSelection.assets(crm_sync).upstream() | dg.AssetSelection.assets(crm_extraction))
sync_schedule = dg.ScheduleDefinition(job=land_build_sync_job, cron_schedule="30 * * * *",
                                      default_status=dg.DefaultScheduleStatus.STOPPED)
