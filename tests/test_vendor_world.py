"""A hand-written world in the vendors' own documented shapes (tests/fixtures/vendor_world, README there), run
through the whole pipeline — the sandbox CRM seeded from its crm/ folder and extracted through the API, its
landing/ folder landed, dbt build — with the KPI numbers asserted against hand computations.

Nothing in the world comes from the generator in sandbox/: HubSpot objects after the CRM v3 OpenAPI examples,
SendGrid event-webhook POST bodies after SendGrid's samples (category as a string and as a list, both bounce
types, dropped, deferred, a retried delivery), Outreach-style JSON Lines, Segment identify/track/page/group calls
(userId-only server calls, an anonymousId-only site form), enrichment from two providers the seeds do not list
(clearbit_like, zoominfo_like), other id shapes, other file names. So a failure here is a place where the project
depends on something only its own generator does (docs/landing.md). The README derives every number asserted below.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from revops import settings  # noqa: F401  (telemetry off)

REPO = Path(__file__).resolve().parents[1]
WORLD = Path(__file__).resolve().parent / "fixtures" / "vendor_world"
DBT = str(Path(sys.executable).parent / "dbt")
AS_OF = "2026-11-30T00:00:00"
TOKEN = "vendor-world-test"


def person(anchor: str) -> str:
    """person_id of the cluster anchored at `anchor` (docs/identity.md: derived from the anchor identifier)."""
    return "per_" + hashlib.md5(anchor.encode()).hexdigest()[:16]


def account(domain: str) -> str:
    return "acc_" + hashlib.md5(domain.encode()).hexdigest()[:16]


P1 = person("crm_contact_id:501")  # Bill Lumbergh: CRM 501 (merged 733), userId user_A1, no anonymousId
P2 = person("segment_anonymous_id:3f1c2a9e-5b7d-4c1e-9a2f-8d6b0e4f7a11")  # Peter Gibbons: site form, prospect 1001
P3 = person("segment_user_id:user_B2")  # Milton Waddams: userId only, gmail, Segment group -> Hooli
P4 = person("crm_contact_id:502")  # Samir Nagheenanajar: CRM 502, prospect 1003
P5 = person("email:michael.bolton@initech.example")  # Michael Bolton: one Demo Requested (userId + anonymousId)
P6 = person("email:lawrence@globex.example")  # Lawrence Jones: prospect 1002 + its email seen at once: tie by value

INITECH, GLOBEX, HOOLI = account("initech.example"), account("globex.example"), account("hooli.example")

# Segment messageIds of the requests
R1 = "94f2b0a1-05cd-4ce3-8a74-adbec0d2e3fa"  # P1 Demo Requested 2026-11-03 14:00
R1_FOLDED = "a503c1b2-16de-4df4-9b85-becfd1e3f40b"  # P1 Demo Requested 2026-11-03 20:00 (6 h later: folded)
R2 = "d836f4e5-4901-4027-8eb8-e1f2a4b6c73e"  # P2 Contact Sales Submitted 2026-11-05 16:30
R3 = "e947a5f6-5a12-4138-9fc9-f2a3b5c7d84f"  # P4 Demo Requested 2026-11-10 10:00 (missed)
R4 = "fa58b6a7-6b23-4249-80da-a3b4c6d8e950"  # P5 Demo Requested 2026-11-27 09:00 (open at as_of)
BROKEN_SEGMENT = "c725e3d4-38f0-4f16-9da7-d0e1f3a5b62d"  # a page call with neither anonymousId nor userId


@pytest.fixture(scope="module")
def vendor_world(tmp_path_factory):
    """(warehouse path, landing results, CRM extraction results, failed dbt nodes, dbt stdout tail, results of
    landing the same files a second time)."""
    from revops.hubspot import HubSpotClient
    from revops.landing import crm, files
    from sandbox.crm_server import CRMServer, ServerConfig

    tmp = tmp_path_factory.mktemp("vendor_world")
    db = tmp / "warehouse.duckdb"
    srv = CRMServer(ServerConfig(db_path=tmp / "crm.sqlite", world_dir=WORLD, token=TOKEN)).start()
    try:
        con = duckdb.connect(str(db))
        files.ensure_schema(con)
        with HubSpotClient(base_url=srv.url, token=TOKEN) as client:
            extracted = crm.extract_all(con, client)
        con.close()
    finally:
        srv.stop()
    con = duckdb.connect(str(db))
    landed = {name: files.land_source(con, src, WORLD / "landing") for name, src in files.SOURCES.items()}
    relanded = {name: files.land_source(con, src, WORLD / "landing") for name, src in files.SOURCES.items()}
    con.close()
    # own target and log folders: a build running beside this test in dbt_project/ keeps its own
    res = subprocess.run(
        [DBT, "build", "--profiles-dir", ".", "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
         "--vars", json.dumps({"as_of": AS_OF})],
        cwd=REPO / "dbt_project", capture_output=True, text=True,
        env={**os.environ, "REVOPS_DUCKDB_PATH": str(db)})
    failed = []
    results_path = tmp / "target" / "run_results.json"
    if results_path.exists():
        for r in json.loads(results_path.read_text())["results"]:
            if r["status"] in ("error", "fail", "runtime error"):
                failed.append((r["unique_id"], r["status"], (r.get("message") or "")[:500]))
    return db, landed, extracted, failed, res.stdout[-6000:], relanded


@pytest.fixture
def q(vendor_world):
    con = duckdb.connect(str(vendor_world[0]), read_only=True)

    def query(sql: str, params=None) -> list[tuple]:
        return con.execute(sql, params or []).fetchall()

    yield query
    con.close()


# --- landing and build ---------------------------------------------------------------------------------------

def test_everything_lands_and_only_the_broken_record_is_quarantined(vendor_world, q):
    _, landed, extracted, _, _, relanded = vendor_world
    problems = [(r.source, r.path, r.problem) for results in landed.values() for r in results if r.problem]
    assert problems == []
    totals = {name: (sum(r.read for r in rs), sum(r.landed for r in rs), sum(r.quarantined for r in rs),
                     sum(r.duplicates for r in rs), sum(r.conflicting for r in rs)) for name, rs in landed.items()}
    # (read, landed, quarantined, duplicates, conflicting) per source
    assert totals == {
        "esp_events": (26, 25, 0, 1, 0),             # the 11/06 file re-POSTs one delivered event: a duplicate
        "segment_events": (16, 15, 1, 0, 0),         # one page call with neither anonymousId nor userId
        "se_prospects": (4, 4, 0, 0, 0),             # prospect 1001 twice (versions)
        "se_sequence_states": (5, 5, 0, 0, 0),
        "se_mailings": (7, 7, 0, 0, 0),
        "enrichment_companies": (3, 3, 0, 0, 0),
        "enrichment_signals": (5, 5, 0, 0, 0),
    }
    assert {k: (v.read, v.landed, v.quarantined) for k, v in extracted.items() if k != "owners"} == {
        "contacts": (2, 2, 0), "companies": (2, 2, 0), "deals": (2, 2, 0), "calls": (3, 3, 0),
        "meetings": (1, 1, 0), "tasks": (1, 1, 0)}
    quarantine = q("select source, file, line, error from raw.quarantine")
    assert len(quarantine) == 1, quarantine
    source, file, line, error = quarantine[0]
    assert (source, file, line) == ("segment_events", "segment/2026/11/04/website-0003.jsonl", 2)
    assert "anonymousId" in error and "userId" in error
    assert q("select count(*) from raw.segment_events where record_key = ?", [BROKEN_SEGMENT]) == [(0,)]
    # reconcile: read = landed + quarantined + duplicates, per file
    assert q("""select count(*) from raw.landing_manifest
                where rows_read <> rows_landed + rows_quarantined + rows_duplicate""") == [(0,)]
    # landing the same files again changes nothing
    assert all(r.skipped and not r.problem for rs in relanded.values() for r in rs)
    assert sum(len(rs) for rs in relanded.values()) == sum(len(rs) for rs in landed.values()) == 35
    # SendGrid's category, a string or a list, lands as it came
    assert dict(q("""select esp_event_id, categories::varchar from stg_esp__events
                     where esp_event_id in ('rbtnWrG1DVDGGGFHFyun0A==', 'Zm9vYmFyLXByb2Nlc3NlZC0x')""")) == {
        "rbtnWrG1DVDGGGFHFyun0A==": '"newsletter"', "Zm9vYmFyLXByb2Nlc3NlZC0x": '["webinar","fall-2026"]'}


def test_dbt_build_succeeds(vendor_world):
    _, _, _, failed, stdout, _ = vendor_world
    assert failed == [], "\n".join(f"{n} [{s}]: {m}" for n, s, m in failed) + "\n" + stdout[-3000:]


# --- identity (docs/identity.md) --------------------------------------------------------------------------------------

def test_persons_are_the_six_people_of_the_world(q):
    assert sorted(r[0] for r in q("select person_id from dim_person")) == sorted([P1, P2, P3, P4, P5, P6])


def test_identifiers_resolve_to_their_people(q):
    bridge = dict(q("select identifier_id, person_id from bridge_person_identifier"))
    expected = {
        "crm_contact_id:501": P1, "email:bill.lumbergh@initech.example": P1, "segment_user_id:user_A1": P1,
        "segment_anonymous_id:3f1c2a9e-5b7d-4c1e-9a2f-8d6b0e4f7a11": P2, "email:peter@initech.example": P2,
        "prospect_id:1001": P2,
        "segment_user_id:user_B2": P3, "email:mwaddams@gmail.com": P3,  # m.waddams+trial@ and M.Waddams@gmail.com
        "crm_contact_id:502": P4, "email:samir@globex.example": P4, "prospect_id:1003": P4,
        "segment_anonymous_id:9b2e4d6f-1a3c-4e5b-8f7a-0c1d2e3f4a5b": P4,
        "segment_user_id:user_C3": P5, "segment_anonymous_id:5e8f0a1b-2c3d-4e5f-a6b7-c8d9e0f1a2b3": P5,
        "email:michael.bolton@initech.example": P5,
        "prospect_id:1002": P6, "email:lawrence@globex.example": P6,
    }
    assert {k: bridge.get(k) for k in expected} == expected
    # nothing else: the owners' and mailboxes' addresses are no person's
    assert set(bridge) - set(expected) <= {"crm_contact_id:733"}


def test_merged_away_contact_id_is_an_identifier_of_the_survivor(q):
    """docs/identity.md: every id in hs_merged_object_ids is an identifier of that contact's person, whether or not the
    merged-away record is itself exported (733 is not)."""
    assert q("select person_id, link_rule from bridge_person_identifier where identifier_id = 'crm_contact_id:733'") \
        == [(P1, "crm_merge")]


def test_userid_only_and_site_form_persons(q):
    rows = {r[0]: r[1:] for r in q("""select person_id, best_email, first_name, last_name, job_title,
                                             primary_crm_contact_id from dim_person""")}
    assert rows[P1] == ("bill.lumbergh@initech.example", "Bill", "Lumbergh", "VP Engineering", "501")
    # the prospect's latest version (2026-11-06) wins over its first
    assert rows[P2] == ("peter@initech.example", "Peter", "Gibbons", "Senior Software Engineer", None)
    assert rows[P3][0] == "mwaddams@gmail.com"


def test_userid_only_identify_names_the_person(q):
    """A server-side identify (userId, no anonymousId) carries traits.firstName/lastName: the person's name."""
    assert q("select first_name, last_name from dim_person where person_id = ?", [P3]) == [("Milton", "Waddams")]


