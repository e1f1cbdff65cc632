"""The dashboard's queries (dashboard/data.py) against the marts: unfiltered they are the marts' own rows, an
owner or a segment gives that owner's or segment's row of the marts, a date range gives the cube's row of the weeks
it touches (equal to a recomputation from the facts), and every function of the filtered pages runs for every owner
and segment. (The person filters of the double-touch page on a hand-made warehouse: tests/test_kpi.py.)"""

from datetime import date

import duckdb
import pytest

from dashboard import data
from revops import snapshot


@pytest.fixture(scope="module")
def q(s_snapshot):
    snap, con = snapshot.open_current(s_snapshot)
    yield lambda sql, params: con.cursor().execute(sql, params).df()
    con.close()


@pytest.fixture(scope="module")
def everything(q) -> data.Filters:
    b = data.bounds(q)
    return data.Filters(b.first_day, b.last_day)


def _close(a: dict, b: dict, keys):
    for k in keys:
        if a[k] is None or b[k] is None or a[k] != a[k]:  # None or NaN on both sides
            assert (b[k] is None or b[k] != b[k]) and (a[k] is None or a[k] != a[k]), k
        else:
            assert a[k] == pytest.approx(b[k], rel=1e-12, abs=1e-12), k


STL = data.STL_MEASURES


def test_speed_to_lead_is_the_summary_mart_for_all_each_owner_and_each_segment(q, everything):
    summary = q("select * from mart_speed_to_lead_summary where period_grain = 'all'", [])
    rows = {(r["dimension"], r["dimension_value"]): r for r in summary.to_dict("records")}
    _close(data.speed_to_lead_headline(q, everything), rows[("all", "all")], STL)
    owners = [v for d, v in rows if d == "owner"]
    segments = [v for d, v in rows if d == "segment"]
    assert len(owners) >= 5 and len(segments) >= 3
    for o in owners:
        f = data.Filters(everything.start, everything.end, owner_id=o)
        _close(data.speed_to_lead_headline(q, f), rows[("owner", o)], STL)
    for s in segments:
        f = data.Filters(everything.start, everything.end, segment=s)
        _close(data.speed_to_lead_headline(q, f), rows[("segment", s)], STL)
    by_type = data.speed_to_lead_by(q, everything, "request type").to_dict("records")
    assert len(by_type) == 2
    for r in by_type:
        _close(r, rows[("request_type", r["request type"])], STL)
    by_owner = data.speed_to_lead_by(q, everything, "owner")
    assert len(by_owner) == len(owners) and by_owner["requests"].sum() == rows[("all", "all")]["requests"]
    weekly = data.speed_to_lead_by(q, everything, "week").to_dict("records")
    week_rows = {r["period_start"]: r for r in q("select * from mart_speed_to_lead_summary where period_grain = 'week' "
                                                 "and dimension = 'all'", []).to_dict("records")}
    assert len(weekly) == len(week_rows) >= 4
    for r in weekly:
        _close(r, week_rows[r["week"]], STL)
    # open requests are counted, and in none of the shares
    everyone = rows[("all", "all")]
    assert everyone["open_requests"] > 0
    assert everyone["known_outcome_requests"] == everyone["requests"] - everyone["open_requests"]


