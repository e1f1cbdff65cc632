"""Environment settings shared by the CLI, dbt (profiles.yml) and Dagster. One variable names one thing."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Telemetry off everywhere (docs/architecture.md): set before dbt, Dagster or Soda are imported by anything we start.
TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "SODA_CORE_TELEMETRY_ENABLED": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
}


def telemetry_off() -> None:
    for k, v in TELEMETRY_OFF.items():
        os.environ.setdefault(k, v)


def duckdb_path() -> Path:
    # absolute: dbt runs in dbt_project/, where a relative path would name another file
    return Path(os.environ.get("REVOPS_DUCKDB_PATH", REPO_ROOT / "data" / "warehouse.duckdb")).absolute()


def dbt_project_dir() -> Path:
    return REPO_ROOT / "dbt_project"


def dbt_manifest_path() -> Path:
    """dbt's manifest (`make manifest`), which Dagster and the build planner read instead of parsing dbt."""
    return dbt_project_dir() / "target" / "manifest.json"


def world_dir() -> Path:
    return Path(os.environ.get("REVOPS_WORLD_DIR", REPO_ROOT / "data" / "world"))


def landing_dir() -> Path:
    return Path(os.environ.get("REVOPS_LANDING_DIR", world_dir() / "landing"))


telemetry_off()
