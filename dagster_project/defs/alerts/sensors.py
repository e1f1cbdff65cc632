"""A failed Dagster run sends one alert (revops/alerts.py): job, run id, the failed step and its error's first line.
Key: the run id, so a run is alerted once however often the sensor sees it."""

import dagster as dg

from dagster_project.defs.common.resources import WarehouseResource
from revops import alerts as alerting


def _failure(context: dg.RunFailureSensorContext) -> tuple[str | None, str]:
    """The first failed step and its error (the run's own failure message when no step failed)."""
    for ev in context.get_step_failure_events():
        error = getattr(ev.event_specific_data, "error", None)
        if error is not None:
            while error.cause is not None:  # Dagster wraps the step's own exception: say what it raised
                error = error.cause
            return ev.step_key, error.message
    return None, context.failure_event.message or "the run failed"


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Records and sends one alert per failed run of this code location (ops.alerts, Slack webhook "
                "$REVOPS_ALERT_WEBHOOK_URL).",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, warehouse: WarehouseResource):
    run = context.dagster_run
    step, error = _failure(context)
    alert = alerting.run_failure_alert(run.job_name, run.run_id, error, step_key=step)
    try:
        outcome = alerting.raise_run_failure(warehouse.db_path(), alert)
    except alerting.AlertConfigError as e:
        outcome = f"recorded, not sent: {e}"
    context.log.info(f"alert for run {run.run_id} ({run.job_name}): {outcome}")
