"""Opening the warehouse. DuckDB lets one process write a file at a time, and no other process may open it even to
read meanwhile; the second one gets a lock error whose text names a path and a pid deep in a traceback. This turns
it into one line a person can act on."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb


class WarehouseInUse(RuntimeError):
    """Another process holds the DuckDB file's write lock."""


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as e:
        msg = str(e)
        if "lock" not in msg.lower():
            raise
        pid = re.search(r"PID (\d+)", msg)
        who = f"pid {pid.group(1)}" if pid else "pid unknown"
        raise WarehouseInUse(f"another process ({who}) is writing {path}; wait for it to finish or use another "
                             "file (--duckdb or REVOPS_DUCKDB_PATH)") from None


def frame(con, sql: str):
    """A query's result as a polars DataFrame (through Arrow: no Python object per row)."""
    import polars as pl

    return pl.from_arrow(con.sql(sql).to_arrow_table())
