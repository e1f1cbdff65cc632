"""`revops build` (dbt through Dagster) and `revops check` (the Soda contracts of a layer)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from revops import settings
from revops.cli.app import app
from revops.cli.common import _warehouse_file
from revops.exit_codes import CliError, ExitCode

@app.command("build")
def build(
    select: str = typer.Option(None, help="dbt selection, e.g. 'staging' (default: the whole project)."),
    changed: bool = typer.Option(False, "--changed", help="Build only what new data touches: the models downstream "
                                 "of the sources that changed since the last successful build (everything when "
                                 "the dbt project changed; nothing, at once, when nothing did)."),
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
) -> None:
    """dbt build through Dagster: the same asset code a scheduled run uses, recorded in the Dagster instance
    ($DAGSTER_HOME) when one is configured."""
    from revops import build_state
    from revops.warehouse import connect

    manifest_path = settings.dbt_manifest_path()
    if not manifest_path.exists():
        raise CliError(f"dbt manifest {manifest_path} not found: run `make manifest` (dbt parse) first")
    if duckdb_path:
        os.environ["REVOPS_DUCKDB_PATH"] = str(duckdb_path)
    # the dbt profile reads the variable itself, in dbt_project/: hand it the absolute path
    os.environ["REVOPS_DUCKDB_PATH"] = str(settings.duckdb_path())
    con = connect(settings.duckdb_path())  # another writer: one line now, not a failed step in the middle
    unit_tests = True
    try:
        if changed:
            if select:
                raise typer.BadParameter("--changed chooses the selection itself", param_hint="--select")
            # planned before Dagster is imported: a run with nothing new takes a moment, not seconds of imports
            todo = build_state.plan(con, build_state.load_manifest(manifest_path), settings.dbt_project_dir())
            typer.echo(f"plan: {todo.reason}")
            if todo.nothing:
                return
            select, unit_tests = todo.select, todo.code_changed
    finally:
        con.close()

    from dagster_project.build import SelectsNothing
    from dagster_project.build import build as dagster_build

    try:
        out = dagster_build(select, unit_tests=unit_tests)
    except SelectsNothing:
        raise typer.BadParameter(f"{select!r} selects no dbt node (dbt selection syntax: a model, a folder such as "
                                 "staging, a tag:...)", param_hint="--select") from None
    typer.echo(f"built {len(out.built)} dbt nodes into {settings.duckdb_path()}")
    if out.snapshot_path:
        typer.echo(f"dashboard snapshot: {out.snapshot_path}")
    if not out.success:
        for step, message in out.failures:
            typer.echo(f"FAILED {step}: {message[:2000]}", err=True)
        raise typer.Exit(1)


@app.command("check")
def check(
    layer: str = typer.Option("raw", help="Warehouse layer whose Soda contracts to verify."),
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
) -> None:
    """Verify the Soda contracts of a layer (the code behind the `soda_contract` asset checks); exit 1 on a
    failure."""
    from revops.warehouse import connect

    from dagster_project.defs.quality.soda import CONTRACTS_DIR, contract_files, verify

    layers = sorted(p.name for p in CONTRACTS_DIR.iterdir() if p.is_dir() and contract_files(p.name))
    if layer not in layers:
        raise typer.BadParameter(f"unknown layer {layer!r}; valid layers: {', '.join(layers)}", param_hint="--layer")
    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db, read_only=True)
    failed = 0
    for table, contract in contract_files(layer).items():
        out = verify(con, contract)
        status = "passed" if out.passed else "FAILED"
        typer.echo(f"{layer}.{table:<24} {status:<7} {len(out.checks) - len(out.failed_checks)}/{len(out.checks)} checks")
        for c in out.failed_checks:
            typer.echo(f"    {c.name}: {c.outcome} {c.metrics}")
        if out.errors:
            typer.echo(f"    {out.errors}")
        failed += not out.passed
    con.close()
    if failed:
        typer.echo(f"error: {failed} contract(s) of layer {layer} failed in {db} (listed above)", err=True)
        raise typer.Exit(ExitCode.FAILED)
