"""The command line is a thin layer (docs/architecture.md): its modules parse arguments and print, with no SQL of
their own, and importing it loads nothing of the floors above the library (Dagster definitions, the sync engine)
until a command that needs them runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "revops" / "cli"
SQL = re.compile(r"\.execute\(|\.sql\(|\b(select|insert|update|delete|create)\s+(\*|[a-z_]+\s|into|table|from)", re.I)


def test_no_sql_in_the_command_line_modules():
    found = [f"{p.name}:{i}: {line.strip()}" for p in sorted(CLI.glob("*.py"))
             for i, line in enumerate(p.read_text().splitlines(), start=1) if SQL.search(line)]
    assert found == []


def test_importing_the_command_line_loads_no_upper_floor():
    code = ("import sys, revops.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster_project', 'reverse_etl', 'dagster',"
            " 'dashboard')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_every_command_group_is_registered():
    from revops.cli import app
    from typer.main import get_command

    names = set(get_command(app).commands)
    assert {"land", "build", "check", "sync", "snapshot", "dashboard", "kpis", "alerts", "sandbox", "eval",
            "calibrate"} <= names
