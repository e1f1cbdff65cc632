"""The Spark writer and reader (REVOPS_ENGINE=spark; revops/engine.py says why the DuckDB file stays the control
store).

- `publish`: the control store's landed tables (raw.*, ops.*, crm_sync.*) as parquet tables of the same names in the
  Spark warehouse, where dbt's sources read them. A table is rewritten only when its fingerprint (rows, and the sum
  of a hash of every row) differs from the one recorded at its last publish, and that record
  (ops.spark_published) is written only after Spark confirmed the table: a publish killed half way leaves a table
  whose fingerprint was not recorded, which the next publish rewrites whole. So Spark's copy ends equal to the
  control store however often a publish dies, and a rerun with nothing new writes nothing.
- `desired`: the sync models (and the seed the sync reads) copied from Spark into the control store, in one DuckDB
  transaction, so the sync engine plans and confirms against a consistent picture with its state beside it.
- `serve`: after a build, the models the commands read (marts, sync models, the few intermediate models and staging
  views evaluation, calibration and alerts read, the config seeds) copied from Spark into the control store's
  `main` and `config` schemas in one DuckDB transaction: `revops kpis`, `eval`, `alerts` then read the very rows Spark
  computed, with no JVM of their own.
- `snapshot`: the marts read from Spark (after a publish of crm_sync, so the sync views show the latest sync) into the
  dashboard's snapshot file (revops/snapshot.py).

Each runs in a subprocess of its own (`python -m revops.spark_store ...`): the embedded Derby catalog admits one JVM
at a time, and a JVM started by a Dagster run would still hold it when that run starts dbt, whose Spark session is
another JVM.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from revops import engine
from revops.exit_codes import CliError
from revops.faults import crash_point

CONTROL_SCHEMAS = ("raw", "ops", "crm_sync")
# written by `revops calibrate scoring` into the control store, read by the models as a source (var scoring_weights)
CALIBRATED = ("config.icp_rules_calibrated", "config.signal_weights_calibrated", "config.scoring_model_calibrated",
              "config.scoring_curve_calibrated")
PUBLISHED = "ops.spark_published"  # the control store's record of what Spark holds; never published itself
# what the sync engine reads besides crm_sync (reverse_etl/engine.py, reverse_etl/tasks.py)
DESIRED = ("main.sync_hubspot__contacts", "main.sync_hubspot__companies", "main.sync_hubspot__tasks",
           "config.field_ownership")


SERVED_PREFIXES = ("dim_", "fct_", "mart_", "bridge_", "sync_")
SERVED_MODELS = ("int_as_of_dated", "int_person_accounts_dated", "int_identifiers_resolved", "int_persons_fit_scored",
                 "int_signal_features_dated", "int_deals_resolved",  # revops calibrate / eval scoring read them
                 "stg_hubspot__deals", "stg_hubspot__associations", "stg_hubspot__owners")
SNAPSHOT_PREFIXES = ("dim_", "fct_", "mart_", "bridge_")  # revops/snapshot.py's MART_PREFIXES


class SparkStoreError(CliError):
    """A Spark step failed; the message is its last line (the command line prints it as one line, exit 1)."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _spark_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _control_tables(con) -> list[tuple[str, str]]:
    return [tuple(r) for r in con.execute(
        "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
        "and (table_schema in (select unnest(?)) or table_schema || '.' || table_name in (select unnest(?))) "
        "and table_catalog = current_database() order by 1, 2",
        [list(CONTROL_SCHEMAS), list(CALIBRATED)]).fetchall() if f"{r[0]}.{r[1]}" != PUBLISHED]


def _fingerprint(con, schema: str, table: str) -> str:
    n, h = con.execute(f"select count(*), coalesce(sum(hash(t)), 0)::varchar from {_ident(schema)}.{_ident(table)} t"
                       ).fetchall()[0]
    return f"{n}:{h}"


