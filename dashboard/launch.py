"""Start the dashboard: `python -m dashboard` (what `make dashboard` and `make demo` run) or `revops dashboard`.

Streamlit reads `.streamlit/config.toml` only from the directory it is started in: started anywhere else, a plain
`streamlit run dashboard/app.py` listens on every interface and sends usage statistics. So the launcher passes the
settings on the command line, where they win over any config file: 127.0.0.1, headless, no usage statistics.

Another address (`--address` or $REVOPS_DASHBOARD_ADDRESS) is refused unless $REVOPS_DASHBOARD_PASSWORD is set
(docs/architecture.md); the app then asks for that password before it renders anything (dashboard/auth.py)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from revops.hubspot import is_loopback

APP = Path(__file__).resolve().parent / "app.py"
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8501
ADDRESS_ENV = "REVOPS_DASHBOARD_ADDRESS"
PORT_ENV = "DASHBOARD_PORT"
PASSWORD_ENV = "REVOPS_DASHBOARD_PASSWORD"


class LaunchRefused(Exception):
    """The dashboard would be reachable from other machines without a password."""


def check_address(address: str, password: str | None) -> None:
    """Loopback needs nothing; any other address (an empty one is every interface) needs a password."""
    if address and is_loopback(address):
        return
    if not password:
        where = f"address {address}" if address else "every interface"
        raise LaunchRefused(f"refusing to serve the dashboard on {where} without a password: set "
                            f"{PASSWORD_ENV} (the app asks for it before showing anything), or bind "
                            f"{DEFAULT_ADDRESS}")


def streamlit_args(address: str = DEFAULT_ADDRESS, port: int = DEFAULT_PORT) -> list[str]:
    """`python -m streamlit run dashboard/app.py` with every setting that matters given explicitly."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", address, "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]


def streamlit_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env["STREAMLIT_SERVER_HEADLESS"] = "true"
    return env


def launch(address: str | None = None, port: int | None = None) -> None:
    """Replace this process by the Streamlit server (its pid stays the one a caller recorded). Raises
    LaunchRefused before starting anything when the address needs a password that is not set."""
    address = address if address is not None else os.environ.get(ADDRESS_ENV, DEFAULT_ADDRESS)
    port = port if port is not None else int(os.environ.get(PORT_ENV) or DEFAULT_PORT)
    check_address(address, os.environ.get(PASSWORD_ENV))
    if not is_loopback(address):
        print(f"warning: the dashboard listens on {address or 'every interface'}:{port}, password required",
              file=sys.stderr, flush=True)
    args = streamlit_args(address, port)
    os.execve(args[0], args, streamlit_env())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m dashboard", description="Serve the RevOps dashboard.")
    ap.add_argument("--address", default=None,
                    help=f"address to listen on (default ${ADDRESS_ENV}, else {DEFAULT_ADDRESS}); any other than a "
                         f"loopback address needs ${PASSWORD_ENV}")
    ap.add_argument("--port", type=int, default=None, help=f"port (default ${PORT_ENV}, else {DEFAULT_PORT})")
    args = ap.parse_args(argv)
    try:
        launch(args.address, args.port)
    except LaunchRefused as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
