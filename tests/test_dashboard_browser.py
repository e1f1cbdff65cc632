"""The dashboard in Debian's Chromium against the S world: every page opens without an error and shows the marts'
numbers; switching the attribution model and the owner filter change them to the right values; every page opens
without an error under no filter, and the filtered pages under every owner, every segment and a slice that holds
nothing; screenshots of every page go to test-artifacts/dashboard/. The expected numbers are read here from the
marts with plain SQL."""

import duckdb
import pytest
from playwright.sync_api import expect

from dashboard import data, fmt
from revops import snapshot
from dashboard.browser import (PAGES, assert_no_error, browser_page, dashboard, expect_metrics, metric, open_filtered,
                               open_page, pick, screenshot, wait_until_rendered)


@pytest.fixture(scope="module")
def marts(s_snapshot):
    con = duckdb.connect(str(snapshot.current_path(s_snapshot)), read_only=True)

    def one(sql: str, params=None, missing: dict | None = None) -> dict:
        """The first row as a dict; `missing` when there is none (else an IndexError)."""
        cur = con.cursor().execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        return dict(zip(cols, rows[0])) if rows or missing is None else missing
    yield one
    con.close()


def test_every_page_shows_the_marts_numbers(s_snapshot, marts, tmp_path):
    kpi = marts("select * from mart_revops_kpis order by day_utc desc limit 1")
    stl = marts("select * from mart_speed_to_lead_summary where period_grain = 'all' and dimension = 'all'")
    dt = marts("select * from mart_double_touch_rates where period_start is null and pair_kind = 'all'")
    ms = marts("select * from mart_double_touch_rates where period_start is null and pair_kind = 'marketing×sales'")
    won = marts("select sum(deal_amount) as revenue, count(*) as deals from (select distinct deal_id, deal_amount "
                "from fct_signal_attribution)")

    def attributed(model: str) -> dict:
        return marts("""select sum(attributed_revenue) filter (where signal_id is not null) as attributed,
                            (select sum(r) from (select sum(attributed_revenue) as r from fct_signal_attribution
                             where attribution_model = ? and signal_id is not null group by signal_type
                             order by r desc limit 1)) as top
                        from fct_signal_attribution where attribution_model = ?""", [model, model])
    domains = marts("select count(*) filter (where status = 'paused') as paused, count(*) as n "
                    "from dim_sending_domain_status")
    stage = marts("select count(*) as persons, count(*) filter (where stage = 'suppressed') as suppressed "
                  "from mart_stage_map")
    shots = []
    with dashboard(s_snapshot, tmp_path / "streamlit.log") as url, browser_page() as page:
        open_page(page, url, "overview")
        expect_metrics(page, {label: fmt.FORMATS[kind](kpi[col]) for col, label, kind, _ in data.DAILY_KPIS})
        expect(page.get_by_text(f"Data through {kpi['day_utc']}")).to_be_visible()
        shots.append(screenshot(page, "overview"))

        open_page(page, url, "speed-to-lead")
        expect_metrics(page, {"Counted requests": fmt.count(stl["requests"]),
                              "Median latency": fmt.minutes(stl["median_latency_minutes"]),
                              "p90 latency": fmt.minutes(stl["p90_latency_minutes"]),
                              "Within 5 min": fmt.pct(stl["share_within_5_min"]),
                              "Within 1 h": fmt.pct(stl["share_within_1_hour"]),
                              "Missed": fmt.pct(stl["missed_share"]),
                              "Open (not answered yet)": fmt.count(stl["open_requests"])})
        assert stl["open_requests"] > 0  # S at its as_of has requests not answered yet
        shots.append(screenshot(page, "speed-to-lead"))

        open_page(page, url, "double-touch")
        expect_metrics(page, {"Touches": fmt.count(dt["touches"]), "Double touches": fmt.count(dt["incidents"]),
                              "Double touches per 10k touches": fmt.rate_per_10k(dt["incidents_per_10k_touches"]),
                              "Touched persons with a double touch": fmt.pct(dt["share_of_touched_persons"]),
                              "Marketing × sales per 10k": fmt.rate_per_10k(ms["incidents_per_10k_touches"])})
        shots.append(screenshot(page, "double-touch"))

        open_page(page, url, "signal-to-revenue")
        first = attributed("first_touch")
        expect_metrics(page, {"Won deals": fmt.count(won["deals"]), "Won revenue": fmt.money(won["revenue"]),
                              "Attributed revenue": fmt.money(first["attributed"]),
                              "Top signal type revenue": fmt.money(first["top"])})
        shots.append(screenshot(page, "signal-to-revenue"))
        # the model is a control on the page: time decay spreads the revenue over all signals of a deal
        decay = attributed("time_decay")
        assert fmt.money(decay["top"]) != fmt.money(first["top"])
        page.get_by_test_id("stRadioGroup").get_by_text("Time decay", exact=True).click()
        expect_metrics(page, {"Top signal type revenue": fmt.money(decay["top"]),
                              "Attributed revenue": fmt.money(decay["attributed"]),
                              "Won revenue": fmt.money(won["revenue"])})
        assert "model=Time+decay" in page.url  # the view is a link
        wait_until_rendered(page)
        shots.append(screenshot(page, "signal-to-revenue-time-decay"))

        open_page(page, url, "deliverability")
        expect_metrics(page, {"Sending domains": fmt.count(domains["n"]), "Paused now": fmt.count(domains["paused"])})
        shots.append(screenshot(page, "deliverability"))

        open_page(page, url, "next-actions")
        expect_metrics(page, {"Persons": fmt.count(stage["persons"]), "Suppressed": fmt.count(stage["suppressed"])})
        shots.append(screenshot(page, "next-actions"))

        open_page(page, url, "sync-health")
        runs = marts("select count(*) as n from mart_sync_health")
        expect_metrics(page, {"Sync runs": fmt.count(runs["n"])})
        shots.append(screenshot(page, "sync-health"))
    assert len(shots) == len(PAGES) + 1 and all(p.stat().st_size > 20_000 for p in shots)


