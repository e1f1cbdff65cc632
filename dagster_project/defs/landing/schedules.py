"""The CRM is polled every 5 minutes: a run with nothing new reads a few empty search pages (seconds), and our own
write-back echoes land nothing (revops/landing/crm.py), so a poll that finds nothing triggers no build."""

import dagster as dg

from dagster_project.defs.common.resources import WAREHOUSE_WRITER_TAGS

from .crm_assets import crm_extraction

crm_job = dg.define_asset_job("extract_crm", selection=dg.AssetSelection.assets(crm_extraction),
                              tags=WAREHOUSE_WRITER_TAGS,
                              executor_def=dg.in_process_executor)
crm_schedule = dg.ScheduleDefinition(job=crm_job, cron_schedule="*/5 * * * *",
                                     default_status=dg.DefaultScheduleStatus.STOPPED)
