"""Next actions become CRM tasks (reverse_etl/tasks.py, docs/sync.md Tasks): against the sandbox CRM on 127.0.0.1 with
the S warehouse (`two_day_build`), and as unit tests of the task diff and the ownership rules.

What the sandbox's write log proves: every task the CRM ever created was created with its revops_action_key, so
"each key written once" in the log is "no action ever got a second task" — whatever the faults."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from reverse_etl import tasks as T
from reverse_etl.engine import Action, Outcome, SyncConfig, run_sync
from reverse_etl.state import ensure_schema
from revops.hubspot import HubSpotClient, RetryPolicy
from sandbox.crm_server import CRMServer, ServerConfig

TOKEN = "sync-tasks-test"
FAST = SyncConfig(task_search_settle_s=0.0)
ROOMY = {"rate_limit_10s": 100_000, "search_per_second": 1_000}


def start_crm(db_dir: Path, world: Path, **config) -> CRMServer:
    return CRMServer(ServerConfig(db_path=db_dir / "crm.sqlite", world_dir=world, token=TOKEN,
                                  **{**ROOMY, **config})).start()


@pytest.fixture()
def warehouse(two_day_build, tmp_path) -> Path:
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(two_day_build[0], db)
    return db


@pytest.fixture()
def synced(warehouse, world_s, tmp_path):
    srv = start_crm(tmp_path, world_s)
    con = duckdb.connect(str(warehouse))
    client = HubSpotClient(base_url=srv.url, token=TOKEN)
    yield con, client, srv
    client.close()
    con.close()
    srv.stop()


def desired(con) -> dict[str, dict]:
    """The model's tasks that can be created (they have a contact), by action key."""
    return {r["revops_action_key"]: r for r in T._frame_rows(
        con, "select * from main.sync_hubspot__tasks where crm_contact_id is not null")}


def crm_tasks(srv) -> dict[str, list]:
    """The CRM's live (not archived) tasks carrying an action key, by key."""
    out: dict[str, list] = {}
    for rec in srv.store.list_page("tasks", 0, 1_000_000, False):
        if rec.props.get("revops_action_key"):
            out.setdefault(rec.props["revops_action_key"], []).append(rec)
    return out


def created_per_key(srv) -> Counter:
    """How many tasks were ever created with each key (the write log: the key is written once, at creation)."""
    return Counter(w[4] for w in srv.store.write_log("tasks") if w[2] == "revops_action_key" and w[3] is None)


def assert_one_open_task_per_key(con, srv) -> None:
    want = desired(con)
    have = crm_tasks(srv)
    open_ = {k: [r for r in recs if r.props.get("hs_task_status") != "COMPLETED"] for k, recs in have.items()}
    assert {k for k, recs in open_.items() if recs} == set(want), "none lost, none extra"
    assert all(len(recs) == 1 for recs in open_.values()), "never two open tasks for one key"
    assert set(created_per_key(srv).values()) == {1}, "no key ever created twice"
    for key, row in want.items():
        props = open_[key][0].props
        assert props["hs_task_subject"] == row["hs_task_subject"] and props["hs_task_priority"] == row["hs_task_priority"]
    unconfirmed = con.execute("""
        select count(*) from main.sync_hubspot__tasks s left join crm_sync.tasks t on t.action_key = s.revops_action_key
        where s.crm_contact_id is not null and (t.state is distinct from 'open' or t.payload_hash <> s.payload_hash)
    """).fetchall()[0][0]
    assert unconfirmed == 0, "the state knows every task, with its current hash"


def change_rows(con, keys: list[str], **values) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    con.execute(f"update main.sync_hubspot__tasks set {sets}, payload_hash = md5(payload_hash || 'x') "
                "where list_contains(?, revops_action_key)", [*values.values(), keys])


# --- against the sandbox CRM -----------------------------------------------------------------------------------------

