"""Read-only snapshots of the marts for the dashboard (and anyone else who reads while the pipeline writes).

DuckDB lets one process write a file and no other process open it meanwhile, not even to read. So the dashboard
never opens the warehouse: after each build and each sync the pipeline copies the marts into a new DuckDB file,
`<dir>/marts-<UTC time>-<pid>.duckdb`, written under a temporary name and renamed into place (an atomic rename
on one file system), then points `<dir>/CURRENT` at it (again a rename). A reader takes the file CURRENT names,
opens it read-only and keeps it for as long as it likes: a newer publish never touches it. Old snapshots are
removed after `keep` newer ones exist; a reader that still has one open keeps reading it (the file lives on until
its last handle closes), and picks up the newest on its next look at CURRENT.

What is copied: every relation of the warehouse's `main` schema named like a mart (`dim_`, `fct_`, `mart_`,
`bridge_`: docs/architecture.md's naming) — the sync's open dead letters among them, as the dbt model
`mart_sync_dead_letters` — plus `snapshot_info` (when, from which warehouse, what)."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from revops import settings
from revops.warehouse import WarehouseInUse

MART_PREFIXES = ("dim_", "fct_", "mart_", "bridge_")
POINTER = "CURRENT"
KEEP = 3  # snapshots kept: the newest plus two a slow reader may still be looking at


def snapshot_dir(warehouse: Path | None = None) -> Path:
    """REVOPS_SNAPSHOT_DIR, else `snapshots/` beside the warehouse file (the one given, else $REVOPS_DUCKDB_PATH):
    a build of another warehouse never publishes into the snapshots of the demo's."""
    env = os.environ.get("REVOPS_SNAPSHOT_DIR")
    return Path(env) if env else Path(warehouse or settings.duckdb_path()).parent / "snapshots"


class NothingToPublish(RuntimeError):
    """The warehouse file is missing or has no marts yet."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    published_at: datetime
    tables: int

    @property
    def name(self) -> str:
        return self.path.name


def _ident(name: str) -> str:
    """A quoted SQL identifier (a catalog or table name), whatever characters the name has."""
    return '"' + name.replace('"', '""') + '"'


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(warehouse: Path | None = None, out_dir: Path | None = None, keep: int = KEEP) -> Snapshot:
    """Copy the marts of `warehouse` into a new snapshot and make it the current one. The warehouse is attached
    read-only: call this when no connection of this process writes it (after the build or the sync)."""
    warehouse = Path(warehouse or settings.duckdb_path())
    out_dir = Path(out_dir or snapshot_dir(warehouse))
    out_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    final = out_dir / f"marts-{now:%Y%m%dT%H%M%S%fZ}-{os.getpid()}.duckdb"
    tmp = out_dir / f".{final.name}.tmp"
    tmp.unlink(missing_ok=True)
    from revops import engine

    if engine.is_spark():
        return _publish_from_spark(warehouse, out_dir, final, tmp, now, keep)
    con = duckdb.connect()  # in memory: both files are attached to it
    try:
        # Attached under the file's own name: dbt's views (mart_sync_health) name their catalog that way. The paths
        # are parameters and the name a quoted identifier: a path with a quote or a space is just a path.
        src = warehouse.stem
        try:
            con.execute(f"attach ? as {_ident(src)} (read_only)", [str(warehouse)])
        except duckdb.IOException as e:
            if not warehouse.exists():
                raise NothingToPublish(f"{warehouse}: no such warehouse file: build it first (revops build), or "
                                       "point --duckdb / REVOPS_DUCKDB_PATH at one") from None
            if "lock" in str(e).lower():
                raise WarehouseInUse(f"another process is writing {warehouse}; publish again when it has finished "
                                     "(build and sync publish by themselves)") from None
            raise
        con.execute("attach ? as snap", [str(tmp)])
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'main' "
            "order by table_name", [src]).fetchall() if r[0].startswith(MART_PREFIXES)]
        if not marts:
            raise NothingToPublish(f"{warehouse}: no marts to publish (dim_*, fct_*, mart_*): build the project first")
        for t in marts:
            con.execute(f"create table snap.main.{_ident(t)} as select * from {_ident(src)}.main.{_ident(t)}")
        con.execute("create table snap.main.snapshot_info as select ? as published_at, ? as warehouse, ? as tables",
                    [now, str(warehouse), len(marts)])
        con.execute("detach snap")
        con.execute(f"detach {_ident(src)}")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    return _make_current(out_dir, final, tmp, now, keep, len(marts) + 1)


def _make_current(out_dir: Path, final: Path, tmp: Path, now: datetime, keep: int, tables: int) -> Snapshot:
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _write_atomically(out_dir / POINTER, final.name + "\n")
    _fsync_dir(out_dir)
    prune(out_dir, keep)
    return Snapshot(final, now, tables)


def _publish_from_spark(warehouse: Path, out_dir: Path, final: Path, tmp: Path, now: datetime, keep: int) -> Snapshot:
    """REVOPS_ENGINE=spark: the marts come from the Spark warehouse beside `warehouse` (revops/spark_store.py)."""
    from revops import spark_store

    if not warehouse.exists():
        raise NothingToPublish(f"{warehouse}: no such warehouse file: build it first (revops build)")
    try:
        marts = spark_store.run("snapshot", warehouse, "--out", str(tmp))["tables"]
        if not marts:
            raise NothingToPublish(f"{warehouse}: no marts to publish (dim_*, fct_*, mart_*): build the project first")
        con = duckdb.connect(str(tmp))
        try:
            con.execute("create table main.snapshot_info as select ? as published_at, ? as warehouse, ? as tables",
                        [now, str(warehouse), len(marts)])
        finally:
            con.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _make_current(out_dir, final, tmp, now, keep, len(marts) + 1)


def prune(out_dir: Path, keep: int = KEEP) -> list[Path]:
    """Remove all but the newest `keep` snapshots (never the current one) and temporary files of publishes that
    died more than an hour ago."""
    current = current_path(out_dir)
    snaps = sorted(out_dir.glob("marts-*.duckdb"))
    removed = []
    for p in snaps[:-keep] if keep > 0 else snaps:
        if p != current:
            p.unlink(missing_ok=True)
            removed.append(p)
    for p in out_dir.glob(".marts-*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if time.time() - p.stat().st_mtime > 3600:
                p.unlink()
                removed.append(p)
    return removed


def current_path(out_dir: Path | None = None) -> Path | None:
    """The snapshot CURRENT names, or None before the first publish."""
    out_dir = Path(out_dir or snapshot_dir())
    try:
        name = (out_dir / POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    p = out_dir / name
    return p if name and p.exists() else None


def open_current(out_dir: Path | None = None) -> tuple[Snapshot, duckdb.DuckDBPyConnection] | None:
    """The current snapshot and a read-only connection to it, or None before the first publish."""
    for _ in range(3):  # CURRENT may name a snapshot pruned between reading the name and opening it
        p = current_path(out_dir)
        if p is None:
            return None
        try:
            con = duckdb.connect(str(p), read_only=True)
        except duckdb.IOException:
            time.sleep(0.1)
            continue
        published_at, tables = con.execute("select published_at, tables from snapshot_info").fetchall()[0]
        return Snapshot(p, published_at, tables), con
    return None
