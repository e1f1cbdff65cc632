"""The analysts' ready SQL (analyses/*.sql) on the S world (the `two_day_build` of conftest): dbt compiles all four,
and each compiled query, run read-only on the warehouse, adds up to numbers computed here independently from the
marts it reads (won revenue per attribution model, requests and follow-ups per owner, marketing×sales incidents,
suppressed persons per reason); a second compile with --vars checks that the parameters filter as they say."""

import json
import os
import statistics
import subprocess
from collections import Counter, defaultdict
from datetime import timedelta

import duckdb
import pytest

from conftest import DBT, REPO

ANALYSES = ["signals_preceding_won_deals", "owners_missing_sla", "campaigns_colliding_with_sequences",
            "suppressed_and_why"]
MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based"]
LOOKBACK_DAYS = 7
LOOKBACK_WEEKS = 2
PARAMS = {"lookback_days": LOOKBACK_DAYS, "lookback_weeks": LOOKBACK_WEEKS, "order_by_model": "first_touch", "include_calls": False,
          "min_incidents": 2, "suppression_reasons": ["unsubscribed", "hard_bounced"], "max_rows_per_reason": 3}


def _compile(db, target, dbt_vars: dict | None = None) -> dict[str, str]:
    """dbt compile of every analysis against the warehouse `db`, into its own target path; the compiled SQL by name."""
    cmd = [DBT, "compile", "--profiles-dir", ".", "--select", "resource_type:analysis", "--target-path", str(target)]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dbt_vars)]
    res = subprocess.run(cmd, cwd=REPO / "dbt_project", capture_output=True, text=True,
                         env={**os.environ, "REVOPS_DUCKDB_PATH": str(db)})
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"].values()
    compiled = {n["name"]: n["compiled_code"] for n in nodes if n["resource_type"] == "analysis"}
    assert sorted(compiled) == sorted(ANALYSES)
    for name, sql in compiled.items():
        assert "{{" not in sql and "{%" not in sql and "ref(" not in sql, name
        assert (target / "compiled" / "analyses" / f"{name}.sql").read_text().strip() == sql.strip()
    return compiled


@pytest.fixture(scope="module")
def compiled(two_day_build, tmp_path_factory):
    """(default compile, compile with PARAMS): dbt opens the warehouse itself, so this runs before any connection."""
    db = two_day_build[0]
    return (_compile(db, tmp_path_factory.mktemp("analyses_target")),
            _compile(db, tmp_path_factory.mktemp("analyses_target_vars"), PARAMS))


@pytest.fixture()
def con(two_day_build, compiled):
    con = duckdb.connect(str(two_day_build[0]), read_only=True)
    yield con
    con.close()


