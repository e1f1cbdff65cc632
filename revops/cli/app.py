"""The `revops` Typer application and its command groups. The commands are in the modules beside this one, by
group; each only parses arguments and prints: the work is in the library modules it calls."""

from __future__ import annotations

import typer

# Expected failures end in one line (revops.cli.main); pretty tracebacks are off, so an unexpected one is a plain
# Python traceback, never a panel that may show local variables (a token among them).
app = typer.Typer(help="revops-warehouse: an open revenue-operations warehouse.", no_args_is_help=True,
                  pretty_exceptions_enable=False,
                  epilog="Exit codes: 0 done; 1 failed; 2 wrong usage; 3 land: some files refused; 4 warehouse in "
                         "use; 5 sync: records dead-lettered; 6 sync: aborted by a guard (docs/operations.md).")
sandbox_app = typer.Typer(help="The simulated outside world: world generator and HubSpot-compatible CRM server.",
                          no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
eval_app = typer.Typer(help="Score the warehouse against the sandbox world's ground truth.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
calibrate_app = typer.Typer(help="Fit configuration from the warehouse's own history.", no_args_is_help=True)
app.add_typer(calibrate_app, name="calibrate")
