"""The CRM extraction runs hourly (at :15); file sources land from the sensor as files arrive."""

import dagster as dg

from .crm_assets import crm_extraction

crm_job = dg.define_asset_job("extract_crm", selection=dg.AssetSelection.assets(crm_extraction))
crm_schedule = dg.ScheduleDefinition(job=crm_job, cron_schedule="15 * * * *",
                                     default_status=dg.DefaultScheduleStatus.STOPPED)
