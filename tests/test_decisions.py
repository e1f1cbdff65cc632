"""Decisions on the S world (the `two_day_build` of conftest, whose dbt build already ran every unit and data test
of the decision models): the AUC arithmetic on a hand-made example, `revops eval scoring` on the built warehouse,
the stage map as a sales team reads it, and calibration refusing a history too short to learn from."""

import shutil

import duckdb
import polars as pl
from typer.testing import CliRunner

from revops import cli
from revops.evaluation.scoring import auc


def test_auc_by_rank_sum_on_a_hand_made_example():
    labels = pl.Series([0, 0, 1, 1])
    assert auc(pl.Series([0.1, 0.4, 0.35, 0.8]), labels) == 0.75  # 3 of the 4 positive-negative pairs ordered
    assert auc(pl.Series([1.0, 2.0, 3.0, 4.0]), labels) == 1.0
    assert auc(pl.Series([5.0, 5.0, 5.0, 5.0]), labels) == 0.5  # ties count half


def test_eval_scoring_reports_auc_beside_the_oracle(two_day_build, world_s, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(two_day_build[0], db)
    res = CliRunner().invoke(cli.app, ["eval", "scoring", "--world", str(world_s), "--duckdb", str(db)])
    assert res.exit_code == 0, res.output
    assert "AUC lead_score" in res.output and "oracle" in res.output and "stages:" in res.output
    con = duckdb.connect(str(db), read_only=True)
    (lead, oracle, lift, people), = con.execute(
        "select auc_lead_score, auc_oracle_propensity, top_decile_lift, people from eval.scoring_metrics").fetchall()
    con.close()
    # the score ranks people far better than chance and its top decile converts about twice the base rate
    assert people > 1_500 and 0.6 < lead < oracle <= 1.0 and lift > 1.5


def test_stage_map_reads_like_crm_truth(two_day_build):
    con = duckdb.connect(str(two_day_build[0]), read_only=True)
    people = con.execute("select count(*) from dim_person").fetchall()[0][0]
    rows = con.execute("select count(*), count(distinct person_id), count(owner_id), count(next_action), "
                       "count(next_action_date) from mart_stage_map").fetchall()[0]
    stages = dict(con.execute("select stage, count(*) from mart_stage_map group by 1").fetchall())
    hand_raise = con.execute("""
        select next_action from mart_stage_map m join int_persons_routed r using (person_id)
        where r.reason_code = 'hand_raiser' and m.stage in ('qualified', 'routed')""").fetchall()
    suppressed = con.execute("select next_action from mart_stage_map where stage = 'suppressed'").fetchall()
    con.close()
    assert rows == (people,) * 5
    assert {"qualified", "outreach", "meeting", "suppressed", "customer", "opportunity", "nurture"} <= set(stages)
    assert hand_raise and all(a.startswith("Call") for (a,) in hand_raise)
    assert suppressed and all(a.startswith("No action: ") for (a,) in suppressed)


def test_no_owner_has_more_due_on_a_day_than_their_capacity(two_day_build):
    """Capacity (docs/decisions.md): per owner and working day at most their capacity; every unanswered hand raise
    is due on its owner's today; the moved actions and the hand-overs say why."""
    con = duckdb.connect(str(two_day_build[0]), read_only=True)
    over = con.execute("select owner_id, due_date, actions_due, capacity from mart_owner_workload "
                       "where actions_due > capacity").fetchall()
    late_hand_raises = con.execute("""
        select count(*) from int_next_actions_decided d join int_next_actions_scheduled s using (person_id)
        where d.is_hand_raise and s.due_date <> s.owner_today""").fetchall()[0][0]
    tasks = con.execute("""select count(*), count(*) filter (where deferred_working_days > 0),
                                  count(*) filter (where deferred_working_days > 0 and due_reason like 'moved %')
                           from mart_stage_map where due_reason is not null""").fetchall()[0]
    due = con.execute("select sum(actions_due) from mart_owner_workload").fetchall()[0][0]
    con.close()
    assert over == [] and late_hand_raises == 0
    assert tasks[0] == due and tasks[0] > 0 and tasks[1] == tasks[2]


def test_calibration_on_a_history_too_short_is_one_line_and_writes_nothing(two_day_build, tmp_path):
    """S holds 30 days: no cut-off has both 21 days of history before it and 30 days of outcomes after it. The
    whole loop on a world with history is tests/test_scoring_calibration.py."""
    db = tmp_path / "calibrated.duckdb"
    shutil.copy(two_day_build[0], db)
    res = CliRunner().invoke(cli.app, ["calibrate", "scoring", "--duckdb", str(db)])
    said = " ".join(res.output.replace("│", " ").split())  # the usage box wraps lines at the terminal's width
    assert res.exit_code == 2 and "holds 30 days of signals" in said and "Traceback" not in said, res.output
    con = duckdb.connect(str(db), read_only=True)
    written = con.execute("""select count(*) from information_schema.tables
                             where table_schema = 'config' and table_name like '%_calibrated'""").fetchall()[0][0]
    con.close()
    assert written == 0