def test_tasks_are_created_with_contact_and_owner_and_read_back_with_the_sdk(synced):
    from hubspot import HubSpot

    con, client, srv = synced
    want = desired(con)
    rejected = con.execute("select count(*) from main.sync_hubspot__tasks where crm_contact_id is null").fetchall()[0][0]
    assert len(want) > 100 and rejected > 0
    first = run_sync(con, client, objects=("tasks",))
    assert first.status == "succeeded" and first.plan["create"] == len(want) and first.plan["rejected"] == rejected
    assert first.sent == first.succeeded == len(want) and first.dead_lettered == 0
    reasons = {r[0] for r in con.execute("select reason from crm_sync.plan where run_id = ? and action = 'rejected'",
                                         [first.run_id]).fetchall()}
    assert reasons == {"no CRM contact to associate the task with"}

    api = HubSpot(access_token=TOKEN, host=srv.url)
    props = ["revops_action_key", "hs_task_subject", "hs_task_body", "hs_timestamp", "hs_task_status",
             "hs_task_priority", "hs_task_type", "hubspot_owner_id"]
    ours, after = [], None
    while True:  # every task of the CRM, 100 a page, with its contacts
        page = api.crm.objects.tasks.basic_api.get_page(limit=100, after=after, properties=props,
                                                        associations=["contacts"])
        ours += [t for t in page.results if t.properties.get("revops_action_key")]
        if page.paging is None or page.paging.next is None:
            break
        after = page.paging.next.after
    assert sorted(t.properties["revops_action_key"] for t in ours) == sorted(want)
    for t in ours:
        row = want[t.properties["revops_action_key"]]
        assert {p: t.properties[p] for p in props} == {p: row[p] for p in props}
        assert [a.id for a in t.associations["contacts"].results] == [row["crm_contact_id"]]
    owned = [t for t in ours if want[t.properties["revops_action_key"]]["hubspot_owner_id"]]
    assert owned and all(api.crm.owners.owners_api.get_by_id(int(t.properties["hubspot_owner_id"])).id
                         == t.properties["hubspot_owner_id"] for t in owned[:3])
    one = ours[0]
    links = api.crm.associations.v4.basic_api.get_page("tasks", one.id, "contacts")
    assert [str(r.to_object_id) for r in links.results] == [want[one.properties["revops_action_key"]]["crm_contact_id"]]

    second = run_sync(con, client, objects=("tasks",))
    assert second.sent == 0 and second.plan["unchanged"] == len(want) and second.plan["create"] == 0
    assert_one_open_task_per_key(con, srv)


def test_a_changed_action_updates_only_its_task_and_only_what_changed(synced):
    con, client, srv = synced
    run_sync(con, client, objects=("tasks",))
    key = sorted(desired(con))[0]
    task_id = con.execute("select task_id from crm_sync.tasks where action_key = ?", [key]).fetchall()[0][0]
    change_rows(con, [key], hs_task_subject="Call today: they asked again")
    log_before = len(srv.store.write_log("tasks"))
    res = run_sync(con, client, objects=("tasks",))
    assert res.plan["update"] == 1 and res.sent == 1 and res.succeeded == 1
    new = srv.store.write_log("tasks")[log_before:]
    assert {(w[1], w[2]) for w in new} == {(int(task_id), "hs_task_subject"), (int(task_id), "hs_lastmodifieddate")}
    assert run_sync(con, client, objects=("tasks",)).sent == 0


def test_a_task_no_longer_wanted_is_completed_and_a_new_one_comes_if_wanted_again(synced):
    con, client, srv = synced
    run_sync(con, client, objects=("tasks",))
    key = sorted(desired(con))[1]
    row = con.execute("select * from main.sync_hubspot__tasks where revops_action_key = ?", [key]).fetchall()
    con.execute("delete from main.sync_hubspot__tasks where revops_action_key = ?", [key])
    res = run_sync(con, client, objects=("tasks",))
    assert res.plan["complete"] == 1 and res.sent == 1
    (done,) = crm_tasks(srv)[key]
    assert done.props["hs_task_status"] == "COMPLETED" and done.props["hs_task_completion_date"]
    assert con.execute("select state from crm_sync.tasks where action_key = ?", [key]).fetchall() == [("completed",)]
    assert run_sync(con, client, objects=("tasks",)).sent == 0  # completed once
    # the same action wanted again: a new task; the completed one stays completed
    con.execute("insert into main.sync_hubspot__tasks values (" + ", ".join("?" * len(row[0])) + ")", list(row[0]))
    again = run_sync(con, client, objects=("tasks",), config=FAST)
    assert again.plan["create"] == 1 and again.sent == 1
    tasks = crm_tasks(srv)[key]
    assert sorted(r.props["hs_task_status"] for r in tasks) == ["COMPLETED", "NOT_STARTED"]
    assert crm_tasks(srv)[key][0].props["hs_task_completion_date"] == done.props["hs_task_completion_date"]


