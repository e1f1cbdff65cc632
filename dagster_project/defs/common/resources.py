"""The warehouse connection every asset, check and sensor shares: the DuckDB file named by REVOPS_DUCKDB_PATH (the
same variable dbt's profiles.yml reads), resolved when a run connects, not when definitions load."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from revops import settings
from revops.warehouse import connect


# Every job that writes the warehouse carries this tag; dagster_home/dagster.yaml lets one such run go at a time
# (DuckDB: one writing process per file).
WAREHOUSE_WRITER_TAGS = {"revops/warehouse": "write"}


class WarehouseResource(dg.ConfigurableResource):
    path: str | None = None  # default: $REVOPS_DUCKDB_PATH at connect time
    landing_dir: str | None = None  # default: $REVOPS_LANDING_DIR at run time

    def db_path(self) -> Path:
        return Path(self.path) if self.path else settings.duckdb_path()

    def landing_root(self) -> Path:
        return Path(self.landing_dir) if self.landing_dir else settings.landing_dir()

    @contextmanager
    def connect(self):
        con = connect(self.db_path())  # one line, not a traceback, when another process holds the file
        try:
            yield con
        finally:
            con.close()