def test_segment_group_website_places_the_person_at_the_account(q):
    """docs/identity.md: a person's company domain comes from ... a Segment group call's traits.domain / traits.website;
    Segment's reserved group trait is `website` (https://www.hooli.example/about -> hooli.example)."""
    assert q("select account_domain from dim_person where person_id = ?", [P3]) == [("hooli.example",)]
    assert q("select current_person_count from dim_account where account_domain = 'hooli.example'") == [(1,)]


# --- accounts and the enrichment waterfall (docs/landing.md configuration, not vocabulary) -------------------------

def test_unlisted_enrichment_providers_fill_the_firmographics(q):
    rows = {r[0]: r[1:] for r in q("""
        select account_domain, crm_company_id, account_name, account_name_source, employee_count,
               employee_count_source, industry, industry_source, country, country_source, funding_stage,
               funding_stage_source, segment
        from dim_account order by account_domain""")}
    assert set(rows) == {"globex.example", "hooli.example", "initech.example"}
    # Initech: the CRM company has no employees or industry -> clearbit_like; name and country stay the CRM's
    assert rows["initech.example"] == ("9001", "Initech", "crm", 350, "clearbit_like", "Software", "clearbit_like",
                                       "US", "crm", "series_b", "clearbit_like", "mid_market")
    # Globex: every CRM field is listed before an unlisted provider; funding stage only zoominfo_like has
    assert rows["globex.example"] == ("9002", "Globex", "crm", 1200, "crm", "MACHINERY", "crm", "GB", "crm",
                                      "private", "zoominfo_like", "enterprise")
    # Hooli: only zoominfo_like knows it (its domain written www.hooli.example)
    assert rows["hooli.example"] == (None, "Hooli", "zoominfo_like", 5000, "zoominfo_like", "Internet",
                                     "zoominfo_like", "US", "zoominfo_like", "public", "zoominfo_like", "enterprise")