def test_tasks_completed_edited_or_deleted_by_hand_are_never_reopened_or_overwritten(synced):
    con, client, srv = synced
    run_sync(con, client, objects=("tasks",))
    k_done, k_edited, k_deleted, k_working, k_mine = sorted(desired(con))[:5]
    ids = dict(con.execute("select action_key, task_id from crm_sync.tasks").fetchall())
    # a rep completes one, rewrites another's subject, deletes a third, starts a fourth
    client.request("PATCH", f"/crm/v3/objects/tasks/{ids[k_done]}", json={"properties": {"hs_task_status": "COMPLETED"}})
    client.request("PATCH", f"/crm/v3/objects/tasks/{ids[k_edited]}",
                   json={"properties": {"hs_task_subject": "Called: call back Tuesday"}})
    client.request("DELETE", f"/crm/v3/objects/tasks/{ids[k_deleted]}")
    client.request("PATCH", f"/crm/v3/objects/tasks/{ids[k_working]}",
                   json={"properties": {"hs_task_status": "IN_PROGRESS"}})
    hand = {ids[k] for k in (k_done, k_edited, k_deleted, k_working)}
    log_before = len(srv.store.write_log("tasks"))
    # the warehouse now wants other values for all five
    change_rows(con, [k_done, k_edited, k_deleted, k_working, k_mine], hs_task_subject="New sentence",
                hs_task_priority="HIGH")
    res = run_sync(con, client, objects=("tasks",))
    assert res.plan["update"] == 5 and res.handed_over == 4 and res.sent == 1 and res.dead_lettered == 0
    new = srv.store.write_log("tasks")[log_before:]
    assert {w[1] for w in new} == {int(ids[k_mine])}  # the four touched by hand: not a single value written
    states = dict(con.execute("select action_key, state from crm_sync.tasks").fetchall())
    assert {states[k] for k in (k_done, k_edited, k_deleted, k_working)} == {"handed_over"}
    # and they stay so: the warehouse no longer wanting them does not complete them, nothing creates them again
    con.execute("delete from main.sync_hubspot__tasks where list_contains(?, revops_action_key)",
                [[k_done, k_edited, k_working]])
    later = run_sync(con, client, objects=("tasks",))
    assert later.plan["complete"] == 0 and later.plan["create"] == 0 and later.plan["handed_over"] == 1
    assert later.sent == 0 and not [w for w in srv.store.write_log("tasks")[log_before:] if w[1] in {int(i) for i in hand}]
    current = {k: srv.store.get("tasks", int(ids[k]), None).props for k in (k_done, k_edited, k_working)}
    assert current[k_done]["hs_task_status"] == "COMPLETED"
    assert current[k_edited]["hs_task_subject"] == "Called: call back Tuesday"
    assert current[k_working]["hs_task_status"] == "IN_PROGRESS"
    assert srv.store.get("tasks", int(ids[k_deleted]), None).archived


