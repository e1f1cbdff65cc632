"""State-aware builds (issue 17): `revops build --changed` on the S warehouse of the day before the last —
a first build of everything (no state yet), a run with nothing new that builds nothing, then the last day's files
and a build of only what they touch, which equals a full build of the same data."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import land_files
from revops import build_state, settings

REVOPS = str(Path(sys.executable).parent / "revops")


def revops_build(db: Path, tmp: Path) -> tuple[str, float]:
    env = {**os.environ, "REVOPS_DUCKDB_PATH": str(db), "DAGSTER_HOME": str(tmp / "dagster_home")}
    (tmp / "dagster_home").mkdir(exist_ok=True)
    started = time.perf_counter()
    res = subprocess.run([REVOPS, "build", "--changed"], capture_output=True, text=True, env=env)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    return res.stdout, time.perf_counter() - started


def relations(con) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'main' "
        "and regexp_matches(table_name, '^(mart_|fct_|dim_|bridge_|sync_)') "
        "and table_name not in ('fct_identity_changes') order by 1").fetchall()]


@pytest.fixture(scope="module")
def stepped(two_day_build, day_one_warehouse, world_s, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("build_state")
    db = tmp / "warehouse.duckdb"
    shutil.copy(day_one_warehouse, db)
    first, _ = revops_build(db, tmp)
    quiet, quiet_s = revops_build(db, tmp)
    land_files(db, world_s / "landing")
    con = duckdb.connect(str(db))
    before_build = build_state.plan(con, build_state.load_manifest(settings.dbt_manifest_path()),
                                    settings.dbt_project_dir())
    con.close()
    new_day, _ = revops_build(db, tmp)
    return db, first, quiet, quiet_s, before_build, new_day


def test_no_state_builds_everything_then_nothing_new_builds_nothing(stepped):
    _, first, quiet, quiet_s, _, _ = stepped
    assert "no build recorded yet" in first and "built " in first
    assert "no new data since the last build" in quiet and "built " not in quiet
    assert quiet_s < 10


def test_new_files_plan_their_sources_only(stepped):
    _, _, _, _, plan, new_day = stepped
    assert not plan.nothing and not plan.code_changed
    changed = {s.split(":", 1)[1].split(".")[0] for s in plan.changed}
    assert changed and not changed & {"hubspot", "calibration", "crm_sync", "ops"}, plan.changed
    assert "new data in" in new_day


def test_the_changed_build_equals_a_full_build_of_the_same_data(stepped, two_day_build):
    db, *_ = stepped
    full = two_day_build[0]
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"attach '{full}' as full_build (read_only)")
    try:
        for rel in relations(con):
            # generated columns that record when or by which invocation a row was written differ by design
            cols = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'main' and table_name = ? "
                "and column_name not in ('recorded_at', 'invocation_id', 'built_at')", [rel]).fetchall()]
            sel = ", ".join(f'"{c}"' for c in cols)
            a_b = con.execute(f"select count(*) from (select {sel} from main.{rel} except all "
                              f"select {sel} from full_build.main.{rel})").fetchone()[0]
            b_a = con.execute(f"select count(*) from (select {sel} from full_build.main.{rel} except all "
                              f"select {sel} from main.{rel})").fetchone()[0]
            assert (a_b, b_a) == (0, 0), rel
    finally:
        con.close()


def test_a_source_read_only_by_views_needs_no_build():
    manifest = build_state.load_manifest(settings.dbt_manifest_path())
    srcs = build_state.sources(manifest)
    assert "source:crm_sync.runs" in srcs and not build_state._needs_build(manifest, srcs["source:crm_sync.runs"])
    assert build_state._needs_build(manifest, srcs["source:esp.esp_events"])


def test_switching_the_scoring_weights_is_a_code_change(monkeypatch):
    """REVOPS_SCORING_WEIGHTS (dbt_project.yml's var scoring_weights) changes every score with no file changed."""
    manifest = build_state.load_manifest(settings.dbt_manifest_path())
    monkeypatch.setenv("REVOPS_SCORING_WEIGHTS", "hand_set")
    hand_set = build_state.code_fingerprint(manifest, settings.dbt_project_dir())
    monkeypatch.setenv("REVOPS_SCORING_WEIGHTS", "calibrated")
    calibrated = build_state.code_fingerprint(manifest, settings.dbt_project_dir())
    assert hand_set != calibrated
    assert calibrated == build_state.code_fingerprint(manifest, settings.dbt_project_dir())


def test_a_recalibration_plans_the_scoring_models_downstream(tmp_path):
    """`revops calibrate scoring` rewrites config.*_calibrated; the next `build --changed` must rebuild the scores,
    the decisions and the sync models that read them, whichever var the manifest was parsed with."""
    manifest = build_state.load_manifest(settings.dbt_manifest_path())
    srcs = build_state.sources(manifest)

    def names(sel: str) -> set[str]:
        return {uid.split(".")[-1] for uid in srcs[sel].downstream}

    assert {"int_persons_fit_scored", "fct_lead_scores", "mart_stage_map", "sync_hubspot__contacts"} <= \
        names("source:calibration.icp_rules_calibrated")
    assert {"int_persons_intent_scored", "fct_lead_scores"} <= names("source:calibration.signal_weights_calibrated")
    for table in ("scoring_model_calibrated", "scoring_curve_calibrated"):
        assert "fct_lead_scores" in names(f"source:calibration.{table}")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema config")
    con.execute("create table config.scoring_curve_calibrated (logit_from double, logit_to double, "
                "p_from double, p_to double)")
    con.execute("insert into config.scoring_curve_calibrated values (-5, 0, 0.01, 0.4), (0, 5, 0.4, 0.9)")
    before = build_state.snapshot(con, manifest)
    built = set().union(*(s.downstream for s in srcs.values()))
    build_state.record(con, manifest, before, built, settings.dbt_project_dir(), whole_project=True)
    assert build_state.plan(con, manifest, settings.dbt_project_dir()).nothing
    con.execute("update config.scoring_curve_calibrated set p_to = 0.95 where logit_from = 0")
    plan = build_state.plan(con, manifest, settings.dbt_project_dir())
    assert plan.changed == ["source:calibration.scoring_curve_calibrated"] and not plan.code_changed
    assert plan.select == "source:calibration.scoring_curve_calibrated+"
    con.close()
