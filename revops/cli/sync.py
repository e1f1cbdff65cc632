"""`revops sync`: the warehouse's scores, next actions and tasks into the CRM."""

from __future__ import annotations

from pathlib import Path

import typer

from revops import settings
from revops.cli.app import app
from revops.cli.common import _built, _crm_hint, _warehouse_file
from revops.exit_codes import SYNC_STATUS, CliError, ExitCode

@app.command("sync")
def sync(
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
    dry_run: bool = typer.Option(False, help="Write and print the plan; call nothing."),
    force: bool = typer.Option(False, help="Send even when the plan changes more than the allowed share."),
    objects: list[str] = typer.Option(["contacts", "companies", "tasks"], "--object",
                                      help="CRM object to sync (contacts, companies, tasks); repeat it for several."),
) -> None:
    """Write the warehouse's scores and next actions into the CRM (HUBSPOT_BASE_URL, HUBSPOT_TOKEN): only what
    changed since the last confirmed sync, batched, retried, dead-lettered and audited in schema crm_sync.
    Exit 0: every record confirmed (or a dry run); 5: finished, but records were dead-lettered (the next run retries
    them); 6: a guard aborted the run (the plan changes too large a share of the records: --force; or the error
    rate passed the circuit breaker's threshold); 4: the warehouse is in use; 2: wrong usage; 1: any other
    failure (the CRM refused the token, ...)."""
    from revops.warehouse import connect

    from reverse_etl.engine import OBJECTS, check_inputs, run_sync
    from revops.hubspot import HubSpotClient

    unknown = [o for o in objects if o not in OBJECTS]
    if unknown:
        raise typer.BadParameter(f"the sync does not write {', '.join(map(repr, unknown))}; it writes "
                                 f"{', '.join(OBJECTS)}", param_hint="--object")
    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    from revops import engine

    if engine.is_spark():
        from revops import spark_store

        spark_store.run("desired", db)  # the sync models as Spark built them, beside the sync state
    con = connect(db)
    try:
        with _built(db):  # what the sync reads, checked before anything is planned or sent
            check_inputs(con, objects)
        if dry_run:
            res = run_sync(con, None, objects=tuple(objects), dry_run=True)
        else:
            with HubSpotClient() as client:
                typer.echo(f"syncing to {client.base_url}")
                res = run_sync(con, client, objects=tuple(objects), force=force,
                               on_batch=lambda obj, n, ok, bad: typer.echo(
                                   f"  {obj} batch {n}: {ok} confirmed, {bad} dead-lettered") if n % 10 == 0 or bad
                               else None)
    finally:
        con.close()
    if not dry_run:
        from revops import snapshot

        typer.echo(f"dashboard snapshot: {snapshot.publish(db).path}")
    p = res.plan
    typer.echo(f"run {res.run_id}: {res.status}. plan: {p['create']:,} creates, {p['update']:,} updates, "
               f"{p['unchanged']:,} unchanged, {p['rejected']:,} rejected"
               + (f", {p['complete']:,} tasks to complete, {p['handed_over']:,} tasks left to people"
                  if "tasks" in objects else "")
               + f"; sent {res.sent:,}, confirmed {res.succeeded:,}, dead-lettered {res.dead_lettered:,}"
               + (f", {res.handed_over:,} tasks found changed by hand (left alone)" if res.handed_over else ""))
    code = SYNC_STATUS.get(res.status, ExitCode.FAILED)
    if code == ExitCode.OK:
        if res.message:
            typer.echo(res.message)
        return
    if code == ExitCode.DEAD_LETTERED:
        message = (f"sync run {res.run_id}: {res.dead_lettered:,} record(s) dead-lettered in {db} "
                   "(crm_sync.dead_letters has each error); the next sync retries them")
    elif code == ExitCode.SYNC_ABORTED:
        message = (f"sync run {res.run_id} {res.status} before its end: {res.message}"
                   + ("" if res.status == "aborted" else "; crm_sync.dead_letters has each error: fix the cause "
                      "and run again"))
    else:
        import re

        status = re.search(r"HTTP (\d{3})", res.message)
        message = (f"sync run {res.run_id} failed: {res.message}"
                   + (f"; {_crm_hint(int(status.group(1)))}" if status else ""))
    raise CliError(message, code)
