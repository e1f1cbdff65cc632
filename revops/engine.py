"""The engine switch (DESIGN 10): REVOPS_ENGINE=duckdb|spark, read by the CLI, the Dagster resources and dbt's
profile (`target: "{{ env_var('REVOPS_ENGINE', 'duckdb') }}"`).

On both engines the DuckDB file named by REVOPS_DUCKDB_PATH stays the *control store*: the landing ledger (manifest,
quarantine, CRM cursors, the landed rows landing deduplicates against) and the sync state (crm_sync). Those need
transactions — a manifest row and the rows it names commit together, a CRM write is confirmed once — and plain
parquet tables have none. On Spark the models read and write a local parquet warehouse (`<file stem>.spark/`),
which the Spark writer (revops/spark_store.py) fills from the control store idempotently before each build, and
the sync, snapshot, KPI and evaluation commands read the models from there (docs/architecture.md)."""

from __future__ import annotations

import os
from pathlib import Path

from revops import settings

ENGINES = ("duckdb", "spark")


class UnknownEngine(ValueError):
    pass


def name() -> str:
    value = os.environ.get("REVOPS_ENGINE", "duckdb").strip().lower() or "duckdb"
    if value not in ENGINES:
        raise UnknownEngine(f"REVOPS_ENGINE={value!r}: expected one of {', '.join(ENGINES)}")
    return value


def is_spark() -> bool:
    return name() == "spark"


def spark_dir(duckdb_path: Path | None = None) -> Path:
    """The Spark warehouse beside the control store: <stem>.spark/ holding warehouse/ (parquet tables) and
    metastore/ (the embedded Derby catalog). REVOPS_SPARK_DIR overrides it."""
    if os.environ.get("REVOPS_SPARK_DIR"):
        return Path(os.environ["REVOPS_SPARK_DIR"]).absolute()
    path = Path(duckdb_path or settings.duckdb_path()).absolute()
    return path.with_name(path.stem + ".spark")


def spark_conf(directory: Path) -> dict[str, str]:
    """The local Spark session's settings, for our own sessions and (mirrored in dbt_project/profiles.yml, kept
    equal by tests/test_spark_engine.py) dbt's. Parquet tables in a warehouse folder and an embedded Derby catalog:
    nothing to download (no Delta or Iceberg jars) and nothing listening beyond loopback."""
    directory = Path(directory).absolute()
    return {
        "spark.sql.warehouse.dir": str(directory / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={directory / 'metastore'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={directory}",
        "spark.sql.session.timeZone": "UTC",
        # S and M fit in a few partitions; Spark's 200 shuffle partitions cost ~1 s of scheduling per model here
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.sources.default": "parquet",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.memory": os.environ.get("REVOPS_SPARK_DRIVER_MEMORY", "4g"),
    }


def spark_session(duckdb_path: Path | None = None):
    """This process's Spark session on the warehouse beside `duckdb_path` (one JVM a process; the Derby catalog
    admits one process at a time, like the DuckDB file)."""
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    from pyspark.sql import SparkSession

    directory = spark_dir(duckdb_path)
    directory.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.master("local[2]").appName("revops-warehouse").enableHiveSupport()
    for key, value in spark_conf(directory).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