def _arrow_for_spark(con, schema: str, table: str):
    """The table as Arrow, with DuckDB's JSON columns as text (Spark has no JSON type; the models parse text)."""
    cols = con.execute("select column_name, data_type from information_schema.columns where table_schema = ? "
                       "and table_name = ? and table_catalog = current_database() order by ordinal_position",
                       [schema, table]).fetchall()
    select = ", ".join(f"{_ident(c)}::varchar as {_ident(c)}" if t == "JSON" else _ident(c) for c, t in cols)
    return con.sql(f"select {select} from {_ident(schema)}.{_ident(table)}").to_arrow_table()


def publish(db: Path, spark=None, progress=print) -> dict[str, str]:
    """Make the Spark warehouse's raw/ops/crm_sync tables (and calibrated weights) equal to the control store's. Returns table -> what was
    done ('written' or 'unchanged')."""
    con = duckdb.connect(str(db))
    try:
        con.execute("create schema if not exists ops")
        con.execute(f"create table if not exists {PUBLISHED} (table_name varchar primary key, "
                    "fingerprint varchar not null, published_at timestamptz not null)")
        known = dict(con.execute(f"select table_name, fingerprint from {PUBLISHED}").fetchall())
        todo, done = [], {}
        for schema, table in _control_tables(con):
            name = f"{schema}.{table}"
            fp = _fingerprint(con, schema, table)
            if known.get(name) == fp:
                done[name] = "unchanged"
            else:
                todo.append((schema, table, fp))
        if todo:
            spark = spark or engine.spark_session(db)
            for schema, table, fp in todo:
                t0 = time.monotonic()
                spark.sql(f"create database if not exists {_spark_ident(schema)}")
                arrow = _arrow_for_spark(con, schema, table)
                frame = spark.createDataFrame(arrow)
                # overwrite replaces the table's files and its schema (a column landing added is taken along)
                frame.write.mode("overwrite").format("parquet").saveAsTable(f"{_spark_ident(schema)}.{_spark_ident(table)}")
                crash_point("REVOPS_FAULT_KILL_AT_SPARK_TABLE")  # the kill -9 tests: written, not yet recorded
                # recorded only now: Spark has confirmed the table
                con.execute(f"insert or replace into {PUBLISHED} values (?, ?, now())", [f"{schema}.{table}", fp])
                done[f"{schema}.{table}"] = "written"
                progress(f"spark: {schema}.{table} {arrow.num_rows:,} rows in {time.monotonic() - t0:.1f} s")
        return done
    finally:
        con.close()


def desired(db: Path, spark=None) -> dict[str, int]:
    """Copy the sync models and the seed the sync reads from Spark into the control store (one transaction)."""
    spark = spark or engine.spark_session(db)
    frames = {name: spark.table(".".join(_spark_ident(p) for p in name.split("."))).toArrow() for name in DESIRED}
    con = duckdb.connect(str(db))
    try:
        con.execute("begin transaction")
        for name, arrow in frames.items():
            schema, table = name.split(".")
            _copy_into(con, schema, {table: arrow})
        con.execute("commit")
        return {name: arrow.num_rows for name, arrow in frames.items()}
    finally:
        con.close()


# Spark has one timestamp type here (an instant; the session is UTC), DuckDB two: the models' timestamps are naive
# UTC there, but a column carried straight from a control-store TIMESTAMPTZ stays one (landed_at, and the sync's and
# the alerts' times). The served copies take DuckDB's types, so `revops eval` and the dashboard read one kind of
# table whatever the engine (tests/test_spark_engine.py compares the types too).
INSTANT_COLUMNS = ("landed_at",)
INSTANT_TABLES = ("mart_alerts", "mart_sync_dead_letters", "mart_sync_health", "stg_crm_sync__", "stg_ops__")


def _select_like_duckdb(name: str, arrow) -> str:
    import pyarrow as pa

    cols = []
    for f in arrow.schema:
        naive = (pa.types.is_timestamp(f.type) and f.type.tz is not None and f.name not in INSTANT_COLUMNS
                 and not name.startswith(INSTANT_TABLES))
        cols.append(f"timezone('UTC', {_ident(f.name)}) as {_ident(f.name)}" if naive else _ident(f.name))
    return ", ".join(cols) or "*"


