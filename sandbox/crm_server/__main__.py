"""``python -m sandbox.crm_server --world DIR --db FILE [...]``: run the sandbox CRM in the foreground.

Flags override environment variables (``SANDBOX_*``), which override defaults. The API
token is read from ``HUBSPOT_TOKEN`` only: a token on the command line would be visible
to every user of the machine (``ps``) and end up in shell history.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .config import ENV_VARS, TOKEN_ENV, ServerConfig
from .server import CRMServer, open_store


def build_parser() -> argparse.ArgumentParser:
    env_of = {field: env for env, field in ENV_VARS.items()}
    p = argparse.ArgumentParser(
        prog="python -m sandbox.crm_server",
        description=f"HubSpot-compatible CRM sandbox server. Clients authenticate with 'Bearer ${TOKEN_ENV}'.",
    )

    metavars = {Path: "PATH", int: "N", float: "RATE", str: "TEXT"}

    def add(flag: str, field: str, type_: type, help_: str) -> None:
        p.add_argument(flag, dest=field, type=type_, default=None, metavar=metavars[type_],
                       help=f"{help_} (env {env_of[field]})")

    add("--world", "world_dir", Path, "world folder to seed from (its crm/*.jsonl); only used for a new database")
    add("--db", "db_path", Path, "SQLite database file, created if missing")
    add("--host", "host", str, "interface to bind (default 127.0.0.1)")
    add("--port", "port", int, "port (default 0: a free port, printed at start)")
    add("--rate-limit-10s", "rate_limit_10s", int, "requests per rolling 10 s (default 100)")
    add("--daily-limit", "daily_limit", int, "requests per UTC day (default 250000)")
    add("--search-per-second", "search_per_second", int, "search requests per second (default 5)")
    add("--search-result-cap", "search_result_cap", int, "deepest search result reachable by paging (default 10000)")
    add("--fault-5xx-rate", "fault_5xx_rate", float, "share of requests answered 502/503/504")
    add("--fault-429-rate", "fault_429_rate", float, "share of requests answered with a spurious 429")
    add("--latency-ms", "latency_ms", int, "latency added to every request")
    add("--drop-rate", "drop_rate", float, "share of connections closed without a response (nothing written)")
    add("--drop-after-commit-rate", "drop_after_commit_rate", float,
        "share of writes applied and then closed without a response")
    add("--fault-seed", "fault_seed", int, "seed of the fault RNG")
    add("--access-log", "access_log", Path, "append an access log (no headers, no query strings) to this file")
    p.add_argument("--reseed", action="store_true", default=None,
                   help="wipe the database and seed it again from --world")
    p.add_argument("--seed-only", action="store_true", help="seed (if needed) and exit without serving")
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {k: v for k, v in vars(args).items() if k not in ("seed_only", "verbose")}
    try:
        config = ServerConfig.from_env(**overrides)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.seed_only:
        store, counts = open_store(config)
        store.close()
        print(f"{'seeded' if counts else 'already seeded, kept'} {config.db_path}: {counts or ''}".rstrip(": "))
        return 0
    server = CRMServer(config)
    try:
        server.bind()  # bind first so the URL (with the port picked) can be printed before serving
    except (RuntimeError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    seeded = f"seeded {server.seeded}" if server.seeded else "existing data kept"
    print(f"CRM sandbox listening on {server.url} (db {config.db_path}, {seeded})", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
