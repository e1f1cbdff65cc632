"""What the commands share: the warehouse and world they read, one-line errors, the CRM hint by status."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer

from revops import settings
from revops.exit_codes import CliError, ExitCode

__all__ = ["_built", "_crm_hint", "_fail", "_first_line", "_warehouse_file", "_world_with_truth"]

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
