import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from revops import settings  # noqa: F401  (telemetry off for everything the tests start)

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")
DATE = re.compile(r"(\d{4})[/-](\d{2})[/-](\d{2})")


@pytest.fixture(scope="session")
def world_s(tmp_path_factory) -> Path:
    """The S world (seed 42), generated once per test session."""
    from sandbox.world.config import WorldConfig
    from sandbox.world.generate import generate_world

    out = tmp_path_factory.mktemp("world_s")
    generate_world(WorldConfig.for_scale("S", seed=42), out)
    return out


def _dbt_build(db: Path) -> None:
    res = subprocess.run([DBT, "build", "--profiles-dir", "."], cwd=REPO / "dbt_project", capture_output=True,
                         text=True, env={**os.environ, "REVOPS_DUCKDB_PATH": str(db)})
    assert res.returncode == 0, res.stdout[-4000:]


def land_files(db: Path, landing: Path) -> None:
    """Land every file source below `landing` into the DuckDB file `db` (what the build tests start from)."""
    from revops.landing import files

    con = duckdb.connect(str(db))
    files.ensure_schema(con)
    for src in files.SOURCES.values():
        files.land_source(con, src, landing)
    con.close()


def land_crm(db: Path, world: Path, work: Path, token: str) -> None:
    """Land the world's CRM into `db` over real HTTP from a sandbox server started (and stopped) for it."""
    from revops.hubspot import HubSpotClient
    from revops.landing import crm, files
    from sandbox.crm_server import CRMServer, ServerConfig

    srv = CRMServer(ServerConfig(db_path=work / "crm.sqlite", world_dir=world, token=token)).start()
    try:
        con = duckdb.connect(str(db))
        files.ensure_schema(con)
        with HubSpotClient(base_url=srv.url, token=token) as client:
            crm.extract_all(con, client)
        con.close()
    finally:
        srv.stop()


def bridge_rows(db: Path) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    rows = dict(con.execute("select identifier_id, person_id from bridge_person_identifier").fetchall())
    con.close()
    return rows


@pytest.fixture(scope="session")
def two_day_build(world_s, tmp_path_factory):
    """The S world landed in two steps and built with dbt twice: the CRM and every file but the last day's, a
    build, then the last day and a second build. Returns (warehouse, bridge after the first build, last day)."""
    tmp = tmp_path_factory.mktemp("identity")
    landing = world_s / "landing"
    dated = {p: "-".join(DATE.search(str(p.relative_to(landing))).groups())
             for p in landing.rglob("*") if p.is_file() and DATE.search(str(p.relative_to(landing)))}
    last_day = max(dated.values())
    earlier = tmp / "landing_before_last_day"
    for p in landing.rglob("*"):
        if p.is_file() and dated.get(p) != last_day:
            (earlier / p.relative_to(landing)).parent.mkdir(parents=True, exist_ok=True)
            # a hard link, not a symlink: landing refuses symlinks out of the landing folder (docs/landing.md)
            try:
                os.link(p, earlier / p.relative_to(landing))
            except OSError:
                shutil.copy2(p, earlier / p.relative_to(landing))
    db = tmp / "warehouse.duckdb"
    land_crm(db, world_s, tmp, "identity-test")
    land_files(db, earlier)
    _dbt_build(db)
    before = bridge_rows(db)
    # the warehouse as it was before the last day: the dashboard's snapshot test runs the last day's pipeline on it
    (tmp / "day_one").mkdir()
    shutil.copy(db, tmp / "day_one" / "warehouse.duckdb")
    land_files(db, landing)  # the files already landed are skipped: only the last day lands
    _dbt_build(db)
    return db, before, last_day


@pytest.fixture(scope="session")
def day_one_warehouse(two_day_build) -> Path:
    """The S warehouse after the first of the two builds (every file but the last day's): read-only, copy it."""
    return two_day_build[0].parent / "day_one" / "warehouse.duckdb"


@pytest.fixture(scope="session")
def s_snapshot(two_day_build, tmp_path_factory) -> Path:
    """The dashboard's snapshot of the S warehouse (both days): its directory."""
    from revops import snapshot

    out = tmp_path_factory.mktemp("snapshots")
    snapshot.publish(two_day_build[0], out)
    return out
