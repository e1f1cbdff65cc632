"""dbt models and seeds as Dagster assets, grouped by the folder they live in."""


import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from revops import build_state, engine, spark_store
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


class DbtBuildConfig(dg.Config):
    # Unit tests check the code, not the data: a run for new data with unchanged code skips them (about 5 s on
    # every build); a build after a code change runs them (revops/build_state.py knows which it is).
    unit_tests: bool = True


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=FolderGroupTranslator())
def dbt_warehouse(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    # The sync's state tables are a dbt source (crm_sync): they exist before the first build, so its views
    # (mart_sync_health, mart_sync_dead_letters) are built on them and show every later sync without a rebuild.
    manifest = build_state.load_manifest(dbt_project.manifest_path)
    con = duckdb.connect(warehouse_path())
    try:
        ensure_sync_schema(con)
        before = build_state.snapshot(con, manifest)
    finally:
        con.close()
    if engine.is_spark():
        # dbt's sources on Spark are the control store's landed tables, published before dbt's session starts
        os.environ["REVOPS_SPARK_DIR"] = str(engine.spark_dir(Path(warehouse_path())))
        done = spark_store.run("publish", Path(warehouse_path()))
        context.log.info(f"spark: {sum(v == 'written' for v in done.values())} landed table(s) published")
    args = ["build"] if config.unit_tests else ["build", "--exclude-resource-type", "unit_test"]
    invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    _keep_partial_parse(invocation.target_path)
    # dbt succeeded (a failure raised above): what it built is up to date as of the fingerprints taken before
    results = invocation.get_artifact("run_results.json")["results"]
    built = {r["unique_id"] for r in results if r["unique_id"].startswith("model.") and r["status"] == "success"}
    models = {uid for uid in manifest["nodes"] if uid.startswith("model.")}
    con = duckdb.connect(warehouse_path())
    try:
        keys = build_state.record(con, manifest, before, built, dbt_project.project_dir,
                                  whole_project=models <= built)
    finally:
        con.close()
    context.log.info(f"build state recorded for {len(keys)} key(s)")
    if engine.is_spark():
        served = spark_store.run("serve", Path(warehouse_path()))
        context.log.info(f"spark: {len(served)} model(s) served into the control store")


def _keep_partial_parse(invocation_target: Path) -> None:
    """dagster-dbt runs each dbt command in a fresh target folder and seeds it with the partial-parse file of the
    base target folder (DBT_TARGET_PATH, else dbt_project/target) when there is one; dbt parses the whole project
    when that file is missing or was parsed with another profile (the warehouse path is part of it): 7 s against
    3.5 s for a build of one view on M. So the file of the run that just parsed goes back to the base folder, and the
    next build starts from it. Replaced whole (copy, then rename), so a build starting meanwhile reads either."""
    made = Path(invocation_target) / "partial_parse.msgpack"
    base = Path(os.getenv("DBT_TARGET_PATH", "target"))
    if not base.is_absolute():
        base = dbt_project.project_dir / base
    if not made.exists():
        return
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".partial_parse.msgpack.{os.getpid()}"
    shutil.copyfile(made, tmp)
    os.replace(tmp, base / "partial_parse.msgpack")