def test_a_date_range_reads_the_weeks_it_touches(q, everything):
    """A range from a Wednesday to the next Tuesday selects those two whole weeks: the headline equals a
    recomputation from fct_speed_to_lead's requests of the two weeks (shares of the known outcomes), the latency
    distribution adds up to its requests, and the late list of its last day holds no request answered in time."""
    import statistics
    from datetime import timedelta

    first_week = q("select min(request_week) as w from fct_speed_to_lead", []).at[0, "w"].date()
    start = first_week + timedelta(days=9)  # the Wednesday of the second week
    f = data.Filters(start, start + timedelta(days=6))
    w = data.speed_to_lead_weeks(q, f)
    assert (w.start, w.end) == (first_week + timedelta(days=7), first_week + timedelta(days=20))
    reqs = q("select outcome, latency_seconds, answered_within_5_min from fct_speed_to_lead "
             "where request_week between ? and ?", [w.start, w.end])
    answered = reqs[reqs["outcome"] == "answered"]
    known = len(answered) + (reqs["outcome"] == "missed").sum()
    h = data.speed_to_lead_headline(q, f)
    assert h["requests"] == len(reqs) and h["known_outcome_requests"] == known
    assert h["missed_share"] == pytest.approx((reqs["outcome"] == "missed").sum() / known)
    assert h["share_within_5_min"] == pytest.approx(answered["answered_within_5_min"].sum() / known)
    assert h["median_latency_minutes"] == pytest.approx(statistics.median(answered["latency_seconds"]) / 60)
    dist = data.latency_distribution(q, f)
    assert dist["requests"].sum() == len(reqs) and {"missed", "open"} <= set(dist["latency"])
    assert dist["bucket_order"].is_monotonic_increasing
    late = data.late_requests(q, f, f.end)
    day = q("select outcome, answered_within_5_min from fct_speed_to_lead where cast(requested_at as date) = ?",
            [f.end])
    assert len(late) == (~day["answered_within_5_min"]).sum()
    assert (late["status"] == "open: no sales touch yet").sum() == (day["outcome"] == "open").sum()


def test_every_owner_and_segment_runs_every_filtered_query(q, everything):
    """The owner filter once raised `Ambiguous reference to column name "owner_id"` on the speed-to-lead page: every
    function of the filtered pages runs for every owner and segment of the sidebar, and for a slice that holds
    nothing, and a filtered count never exceeds the unfiltered one."""
    b = data.bounds(q)
    total = data.speed_to_lead_headline(q, everything)["requests"]
    filters = ([data.Filters(everything.start, everything.end, owner_id=o) for o in b.owners["owner_id"]]
               + [data.Filters(everything.start, everything.end, segment=s) for s in b.segments]
               + [data.Filters(everything.start, everything.end, owner_id=b.owners["owner_id"].iloc[-1],
                               segment=b.segments[0])])
    assert len(filters) >= 8
    for f in filters:
        h = data.speed_to_lead_headline(q, f)
        assert 0 <= h["requests"] <= total, f
        for dim in ("owner", "request type", "segment", "week"):
            data.speed_to_lead_by(q, f, dim)
        assert data.latency_distribution(q, f)["requests"].sum() == h["requests"], f
        data.late_requests(q, f, b.last_day)
        rates = data.double_touch_rates(q, f)
        assert set(rates["pair_kind"]) == set(data.PAIR_KINDS), f
        data.double_touch_weekly(q, f)
        data.colliding_emitters(q, f)
        data.actions_headline(q, f, b.last_day)
        data.actions_due(q, f, b.last_day)
        data.stage_route_counts(q, f)


def test_double_touch_rates_are_the_mart_unfiltered(q, everything):
    mart = {r["pair_kind"]: r for r in q("select * from mart_double_touch_rates where period_grain = 'all'", [])
            .to_dict("records")}
    got = {r["pair_kind"]: r for r in data.double_touch_rates(q, everything).to_dict("records")}
    assert set(got) == set(mart) == {"all", "marketing×sales", "sales×sales", "marketing×marketing"}
    for k in got:
        _close(got[k], mart[k], ["touches", "incidents", "incidents_per_10k_touches", "share_of_touched_persons"])
    weekly = {(r["week"], r["pair_kind"]): r for r in data.double_touch_weekly(q, everything).to_dict("records")}
    mart_weeks = {(r["period_start"], r["pair_kind"]): r for r in q(
        "select * from mart_double_touch_rates where period_grain = 'week'", []).to_dict("records")}
    assert set(weekly) == set(mart_weeks) and len(weekly) >= 8
    for k in weekly:
        _close(weekly[k], mart_weeks[k], ["touches", "incidents", "incidents_per_10k_touches",
                                          "share_of_touched_persons"])


