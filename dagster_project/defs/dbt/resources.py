"""The one DbtProject of the code location and the dbt CLI resource."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from revops import settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

# Built once; the manifest is produced by `dbt parse` (make manifest), never at import time.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# dbt lives in the same virtual environment as Dagster, which may not be on PATH (e.g. `.venv/bin/dagster dev`)
DBT_EXECUTABLE = shutil.which("dbt") or str(Path(sys.executable).parent / "dbt")

dbt_resource = DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=DBT_EXECUTABLE)


def warehouse_path() -> str:
    """The DuckDB file, from REVOPS_DUCKDB_PATH: the same variable profiles.yml reads."""
    return str(settings.duckdb_path())
