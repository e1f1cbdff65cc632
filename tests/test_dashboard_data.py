"""The dashboard's queries (dashboard/data.py) against the marts: unfiltered they are the marts' own rows, an
owner or a segment gives that owner's or segment's row of the marts, and a hand-made case checks the person
filters of the double-touch page."""

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


STL = ["requests", "missed_requests", "median_latency_minutes", "p90_latency_minutes",
       "median_business_latency_minutes", "share_within_5_min", "share_within_1_hour", "missed_share"]


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
    for r in by_type:
        _close(r, rows[("request_type", r["request type"])], STL)


def test_double_touch_rates_are_the_mart_unfiltered(q, everything):
    mart = {r["pair_kind"]: r for r in q("select * from mart_double_touch_rates where period_start is null", [])
            .to_dict("records")}
    got = {r["pair_kind"]: r for r in data.double_touch_rates(q, everything).to_dict("records")}
    assert set(got) == set(mart) == {"all", "marketing×sales", "sales×sales", "marketing×marketing"}
    for k in got:
        _close(got[k], mart[k], ["touches", "incidents", "incidents_per_10k_touches", "share_of_touched_persons"])
    weekly = {(r["week"], r["pair_kind"]): r for r in data.double_touch_weekly(q, everything).to_dict("records")}
    mart_weeks = {(r["period_start"], r["pair_kind"]): r for r in q(
        "select * from mart_double_touch_rates where period_start is not null", []).to_dict("records")}
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


def test_person_filters_on_a_hand_made_case(tmp_path):
    """Two persons: p1 (owner o1, smb) has 3 touches with one double touch, p2 (owner o2, enterprise) 1 touch.
    Owner o1: 3 touches, 1 incident = 3,333.3 per 10k, 1 of 1 touched persons; segment enterprise: 1 touch, none."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("""create table fct_touches as select * from (values
        ('t1', 'p1', timestamp '2026-10-05 09:00', true), ('t2', 'p1', timestamp '2026-10-05 10:00', true),
        ('t3', 'p1', timestamp '2026-10-09 10:00', true), ('t4', 'p2', timestamp '2026-10-05 11:00', true),
        ('t5', 'p2', timestamp '2026-10-05 11:30', false))
        as t(touch_id, person_id, touched_at, counts_as_touch)""")
    con.execute("""create table fct_double_touches as select 't2' as touch_id, 'p1' as person_id,
        timestamp '2026-10-05 10:00' as touched_at, 'marketing×sales' as pair_kind""")
    con.execute("create table mart_stage_map as select * from (values ('p1', 'o1'), ('p2', 'o2')) as t(person_id, owner_id)")
    con.execute("create table dim_person as select * from (values ('p1', 'a1'), ('p2', 'a2')) as t(person_id, account_id)")
    con.execute("create table dim_account as select * from (values ('a1', 'smb'), ('a2', 'enterprise')) as t(account_id, segment)")

    def q(sql, params):
        return con.cursor().execute(sql, params).df()

    def rates(**kw):
        return {r["pair_kind"]: r for r in data.double_touch_rates(
            q, data.Filters(date(2026, 10, 1), date(2026, 10, 31), **kw)).to_dict("records")}

    everyone = rates()
    assert (everyone["all"]["touches"], everyone["all"]["incidents"]) == (4, 1)
    assert everyone["all"]["incidents_per_10k_touches"] == pytest.approx(2500.0)
    assert everyone["all"]["share_of_touched_persons"] == pytest.approx(0.5)
    o1 = rates(owner_id="o1")
    assert (o1["all"]["touches"], o1["marketing×sales"]["incidents"], o1["sales×sales"]["incidents"]) == (3, 1, 0)
    assert o1["all"]["incidents_per_10k_touches"] == pytest.approx(10000 / 3)
    assert o1["all"]["share_of_touched_persons"] == pytest.approx(1.0)
    ent = rates(segment="enterprise")
    assert (ent["all"]["touches"], ent["all"]["incidents"], ent["all"]["share_of_touched_persons"]) == (1, 0, 0.0)
    nobody = rates(owner_id="o9")  # an owner without persons: zero touches, no rates, no error
    assert (nobody["all"]["touches"], nobody["all"]["incidents"], nobody["all"]["incidents_per_10k_touches"]) == \
        (0, 0, None)
    early = data.double_touch_rates(q, data.Filters(date(2026, 10, 6), date(2026, 10, 31)))
    assert early.set_index("pair_kind").loc["all", "touches"] == 1  # only t3 falls in the range
    con.close()


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