def test_account_headcounts(q):
    counts = dict(q("select account_domain, current_person_count from dim_account"))
    assert counts["initech.example"] == 3  # Bill, Peter, Michael
    assert counts["globex.example"] == 2  # Samir, Lawrence


# --- speed-to-lead (docs/kpis.md) -------------------------------------------------------------------------------

def test_inbound_requests_and_folding(q):
    rows = {r[0]: r[1:] for r in q("""select request_id, person_id, request_type, is_counted, counted_request_id
                                        from fct_inbound_requests""")}
    assert rows == {
        R1: (P1, "Demo Requested", True, R1),
        R1_FOLDED: (P1, "Demo Requested", False, R1),
        R2: (P2, "Contact Sales Submitted", True, R2),
        R3: (P4, "Demo Requested", True, R3),
        R4: (P5, "Demo Requested", True, R4),
    }


def test_speed_to_lead_per_request(q):
    rows = {r[0]: r[1:] for r in q("""
        select request_id, first_touch_id, latency_seconds, is_missed, owner_id, segment, first_touch_channel
        from fct_speed_to_lead""")}
    assert set(rows) == {R1, R2, R3, R4}
    assert rows[R1] == (f"call:6001:{P1}", 270.0, False, "6166860", "mid_market", "call")  # 14:00 -> 14:04:30
    assert rows[R2] == ("mailing:70001", 2700.0, False, "6166861", "mid_market", "email")  # 16:30 -> 17:15
    # no sales touch of Samir in [11-10 10:00, 11-17 10:00): missed; owner of his CRM contact 502
    assert rows[R3] == (None, None, True, "6166861", "enterprise", None)
    # Michael's 7-day window (to 12-04 09:00) is still open at as_of 11-30: open, not missed; no contact -> queue
    assert rows[R4][:2] == (None, None) and rows[R4][3:5] == ("queue:inbound", "mid_market")


