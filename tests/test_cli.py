"""The `revops` command line as the Makefile uses it."""

import json

from typer.testing import CliRunner

from revops.cli import app


def test_generate_prints_rows_per_source(tmp_path):
    res = CliRunner().invoke(app, ["sandbox", "generate", "--scale", "S", "--seed", "7", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "truth" / "manifest.json").read_text())
    assert manifest["config"]["seed"] == 7 and manifest["config"]["scale"]["persons"] == 2_000
    contacts = sum(1 for _ in (tmp_path / "crm" / "contacts.jsonl").open())
    assert manifest["crm"]["contacts"] == contacts
    assert "crm/contacts" in res.output and f"{contacts:,}" in res.output
    assert f"{manifest['landing']['esp']:,}" in res.output
    again = CliRunner().invoke(app, ["sandbox", "counts", "--world", str(tmp_path)])
    assert again.exit_code == 0 and f"{contacts:,}" in again.output


def test_unknown_scale_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(app, ["sandbox", "generate", "--scale", "XL", "--out", str(tmp_path)])
    assert res.exit_code != 0
    assert res.exit_code == 2 and "unknown scale 'XL'" in res.output


def test_build_runs_dbt_through_dagster(world_s, tmp_path, monkeypatch):
    import duckdb

    from revops.landing import crm, files

    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    crm.ensure_schema(con)  # CRM tables empty: this test lands only the files
    files.ensure_schema(con)
    files.land_source(con, files.SOURCES["esp_events"], world_s / "landing")
    con.close()
    monkeypatch.setenv("REVOPS_DUCKDB_PATH", str(db))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    target = tmp_path / "dbt_target"  # no partial-parse file yet: the first build parses the whole project
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    res = CliRunner().invoke(app, ["build", "--select", "staging"])
    assert res.exit_code == 0, res.output
    assert "built" in res.output
    assert "dashboard snapshot" not in res.output  # staging alone changes no mart: nothing to publish
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from main.stg_esp__events").fetchone()[0] == \
        con.execute("select count(*) from raw.esp_events").fetchone()[0] > 9_000
    con.close()
    # its parse is kept for the next build, which parses only what changed (dagster-dbt seeds each run's own
    # target folder from the base folder's file)
    assert (target / "partial_parse.msgpack").exists()
    first = {p.name for p in target.iterdir() if p.is_dir()}
    res = CliRunner().invoke(app, ["build", "--select", "stg_esp__events"])
    assert res.exit_code == 0, res.output
    (second,) = [p for p in target.iterdir() if p.is_dir() and p.name not in first]
    log = (second / "dbt.log").read_text()
    assert "Unable to do partial parsing" not in log and "Starting full parse" not in log
