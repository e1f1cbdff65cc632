"""`revops snapshot`, `dashboard`, `kpis` and `alerts`: what the warehouse shows and tells."""

from __future__ import annotations

from pathlib import Path

import typer

from revops import settings
from revops.cli.app import app
from revops.cli.common import _warehouse_file
from revops.exit_codes import CliError, ExitCode

@app.command("snapshot")
def publish_snapshot(
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
    out: Path = typer.Option(None, help="Default $REVOPS_SNAPSHOT_DIR, else snapshots/ beside the warehouse."),
) -> None:
    """Publish a read-only snapshot of the marts for the dashboard (build and sync do this themselves)."""
    from revops import snapshot

    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    try:
        snap = snapshot.publish(db, out)
    except snapshot.NothingToPublish as e:
        raise CliError(str(e)) from None
    typer.echo(f"published {snap.tables} tables to {snap.path}")


@app.command("dashboard")
def serve_dashboard(
    address: str = typer.Option(None, help="Address to listen on (default $REVOPS_DASHBOARD_ADDRESS, else "
                                "127.0.0.1); any other than loopback needs $REVOPS_DASHBOARD_PASSWORD."),
    port: int = typer.Option(None, help="Default $DASHBOARD_PORT, else 8501."),
) -> None:
    """Serve the RevOps dashboard (Streamlit) over the newest marts snapshot: 127.0.0.1, headless, no usage
    statistics, from whatever directory it is started (same as `python -m dashboard`)."""
    from dashboard.launch import LaunchRefused, launch

    try:
        launch(address, port)  # replaces this process with the server
    except LaunchRefused as e:
        raise CliError(str(e), ExitCode.USAGE) from None


@app.command("kpis")
def kpis(duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH.")) -> None:
    """The headline KPIs of the warehouse, read from the KPI marts (speed-to-lead, double touches, the kill switch,
    signal-to-revenue); revops/kpis.py."""
    from revops import kpis as kpi_report

    for line in kpi_report.lines(duckdb_path or settings.duckdb_path()):
        typer.echo(line)


@app.command("alerts")
def send_alerts(
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
    record_only: bool = typer.Option(False, "--record-only", help="Record the new alerts in ops.alerts and send "
                                     "nothing (exit 0): for a run without a webhook, such as the demo."),
) -> None:
    """Alerts when something needs a human (a sending domain paused or resumed, a hand raise past its SLA, new dead
    letters): each event recorded once in ops.alerts and sent to the Slack webhook $REVOPS_ALERT_WEBHOOK_URL; what
    failed to send before is sent again. One line per alert. Exit 0: every alert sent (or none); 1: some could not
    be sent, or no webhook is set (they wait in ops.alerts for the next run; --record-only: exit 0); 4: the
    warehouse is in use."""
    from revops import alerts as alerting
    from revops.warehouse import connect

    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        run = alerting.raise_alerts(con, url="" if record_only else None)
    except alerting.AlertConfigError as e:
        raise CliError(f"{e}; the alerts are recorded in {db} (ops.alerts) and wait for the next run") from None
    finally:
        con.close()
    if run.warning:
        typer.echo(run.warning, err=True)
    for line in run.lines():
        typer.echo(line)
    if not run.lines():
        typer.echo("no new alerts" + (f" ({'; '.join(run.skipped)})" if run.skipped else ""))
    if record_only:
        typer.echo(f"{run.undelivered} alert(s) wait in {db} (ops.alerts, pending): recorded only, nothing sent")
        return
    if run.undelivered and not run.configured:
        raise CliError(f"{alerting.WEBHOOK_ENV} is not set: {run.undelivered} alert(s) wait in {db} (ops.alerts, "
                       "pending); set it to the Slack incoming-webhook URL and run `revops alerts` again")
    if run.undelivered:
        raise CliError(f"{run.undelivered} alert(s) could not be sent (ops.alerts in {db} has each error); the next "
                       "`revops alerts` retries them")
