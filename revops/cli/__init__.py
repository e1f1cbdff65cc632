"""The `revops` command line, by command group: `revops --help` lists the verbs. The modules here parse arguments
and print; the work is in the library each command calls (revops.landing, revops.evaluation, revops.calibration,
revops.kpis, revops.snapshot, revops.alerts; reverse_etl; dagster_project for build and check). Nothing from
dagster_project or reverse_etl is imported until a command that needs it runs."""

from __future__ import annotations

import typer

from revops.cli import build, evaluation, land, reports, sandbox, sync  # noqa: F401  (they register the commands)
from revops.cli.app import app
from revops.cli.common import _crm_hint, _fail, _first_line
from revops.exit_codes import CliError, ExitCode

# Exit codes: the table is revops/exit_codes.py (ExitCode), explained in docs/operations.md.
EXIT_WAREHOUSE_IN_USE = ExitCode.WAREHOUSE_IN_USE


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
