"""The warehouse connection for landing assets: the DuckDB file named by REVOPS_DUCKDB_PATH (the same
variable dbt's profiles.yml reads), resolved when a run connects, not when definitions load."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from revops import settings


class WarehouseResource(dg.ConfigurableResource):
    path: str | None = None  # default: $REVOPS_DUCKDB_PATH at connect time
    landing_dir: str | None = None  # default: $REVOPS_LANDING_DIR at run time

    def db_path(self) -> Path:
        return Path(self.path) if self.path else settings.duckdb_path()

    def landing_root(self) -> Path:
        return Path(self.landing_dir) if self.landing_dir else settings.landing_dir()

    @contextmanager
    def connect(self):
        p = self.db_path()
        p.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(p))
        try:
            yield con
        finally:
            con.close()