def test_open_request_is_not_missed(q):
    """docs/kpis.md: no touch, but the 7-day window is still open at as_of -> the request is open, not missed."""
    assert q("select is_missed from fct_speed_to_lead where request_id = ?", [R4]) == [(False,)]


def test_business_hours_latency_in_the_owners_primary_team_territory(q):
    rows = dict(q("select request_id, business_latency_seconds from fct_speed_to_lead where not is_missed"))
    # John Smith, team NA (America/New_York, EST after 2026-11-01): 09:00:00-09:04:30 local, all inside 9-17
    assert rows[R1] == 270.0
    # Jane Doe, primary team EMEA (Europe/London, GMT) listed second: 16:30-17:15 local, 16:30-17:00 inside 9-17
    assert rows[R2] == 1800.0


def test_speed_to_lead_summary_shares_of_known_outcomes(q):
    """Shares are of the requests whose outcome is known (R1, R2 answered, R3 missed); R4 is open."""
    row = q("""select requests, missed_requests, median_latency_minutes, p90_latency_minutes, share_within_5_min,
                      share_within_1_hour, missed_share
               from mart_speed_to_lead_summary
               where period_grain = 'all' and dimension = 'all'""")
    assert len(row) == 1
    requests, missed, median, p90, within_5, within_60, missed_share = row[0]
    assert missed == 1
    assert median == pytest.approx(24.75)  # (4.5 + 45) / 2
    assert p90 == pytest.approx(40.95)  # 4.5 + 0.9 * (45 - 4.5)
    assert within_5 == pytest.approx(1 / 3)
    assert within_60 == pytest.approx(2 / 3)
    assert missed_share == pytest.approx(1 / 3)


