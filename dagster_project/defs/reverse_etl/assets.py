"""The CRM sync as a Dagster asset downstream of the sync models (docs/sync.md): a blocking check that fails upstream
(a Soda contract on a raw table or a KPI mart, a dbt test) stops it in the same run."""

import dagster as dg

from dagster_project.defs.common.resources import WarehouseResource
from reverse_etl.engine import DEFAULT_OBJECTS, run_sync
from revops import engine, spark_store
from revops.hubspot import HubSpotClient


@dg.asset(
    key=["crm_sync"],
    deps=[dg.AssetKey(["sync_hubspot__contacts"]), dg.AssetKey(["sync_hubspot__companies"]),
          dg.AssetKey(["sync_hubspot__tasks"])],
    group_name="reverse_etl",
    kinds={"hubspot"},
    description="Writes the warehouse's scores and next actions into the CRM (HUBSPOT_BASE_URL, HUBSPOT_TOKEN), and "
                "the next actions as CRM tasks (one open task per action key): only what changed, batched, retried, "
                "dead-lettered, audited in schema crm_sync.",
)
def crm_sync(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    if engine.is_spark():
        spark_store.run("desired", warehouse.db_path())  # the sync models as Spark built them, beside the sync state
    with warehouse.connect() as con, HubSpotClient() as client:
        res = run_sync(con, client, objects=DEFAULT_OBJECTS, on_batch=lambda obj, n, ok, bad: context.log.info(
            f"{obj} batch {n}: {ok} confirmed, {bad} dead-lettered"))
        stats = dict(client.stats)
    metadata = {"run_id": res.run_id, "status": res.status.value, **{f"planned_{k}": v for k, v in res.plan.items()},
                "sent": res.sent, "confirmed": res.succeeded, "dead_lettered": res.dead_lettered,
                "tasks_handed_over": res.handed_over,
                "requests": stats["requests"], "retries": stats["retries"], "rate_limited": stats["rate_limited"]}
    if res.status in ("aborted", "stopped", "failed"):
        raise dg.Failure(description=res.message, metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)