def test_every_create_answer_lost_still_gives_one_task_per_key(warehouse, world_s, tmp_path):
    """drop-after-commit on every write: each create is applied and its answer lost. The sync never resends a create
    blindly: it searches, finds the tasks its lost request made, adopts them."""
    srv = start_crm(tmp_path, world_s, drop_after_commit_rate=1.0)
    con = duckdb.connect(str(warehouse))
    try:
        with HubSpotClient(base_url=srv.url, token=TOKEN, policy=RetryPolicy(3, 0.01, 0.05)) as client:
            res = run_sync(con, client, objects=("tasks",), config=FAST)
        want = desired(con)
        assert res.status == "succeeded" and res.sent == res.succeeded == len(want) and res.dead_lettered == 0
        creates = con.execute("select count(*) from crm_sync.batches where run_id = ? and endpoint like '%create'",
                              [res.run_id]).fetchall()[0][0]
        assert creates == -(-len(want) // 100)
        assert_one_open_task_per_key(con, srv)
        # an update whose answers are all lost: it gives up, the task keeps the value we sent; the next run (answers
        # back) recognises that value as ours — not as a hand edit — and confirms it
        key = sorted(want)[0]
        change_rows(con, [key], hs_task_subject="Reply today: they answered again")
        with HubSpotClient(base_url=srv.url, token=TOKEN, policy=RetryPolicy(2, 0.01, 0.05)) as client:
            lost = run_sync(con, client, objects=("tasks",), config=FAST)
        assert lost.dead_lettered == 1
        assert crm_tasks(srv)[key][0].props["hs_task_subject"] == "Reply today: they answered again"
    finally:
        srv.stop()
    srv = start_crm(tmp_path, world_s)  # the same CRM database, no faults
    try:
        with HubSpotClient(base_url=srv.url, token=TOKEN) as client:
            healed = run_sync(con, client, objects=("tasks",), config=FAST)
        assert healed.plan["update"] == 1 and healed.handed_over == 0 and healed.succeeded == 1
        assert con.execute("select count(*) from crm_sync.dead_letters where resolved_at is null").fetchall()[0][0] == 0
        assert con.execute("select count(*) from crm_sync.task_writes_pending").fetchall()[0][0] == 0
        assert_one_open_task_per_key(con, srv)
        subjects = [w for w in srv.store.write_log("tasks") if w[2] == "hs_task_subject" and w[3] is not None]
        assert len(subjects) == 1  # the new subject was written once, although sent three times
    finally:
        con.close()
        srv.stop()


def test_under_5xx_429_drops_and_lost_answers_no_task_is_lost_or_doubled(warehouse, world_s, tmp_path, monkeypatch):
    answers = Counter()  # what each create input got back: created | refused | unknown (its answer lost)
    create_once = T._create_once

    def spy(client, records, request_ids):
        out = create_once(client, records, request_ids)
        answers.update(kind for kind, _ in out.values())
        return out

    monkeypatch.setattr(T, "_create_once", spy)
    srv = start_crm(tmp_path, world_s, fault_5xx_rate=0.1, fault_429_rate=0.1, drop_rate=0.1,
                    drop_after_commit_rate=0.3, fault_seed=7)
    con = duckdb.connect(str(warehouse))
    try:
        runs = []
        for attempt in range(10):  # one attempt per request: runs end with dead letters that later runs clear
            with HubSpotClient(base_url=srv.url, token=TOKEN, seed=attempt,
                               policy=RetryPolicy(max_attempts=1, base_delay_s=0.01, max_delay_s=0.05)) as client:
                runs.append(run_sync(con, client, objects=("tasks",), config=SyncConfig(
                    batch_size=10, task_search_settle_s=0.0, task_create_rounds=2)))  # many small batches
            if runs[-1].status == "succeeded":
                break
        assert runs[-1].status == "succeeded" and len(runs) > 1 and sum(r.dead_lettered for r in runs) > 0, runs
        assert answers["unknown"] > 0 and answers["created"] > 0, answers  # some creates' answers were lost
        assert_one_open_task_per_key(con, srv)
        assert con.execute("select count(*) from crm_sync.dead_letters where resolved_at is null").fetchall() == [(0,)]
        with HubSpotClient(base_url=srv.url, token=TOKEN, policy=RetryPolicy(12, 0.01, 0.05)) as client:
            assert run_sync(con, client, objects=("tasks",), config=FAST).sent == 0
    finally:
        con.close()
        srv.stop()


def _revops(db: Path, srv: CRMServer, *args: str, **env) -> subprocess.CompletedProcess:
    cmd = [str(Path(sys.executable).parent / "revops"), "sync", "--object", "tasks", "--duckdb", str(db), *args]
    return subprocess.run(cmd, capture_output=True, text=True,
                          env={**os.environ, "HUBSPOT_BASE_URL": srv.url, "HUBSPOT_TOKEN": TOKEN, **env})


@pytest.mark.parametrize("kill_at_batch", [1, 2])
def test_kill_9_between_the_crm_write_and_the_state_then_rerun(warehouse, world_s, tmp_path, kill_at_batch):
    srv = start_crm(tmp_path, world_s)
    try:
        crash = _revops(warehouse, srv, REVOPS_FAULT_KILL_AT_BATCH=str(kill_at_batch))
        assert crash.returncode == -signal.SIGKILL, crash.stdout[-2000:] + crash.stderr[-2000:]
        made = sum(created_per_key(srv).values())
        assert made >= min(100 * kill_at_batch, 101)  # the CRM has the batch's tasks, the state does not
        rerun = _revops(warehouse, srv)
        assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
        con = duckdb.connect(str(warehouse))
        try:
            assert_one_open_task_per_key(con, srv)
            # the rerun settles the tasks the crashed run did not record: adopts the killed batch's, creates the rest
            rerun_outcomes = con.execute(
                "select count(*) from crm_sync.record_outcomes o join crm_sync.runs r using (run_id) "
                "where r.status = 'succeeded' and o.object = 'tasks'").fetchall()[0][0]
            assert rerun_outcomes == len(desired(con)) - 100 * (kill_at_batch - 1)
            # updates killed the same way: the rerun finds our values in the CRM, not a hand edit
            keys = sorted(desired(con))[:110]
            change_rows(con, keys, hs_task_priority="HIGH", hs_task_subject="Updated sentence")
        finally:
            con.close()
        # (most open tasks change: past the change-share guard only with --force, which the guard itself asks for)
        assert _revops(warehouse, srv).returncode == 6
        crash = _revops(warehouse, srv, "--force", REVOPS_FAULT_KILL_AT_BATCH="1")
        assert crash.returncode == -signal.SIGKILL
        assert _revops(warehouse, srv, "--force").returncode == 0
        con = duckdb.connect(str(warehouse))
        try:
            assert_one_open_task_per_key(con, srv)
            assert con.execute("select count(*) from crm_sync.tasks where state = 'handed_over'").fetchall() == [(0,)]
        finally:
            con.close()
        subjects = Counter(w[1] for w in srv.store.write_log("tasks") if w[2] == "hs_task_subject" and w[3])
        assert len(subjects) == 110 and set(subjects.values()) == {1}
    finally:
        srv.stop()


# --- unit: the task diff and the ownership rules ---------------------------------------------------------------------

OWN = T.TaskOwnership(written=("hs_task_body", "hs_task_priority", "hs_task_subject", "hs_task_type", "hs_timestamp",
                               "hubspot_owner_id", "revops_action_key"), status=True)
CONFIRMED = {"revops_action_key": "p:call:1", "hs_task_subject": "Call today", "hs_task_body": "Evidence: x",
             "hs_timestamp": "2026-10-31T00:00:00.000Z", "hs_task_priority": "MEDIUM", "hs_task_type": "CALL",
             "hubspot_owner_id": "7", "hs_task_status": "NOT_STARTED"}


def test_changes_sends_only_what_differs_and_clears_what_the_warehouse_no_longer_has():
    want = {**{k: v for k, v in CONFIRMED.items() if k not in ("hs_task_status", "hubspot_owner_id")},
            "hs_task_subject": "Call within 5 min", "hs_timestamp": "1793404800000"}  # the same instant, in millis
    assert T.changes(want, CONFIRMED, OWN) == {"hs_task_subject": "Call within 5 min", "hubspot_owner_id": ""}
    assert T.changes({k: v for k, v in CONFIRMED.items() if k != "hs_task_status"}, CONFIRMED, OWN) == {}
    assert "hs_task_status" not in T.changes({**CONFIRMED, "hs_task_status": "COMPLETED"}, CONFIRMED, OWN)


@pytest.mark.parametrize("crm, attempts, ours", [
    (CONFIRMED, [], True),
    ({**CONFIRMED, "hs_timestamp": "2026-10-31T00:00:00Z"}, [], True),  # another spelling of the same instant
    ({**CONFIRMED, "hs_task_subject": " Call today "}, [], True),
    ({**CONFIRMED, "hs_task_status": "COMPLETED"}, [], False),  # completed by hand
    ({**CONFIRMED, "hs_task_status": "IN_PROGRESS"}, [], False),
    ({**CONFIRMED, "hs_task_subject": "Called, left a voicemail"}, [], False),
    ({**CONFIRMED, "hubspot_owner_id": "8"}, [], False),  # reassigned
    ({**CONFIRMED, "hubspot_owner_id": None}, [], False),
    ({**CONFIRMED, "hs_task_subject": "Sent earlier"}, [{"hs_task_subject": "Sent earlier"}], True),  # answer was lost
    ({**CONFIRMED, "hs_task_status": "COMPLETED"}, [{"hs_task_status": "COMPLETED"}], True),  # our complete, lost
    ({**CONFIRMED, "hs_task_subject": "Sent earlier", "hs_task_type": "TODO"}, [{"hs_task_subject": "Sent earlier"}],
     False),
])
def test_a_task_is_ours_only_while_its_values_are_ones_we_wrote(crm, attempts, ours):
    assert T.is_untouched(crm, CONFIRMED, attempts, OWN) is ours


def _task(task_id: str, **props) -> dict:
    return {"id": task_id, "properties": {**CONFIRMED, **props}}


@pytest.mark.parametrize("found, expected", [
    ([], None),  # nothing there: create it
    ([_task("5")], ("open", "5", False)),  # our lost create: adopt
    ([_task("5"), _task("9")], ("open", "5", False)),  # (never made by this sync) the oldest open one
    ([_task("5", hs_task_subject="Older sentence of ours")], ("open", "5", True)),  # adopt, then update
    ([_task("5", hs_task_subject="Rep's own words")], ("handed_over", "5", False)),
    ([_task("5", hs_task_status="COMPLETED")], ("handed_over", "5", False)),  # completed before we knew its id
    ([_task("4", hs_task_status="COMPLETED")], None),  # the one this sync completed earlier: a new task
])
def test_what_a_search_before_a_create_finds_decides_it(found, expected):
    p = T.TaskPlanned("tasks", "p:call:1", Action.CREATE, "h", dict(CONFIRMED), contact_id="1",
                      pending=[{**CONFIRMED, "hs_task_subject": "Older sentence of ours"}], previous_task_id="4")
    got = T._found_decision(p, found, OWN, sent=True)
    assert (got if got is None else (got.state.value, got.outcome.crm_id, got.needs_update)) == expected


def _plan_db(rows: list[dict], states: list[tuple], owner_of_status: str = "create_and_complete"):
    con = duckdb.connect()
    ensure_schema(con)
    con.execute("create schema config")
    con.execute("create table config.field_ownership (object varchar, property varchar, owner varchar)")
    con.executemany("insert into config.field_ownership values ('tasks', ?, ?)",
                    [(p, "warehouse") for p in OWN.written] + [("hs_task_status", owner_of_status),
                                                               ("hs_task_completion_date", "human")])
    cols = ["revops_action_key", "crm_contact_id", *[p for p in OWN.written if p != "revops_action_key"],
            "hs_task_status", "payload_hash"]
    con.execute("create table main.sync_hubspot__tasks (" + ", ".join(f"{c} varchar" for c in cols) + ")")
    for r in rows:
        con.execute("insert into main.sync_hubspot__tasks values (" + ", ".join("?" * len(cols)) + ")",
                    [r.get(c, CONFIRMED.get(c)) for c in cols])
    for key, task_id, state, payload_hash in states:
        con.execute("insert into crm_sync.tasks values (?, ?, ?, ?::json, ?, now(), 'r0')",
                    [key, task_id, state, json.dumps({**CONFIRMED, "revops_action_key": key}), payload_hash])
    return con


def test_the_plan_creates_updates_completes_and_leaves_hand_edited_tasks_alone():
    rows = [
        {"revops_action_key": "new:call:1", "crm_contact_id": "1", "payload_hash": "h1"},
        {"revops_action_key": "nocontact:call:1", "crm_contact_id": None, "payload_hash": "h2"},
        {"revops_action_key": "same:call:1", "crm_contact_id": "3", "payload_hash": "h3"},
        {"revops_action_key": "moved:call:1", "crm_contact_id": "4", "payload_hash": "h4new",
         "hs_task_subject": "Call again", "hubspot_owner_id": None},
        {"revops_action_key": "rep:call:1", "crm_contact_id": "5", "payload_hash": "h5new"},
        {"revops_action_key": "back:call:1", "crm_contact_id": "6", "payload_hash": "h6"},
    ]
    states = [("same:call:1", "30", "open", "h3"), ("moved:call:1", "40", "open", "h4"),
              ("rep:call:1", "50", "handed_over", "h5"), ("back:call:1", "60", "completed", "h6"),
              ("gone:call:1", "70", "open", "h7"), ("gone-rep:call:1", "80", "handed_over", "h8"),
              ("gone-done:call:1", "90", "completed", "h9")]
    con = _plan_db(rows, states)
    by_key = {p.sync_key: p for p in T.plan_tasks(con)}
    assert {k: p.action.value for k, p in by_key.items()} == {
        "new:call:1": "create", "nocontact:call:1": "rejected", "same:call:1": "unchanged", "moved:call:1": "update",
        "rep:call:1": "handed_over", "back:call:1": "create", "gone:call:1": "complete"}
    assert by_key["new:call:1"].properties["hs_task_status"] == "NOT_STARTED"  # the status only on create
    assert by_key["new:call:1"].endpoint.value == "batch/create" and by_key["moved:call:1"].endpoint.value == "batch/update"
    assert by_key["moved:call:1"].properties == {"hs_task_subject": "Call again", "hubspot_owner_id": ""}
    assert by_key["moved:call:1"].crm_id == "40"
    assert by_key["back:call:1"].previous_task_id == "60"  # completed by the sync and wanted again: a new task
    assert by_key["gone:call:1"].properties == {"hs_task_status": "COMPLETED"} and by_key["gone:call:1"].crm_id == "70"
    # a dead letter plans an unchanged hash again
    con.execute("insert into crm_sync.dead_letters values ('tasks', 'same:call:1', '{}', 'h3', 'x', 1, now(), now(), "
                "null)")
    assert {p.sync_key: p.action for p in T.plan_tasks(con)}["same:call:1"] is Action.UPDATE


def test_without_the_status_the_sync_creates_but_never_completes():
    con = _plan_db([{"revops_action_key": "new:call:1", "crm_contact_id": "1", "payload_hash": "h1"}],
                   [("gone:call:1", "70", "open", "h7")], owner_of_status="human")
    by_key = {p.sync_key: p for p in T.plan_tasks(con)}
    assert "hs_task_status" not in by_key["new:call:1"].properties
    assert by_key["gone:call:1"].action is Action.UNCHANGED and by_key["gone:call:1"].properties == {}


def test_the_action_key_must_belong_to_the_warehouse():
    con = _plan_db([], [])
    con.execute("delete from config.field_ownership where property = 'revops_action_key'")
    with pytest.raises(ValueError, match="revops_action_key"):
        T.plan_tasks(con)


def test_a_task_result_records_as_its_state():
    assert T.TaskResult(Outcome(True, "1"), T.TaskState.HANDED_OVER).record_state.value == "handed_over"
    assert T.TaskResult(Outcome(True, "1"), T.TaskState.OPEN).record_state.value == "succeeded"
    assert T.TaskResult(Outcome(False, error="x")).record_state.value == "dead_lettered"
