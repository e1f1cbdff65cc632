"""`revops sandbox`: the world generator and the HubSpot-compatible CRM server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from revops import settings
from revops.cli.app import sandbox_app
from revops.exit_codes import CliError, ExitCode

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
