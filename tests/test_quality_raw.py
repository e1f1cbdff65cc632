"""Soda contracts on the raw tables: they pass on a clean landing, each rule catches the fault it is there for,
and as a blocking Dagster asset check a failed contract stops what is downstream in the same run."""

import shutil

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.landing.assets import file_landing_assets
from dagster_project.defs.common.resources import WarehouseResource
from dagster_project.defs.quality.checks import raw_contract_checks
from dagster_project.defs.quality.soda import contract_files, verify
from revops.landing.files import SOURCES, ensure_schema, land_source


@pytest.fixture(scope="module")
def landed(world_s, tmp_path_factory):
    db = tmp_path_factory.mktemp("quality") / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    ensure_schema(con)
    for src in SOURCES.values():
        land_source(con, src, world_s / "landing")
    con.close()
    return db


def test_every_raw_table_has_a_contract():
    from revops.landing import crm

    tables = set(SOURCES) | {f"crm_{o}" for o in crm.OBJECTS} | {"crm_owners", "crm_associations"}
    assert set(contract_files("raw")) == tables


def test_contracts_pass_on_a_clean_landing(landed):
    con = duckdb.connect(str(landed), read_only=True)
    for table in SOURCES:
        outcome = verify(con, contract_files("raw")[table])
        assert outcome.passed, (table, outcome.errors, [(c.name, c.metrics) for c in outcome.failed_checks])
        assert len(outcome.checks) >= 10
    con.close()


def test_each_rule_catches_its_fault(landed, tmp_path):
    db = tmp_path / "broken.duckdb"
    shutil.copy(landed, db)
    con = duckdb.connect(str(db))
    # a delivery landed twice, a record without a key, a row without its provider, a stale landing, a changed
    # schema; a provider the seed does not list is data, never a failed check (docs/landing.md)
    con.execute("insert into raw.esp_events select * from raw.esp_events limit 1")
    con.execute("alter table raw.se_mailings alter column record_key drop not null")
    con.execute("update raw.se_mailings set record_key = null where rowid in (select rowid from raw.se_mailings limit 3)")
    con.execute("alter table raw.enrichment_companies alter column provider drop not null")
    con.execute("update raw.enrichment_companies set provider = null "
                "where rowid in (select rowid from raw.enrichment_companies limit 2)")
    con.execute("update raw.enrichment_signals set provider = 'acme_data' "
                "where rowid in (select rowid from raw.enrichment_signals limit 2)")
    con.execute("update raw.se_prospects set landed_at = landed_at - interval 3 day")
    con.execute("alter table raw.segment_events add column context_ip varchar")
    files = contract_files("raw")

    def failed(table):
        out = verify(con, files[table])
        assert not out.passed
        return {c.name: c.metrics for c in out.failed_checks}

    esp = failed("esp_events")
    assert list(esp) == ["record_key: duplicate"] and esp["record_key: duplicate"]["duplicate_count"] == 1
    mail = failed("se_mailings")
    assert list(mail) == ["record_key: missing"] and mail["record_key: missing"]["missing_count"] == 3
    comp = failed("enrichment_companies")
    assert list(comp) == ["provider: missing"] and comp["provider: missing"]["missing_count"] == 2
    assert verify(con, files["enrichment_signals"]).passed
    assert list(failed("se_prospects")) == ["table: freshness"]
    assert list(failed("segment_events")) == ["table: schema"]
    # the same stale table passes when the freshness allowance is raised for a backfill
    assert verify(con, files["se_prospects"], variables={"freshness_hours": 100}).passed
    con.close()


def test_a_failed_contract_blocks_the_assets_downstream(world_s, tmp_path):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    ensure_schema(con)
    # a row no file delivered (a manual insert) duplicates a delivery key: landing leaves it, the contract fails
    con.execute("insert into raw.esp_events (record_key, record, provider, file, line) "
                "values ('sgev_manual', '{}', null, 'manual/insert.json', 1), "
                "('sgev_manual', '{}', null, 'manual/insert.json', 2)")
    con.close()
    esp = next(a for a in file_landing_assets if a.key.path[-1] == "esp_events")
    check = next(c for c in raw_contract_checks if next(iter(c.check_specs)).asset_key == esp.key)

    @dg.asset(deps=[esp.key])
    def downstream_of_esp() -> None:
        return None

    result = dg.materialize([esp, check, downstream_of_esp], raise_on_error=False,
                            resources={"warehouse": WarehouseResource(path=str(db),
                                                                      landing_dir=str(world_s / "landing"))},
                            instance=dg.DagsterInstance.ephemeral())
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["files_readable"].passed  # every file of the world could be read
    evaluation = evaluations["soda_contract"]
    assert not evaluation.passed and evaluation.blocking
    assert "record_key: duplicate" in evaluation.metadata["failed"].value
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "esp_events" in materialized and "downstream_of_esp" not in materialized


def test_revops_check_prints_each_contract_and_fails_on_an_empty_crm(landed, tmp_path):
    from typer.testing import CliRunner

    from revops import cli
    from revops.landing import crm

    db = tmp_path / "files_only.duckdb"
    shutil.copy(landed, db)
    con = duckdb.connect(str(db))
    crm.ensure_schema(con)  # the CRM tables exist but nothing was extracted
    con.close()
    res = CliRunner().invoke(cli.app, ["check", "--duckdb", str(db)])
    assert res.exit_code == 1
    lines = {ln.split()[0]: ln for ln in res.output.splitlines() if ln.startswith("raw.")}
    assert len(lines) == 15
    assert "passed  10/10" in lines["raw.esp_events"]
    assert "FAILED" in lines["raw.crm_contacts"] and "table: row_count: FAILED" in res.output
