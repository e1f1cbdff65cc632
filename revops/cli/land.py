"""`revops land`: the CRM through its API and the file sources into the `raw` schema."""

from __future__ import annotations

from pathlib import Path

import typer

from revops import settings
from revops.cli.app import app
from revops.exit_codes import CliError, ExitCode

def _land_crm(con, full_refresh: bool) -> None:
    from revops.hubspot import HubSpotClient
    from revops.landing.crm import extract_all

    with HubSpotClient() as client:
        typer.echo(f"CRM: {client.base_url}")
        res = extract_all(con, client, full_refresh=full_refresh,
                          on_page=lambda r: typer.echo(f"  {r.object:<10} page {r.pages:>4}: read {r.read:>7,} "
                                                       f"landed {r.landed:>7,}", nl=True) if r.pages % 20 == 0 else None)
        for name, r in res.items():
            typer.echo(f"  crm {name:<10} read {r.read:>8,}  landed {r.landed:>8,}  unchanged {r.duplicates:>7,}  "
                       f"echoes {r.echoes:>7,}  "
                       f"quarantined {r.quarantined:>4,}  pages {r.pages:>4}  windows {r.windows}  "
                       f"archived {r.extra.get('archived', 0):,}")
        typer.echo(f"  requests {client.stats['requests']:,}, retries {client.stats['retries']:,} "
                   f"(rate limited {client.stats['rate_limited']:,})")


@app.command("land")
def land(
    source: list[str] = typer.Option(None, "--source", help="Land only this source: crm or a file source (repeatable). "
                                     "Default: all of them."),
    landing_dir: Path = typer.Option(None, help="Default $REVOPS_LANDING_DIR."),
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
    full_refresh: bool = typer.Option(False, help="CRM: forget the cursors and extract everything again."),
) -> None:
    """Land the sources into the `raw` schema: the CRM through its API (HUBSPOT_BASE_URL, HUBSPOT_TOKEN) and
    the file sources; validated, deduplicated, reconciled, idempotent. Exit 0: all landed; 3: landed, but some
    files could not be read or were refused (listed; everything else landed); 4: the warehouse is in use by
    another process; 1: any other failure."""
    from revops.landing.files import SOURCES, ensure_schema
    from revops.landing.run import land_file_sources
    from revops.landing.report import missing_providers, print_quarantine_summary
    from revops.warehouse import connect

    root = landing_dir or settings.landing_dir()
    db = duckdb_path or settings.duckdb_path()
    names = source or ["crm", *SOURCES]
    unknown = sorted(set(names) - set(SOURCES) - {"crm"})
    if unknown:
        raise typer.BadParameter(f"unknown source(s) {', '.join(unknown)}; choose from crm, {', '.join(SOURCES)}",
                                 param_hint="--source")
    if set(names) - {"crm"} and not root.is_dir():
        raise CliError(f"landing folder {root} not found: pass --landing-dir or set REVOPS_LANDING_DIR "
                       "(docs/operations.md shows the layout)", ExitCode.USAGE)
    con = connect(db)
    ensure_schema(con)
    typer.echo(f"landing into {db}")
    if "crm" in names:
        _land_crm(con, full_refresh)
    def progress(t) -> None:
        typer.echo(f"  {t.source:<22} {t.files:>6,} files, {t.read:>10,} records ({t.seconds:.1f} s)")

    totals = land_file_sources(con, [n for n in names if n != "crm"], root, on_progress=progress)
    problems = [r for t in totals for r in t.problems]
    providers = {p for t in totals for p in t.providers}
    typer.echo(f"\n{'source':<22} {'files':>6} {'skipped':>8} {'read':>10} {'landed':>10} {'quarantined':>12} "
               f"{'duplicates':>11} {'conflicting':>12} {'seconds':>8}")
    for t in totals:
        typer.echo(f"{t.source:<22} {t.files:>6,} {t.skipped:>8,} {t.read:>10,} {t.landed:>10,} "
                   f"{t.quarantined:>12,} {t.duplicates:>11,} {t.conflicting:>12,} {t.seconds:>8.1f}")
    print_quarantine_summary(con, typer.echo)
    for provider in missing_providers(providers):
        typer.echo(f"note: enrichment provider '{provider}' is not in seeds/enrichment_precedence.csv: its values "
                   "count after the listed providers; add it there to rank it")
    con.close()
    from revops import engine

    if engine.is_spark():
        from revops import spark_store

        done = spark_store.run("publish", db)
        typer.echo(f"spark: {sum(v == 'written' for v in done.values())} of {len(done)} landed tables written to "
                   f"{engine.spark_dir(db)} (the others unchanged)")
    if problems:
        typer.echo(f"\n{len(problems)} file(s) could not be landed; everything else was:", err=True)
        for r in problems:
            typer.echo(f"  {r.path}: {r.problem}", err=True)
        raise typer.Exit(ExitCode.FILES_REFUSED)
