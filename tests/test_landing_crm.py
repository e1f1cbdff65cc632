"""CRM extraction from the sandbox server over HTTP: complete, windowed past the search cap, incremental,
and complete under injected 429s, 5xx and dropped connections."""

import json
from pathlib import Path

import duckdb
import pytest

from revops.hubspot import FatalError, HubSpotClient, RetryPolicy
from revops.landing.crm import OBJECTS, extract_all
from sandbox.crm_server import CRMServer, ServerConfig

TOKEN = "crm-extraction-test-token"


def lines(p: Path) -> list[dict]:
    return [json.loads(x) for x in p.read_text().splitlines()]


def serve(world: Path, tmp: Path, **kw) -> CRMServer:
    return CRMServer(ServerConfig(db_path=tmp / "crm.sqlite", world_dir=world, token=TOKEN, **kw)).start()


def keys(con) -> dict[str, set]:
    return {o: {r[0] for r in con.execute(f"select record_key from raw.crm_{o}").fetchall()} for o in OBJECTS}


@pytest.fixture(scope="module")
def clean_run(world_s, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crm_clean")
    # a small result cap forces the windowing that HubSpot's 10,000 cap needs on big portals
    srv = serve(world_s, tmp, search_result_cap=500)
    con = duckdb.connect()
    with HubSpotClient(base_url=srv.url, token=TOKEN, seed=1) as client:
        res = extract_all(con, client)
    srv.stop()
    return con, res


def test_extraction_is_complete_and_windowed(clean_run, world_s):
    con, res = clean_run
    assert res["contacts"].windows >= 2
    for obj in OBJECTS:
        recs = lines(world_s / "crm" / f"{obj}.jsonl")
        got = con.execute(f"select count(*), count(distinct record->>'id'), count(*) filter (where archived) "
                          f"from raw.crm_{obj}").fetchone()
        assert got == (len(recs), len(recs), sum(r["archived"] for r in recs)), obj
    assert con.execute("select count(*) from raw.crm_owners").fetchone()[0] == len(lines(world_s / "crm" / "owners.jsonl"))
    # associations as in the world's files (to live records)
    live_contacts = {r["id"] for r in lines(world_s / "crm" / "contacts.jsonl") if not r["archived"]}
    expected = {(r["id"], a["id"]) for r in lines(world_s / "crm" / "calls.jsonl")
                for a in ((r.get("associations") or {}).get("contacts") or {}).get("results", []) if a["id"] in live_contacts}
    got = set(con.execute("select from_id, to_id from raw.crm_associations "
                          "where from_object = 'calls' and to_object = 'contacts'").fetchall())
    assert got == expected
    cursors = dict(con.execute("select object, cursor_ms from raw.crm_cursors").fetchall())
    assert set(cursors) == set(OBJECTS)


def test_incremental_run_picks_up_an_api_change_and_nothing_else(world_s, tmp_path):
    srv = serve(world_s, tmp_path)
    con = duckdb.connect()
    try:
        with HubSpotClient(base_url=srv.url, token=TOKEN) as client:
            extract_all(con, client)
            before = keys(con)
            contact = next(r for r in lines(world_s / "crm" / "contacts.jsonl") if not r["archived"])
            client.request("PATCH", f"/crm/v3/objects/contacts/{contact['id']}",
                           json={"properties": {"jobtitle": "VP Revenue"}})
            again = extract_all(con, client)
    finally:
        srv.stop()
    assert again["contacts"].landed == 1
    assert sum(r.landed for o, r in again.items() if o not in ("contacts", "owners")) == 0
    # only records at or after the cursor instant are read again (ties at that instant come back as duplicates)
    assert again["contacts"].duplicates == again["contacts"].read - 1 < 0.02 * len(before["contacts"])
    after = keys(con)
    assert after["contacts"] - before["contacts"] == {
        k for k in after["contacts"] if k.startswith(contact["id"] + "|")} - before["contacts"]
    title = con.execute("select record->'properties'->>'jobtitle' from raw.crm_contacts where record->>'id' = ? "
                        "order by record->>'updatedAt' desc limit 1", [contact["id"]]).fetchone()[0]
    assert title == "VP Revenue"


def test_a_write_back_echo_is_recognised_and_lands_nothing(world_s, tmp_path):
    """Our own write of a revops_* property moves lastmodifieddate; the next extraction reads the contact again
    but recognises the version as an echo: nothing lands, associations are not rewritten, a real change beside it
    lands as usual."""
    srv = serve(world_s, tmp_path)
    con = duckdb.connect()
    try:
        with HubSpotClient(base_url=srv.url, token=TOKEN) as client:
            extract_all(con, client)
            raw_before = {o: con.execute(f"select count(*), max(landed_at) from raw.crm_{o}").fetchone() for o in OBJECTS}
            assoc_before = con.execute("select count(*), max(landed_at) from raw.crm_associations").fetchone()
            live = [r for r in lines(world_s / "crm" / "contacts.jsonl") if not r["archived"]]
            echoed, changed = live[:25], live[25]
            client.request("POST", "/crm/v3/properties/contacts", json={
                "name": "revops_lead_score", "label": "Lead score", "type": "number", "fieldType": "number",
                "groupName": "contactinformation"})
            client.request("POST", "/crm/v3/objects/contacts/batch/update", json={"inputs": [
                {"id": r["id"], "properties": {"revops_lead_score": "42"}} for r in echoed]})
            first = extract_all(con, client)
            raw_echo = {o: con.execute(f"select count(*), max(landed_at) from raw.crm_{o}").fetchone() for o in OBJECTS}
            assoc_echo = con.execute("select count(*), max(landed_at) from raw.crm_associations").fetchone()
            client.request("PATCH", f"/crm/v3/objects/contacts/{changed['id']}",
                           json={"properties": {"jobtitle": "Head of Echo Studies", "revops_lead_score": "7"}})
            client.request("PATCH", f"/crm/v3/objects/contacts/{echoed[0]['id']}",
                           json={"properties": {"revops_lead_score": "43"}})
            second = extract_all(con, client)
    finally:
        srv.stop()
    assert first["contacts"].echoes == 25 and first["contacts"].landed == 0
    assert raw_echo == raw_before and assoc_echo == assoc_before
    # the echoes at the cursor's instant come back too (the search is GTE): echoes again, never landed
    assert second["contacts"].landed == 1 and second["contacts"].echoes == second["contacts"].read - 1 >= 1
    title = con.execute("select record->'properties'->>'jobtitle' from raw.crm_contacts where record->>'id' = ? "
                        "order by record->>'updatedAt' desc limit 1", [changed["id"]]).fetchone()[0]
    assert title == "Head of Echo Studies"


def test_extraction_completes_under_faults_with_nothing_lost(clean_run, world_s, tmp_path):
    clean_con, _ = clean_run
    srv = serve(world_s, tmp_path, fault_5xx_rate=0.15, fault_429_rate=0.1, drop_rate=0.05, fault_seed=7,
                search_result_cap=500)
    con = duckdb.connect()
    try:
        with HubSpotClient(base_url=srv.url, token=TOKEN, seed=2,
                           policy=RetryPolicy(max_attempts=12, base_delay_s=0.01, max_delay_s=0.2)) as client:
            res = extract_all(con, client)
            stats = dict(client.stats)
    finally:
        srv.stop()
    assert stats["retries"] > 10 and stats["rate_limited"] > 0
    assert keys(con) == keys(clean_con)
    assert sum(r.quarantined for r in res.values()) == 0


def test_a_wrong_token_is_fatal_and_not_retried(world_s, tmp_path):
    srv = serve(world_s, tmp_path)
    try:
        with HubSpotClient(base_url=srv.url, token="wrong") as client:
            with pytest.raises(FatalError) as e:
                client.request("GET", "/crm/v3/objects/contacts")
            assert e.value.status == 401 and client.stats["requests"] == 1
            assert "wrong" not in str(e.value)
    finally:
        srv.stop()


def crm_state(db: Path) -> dict[str, list]:
    """What a rerun must reproduce: records (not the request text, which names the cursor a page came from)."""
    con = duckdb.connect(str(db), read_only=True)
    state = {o: con.execute(f"select record_key, record::varchar, archived from raw.crm_{o} order by all").fetchall()
             for o in OBJECTS}
    state["owners"] = con.execute("select record_key, record::varchar from raw.crm_owners order by all").fetchall()
    state["associations"] = con.execute("select from_object, from_id, to_object, to_id from raw.crm_associations "
                                        "order by all").fetchall()
    state["cursors"] = con.execute("select object, cursor_ms from raw.crm_cursors order by all").fetchall()
    state["quarantine"] = con.execute("select count(*) from raw.quarantine").fetchall()
    con.close()
    return state


def test_kill_9_mid_extraction_then_rerun_equals_a_clean_run(world_s, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    srv = serve(world_s, tmp_path)
    cmd = [str(Path(sys.executable).parent / "revops"), "land", "--source", "crm"]
    env = {**os.environ, "HUBSPOT_BASE_URL": srv.url, "HUBSPOT_TOKEN": TOKEN}
    try:
        # killed inside the 9th page's transaction (contacts come first: 8 search pages of 200, then the archived
        # listing), after its records and associations were written and before its cursor was
        crash = subprocess.run([*cmd, "--duckdb", str(tmp_path / "crashed.duckdb")], capture_output=True,
                               env={**env, "REVOPS_FAULT_KILL_AT_PAGE": "9"})
        assert crash.returncode == -signal.SIGKILL, crash.stderr[-2000:]
        con = duckdb.connect(str(tmp_path / "crashed.duckdb"), read_only=True)
        n_contacts = len(lines(world_s / "crm" / "contacts.jsonl"))
        assert 0 < con.execute("select count(*) from raw.crm_contacts").fetchone()[0] < n_contacts
        assert con.execute("select count(*) from raw.crm_companies").fetchone()[0] == 0
        con.close()
        subprocess.run([*cmd, "--duckdb", str(tmp_path / "crashed.duckdb")], check=True, capture_output=True, env=env)
        subprocess.run([*cmd, "--duckdb", str(tmp_path / "clean.duckdb")], check=True, capture_output=True, env=env)
    finally:
        srv.stop()
    crashed, clean = crm_state(tmp_path / "crashed.duckdb"), crm_state(tmp_path / "clean.duckdb")
    assert len(clean["contacts"]) == n_contacts
    for k in clean:
        assert crashed[k] == clean[k], k


def test_a_page_lands_new_versions_once_and_repeats_nothing(tmp_path):
    """_land_page against hand-made HubSpot contacts (the shape of HubSpot's documented object): an unchanged record
    seen again lands once; the same id and updatedAt with another payload lands once more, as key#hash; a record
    whose only change is its modification time (a write-back echo) lands nothing; associations are not repeated."""
    import duckdb

    from revops.landing import crm, files

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    crm.ensure_schema(con)
    files.ensure_schema(con)

    def contact(cid: str, updated: str, **props):
        return {"id": cid, "properties": {"email": f"{cid}@example.com", "firstname": "Ada", **props},
                "createdAt": "2026-10-01T10:00:00.000Z", "updatedAt": updated, "archived": False}

    page = [contact("501", "2026-10-02T10:00:00.000Z"), contact("502", "2026-10-02T11:00:00.000Z")]
    assoc = {"companies": [("501", "9001"), ("502", "9002")]}
    assert crm._land_page(con, "contacts", page, "p1", False, None, assoc) == (2, 0, 0, 0)
    assert crm._land_page(con, "contacts", page, "p1 again", False, None, assoc) == (0, 2, 0, 0)
    other = [contact("501", "2026-10-02T10:00:00.000Z", lastname="Lovelace")]  # same key, another payload
    assert crm._land_page(con, "contacts", other, "p2", False, None, None) == (1, 0, 0, 0)
    assert crm._land_page(con, "contacts", other, "p2 again", False, None, None) == (0, 1, 0, 0)
    echo = [contact("502", "2026-10-03T09:00:00.000Z")]  # only updatedAt moved
    assert crm._land_page(con, "contacts", echo, "p3", False, None, None) == (0, 0, 0, 1)
    keys = sorted(r[0] for r in con.execute("select record_key from raw.crm_contacts").fetchall())
    assert len(keys) == 3 and keys[0] == "501|2026-10-02T10:00:00.000Z" and keys[1].startswith(keys[0] + "#")
    assert con.execute("select count(*) from raw.crm_associations").fetchall()[0][0] == 2
