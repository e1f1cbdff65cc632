"""The code location: everything Dagster runs, assembled in one place."""

from __future__ import annotations

from revops import settings  # noqa: F401  (turns telemetry off before Dagster starts anything)

import dagster as dg

from dagster_project.defs.dbt.assets import dbt_warehouse
from dagster_project.defs.dbt.resources import dbt_resource

defs = dg.Definitions(
    assets=[dbt_warehouse],
    resources={"dbt": dbt_resource},
)
