"""Reverse ETL against the real sandbox CRM over HTTP, on the S warehouse (the `two_day_build` of conftest)."""

import shutil

import duckdb
import pytest

from reverse_etl.engine import run_sync
from revops.hubspot import HubSpotClient
from sandbox.crm_server import CRMServer, ServerConfig

TOKEN = "reverse-etl-test"


@pytest.fixture()
def synced(two_day_build, world_s, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(two_day_build[0], db)
    srv = CRMServer(ServerConfig(db_path=tmp_path / "crm.sqlite", world_dir=world_s, token=TOKEN)).start()
    con = duckdb.connect(str(db))
    client = HubSpotClient(base_url=srv.url, token=TOKEN)
    yield con, client, srv
    client.close()
    con.close()
    srv.stop()


def _crm_contacts(client, ids: list[str], props: list[str]) -> dict[str, dict]:
    out = {}
    for i in range(0, len(ids), 100):
        body = client.request("POST", "/crm/v3/objects/contacts/batch/read",
                              json={"inputs": [{"id": x} for x in ids[i:i + 100]], "properties": props})
        out.update({r["id"]: r["properties"] for r in body["results"]})
    return out


def test_first_sync_writes_everything_second_nothing_and_one_change_one_record(synced):
    con, client, srv = synced
    first = run_sync(con, client)
    assert first.status == "succeeded" and first.sent == first.succeeded > 1_500 and first.dead_lettered == 0
    desired = {r[0]: r[1:] for r in con.execute(
        "select crm_contact_id, revops_lead_score, revops_next_action, revops_stage from main.sync_hubspot__contacts "
        "where crm_contact_id is not null").fetchall()}
    got = _crm_contacts(client, list(desired), ["revops_lead_score", "revops_next_action", "revops_stage"])
    assert {k: (v["revops_lead_score"], v["revops_next_action"], v["revops_stage"]) for k, v in got.items()} == desired
    # an immediate second sync sends nothing
    second = run_sync(con, client)
    assert second.sent == 0 and second.plan["unchanged"] == first.sent
    # one person's score changes: exactly that record is sent
    key, contact_id = con.execute("select sync_key, crm_contact_id from main.sync_hubspot__contacts "
                                  "where crm_contact_id is not null order by sync_key limit 1").fetchall()[0]
    con.execute("update main.sync_hubspot__contacts set revops_lead_score = '99', payload_hash = 'changed' "
                "where sync_key = ?", [key])
    log_before = len(srv.store.write_log("contacts"))
    third = run_sync(con, client)
    assert third.sent == 1 and third.plan["update"] == 1
    assert _crm_contacts(client, [contact_id], ["revops_lead_score"])[contact_id]["revops_lead_score"] == "99"
    new_writes = srv.store.write_log("contacts")[log_before:]
    assert {(w[1], w[2]) for w in new_writes} >= {(int(contact_id), "revops_lead_score")}
    assert {w[1] for w in new_writes} == {int(contact_id)}


def test_human_owned_properties_are_never_written_and_owner_only_if_blank(synced):
    con, client, srv = synced
    run_sync(con, client)
    written = {w[2] for w in srv.store.write_log("contacts")}
    owned = {r[0] for r in con.execute("select property from config.field_ownership where object = 'contacts' "
                                       "and owner in ('warehouse', 'if_blank')").fetchall()}
    assert written - {"lastmodifieddate", "hs_lastmodifieddate", "createdate", "hs_object_id", "email"} <= owned
    # a contact that had an owner keeps it: hubspot_owner_id is written only where it was empty
    owner_changes = [w for w in srv.store.write_log("contacts") if w[2] == "hubspot_owner_id"]
    assert owner_changes and all(w[3] is None for w in owner_changes)


def test_dry_run_plans_and_calls_nothing(synced):
    con, client, srv = synced
    res = run_sync(con, None, dry_run=True)
    assert res.status == "planned" and res.sent == 0 and res.plan["update"] > 1_000
    assert srv.store.write_log() == []
    assert con.execute("select count(*) from crm_sync.plan where run_id = ?", [res.run_id]).fetchall()[0][0] > 1_000


def _desired_vs_crm(con, client) -> tuple[dict, dict]:
    desired = {r[0]: r[1:] for r in con.execute(
        "select crm_contact_id, revops_lead_score, revops_next_action, revops_stage, revops_person_id "
        "from main.sync_hubspot__contacts where crm_contact_id is not null").fetchall()}
    got = _crm_contacts(client, list(desired), ["revops_lead_score", "revops_next_action", "revops_stage",
                                                "revops_person_id"])
    return desired, {k: (v.get("revops_lead_score"), v.get("revops_next_action"), v.get("revops_stage"),
                         v.get("revops_person_id")) for k, v in got.items()}


def _unconfirmed_contacts(con) -> int:
    """Desired contacts the sync state has not confirmed with their current payload (0 after a complete sync)."""
    return con.execute("""
        select count(*) from main.sync_hubspot__contacts s
        left join crm_sync.confirmed c on c.object = 'contacts' and c.sync_key = s.sync_key
        where c.payload_hash is distinct from s.payload_hash""").fetchone()[0]


def _each_value_changed_once(srv) -> bool:
    from collections import Counter

    changes = Counter((w[0], w[1], w[2]) for w in srv.store.write_log() if w[2].startswith("revops_"))
    return max(changes.values()) == 1


def test_sync_under_faults_ends_exact_and_dead_letters_recover(two_day_build, world_s, tmp_path):
    from revops.hubspot import RetryPolicy

    db = tmp_path / "warehouse.duckdb"
    shutil.copy(two_day_build[0], db)
    srv = CRMServer(ServerConfig(db_path=tmp_path / "crm.sqlite", world_dir=world_s, token=TOKEN,
                                 fault_5xx_rate=0.1, fault_429_rate=0.1, drop_rate=0.05,
                                 drop_after_commit_rate=0.05, latency_ms=5, fault_seed=3)).start()
    con = duckdb.connect(str(db))
    try:
        # few attempts: some batches give up and their records go to the dead-letter table
        with HubSpotClient(base_url=srv.url, token=TOKEN, seed=1,
                           policy=RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.2)) as client:
            first = run_sync(con, client)
        dead = con.execute("select count(*) from crm_sync.dead_letters where resolved_at is null").fetchall()[0][0]
        assert first.dead_lettered == dead > 0 and first.succeeded > 0
        # the next run (still under faults, patient retries) plans exactly the dead letters and clears them
        with HubSpotClient(base_url=srv.url, token=TOKEN, seed=2,
                           policy=RetryPolicy(max_attempts=12, base_delay_s=0.01, max_delay_s=0.2)) as client:
            second = run_sync(con, client)
            assert second.plan["update"] + second.plan["create"] == dead
            assert second.dead_lettered == 0 and second.succeeded == dead
            desired, got = _desired_vs_crm(con, client)
        assert got == desired
        assert con.execute("select count(*) from crm_sync.dead_letters where resolved_at is null").fetchall()[0][0] == 0
        assert _each_value_changed_once(srv)
    finally:
        con.close()
        srv.stop()