def _rows(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _approx(x, abs_=0.011):
    return pytest.approx(x, abs=abs_)


# 1. signals_preceding_won_deals ------------------------------------------------------------------------------------

def _won_deals(con, since=None) -> tuple[dict, dict]:
    """From fct_signal_attribution, read once per (deal, signal): {deal: amount}, {deal: [(signal_at, signal_id,
    type, close_date)]} (an empty list for a deal no signal preceded)."""
    rows = con.execute("select distinct deal_id, deal_amount, close_date, signal_id, signal_type, signal_at "
                       "from fct_signal_attribution").fetchall()
    if since is not None:
        rows = [r for r in rows if r[2] >= since]
    amounts, signals = {}, {}
    for deal, amount, close, sid, stype, at in rows:
        amounts[deal] = amount
        signals.setdefault(deal, [])  # a deal no signal preceded keeps an empty list
        if sid is not None:
            signals[deal].append((at, sid, stype, close))
    return amounts, {d: sorted(s) for d, s in signals.items()}


def _check_signals(rows: list[dict], amounts: dict, signals: dict) -> None:
    by_type = {r["signal_type"]: r for r in rows}
    assert len(by_type) == len(rows)
    won_revenue = sum(amounts.values())
    # every model splits exactly the won revenue in scope: the unattributed deals included, never dropped
    for model in MODELS:
        assert sum(r[f"{model}_revenue"] for r in rows) == pytest.approx(won_revenue, abs=0.01 * len(rows) + 1e-6)
    unattributed = [d for d, s in signals.items() if not s]
    if unattributed:
        row = by_type["unattributed"]
        assert rows[-1] is row and row["signals"] == 0 and row["avg_days_before_close"] is None
        assert row["won_deals_touched"] == len(unattributed)
        for model in MODELS:
            assert row[f"{model}_revenue"] == _approx(sum(amounts[d] for d in unattributed))
    else:
        assert "unattributed" not in by_type
    # first_touch, last_touch and linear recomputed from the signals' order, not from the mart's weights
    expected = {m: Counter() for m in ("first_touch", "last_touch", "linear")}
    deals, signal_ids, days = defaultdict(set), defaultdict(set), defaultdict(list)
    for deal, sigs in signals.items():
        if sigs:
            expected["first_touch"][sigs[0][2]] += amounts[deal]
            expected["last_touch"][sigs[-1][2]] += amounts[deal]
        for at, sid, stype, close in sigs:
            expected["linear"][stype] += amounts[deal] / len(sigs)
            deals[stype].add(deal)
            signal_ids[stype].add(sid)
            days[stype].append((close - at).total_seconds() / 86400)
    assert set(by_type) - {"unattributed"} == set(deals)
    for stype, sids in signal_ids.items():
        row = by_type[stype]
        assert row["won_deals_touched"] == len(deals[stype])
        assert row["signals"] == len(sids)
        assert row["avg_days_before_close"] == pytest.approx(statistics.fmean(days[stype]), abs=0.051)
        assert row["median_days_before_close"] == pytest.approx(statistics.median(days[stype]), abs=0.051)
        for model, revenue in expected.items():
            assert row[f"{model}_revenue"] == _approx(revenue[stype]), (stype, model)


def test_signals_preceding_won_deals_split_the_won_revenue(compiled, con):
    rows = _rows(con, compiled[0]["signals_preceding_won_deals"])
    amounts, signals = _won_deals(con)
    assert len(amounts) > 0 and sum(amounts.values()) > 0
    _check_signals(rows, amounts, signals)
    assert sum(r["linear_share"] for r in rows) == pytest.approx(1.0, abs=1e-3)
    attributed = [r for r in rows if r["signal_type"] != "unattributed"]
    assert attributed, "no won deal has a preceding signal on the S world"
    assert [r["linear_revenue"] for r in attributed] == sorted((r["linear_revenue"] for r in attributed), reverse=True)


def test_signals_preceding_won_deals_lookback(compiled, con):
    rows = _rows(con, compiled[1]["signals_preceding_won_deals"])
    latest = con.execute("select max(close_date) from fct_signal_attribution").fetchall()[0][0]
    _check_signals(rows, *_won_deals(con, since=latest - timedelta(days=LOOKBACK_DAYS)))
    assert all("first_touch_share" in r for r in rows)


# 2. owners_missing_sla ---------------------------------------------------------------------------------------------

def _check_owners(con, rows: list[dict], weeks: int | None = None) -> None:
    """The speed-to-lead columns are the cube's owner rows of the span (their one definition); follow-ups are
    recounted from fct_follow_ups since the span's first day."""
    span = "covers_all_weeks" if weeks is None else (
        "period_end = (select max(period_end) from mart_speed_to_lead_cube where period_grain = 'weeks') "
        f"and period_weeks = least({weeks}, (select max(period_weeks) from mart_speed_to_lead_cube "
        "where period_grain = 'weeks'))")
    cube = {r[0]: r[1:] for r in con.execute(f"""
        select owner_id, requests, missed_requests, open_requests, missed_share, share_within_5_min,
               median_latency_minutes, period_start
        from mart_speed_to_lead_cube
        where period_grain = 'weeks' and request_type = 'all' and segment = 'all' and owner_id <> 'all' and {span}
    """).fetchall()}
    starts = {r[-1] for r in cube.values()}
    assert len(starts) <= 1
    since = None if weeks is None or not starts else starts.pop()
    where = "" if since is None else f"where triggered_at >= timestamp '{since}'"
    follow_ups = con.execute(f"select owner_id, sla_status from fct_follow_ups {where}").fetchall()
    by_owner = {r["owner_id"]: r for r in rows}
    assert len(by_owner) == len(rows)
    assert set(by_owner) == set(cube) | {o for o, _ in follow_ups}
    for owner, (requests, missed, open_, missed_share, within_5, median, _) in cube.items():
        row = by_owner[owner]
        assert (row["requests"], row["missed_requests"], row["open_requests"]) == (requests, missed, open_)
        assert row["missed_share"] == (None if missed_share is None else pytest.approx(missed_share, abs=6e-4))
        assert row["share_within_5_min"] == (None if within_5 is None else pytest.approx(within_5, abs=6e-4))
        assert row["median_latency_minutes"] == (None if median is None else pytest.approx(median, abs=0.051))
        assert row["is_queue"] == owner.startswith("queue:")
    assert sum(r["follow_ups_due"] for r in rows) == sum(1 for _, s in follow_ups if s in ("met", "missed"))
    assert sum(r["missed_follow_ups"] for r in rows) == sum(1 for _, s in follow_ups if s == "missed")
    assert sum(r["pending_follow_ups"] for r in rows) == sum(1 for _, s in follow_ups if s == "pending")
    names = dict(con.execute("select owner_id, owner_name from dim_owner").fetchall())
    for row in rows:
        assert row["total_missed"] == row["missed_requests"] + row["missed_follow_ups"]
        assert row["owner_name"] == names[row["owner_id"]]  # every owner of the marts has a name
    # worst first
    assert [r["total_missed"] for r in rows] == sorted((r["total_missed"] for r in rows), reverse=True)


def test_owners_missing_sla_counts_add_up_to_the_marts(compiled, con):
    rows = _rows(con, compiled[0]["owners_missing_sla"])
    _check_owners(con, rows)
    # over all weeks the owners' requests are every counted request
    assert sum(r["requests"] for r in rows) == con.execute("select count(*) from fct_speed_to_lead").fetchall()[0][0] > 0


def test_owners_missing_sla_lookback(compiled, con):
    _check_owners(con, _rows(con, compiled[1]["owners_missing_sla"]), weeks=LOOKBACK_WEEKS)


# 3. campaigns_colliding_with_sequences -----------------------------------------------------------------------------

def _marketing_sales_incidents(con, since=None, include_calls=True) -> dict[tuple, list]:
    """{(marketing emitter, sales emitter): [(person, gap minutes, marketing first)]} from the emitters' names."""
    pairs = defaultdict(list)
    rows = con.execute("select person_id, touched_at, emitter, earlier_emitter, gap_minutes "
                       "from fct_double_touches").fetchall()
    for person, at, later, earlier, gap in rows:
        kinds = {later.split(":")[0], earlier.split(":")[0]}
        if kinds != {"marketing", "sales"} or (since is not None and at < since):
            continue
        marketing, sales = (later, earlier) if later.startswith("marketing:") else (earlier, later)
        if not include_calls and sales.startswith("sales:call:"):
            continue
        pairs[(marketing, sales)].append((person, gap, earlier == marketing))
    return pairs


def _check_campaigns(rows: list[dict], pairs: dict, min_incidents: int = 1) -> None:
    shown = {k: v for k, v in pairs.items() if len(v) >= min_incidents}
    got = {(r["marketing_emitter"], r["sales_emitter"]): r for r in rows}
    assert len(got) == len(rows) and set(got) == set(shown)
    assert sum(r["incidents"] for r in rows) == sum(len(v) for v in shown.values())
    for key, incidents in shown.items():
        row = got[key]
        assert row["marketing_emitter"].startswith("marketing:") and row["sales_emitter"].startswith("sales:")
        assert row["sales_emitter_kind"] == ("call" if key[1].startswith("sales:call:") else "sequence")
        assert row["incidents"] == len(incidents)
        assert row["persons_affected"] == len({p for p, _, _ in incidents})
        assert row["marketing_first"] == sum(1 for *_, m_first in incidents if m_first)
        assert row["marketing_first"] + row["sales_first"] == row["incidents"]
        assert row["median_gap_minutes"] == pytest.approx(statistics.median(g for _, g, _ in incidents), abs=0.051)
        assert 0 < row["median_gap_minutes"] <= 24 * 60
        assert row["share_of_incidents"] == pytest.approx(len(incidents) / sum(map(len, pairs.values())), abs=6e-5)
    assert [r["incidents"] for r in rows] == sorted((r["incidents"] for r in rows), reverse=True)


def test_campaigns_colliding_with_sequences_count_every_marketing_sales_incident(compiled, con):
    rows = _rows(con, compiled[0]["campaigns_colliding_with_sequences"])
    pairs = _marketing_sales_incidents(con)
    _check_campaigns(rows, pairs)
    # the incidents are exactly the mart's marketing×sales rows
    mart = con.execute("select count(*) from fct_double_touches where pair_kind = 'marketing×sales'").fetchall()[0][0]
    assert sum(r["incidents"] for r in rows) == mart > 0


def test_campaigns_colliding_with_sequences_parameters(compiled, con):
    rows = _rows(con, compiled[1]["campaigns_colliding_with_sequences"])
    latest = con.execute("select max(touched_at) from fct_double_touches").fetchall()[0][0]
    pairs = _marketing_sales_incidents(con, since=latest - timedelta(days=LOOKBACK_DAYS), include_calls=False)
    _check_campaigns(rows, pairs, min_incidents=PARAMS["min_incidents"])
    assert all(r["sales_emitter_kind"] == "sequence" for r in rows)


# 4. suppressed_and_why ---------------------------------------------------------------------------------------------

def _suppressed(con) -> dict[str, dict]:
    return {r["person_id"]: r for r in _rows(con, """
        select person_id, coalesce(suppression_reason, '(no reason recorded)') as reason, stage, blocked_decision,
               open_risk, owner_id
        from mart_stage_map where stage = 'suppressed' or suppression_reason is not null""")}


def test_suppressed_and_why_lists_every_suppressed_person(compiled, con):
    rows = _rows(con, compiled[0]["suppressed_and_why"])
    mart = _suppressed(con)
    assert len(rows) == len(mart) > 0 and {r["person_id"] for r in rows} == set(mart)
    per_reason = Counter(m["reason"] for m in mart.values())
    assert {r["suppression_reason"]: r["reason_persons"] for r in rows} == dict(per_reason)
    assert sum(per_reason.values()) == len(mart)
    assert sum({r["suppression_reason"]: r["reason_share"] for r in rows}.values()) == pytest.approx(1, abs=1e-3)
    persons = {r["person_id"]: r for r in _rows(con, "select person_id, first_name, last_name, best_email "
                                                     "from dim_person")}
    for r in rows:
        m, p = mart[r["person_id"]], persons[r["person_id"]]
        assert (r["suppression_reason"], r["stage"], r["blocked_decision"], r["open_risk"], r["owner_id"]) == \
            (m["reason"], m["stage"], m["blocked_decision"], m["open_risk"], m["owner_id"])
        assert (r["first_name"], r["last_name"], r["best_email"]) == \
            (p["first_name"], p["last_name"], p["best_email"])
    # the biggest reason first, each reason's rows together and ranked 1..n
    assert [r["reason_persons"] for r in rows] == sorted((r["reason_persons"] for r in rows), reverse=True)
    for reason, n in per_reason.items():
        assert [r["rank_in_reason"] for r in rows if r["suppression_reason"] == reason] == list(range(1, n + 1))


def test_suppressed_and_why_parameters(compiled, con):
    rows = _rows(con, compiled[1]["suppressed_and_why"])
    per_reason = Counter(m["reason"] for m in _suppressed(con).values())
    wanted = {reason: n for reason, n in per_reason.items() if reason in PARAMS["suppression_reasons"]}
    shown = Counter(r["suppression_reason"] for r in rows)
    assert set(shown) == set(wanted)
    for reason, n in wanted.items():
        assert shown[reason] == min(n, PARAMS["max_rows_per_reason"])
        # the head count stays the reason's full count; the shares are of the reasons asked for
        assert {r["reason_persons"] for r in rows if r["suppression_reason"] == reason} == {n}