def _copy_into(con, schema: str, frames: dict) -> None:
    con.execute(f"create schema if not exists {_ident(schema)}")
    for name, arrow in frames.items():
        con.register("spark_frame", arrow)
        # a view of an earlier DuckDB build under the same name gives way to the served table
        if con.execute("select count(*) from information_schema.tables where table_catalog = current_database() "
                       "and table_schema = ? and table_name = ? and table_type = 'VIEW'", [schema, name]).fetchone()[0]:
            con.execute(f"drop view {_ident(schema)}.{_ident(name)}")
        con.execute(f"create or replace table {_ident(schema)}.{_ident(name)} as "
                    f"select {_select_like_duckdb(name, arrow)} from spark_frame")
        con.unregister("spark_frame")


def serve(db: Path, spark=None) -> dict[str, int]:
    """Copy the models the commands read from Spark into the control store (one transaction)."""
    spark = spark or engine.spark_session(db)
    main = [t for t in tables_of(spark, "main") if t.startswith(SERVED_PREFIXES) or t in SERVED_MODELS]
    frames = {"main": read_tables(db, main, "main", spark=spark),
              "config": read_tables(db, tables_of(spark, "config"), "config", spark=spark)}
    con = duckdb.connect(str(db))
    try:
        con.execute("begin transaction")
        for schema, tables in frames.items():
            _copy_into(con, schema, tables)
        con.execute("commit")
    finally:
        con.close()
    return {f"{s}.{n}": a.num_rows for s, tables in frames.items() for n, a in tables.items()}


def tables_of(spark, schema: str) -> list[str]:
    return sorted(r.name for r in spark.catalog.listTables(schema)) if spark.catalog.databaseExists(schema) else []


def read_tables(db: Path, names: list[str] | None = None, schema: str = "main", prefixes: tuple[str, ...] = (),
                spark=None) -> dict[str, "object"]:
    """Arrow tables of the Spark warehouse's `schema` (those named, else those with one of `prefixes`)."""
    spark = spark or engine.spark_session(db)
    names = names or [t for t in tables_of(spark, schema) if t.startswith(prefixes)]
    return {n: spark.table(f"{_spark_ident(schema)}.{_spark_ident(n)}").toArrow() for n in names}


def snapshot(db: Path, out: Path, spark=None) -> list[str]:
    """Publish the control store (the sync views read crm_sync), then write the Spark marts into the DuckDB file
    `out` (schema main). Returns the tables written."""
    spark = spark or engine.spark_session(db)
    publish(db, spark=spark, progress=lambda line: None)
    frames = read_tables(db, schema="main", prefixes=SNAPSHOT_PREFIXES, spark=spark)
    con = duckdb.connect(str(out))
    try:
        _copy_into(con, "main", frames)
    finally:
        con.close()
    return sorted(frames)


def run(command: str, db: Path, *extra: str) -> dict:
    """Run one Spark step in a subprocess (see the module's doc); its JSON result, or SparkStoreError with the
    step's last line of error output."""
    env = {**os.environ, "REVOPS_SPARK_DIR": str(engine.spark_dir(db))}
    res = subprocess.run([sys.executable, "-m", "revops.spark_store", command, "--duckdb", str(db), *extra],
                         capture_output=True, text=True, env=env)
    for line in res.stderr.splitlines():
        if line.startswith("spark: "):
            print(line, flush=True)
    if res.returncode != 0:
        lines = [ln for ln in res.stderr.splitlines() if ln.strip() and not ln.startswith("spark: ")]
        raise SparkStoreError(f"spark {command} failed: {lines[-1] if lines else f'exit {res.returncode}'}")
    return json.loads(res.stdout.strip().splitlines()[-1]) if res.stdout.strip() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m revops.spark_store")
    parser.add_argument("command", choices=["publish", "desired", "serve", "snapshot"])
    parser.add_argument("--duckdb", required=True, type=Path)
    parser.add_argument("--out", type=Path, help="snapshot: the DuckDB file to write")
    args = parser.parse_args(argv)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.command == "publish":
        result = publish(args.duckdb, progress=progress)
    elif args.command == "desired":
        result = desired(args.duckdb)
    elif args.command == "serve":
        result = serve(args.duckdb)
    else:
        result = {"tables": snapshot(args.duckdb, args.out)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