def test_owner_and_segment_filters_apply_across_pages(s_snapshot, marts, tmp_path):
    """The owner with the most requests, picked in the sidebar on the speed-to-lead page: its row of the summary
    mart; then the next-actions page (same session) counts only that owner's persons; a segment in the URL."""
    owner = marts("""select dimension_value as owner_id, owner_name, s.* from mart_speed_to_lead_summary as s
                     join dim_owner on owner_id = dimension_value
                     where period_grain = 'all' and dimension = 'owner' order by requests desc, 1 limit 1""")
    persons = marts("select count(*) as n from mart_stage_map where owner_id = ?", [owner["owner_id"]])
    seg = marts("""select * from mart_speed_to_lead_summary where period_grain = 'all' and dimension = 'segment'
                   and dimension_value = 'enterprise'""")
    everyone = marts("select requests from mart_speed_to_lead_summary where period_grain = 'all' and dimension = 'all'")
    with dashboard(s_snapshot, tmp_path / "streamlit.log") as url, browser_page() as page:
        open_page(page, url, "speed-to-lead")
        expect_metrics(page, {"Counted requests": fmt.count(everyone["requests"])})
        pick(page, "Owner", owner["owner_name"])
        expect_metrics(page, {"Counted requests": fmt.count(owner["requests"]),
                              "Open (not answered yet)": fmt.count(owner["open_requests"]),
                              "Median latency": fmt.minutes(owner["median_latency_minutes"]),
                              "Within 5 min": fmt.pct(owner["share_within_5_min"]),
                              "Missed": fmt.pct(owner["missed_share"])})
        wait_until_rendered(page)
        screenshot(page, "speed-to-lead-one-owner")
        page.get_by_role("link", name="Next actions").click()
        expect_metrics(page, {"Persons": fmt.count(persons["n"])})

        open_page(page, url, "speed-to-lead", "?segment=enterprise")
        expect_metrics(page, {"Counted requests": fmt.count(seg["requests"]),
                              "Median latency": fmt.minutes(seg["median_latency_minutes"])})
        expect(metric(page, "Counted requests")).not_to_have_text(fmt.count(everyone["requests"]))