# --- double touches (docs/kpis.md) ------------------------------------------------------------------------------

def test_touches(q):
    rows = q("select person_id, count(*) from fct_touches where counts_as_touch group by 1")
    assert dict(rows) == {P1: 3, P2: 4, P3: 2, P4: 2}


def test_double_touch_incidents(q):
    rows = {r[0]: r[1:] for r in q("""select touch_id, person_id, earlier_touch_id, pair_kind, gap_minutes
                                        from fct_double_touches""")}
    assert rows == {
        f"call:6002:{P1}": (P1, f"call:6001:{P1}", "sales×sales", 115.5),
        "esp:Zm9vYmFyLWRlbGl2ZXJlZC0x": (P1, f"call:6002:{P1}", "marketing×sales", 120.0),
        "mailing:70001": (P2, "esp:d2ViaW5hci1wZXRlci1kZWxp", "marketing×sales", 495.0),
        "esp:bm92LW5ld3MtcGV0ZXItZGVsaQ==": (P2, "mailing:70002", "marketing×sales", 885.0),
        "esp:cHJvZHVjdC11cGRhdGUtZGVsaXY=": (P3, "esp:Zm9vYmFyLWRlbGl2ZXJlZC0y", "marketing×marketing", 899.5),
    }


def test_double_touch_rates(q):
    rows = {r[0]: r[1:] for r in q("""
        select pair_kind, touches, incidents, incidents_per_10k_touches, touched_persons, persons_with_incident,
               share_of_touched_persons
        from mart_double_touch_rates where period_start is null""")}
    assert rows["all"][:2] == (11, 5) and rows["all"][3:5] == (4, 3)
    assert rows["all"][2] == pytest.approx(50000 / 11)  # 4545.45 per 10,000 touches
    assert rows["all"][5] == pytest.approx(0.75)
    assert {k: v[1] for k, v in rows.items()} == {"all": 5, "marketing×sales": 3, "sales×sales": 1,
                                                  "marketing×marketing": 1}


# --- deliverability (docs/kpis.md) ------------------------------------------------------------------------------

def test_deliverability_per_sending_domain_per_day(q):
    rows = {(r[0], r[1]): r[2:] for r in q("""
        select sending_domain, day_utc, sends, bounces, complaints, unsubscribes from fct_deliverability_daily
        where sends + bounces + complaints + unsubscribes > 0""")}
    news, sales = "news.vendorco.example", "sales.vendorco.example"
    d = date.fromisoformat
    assert rows == {
        (news, d("2026-10-20")): (1, 0, 0, 0),
        (news, d("2026-11-03")): (2, 0, 0, 0),
        (news, d("2026-11-04")): (1, 0, 1, 1),  # spamreport, unsubscribe
        (news, d("2026-11-05")): (1, 0, 0, 1),  # group_unsubscribe
        (news, d("2026-11-09")): (2, 1, 0, 0),  # bounce type bounce; one processed says News.Vendorco.Example
        (news, d("2026-11-10")): (1, 0, 0, 0),  # dropped is not a bounce
        (news, d("2026-11-12")): (1, 1, 0, 0),  # bounce type blocked (deferred before it counts nothing)
        (sales, d("2026-11-02")): (1, 0, 1, 0),  # delivered, then markedAsSpamAt
        (sales, d("2026-11-05")): (1, 0, 0, 0),
        (sales, d("2026-11-08")): (2, 1, 0, 0),  # 70002 delivered; 70003 bounced (sent on bouncedAt)
        (sales, d("2026-11-09")): (0, 0, 0, 1),  # 70002's later version: unsubscribedAt
    }
    totals = dict((r[0], r[1:]) for r in q("""select sending_domain, sum(sends), sum(bounces), sum(complaints),
                                                     sum(unsubscribes), bool_or(is_paused)
                                              from fct_deliverability_daily group by 1"""))
    assert totals == {news: (9, 2, 1, 2, False), sales: (4, 1, 1, 1, False)}  # < 200 sends: never paused
    # trailing 7 days on 2026-11-09 (11-03..11-09): news 2+1+1+2 = 6 sends, 1 bounce
    assert q("""select sends_7d, bounces_7d, complaints_7d, unsubscribes_7d from fct_deliverability_daily
                where sending_domain = ? and day_utc = '2026-11-09'""", [news]) == [(6, 1, 1, 2)]


