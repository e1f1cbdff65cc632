"""The `alerts` asset (revops/alerts.py): after the CRM sync and the dbt models it reads, record each new event that
needs a human (a sending domain paused or resumed, a hand raise past its SLA, new dead letters) once in ops.alerts
and send what is not sent yet to the Slack webhook ($REVOPS_ALERT_WEBHOOK_URL)."""

import dagster as dg

from dagster_project.defs.common.resources import WarehouseResource
from dagster_project.defs.dbt.assets import dbt_warehouse
from dagster_project.defs.reverse_etl.assets import crm_sync
from revops import alerts as alerting

# the dbt models the conditions read, found by name (wherever their folder is)
ALERT_MODELS = ("dim_sending_domain_status", "mart_stage_map", "fct_speed_to_lead", "int_as_of_dated")
ALERT_MODEL_KEYS = [k for k in dbt_warehouse.keys if k.path[-1] in ALERT_MODELS]


@dg.asset(
    key=["alerts"],
    deps=[crm_sync.key, *ALERT_MODEL_KEYS],
    group_name="alerts",
    kinds={"slack", "duckdb"},
    description="Alerts when something needs a human: one Slack message per event (a sending domain paused or "
                "resumed, a hand raise past its SLA, new dead letters), recorded in ops.alerts, never repeated; "
                "failed POSTs are retried by later runs.",
)
def alerts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        try:
            run = alerting.raise_alerts(con)
        except alerting.AlertConfigError as e:  # recorded, not sent: the URL may not be used
            raise dg.Failure(description=str(e)) from None
    for line in run.lines():
        context.log.info(line)
    if run.warning:
        context.log.warning(run.warning)
    if not run.configured and run.undelivered:
        context.log.warning(f"{alerting.WEBHOOK_ENV} is not set: {run.undelivered} alert(s) wait in ops.alerts "
                            "(pending) for a run that has it")
    elif run.undelivered:
        # not a failed run: its own alert could not be delivered either; the next run retries them
        context.log.warning(f"{run.undelivered} alert(s) not delivered yet (ops.alerts has each error); the next "
                            "run retries them")
    return dg.MaterializeResult(metadata={
        "raised": len(run.raised),
        "sent": sum(d.status == alerting.Status.SENT for d in run.deliveries),
        "failed": sum(d.status != alerting.Status.SENT for d in run.deliveries),
        "undelivered": run.undelivered,
        "webhook_configured": run.configured,
        "kinds": ", ".join(sorted({a.kind for a in run.raised})) or "none",
        "skipped": "; ".join(run.skipped) or "none",
    })