# the pages that apply the owner and segment filters; the others say they do not, and read nothing filtered
FILTERED_PAGES = ["speed-to-lead", "double-touch", "next-actions"]


def test_every_page_opens_under_every_filter(s_snapshot, marts, tmp_path):
    """One browser session, every page loaded afresh for each filter (through the URL the filters are bound to),
    failing on any Streamlit exception element, error box or error text: every page with no filter; the pages that
    filter (speed-to-lead, double touch, next actions) with every owner and every segment of the sidebar, each with
    the numbers of its slice; every other page once with an owner and a segment set (they read nothing filtered, so
    one load each is enough); and a slice that holds nothing (an owner and a segment with no request, touch or
    person together), which shows zeros. 7 + 3 x (owners + segments + 1) + 4 loads, about a second each on S."""
    def stl(owner="all", segment="all") -> dict:
        return marts("""select requests, open_requests from mart_speed_to_lead_cube where period_grain = 'weeks'
                        and covers_all_weeks and owner_id = ? and request_type = 'all' and segment = ?""",
                     [owner, segment], missing={"requests": 0, "open_requests": 0})

    def dt(owner="all", segment="all") -> dict:
        return marts("""select touches from mart_double_touch_cube where period_grain = 'weeks' and covers_all_weeks
                        and owner_id = ? and segment = ? and pair_kind = 'all'""", [owner, segment],
                     missing={"touches": 0})

    def persons(owner=None, segment=None) -> int:
        return marts("""select count(*) as n from mart_stage_map as m left join dim_person as p using (person_id)
                        left join dim_account as a on a.account_id = p.account_id
                        where (? is null or m.owner_id = ?) and (? is null or coalesce(a.segment, 'unknown') = ?)""",
                     [owner, owner, segment, segment])["n"]

    def check(page, name: str, owner_id: str | None, segment: str | None) -> None:
        o, s = owner_id or "all", segment or "all"
        if name == "speed-to-lead":
            row = stl(o, s)
            expect_metrics(page, {"Counted requests": fmt.count(row["requests"]),
                                  "Open (not answered yet)": fmt.count(row["open_requests"])})
        elif name == "double-touch":
            expect_metrics(page, {"Touches": fmt.count(dt(o, s)["touches"])})
        elif name == "next-actions":
            expect_metrics(page, {"Persons": fmt.count(persons(owner_id, segment))})

    con = duckdb.connect(str(snapshot.current_path(s_snapshot)), read_only=True)
    b = data.bounds(lambda sql, params: con.cursor().execute(sql, params).df())
    con.close()
    owners = list(zip(b.owners["owner_id"], b.owners["owner_name"]))
    # an empty slice: the owner and segment with nothing together on any filtered page
    empty = next(((oid, name, seg) for oid, name in owners for seg in b.segments
                  if stl(oid, seg)["requests"] == 0 and dt(oid, seg)["touches"] == 0 and persons(oid, seg) == 0), None)
    assert len(owners) >= 5 and len(b.segments) >= 3 and empty is not None
    loads = 0
    with dashboard(s_snapshot, tmp_path / "streamlit.log") as url, browser_page() as page:
        for name in PAGES:
            open_filtered(page, url, name)
            check(page, name, None, None)
            loads += 1
        for name in FILTERED_PAGES:
            for owner_id, owner_name in owners:
                open_filtered(page, url, name, owner=owner_name)
                check(page, name, owner_id, None)
                loads += 1
            for seg in b.segments:
                open_filtered(page, url, name, segment=seg)
                check(page, name, None, seg)
                loads += 1
            open_filtered(page, url, name, owner=empty[1], segment=empty[2])
            check(page, name, empty[0], empty[2])
            loads += 1
            if name == "speed-to-lead":
                expect_metrics(page, {"Counted requests": "0", "Median latency": fmt.NONE, "Missed": fmt.NONE})
                screenshot(page, "speed-to-lead-empty-slice")
        for name in set(PAGES) - set(FILTERED_PAGES):
            open_filtered(page, url, name, owner=owners[0][1], segment=b.segments[0])
            loads += 1
        assert_no_error(page)
    assert loads == len(PAGES) * 2 - len(FILTERED_PAGES) + len(FILTERED_PAGES) * (len(owners) + len(b.segments) + 1)