# --- signals and attribution (docs/kpis.md) ---------------------------------------------------------------------

def test_firmographic_signals_deduplicated_across_providers_only(q):
    """The same funding round from clearbit_like and zoominfo_like counts once; two distinct job postings of one
    day (Hooli, zoominfo_like) count each."""
    rows = dict(q("""select account_id || ' ' || signal_type, count(*) from fct_signals
                     where signal_category = 'firmographic' group by 1"""))
    assert rows == {f"{INITECH} funding_round": 1, f"{INITECH} job_posting": 1, f"{HOOLI} job_posting": 2}


DEAL_1_SIGNALS = [  # (time, signal type) of Initech's signals in [2026-08-14 15:00, 2026-11-12 15:00), in order
    ("2026-10-20 00:00:00", "funding_round"),
    ("2026-10-22 00:00:00", "job_posting"),
    ("2026-10-29 10:00:00", "pricing_page_view"),  # Bill
    ("2026-11-02 11:00:00", "pricing_page_view"),  # Peter
    ("2026-11-03 14:00:00", "demo_requested"),  # Bill
    ("2026-11-03 14:20:00", "meeting_booked"),  # Bill's meeting 7001, booked (createdAt)
    ("2026-11-03 20:00:00", "demo_requested"),  # Bill again: folded for speed-to-lead, still a signal
    ("2026-11-04 11:00:00", "pricing_page_view"),  # Peter
    ("2026-11-05 16:30:00", "contact_sales_submitted"),  # Peter
    ("2026-11-06 09:30:00", "email_reply"),  # Peter replies to mailing 70001
]


def test_signal_attribution_of_the_won_deals(q):
    rows = q("""select deal_id, attribution_model, signal_at, signal_type, weight, attributed_revenue, deal_amount
                from fct_signal_attribution order by deal_id, attribution_model, signal_at, signal_id""")
    by_model: dict[tuple[str, str], list] = {}
    for deal, model, at, stype, weight, revenue, amount in rows:
        by_model.setdefault((deal, model), []).append((at, stype, weight, revenue, amount))
    assert sorted({k[0] for k in by_model}) == ["8001", "8002"]
    # deal 8001 (Initech, 42,000, created 2026-11-12 15:00): ten signals
    expected_signals = [(datetime.fromisoformat(t), s) for t, s in DEAL_1_SIGNALS]
    for model in ("first_touch", "last_touch", "linear", "time_decay", "position_based"):
        got = by_model[("8001", model)]
        assert [(a, s) for a, s, _, _, _ in got] == expected_signals, model
        assert sum(w for _, _, w, _, _ in got) == pytest.approx(1.0)
        assert sum(r for _, _, _, r, _ in got) == pytest.approx(42000.0)
    revenue = {m: [round(r, 2) for _, _, _, r, _ in by_model[("8001", m)]] for m in
               ("first_touch", "last_touch", "linear", "position_based", "time_decay")}
    assert revenue["first_touch"] == [42000.0] + [0.0] * 9
    assert revenue["last_touch"] == [0.0] * 9 + [42000.0]
    assert revenue["linear"] == [4200.0] * 10
    assert revenue["position_based"] == [16800.0] + [1050.0] * 8 + [16800.0]
    created = datetime(2026, 11, 12, 15)
    raw = [0.5 ** ((created - t).total_seconds() / 86400 / 7) for t, _ in expected_signals]
    assert revenue["time_decay"] == pytest.approx([42000 * w / sum(raw) for w in raw], abs=0.01)
    assert revenue["time_decay"] == pytest.approx(
        [1140.80, 1390.65, 2898.46, 4324.90, 4834.55, 4841.20, 4955.72, 5272.11, 5954.48, 6387.12], abs=0.01)
    assert not any(math.isnan(r) for r in revenue["time_decay"])
    # deal 8002 (Globex, 18,000, created 2026-11-05 12:00): Globex has no signal before it -> unattributed
    for model in ("first_touch", "last_touch", "linear", "time_decay", "position_based"):
        assert by_model[("8002", model)] == [(None, "unattributed", 1.0, 18000.0, 18000.0)]