@pytest.mark.parametrize("kill_at_batch", [1, 4, 9])
def test_kill_9_mid_sync_then_rerun_ends_correct(two_day_build, world_s, tmp_path, kill_at_batch):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    db = tmp_path / "warehouse.duckdb"
    shutil.copy(two_day_build[0], db)
    srv = CRMServer(ServerConfig(db_path=tmp_path / "crm.sqlite", world_dir=world_s, token=TOKEN)).start()
    cmd = [str(Path(sys.executable).parent / "revops"), "sync", "--duckdb", str(db)]
    env = {**os.environ, "HUBSPOT_BASE_URL": srv.url, "HUBSPOT_TOKEN": TOKEN}
    try:
        crash = subprocess.run(cmd, env={**env, "REVOPS_FAULT_KILL_AT_BATCH": str(kill_at_batch)},
                               capture_output=True, text=True)
        assert crash.returncode == -signal.SIGKILL, crash.stdout[-2000:]
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stdout[-2000:]
        con = duckdb.connect(str(db))
        with HubSpotClient(base_url=srv.url, token=TOKEN) as client:
            desired, got = _desired_vs_crm(con, client)
        # state consistent: every desired record confirmed with its current hash, nothing left to send
        unconfirmed = _unconfirmed_contacts(con)
        con.close()
        once = _each_value_changed_once(srv)
    finally:
        srv.stop()
    assert got == desired and unconfirmed == 0 and once


