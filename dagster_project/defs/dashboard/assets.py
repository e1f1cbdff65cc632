"""The dashboard's read-only snapshot of the marts (revops/snapshot.py), published after the marts and after the
CRM sync, so the dashboard never opens the warehouse the pipeline writes."""

import dagster as dg

from dagster_project.defs.dbt.assets import dbt_warehouse
from dagster_project.defs.common.resources import WarehouseResource
from revops import snapshot

MART_KEYS = [k for k in dbt_warehouse.keys if k.path[-1].startswith(snapshot.MART_PREFIXES)]


@dg.asset(
    key=["dashboard_snapshot"],
    deps=[*MART_KEYS, dg.AssetKey(["crm_sync"])],
    group_name="dashboard",
    kinds={"duckdb"},
    description="A read-only copy of the marts for the dashboard, published atomically ($REVOPS_SNAPSHOT_DIR, "
                "default snapshots/ beside the warehouse).",
)
def dashboard_snapshot(warehouse: WarehouseResource) -> dg.MaterializeResult:
    snap = snapshot.publish(warehouse.db_path())
    return dg.MaterializeResult(metadata={"path": str(snap.path), "tables": snap.tables,
                                          "published_at": snap.published_at.isoformat()})
