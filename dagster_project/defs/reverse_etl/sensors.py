"""After new files land (a successful land_files run), build and sync: the CRM hears about a demo request
without waiting for the hourly schedule."""

import dagster as dg

from dagster_project.defs.landing.sensors import file_landing_job

from .schedules import land_build_sync_job


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[file_landing_job],
                      request_job=land_build_sync_job, default_status=dg.DefaultSensorStatus.STOPPED)
def sync_after_landing(context: dg.RunStatusSensorContext):
    return dg.RunRequest(run_key=f"sync-after-{context.dagster_run.run_id}")
