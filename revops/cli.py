"""The `revops` command line. `revops --help` lists the verbs."""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

import typer

from revops import settings
from revops.exit_codes import SYNC_STATUS, CliError, ExitCode

# Expected failures end in one line (main() below); pretty tracebacks are off, so an unexpected one is a plain
# Python traceback, never a panel that may show local variables (a token among them).
app = typer.Typer(help="revops-warehouse: an open revenue-operations warehouse.", no_args_is_help=True,
                  pretty_exceptions_enable=False,
                  epilog="Exit codes: 0 done; 1 failed; 2 wrong usage; 3 land: some files refused; 4 warehouse in "
                         "use; 5 sync: records dead-lettered; 6 sync: aborted by a guard (docs/operations.md).")
sandbox_app = typer.Typer(help="The simulated outside world: world generator and HubSpot-compatible CRM server.",
                          no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("generate")
def sandbox_generate(
    scale: str = typer.Option("S", help="World size: S (2k persons), M (50k), L (1M). docs/architecture.md."),
    seed: int = typer.Option(42, help="Random seed: the same seed gives byte-identical files."),
    out: Path = typer.Option(None, help="World folder (default $REVOPS_WORLD_DIR or data/world)."),
) -> None:
    """Generate a world: crm/ (API objects), landing/ (file sources) and truth/ (ground truth)."""
    from sandbox.world.config import WorldConfig
    from sandbox.world.generate import generate_world

    out = out or settings.world_dir()
    try:
        cfg = WorldConfig.for_scale(scale, seed=seed)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--scale") from None
    typer.echo(f"generating world {cfg.scale.name} (seed {seed}) into {out}")
    manifest = generate_world(cfg, out, progress=lambda m: typer.echo(f"  {m}"))
    typer.echo(_format_counts(manifest))


def _format_counts(manifest: dict) -> str:
    lines = ["rows per source:"]
    for k, v in manifest["crm"].items():
        lines.append(f"  crm/{k:<40} {v:>12,}")
    for k, v in manifest["landing"].items():
        lines.append(f"  landing/{k:<36} {v:>12,}")
    if "seconds" in manifest:  # not in manifest.json: the files stay byte-identical across runs
        lines.append(f"generated in {manifest['seconds']} s")
    return "\n".join(lines)


@sandbox_app.command("serve")
def sandbox_serve(
    world: Path = typer.Option(None, help="World folder whose crm/ seeds a new database."),
    db: Path = typer.Option(None, help="SQLite file of the server (default <world>/crm_server.sqlite)."),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8765),
    reseed: bool = typer.Option(False, help="Drop the database and seed again from the world."),
    fault_5xx_rate: float = typer.Option(None, help="Share of requests answered 502/503/504."),
    fault_429_rate: float = typer.Option(None, help="Share of requests answered 429 regardless of load."),
    latency_ms: int = typer.Option(None, help="Latency added to every request."),
    drop_rate: float = typer.Option(None, help="Share of connections closed without a response."),
    ready_file: Path = typer.Option(None, help="Write the server URL here once it listens (for scripts)."),
) -> None:
    """Run the HubSpot-compatible CRM server in the foreground (Ctrl-C stops it). Token: $HUBSPOT_TOKEN."""
    from sandbox.crm_server import CRMServer, ServerConfig

    world = world or settings.world_dir()
    overrides = {k: v for k, v in dict(fault_5xx_rate=fault_5xx_rate, fault_429_rate=fault_429_rate,
                                       latency_ms=latency_ms, drop_rate=drop_rate).items() if v is not None}
    cfg = ServerConfig.from_env(db_path=db or world / "crm_server.sqlite", world_dir=world, host=host, port=port,
                                reseed=reseed, **overrides)
    if not cfg.resolved_token():
        raise CliError("no API token for the sandbox CRM: set HUBSPOT_TOKEN (its clients send the same one)")
    from sandbox.crm_server.seed import SeedError

    srv = CRMServer(cfg)
    try:
        srv.start()
    except SeedError as e:
        raise CliError(f"cannot seed the CRM: {e}: generate a world first (revops sandbox generate) or pass --world",
                       ExitCode.USAGE) from None
    except OSError as e:
        raise CliError(f"cannot listen on {host}:{port}: {e.strerror or e}; choose another --port or stop the "
                       "process that holds it") from None
    typer.echo(f"CRM server listening on {srv.url} (seeded from {world / 'crm'}; token from $HUBSPOT_TOKEN)")
    if ready_file:
        ready_file.write_text(srv.url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


@sandbox_app.command("counts")
def sandbox_counts(world: Path = typer.Option(None)) -> None:
    """Print the rows per source of a generated world."""
    world = world or settings.world_dir()
    if not (world / "truth" / "manifest.json").exists():
        raise CliError(f"no generated world in {world} (truth/manifest.json missing): generate one with "
                       f"`revops sandbox generate --out {world}` or pass --world", ExitCode.USAGE)
    manifest = json.loads((world / "truth" / "manifest.json").read_text())
    typer.echo(_format_counts(manifest))


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
    from revops.landing.files import SOURCES, ensure_schema, land_source
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
    rows, problems, providers = [], [], set()
    for name in [n for n in names if n != "crm"]:
        tot = {"files": 0, "skipped": 0, "read": 0, "landed": 0, "quarantined": 0, "duplicates": 0, "conflicting": 0}
        started = time.perf_counter()

        def on_file(r, tot=tot, name=name, started=started):
            tot["files"] += 1
            tot["skipped"] += r.skipped
            for k in ("read", "landed", "quarantined", "duplicates", "conflicting"):
                tot[k] += getattr(r, k)
            if r.problem:
                problems.append(r)
            if r.provider:
                providers.add(r.provider)
            if tot["files"] % 200 == 0:
                typer.echo(f"  {name:<22} {tot['files']:>6,} files, {tot['read']:>10,} records "
                           f"({time.perf_counter() - started:.1f} s)")

        land_source(con, SOURCES[name], root, on_file=on_file)
        rows.append((name, tot, time.perf_counter() - started))
    typer.echo(f"\n{'source':<22} {'files':>6} {'skipped':>8} {'read':>10} {'landed':>10} {'quarantined':>12} "
               f"{'duplicates':>11} {'conflicting':>12} {'seconds':>8}")
    for name, t, secs in rows:
        typer.echo(f"{name:<22} {t['files']:>6,} {t['skipped']:>8,} {t['read']:>10,} {t['landed']:>10,} "
                   f"{t['quarantined']:>12,} {t['duplicates']:>11,} {t['conflicting']:>12,} {secs:>8.1f}")
    print_quarantine_summary(con, typer.echo)
    for provider in missing_providers(providers):
        typer.echo(f"note: enrichment provider '{provider}' is not in seeds/enrichment_precedence.csv: its values "
                   "count after the listed providers; add it there to rank it")
    con.close()
    if problems:
        typer.echo(f"\n{len(problems)} file(s) could not be landed; everything else was:", err=True)
        for r in problems:
            typer.echo(f"  {r.path}: {r.problem}", err=True)
        raise typer.Exit(ExitCode.FILES_REFUSED)


@app.command("build")
def build(
    select: str = typer.Option(None, help="dbt selection, e.g. 'staging' (default: the whole project)."),
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
) -> None:
    """dbt build through Dagster: the same asset code a scheduled run uses, recorded in the Dagster instance
    ($DAGSTER_HOME) when one is configured."""
    import dagster as dg
    from dagster_dbt import build_dbt_asset_selection

    from revops.warehouse import connect

    from dagster_project.defs.dbt.resources import dbt_project

    if not Path(dbt_project.manifest_path).exists():
        raise CliError(f"dbt manifest {dbt_project.manifest_path} not found: run `make manifest` (dbt parse) first")
    if duckdb_path:
        os.environ["REVOPS_DUCKDB_PATH"] = str(duckdb_path)
    connect(settings.duckdb_path()).close()  # another writer: one line now, not a failed step in the middle
    from dagster_project.definitions import defs
    from dagster_project.defs.dashboard.assets import MART_KEYS, dashboard_snapshot
    from dagster_project.defs.dbt.assets import dbt_warehouse

    selection = (build_dbt_asset_selection([dbt_warehouse], dbt_select=select) if select
                 else dg.AssetSelection.assets(dbt_warehouse))
    if select and not selection.resolve([dbt_warehouse]):
        raise typer.BadParameter(f"{select!r} selects no dbt node (dbt selection syntax: a model, a folder such as "
                                 "staging, a tag:...)", param_hint="--select")
    # a build that touches marts publishes the dashboard's snapshot after them (a failed build publishes nothing:
    # the dashboard keeps the last good one)
    if selection.resolve([dbt_warehouse]) & set(MART_KEYS):
        selection = selection | dg.AssetSelection.assets(dashboard_snapshot)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = dg.materialize([dbt_warehouse, dashboard_snapshot], selection=selection, resources=defs.resources,
                            instance=instance, raise_on_error=False)
    built = [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()]
    typer.echo(f"built {len([b for b in built if b != 'dashboard_snapshot'])} dbt nodes into "
               f"{settings.duckdb_path()}")
    for ev in result.get_asset_materialization_events():
        if ev.asset_key.to_user_string() == "dashboard_snapshot":
            typer.echo(f"dashboard snapshot: {ev.materialization.metadata['path'].value}")
    if not result.success:
        for ev in result.get_step_failure_events():
            typer.echo(f"FAILED {ev.step_key}: {ev.event_specific_data.error.message.strip()[:2000]}", err=True)
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


def _warehouse_file(db: Path) -> Path:
    """The warehouse a command reads must exist: a missing one is an error, never created empty."""
    if not Path(db).is_file():
        raise CliError(f"no warehouse at {db}: land and build one first (revops land, revops build), or point "
                       "--duckdb / REVOPS_DUCKDB_PATH at it", ExitCode.USAGE)
    return db


@contextmanager
def _built(db: Path):
    """A table the command reads is missing: the warehouse was not built (that far) yet. One line, not a trace."""
    import duckdb

    try:
        yield
    except duckdb.CatalogException as e:
        raise CliError(f"{db}: {_first_line(e)}: build the warehouse first (revops build)") from None


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _world_with_truth(world: Path | None, truth_file: str) -> Path:
    """The world to score against (default $REVOPS_WORLD_DIR); it must carry the generator's truth."""
    world = world or settings.world_dir()
    if not (world / "truth" / truth_file).exists():
        raise typer.BadParameter(f"{world}/truth/{truth_file} not found: a generated world is needed",
                                 param_hint="--world")
    return world


eval_app = typer.Typer(help="Score the warehouse against the sandbox world's ground truth.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("identity")
def eval_identity(
    world: Path = typer.Option(None, help="The world whose truth to score against. Default $REVOPS_WORLD_DIR."),
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
) -> None:
    """Pairwise precision, recall and F1 of persons and accounts against the truth, the over-merged and split
    counts by the rule or reason behind them; appended to eval.identity_metrics and eval.identity_errors."""
    from revops.warehouse import connect

    from revops.evaluation.identity import evaluate_warehouse, record

    world = _world_with_truth(world, "identifiers.csv")
    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        with _built(db):
            result = evaluate_warehouse(con, world)
            record(con, world, result)
    finally:
        con.close()
    typer.echo(f"{'scope':<8} {'subset':<32} {'items':>9} {'precision':>9} {'recall':>7} {'f1':>7} "
               f"{'over-merged':>11} {'split':>7}")
    for m in result["metrics"]:
        typer.echo(f"{m['scope']:<8} {m['subset']:<32} {m['items']:>9,} {m['precision']:>9.4f} {m['recall']:>7.4f} "
                   f"{m['f1']:>7.4f} {m['over_merged_clusters']:>11,} {m['split_true']:>7,}")
    typer.echo("errors by cause:")
    for e in result["errors"]:
        typer.echo(f"  {e['error']:<20} {e['cause']:<22} {e['count']:>8,}")
    typer.echo(f"written to eval.identity_metrics and eval.identity_errors in {db}")


calibrate_app = typer.Typer(help="Fit configuration from the warehouse's own history.", no_args_is_help=True)
app.add_typer(calibrate_app, name="calibrate")


@calibrate_app.command("scoring")
def calibrate_scoring(
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
    window_days: int = typer.Option(30, help="Features as of this many days before as_of; outcomes after."),
) -> None:
    """Fit the ICP points and signal weights from past deals (logistic regression) and write
    config.icp_rules_calibrated / config.signal_weights_calibrated; build with REVOPS_SCORING_WEIGHTS=calibrated."""
    from revops.warehouse import connect

    from revops.calibration.scoring import calibrate

    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        with _built(db):
            res = calibrate(con, window_days=window_days)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--window-days") from e
    finally:
        con.close()
    typer.echo(f"{res['people']:,} people, {res['positives']:,} with a deal in the {window_days} days after the "
               f"feature date; {res['points_per_log_odds']:.2f} points per unit of log-odds")
    for row in res["signal_weights"].select("signal_type", "weight").rows():
        typer.echo(f"  signal {row[0]:<26} weight {row[1]:>6}")
    for row in res["icp_rules"].select("dimension", "match_value", "min_value", "max_value", "points").rows():
        level = row[1] if row[1] is not None else f"{row[2]}-{'' if row[3] is None else row[3]}"
        typer.echo(f"  fit {row[0]:<10} {level:<24} points {row[4]:>6}")
    typer.echo("written to config.icp_rules_calibrated and config.signal_weights_calibrated")


@eval_app.command("scoring")
def eval_scoring(
    world: Path = typer.Option(None, help="The world whose truth to score against. Default $REVOPS_WORLD_DIR."),
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
    weights: str = typer.Option("hand_set", help="Label for the weights the warehouse was built with."),
) -> None:
    """AUC of lead_score for the true 30-day outcome beside the oracle AUC of the generator's propensity on the
    same people, precision of grade A, top-decile lift; the route and stage distribution of the stage map.
    Appended to eval.scoring_metrics."""
    from revops.warehouse import connect

    from revops.evaluation.scoring import distributions, evaluate_scoring, record

    world = _world_with_truth(world, "persons.csv")
    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        with _built(db):
            m = evaluate_scoring(con, world)
            dist = distributions(con)
            record(con, world, weights, m)
    finally:
        con.close()
    typer.echo(f"{m['people']:,} people, {m['positives']:,} with an opportunity in the 30 days after as_of "
               f"({m['base_rate']:.1%})")
    typer.echo(f"AUC lead_score {m['auc_lead_score']:.4f}   oracle (generator propensity) "
               f"{m['auc_oracle_propensity']:.4f}   gap {m['auc_oracle_propensity'] - m['auc_lead_score']:.4f}")
    typer.echo(f"AUC fit only {m['auc_fit_only']:.4f}, intent only {m['auc_intent_only']:.4f}")
    typer.echo(f"grade A: {m['grade_a_people']:,} people, precision {m['grade_a_precision']:.4f}; top decile "
               f"{m['top_decile_rate']:.1%} = lift {m['top_decile_lift']:.2f}")
    typer.echo("grades: " + ", ".join(f"{g} {n:,}" for g, n in m["grades"].items()))
    typer.echo("routes: " + ", ".join(f"{r} {n:,}" for r, n in dist["routes"].items()))
    typer.echo("stages: " + ", ".join(f"{s} {n:,}" for s, n in dist["stages"].items()))
    typer.echo(f"written to eval.scoring_metrics in {db}")


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

    from reverse_etl.engine import OBJECTS, run_sync
    from revops.hubspot import HubSpotClient

    unknown = [o for o in objects if o not in OBJECTS]
    if unknown:
        raise typer.BadParameter(f"the sync does not write {', '.join(map(repr, unknown))}; it writes "
                                 f"{', '.join(OBJECTS)}", param_hint="--object")
    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        for obj in objects:  # what the sync reads, checked before anything is planned or sent
            with _built(db):
                con.execute(f"select 1 from main.{OBJECTS[obj]['model']} limit 0")
                con.execute("select 1 from config.field_ownership limit 0")
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
def send_alerts(duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH.")) -> None:
    """Alerts when something needs a human (a sending domain paused or resumed, a hand raise past its SLA, new dead
    letters): each event recorded once in ops.alerts and sent to the Slack webhook $REVOPS_ALERT_WEBHOOK_URL; what
    failed to send before is sent again. One line per alert. Exit 0: every alert sent (or none); 1: some could not
    be sent, or no webhook is set (they wait in ops.alerts for the next run); 4: the warehouse is in use."""
    from revops import alerts as alerting
    from revops.warehouse import connect

    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        run = alerting.raise_alerts(con)
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
    if run.undelivered and not run.configured:
        raise CliError(f"{alerting.WEBHOOK_ENV} is not set: {run.undelivered} alert(s) wait in {db} (ops.alerts, "
                       "pending); set it to the Slack incoming-webhook URL and run `revops alerts` again")
    if run.undelivered:
        raise CliError(f"{run.undelivered} alert(s) could not be sent (ops.alerts in {db} has each error); the next "
                       "`revops alerts` retries them")


# Exit codes: the table is revops/exit_codes.py (ExitCode), explained in docs/operations.md.
EXIT_WAREHOUSE_IN_USE = ExitCode.WAREHOUSE_IN_USE


def _crm_hint(status: int | None) -> str:
    """What to do about a CRM error, by its HTTP status."""
    if status == 401:
        return "check HUBSPOT_TOKEN"
    if status == 403:
        return "the token lacks a scope (docs/operations.md lists them)"
    if status is None or status == 429 or status >= 500:
        return "check HUBSPOT_BASE_URL and that the CRM answers; a later run resumes where this one stopped"
    return "check HUBSPOT_BASE_URL"


def _fail(message: str, code: int) -> SystemExit:
    """One line on stderr (never more: a message's own newlines are folded) and the exit code to raise."""
    typer.echo("error: " + " ".join(str(message).split()), err=True)
    return SystemExit(int(code))


def main() -> None:
    """The `revops` entry point: expected failures end in one line on stderr (what, where, what to do) and the
    exit code of revops/exit_codes.py; an unexpected one is a plain traceback and exit 1."""
    import sys

    import duckdb

    from revops.hubspot import FatalError, HubSpotError
    from revops.warehouse import WarehouseInUse

    # click's exceptions as this Typer ships them (it vendors click: `import click` would be another module)
    click = sys.modules[typer.BadParameter.__module__]
    no_args_is_help = getattr(click, "NoArgsIsHelpError", ())
    aborted = (typer.Abort, getattr(click, "Abort", typer.Abort))
    try:
        code = app(standalone_mode=False)
    except CliError as e:
        raise _fail(str(e), e.code) from None
    except WarehouseInUse as e:
        raise _fail(str(e), ExitCode.WAREHOUSE_IN_USE) from None
    except HubSpotError as e:
        # no status: the client refused before sending (no token, plain http): the message says what to do
        refused = e.status is None and isinstance(e, FatalError)
        raise _fail(f"CRM: {e}" if refused else f"CRM: {e}; {_crm_hint(e.status)}", ExitCode.FAILED) from None
    except no_args_is_help as e:  # `revops` or `revops eval` alone: the help, as before
        e.show()
        raise SystemExit(ExitCode.USAGE) from None
    except click.UsageError as e:
        hint = f" (see `{e.ctx.command_path} --help`)" if e.ctx else ""
        raise _fail(e.format_message() + hint, ExitCode.USAGE) from None
    except click.ClickException as e:
        raise _fail(e.format_message(), e.exit_code) from None
    except aborted:
        raise _fail("interrupted", ExitCode.INTERRUPTED) from None
    except duckdb.CatalogException as e:  # a command read a table the warehouse does not have (yet)
        raise _fail(f"{_first_line(e)}: build the warehouse first (revops build)", ExitCode.FAILED) from None
    except duckdb.IOException as e:
        if "does not exist" not in str(e):
            raise
        raise _fail(f"{_first_line(e)}: land and build it first, or point --duckdb / REVOPS_DUCKDB_PATH at it",
                    ExitCode.USAGE) from None
    raise SystemExit(int(code or 0))


if __name__ == "__main__":
    main()