def test_the_official_sdk_reads_back_the_written_properties(synced):
    from hubspot import HubSpot

    con, client, srv = synced
    run_sync(con, client)
    key, contact_id, score, action = con.execute(
        "select sync_key, crm_contact_id, revops_lead_score, revops_next_action from main.sync_hubspot__contacts "
        "where crm_contact_id is not null order by revops_lead_score desc limit 1").fetchall()[0]
    api = HubSpot(access_token=TOKEN, host=srv.url)
    contact = api.crm.contacts.basic_api.get_by_id(contact_id, properties=["revops_lead_score", "revops_next_action"])
    assert contact.properties["revops_lead_score"] == score and contact.properties["revops_next_action"] == action
    names = {p.name for p in api.crm.properties.core_api.get_all("contacts").results}
    assert {"revops_lead_score", "revops_next_action", "revops_stage", "revops_person_id"} <= names


def test_a_batch_the_crm_refuses_whole_is_split_until_the_bad_record_stands_alone(synced):
    from reverse_etl.engine import Action, Endpoint, Planned, _send, ensure_properties

    con, client, srv = synced
    ensure_properties(client, "contacts", ["revops_stage"])
    ids = [r[0] for r in con.execute("select crm_contact_id from main.sync_hubspot__contacts "
                                     "where crm_contact_id is not null order by 1 limit 3").fetchall()]
    records = [Planned("contacts", f"k{i}", Action.UPDATE, f"h{i}", {"revops_stage": f"s{i}"}, crm_id)
               for i, crm_id in enumerate([ids[0], ids[0], ids[1], ids[2]])]  # ids[0] twice: HubSpot answers 400
    request_ids: list[str] = []
    out = _send(client, "contacts", Endpoint.UPDATE, records, request_ids)
    assert all(o.succeeded for o in out.values()) and len(request_ids) >= 3
    got = _crm_contacts(client, [ids[1], ids[2]], ["revops_stage"])
    assert got[ids[1]]["revops_stage"] == "s2" and got[ids[2]]["revops_stage"] == "s3"


def test_the_circuit_breaker_stops_a_run_that_keeps_failing(synced):
    from reverse_etl.engine import SyncConfig

    con, client, srv = synced
    # contacts the CRM does not know: every update fails
    con.execute("update main.sync_hubspot__contacts set crm_contact_id = '9' || crm_contact_id || '9' "
                "where crm_contact_id is not null")
    res = run_sync(con, client, objects=("contacts",),
                   config=SyncConfig(batch_size=10, breaker_min_records=20, breaker_error_rate=0.5))
    # stopped at the first batch where failures pass half of what was sent (the email upserts still succeed)
    planned = res.plan["create"] + res.plan["update"]
    assert res.status == "stopped" and 20 <= res.sent < planned and res.failed > 0.5 * res.sent
    assert res.dead_lettered == res.failed and "circuit breaker" in res.message
    # the audit names the endpoint each batch really went to (batches are of one endpoint each)
    endpoints = {r[0] for r in con.execute("select distinct endpoint from crm_sync.batches where run_id = ?",
                                           [res.run_id]).fetchall()}
    assert endpoints <= {"POST /crm/v3/objects/contacts/batch/update", "POST /crm/v3/objects/contacts/batch/upsert"}
    assert "POST /crm/v3/objects/contacts/batch/update" in endpoints
