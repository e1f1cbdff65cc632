"""The dbt project builds on a fresh DuckDB file and the Dagster definitions load and materialize on it."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")


@pytest.fixture()
def temp_warehouse(tmp_path, monkeypatch) -> Path:
    db = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("REVOPS_DUCKDB_PATH", str(db))
    return db


@pytest.fixture(scope="module", autouse=True)
def manifest():
    """Dagster reads dbt's manifest instead of parsing at import time; `make manifest` writes it."""
    subprocess.run([DBT, "parse", "--profiles-dir", ".", "--quiet"], cwd=REPO / "dbt_project", check=True)
    return REPO / "dbt_project" / "target" / "manifest.json"


def test_dbt_build_loads_seeds(temp_warehouse):
    from revops.landing import crm, files

    con = duckdb.connect(str(temp_warehouse))
    files.ensure_schema(con)  # staging reads raw.*, which landing creates (empty here)
    crm.ensure_schema(con)
    con.close()
    res = subprocess.run([DBT, "build", "--profiles-dir", "."], cwd=REPO / "dbt_project", capture_output=True,
                         text=True, env={**os.environ})
    assert res.returncode == 0, res.stdout[-3000:]
    con = duckdb.connect(str(temp_warehouse), read_only=True)
    assert con.execute("select count(*) from config.freemail_domains").fetchone()[0] == 10
    assert con.execute("select count(*) from config.role_address_prefixes where kind = 'role'").fetchone()[0] == 10


def test_dagster_definitions_load_and_materialize_landing_and_staging(temp_warehouse, world_s):
    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.defs.dbt.assets import dbt_warehouse
    from dagster_project.defs.landing.assets import file_landing_assets
    from dagster_project.defs.common.resources import WarehouseResource
    from dagster_project.defs.quality.checks import mart_contract_checks, raw_contract_checks

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"config/freemail_domains", "config/role_address_prefixes", "raw/esp_events"} <= keys
    assert graph.get(dg.AssetKey(["config", "freemail_domains"])).group_name == "config"
    assert graph.get(dg.AssetKey(["raw", "esp_events"])).group_name == "landing"
    # dbt sources point at the landing assets: one lineage graph
    stg = graph.get(dg.AssetKey(["staging", "stg_esp__events"])) if graph.has(dg.AssetKey(["staging", "stg_esp__events"])) \
        else graph.get(dg.AssetKey(["stg_esp__events"]))
    assert dg.AssetKey(["raw", "esp_events"]) in stg.parent_keys
    assert stg.group_name == "staging"

    from dagster_project.defs.landing.crm_assets import crm_extraction
    from sandbox.crm_server import CRMServer, ServerConfig

    srv = CRMServer(ServerConfig(db_path=temp_warehouse.parent / "crm.sqlite", world_dir=world_s, token="t")).start()
    os.environ.update(HUBSPOT_BASE_URL=srv.url, HUBSPOT_TOKEN="t")
    try:
        resources = {**defs.resources, "warehouse": WarehouseResource(landing_dir=str(world_s / "landing"))}
        from dagster_project.defs.reverse_etl.assets import crm_sync

        result = dg.materialize([crm_extraction, *file_landing_assets, *raw_contract_checks, dbt_warehouse,
                                 *mart_contract_checks, crm_sync],
                                resources=resources,
                                instance=dg.DagsterInstance.ephemeral())
    finally:
        srv.stop()
        for k in ("HUBSPOT_BASE_URL", "HUBSPOT_TOKEN"):
            os.environ.pop(k, None)
    assert result.success
    # the CRM sync ran last, into the same sandbox server, and confirmed every record it sent
    sync_md = next(ev.materialization.metadata for ev in result.get_asset_materialization_events()
                   if ev.materialization.asset_key.path == ["crm_sync"])
    assert sync_md["status"].value == "succeeded" and sync_md["confirmed"].value == sync_md["sent"].value > 1_500
    # every raw table's and KPI mart's Soda contract ran as a blocking asset check, and passed
    evaluations = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()
                   if e.check_name == "soda_contract"}
    checks = [*raw_contract_checks, *mart_contract_checks]
    assert set(evaluations) == {a.asset_key.path[-1] for c in checks for a in c.check_specs} \
        and len(evaluations) == 15 + 4
    assert all(e.passed for e in evaluations.values()), {k: e.metadata for k, e in evaluations.items() if not e.passed}
    con = duckdb.connect(str(temp_warehouse), read_only=True)
    assert con.execute("select count(*) from config.freemail_domains").fetchone()[0] == 10
    raw, stg_n = con.execute("select (select count(*) from raw.esp_events), "
                             "(select count(*) from main.stg_esp__events)").fetchone()
    assert raw == stg_n > 9_000
    # re-exported mailings collapse to their latest version
    n, ids = con.execute("select count(*), count(distinct mailing_id) from main.stg_sales_engagement__mailings").fetchone()
    assert n == ids and n < con.execute("select count(*) from raw.se_mailings").fetchone()[0]
    contacts = sum(1 for _ in (world_s / "crm" / "contacts.jsonl").open())
    assert con.execute("select count(*) from main.stg_hubspot__contacts").fetchone()[0] == contacts


def test_telemetry_is_off_everywhere():
    assert yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["flags"]["send_anonymous_usage_stats"] is False
    assert yaml.safe_load((REPO / "dagster_home" / "dagster.yaml").read_text())["telemetry"]["enabled"] is False
    make = (REPO / "Makefile").read_text()
    for var in ("DO_NOT_TRACK := 1", "DAGSTER_DISABLE_TELEMETRY := 1", "SODA_CORE_TELEMETRY_ENABLED := false",
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS := false"):
        assert var in make
    assert "gatherUsageStats = false" in (REPO / ".streamlit" / "config.toml").read_text()
    assert os.environ["DO_NOT_TRACK"] == "1" and os.environ["DAGSTER_DISABLE_TELEMETRY"] == "1"


def test_one_variable_names_the_duckdb_file():
    profiles = (REPO / "dbt_project" / "profiles.yml").read_text()
    assert "env_var('REVOPS_DUCKDB_PATH'" in profiles
    assert "threads: 1" in profiles


def test_every_mart_and_sync_model_says_its_grain_and_enforces_its_contract(manifest):
    """Analysts start from the dbt docs: every mart's description names its grain (docs/architecture.md, issue 8)."""
    import json

    nodes = json.loads(manifest.read_text())["nodes"].values()
    models = [n for n in nodes if n["resource_type"] == "model"
              and n["name"].startswith(("dim_", "fct_", "mart_", "bridge_", "sync_"))]
    assert len(models) >= 25
    assert [n["name"] for n in models if "grain" not in n["description"]] == []
    assert [n["name"] for n in models if not n["config"]["contract"]["enforced"]] == []