def test_a_pipeline_run_beside_an_open_dashboard(day_one_warehouse, world_s, tmp_path):
    """The dashboard is open on the warehouse of the first day. The pipeline then lands the last day, builds
    (`revops build`: dbt through Dagster, then the snapshot) and syncs into the CRM sandbox (`revops sync`) while
    the page is reloaded over and over: the run succeeds (the dashboard holds no lock on the warehouse), the page
    keeps working on the old snapshot meanwhile, and afterwards it shows the new numbers by itself, without a
    reload (it watches the snapshot directory)."""
    import os
    import shutil
    import subprocess
    import sys
    import threading
    import time

    from sandbox.crm_server import CRMServer, ServerConfig

    wh = tmp_path / "wh" / "warehouse.duckdb"
    wh.parent.mkdir()
    shutil.copy(day_one_warehouse, wh)
    snaps = tmp_path / "snapshots"
    first = snapshot.publish(wh, snaps)

    def kpis_of(path):
        con = duckdb.connect(str(path), read_only=True)
        row = con.execute("select day_utc, inbound_requests, touches, signals from mart_revops_kpis "
                          "order by day_utc desc limit 1").fetchall()[0]
        runs = con.execute("select count(*), coalesce(sum(sent), 0) from mart_sync_health").fetchall()[0]
        con.close()
        return row, runs

    old, old_runs = kpis_of(first.path)
    assert old_runs == (0, 0)
    srv = CRMServer(ServerConfig(db_path=tmp_path / "crm.sqlite", world_dir=world_s, token="snapshot-test")).start()
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(REVOPS_DUCKDB_PATH=str(wh), REVOPS_SNAPSHOT_DIR=str(snaps), HUBSPOT_BASE_URL=srv.url,
               HUBSPOT_TOKEN="snapshot-test")
    revops = [sys.executable, "-m", "revops.cli"]
    results = {}

    def pipeline():
        for step, args in [("land", ["land", "--landing-dir", str(world_s / "landing")]), ("build", ["build"]),
                           ("sync", ["sync"])]:
            res = subprocess.run(revops + args, env=env, capture_output=True, text=True, timeout=900)
            results[step] = res
            if res.returncode:
                return
    try:
        with dashboard(snaps, tmp_path / "streamlit.log") as url, browser_page() as page:
            open_page(page, url, "overview")
            expect(page.get_by_text(first.name)).to_be_visible()
            run = threading.Thread(target=pipeline)
            run.start()
            reloads = 0
            while run.is_alive():
                page.reload()
                wait_until_rendered(page)  # no error, whatever the pipeline is doing
                reloads += 1
                # a reload every few seconds still lands in every step (land ~10 s, build ~60 s, sync ~10 s on an
                # idle machine); once a second, Chromium and Streamlit took most of a core from the build
                time.sleep(4)
            for step, res in results.items():
                assert res.returncode == 0, f"{step}: {res.stdout[-3000:]}{res.stderr[-3000:]}"
            assert set(results) == {"land", "build", "sync"} and reloads >= 5
            newest = snapshot.current_path(snaps)
            assert newest != first.path
            new, new_runs = kpis_of(newest)
            assert new != old and new_runs[0] == 1 and new_runs[1] > 0
            # no reload: the open page notices the new snapshot within its 10 s watch
            expect(page.get_by_text(newest.name)).to_be_visible(timeout=30_000)
            wait_until_rendered(page)
            expect_metrics(page, {"Inbound requests": fmt.count(new[1]), "Touches": fmt.count(new[2]),
                                  "Signals": fmt.count(new[3])})
            screenshot(page, "overview-after-pipeline-run")
            open_page(page, url, "sync-health")
            expect_metrics(page, {"Sync runs": "1", "Records sent": fmt.count(new_runs[1])})
            screenshot(page, "sync-health-after-pipeline-run")
    finally:
        srv.stop()
