"""dbt models and seeds as Dagster assets, grouped by the folder they live in."""


from collections.abc import Mapping
from typing import Any

import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from reverse_etl.state import ensure_schema as ensure_sync_schema

from .resources import dbt_project, warehouse_path


class FolderGroupTranslator(DagsterDbtTranslator):
    """Group each dbt node by its folder, in pipeline order: staging, identity, signals, deliverability, decisions,
    kpi, attribution, sync (the dbt groups of the same names); seeds go to `config`."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        parts = dbt_resource_props.get("fqn", [])
        return parts[1] if len(parts) > 2 else "dbt"


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=FolderGroupTranslator())
def dbt_warehouse(context: AssetExecutionContext, dbt: DbtCliResource):
    # The sync's state tables are a dbt source (crm_sync): they exist before the first build, so its views
    # (mart_sync_health, mart_sync_dead_letters) are built on them and show every later sync without a rebuild.
    con = duckdb.connect(warehouse_path())
    try:
        ensure_sync_schema(con)
    finally:
        con.close()
    yield from dbt.cli(["build"], context=context).stream()