def test_attribution_headline_adds_up_per_model(q, everything):
    won = q("select count(distinct deal_id) as n, sum(amount) as revenue from (select distinct deal_id, deal_amount "
            "as amount from fct_signal_attribution)", []).iloc[0]
    tops = []
    for m in data.ATTRIBUTION_MODELS:
        h = data.attribution_headline(q, everything, m)
        assert h["won_deals"] == won["n"] and h["won_revenue"] == pytest.approx(won["revenue"])
        assert h["attributed_revenue"] + h["unattributed_revenue"] == pytest.approx(won["revenue"])
        by_type = q("select signal_type, sum(attributed_revenue) as r from fct_signal_attribution where "
                    "attribution_model = ? and signal_id is not null group by 1 order by 2 desc, 1 limit 1", [m])
        assert (h["top_signal_type"], h["top_signal_revenue"]) == (by_type.at[0, "signal_type"],
                                                                   pytest.approx(by_type.at[0, "r"]))
        tops.append(h["top_signal_revenue"])
        monthly = data.attribution_monthly(q, everything, m)
        mart = q("select sum(attributed_revenue) as r from mart_signal_attribution_monthly where attribution_model = ?"
                 " and signal_type <> 'unattributed'", [m]).at[0, "r"]
        assert monthly.loc[monthly["signal_type"] != "unattributed", "attributed_revenue"].sum() == pytest.approx(mart)
    assert len(set(tops)) > 1  # the models differ: switching them on the page changes the numbers


def test_next_actions_cover_the_stage_map(q, everything):
    total = q("select count(*) as n, count(*) filter (where stage = 'suppressed') as s from mart_stage_map", []).iloc[0]
    h = data.actions_headline(q, everything, data.bounds(q).last_day)
    assert (h["persons"], h["suppressed"]) == (total["n"], total["s"])
    counts = data.stage_route_counts(q, everything)
    assert counts["persons"].sum() == total["n"]
    per_owner = sum(data.actions_headline(q, data.Filters(everything.start, everything.end, owner_id=o), date.max)
                    ["persons"] for o in q("select distinct owner_id from mart_stage_map", [])["owner_id"])
    assert per_owner == total["n"]


def test_an_unchanged_date_range_follows_the_data_and_a_chosen_one_stays(s_snapshot, tmp_path, monkeypatch):
    """The open app (Streamlit's AppTest, no browser) on a snapshot whose last day is D; a newer snapshot adds D+1.
    A session that never touched the date range now ends on D+1 (the overview shows the new day); a session whose
    reader picked a range keeps it."""
    import shutil
    from datetime import timedelta

    from streamlit.testing.v1 import AppTest

    wh = tmp_path / "wh" / "warehouse.duckdb"
    wh.parent.mkdir()
    shutil.copy(snapshot.current_path(s_snapshot), wh)  # a snapshot's tables are the marts: publishable as is
    out = tmp_path / "snaps"
    snapshot.publish(wh, out)
    monkeypatch.setenv("REVOPS_SNAPSHOT_DIR", str(out))
    untouched = AppTest.from_file("../dashboard/app.py", default_timeout=60).run()
    chosen = AppTest.from_file("../dashboard/app.py", default_timeout=60).run()
    assert not untouched.exception and not chosen.exception
    first, last = untouched.date_input(key="dates").value
    picked = (first, last - timedelta(days=3))
    chosen.date_input(key="dates").set_value(picked).run()
    assert chosen.date_input(key="dates").value == picked

    con = duckdb.connect(str(wh))
    con.execute("insert into mart_revops_kpis by name select day_utc + 1 as day_utc, 7 as inbound_requests "
                "from mart_revops_kpis order by day_utc desc limit 1")
    con.close()
    snapshot.publish(wh, out)
    untouched.run()
    chosen.run()
    assert untouched.date_input(key="dates").value == (first, last + timedelta(days=1))
    assert [m.value for m in untouched.metric if m.label == "Inbound requests"] == ["7"]
    assert chosen.date_input(key="dates").value == picked
