"""Next actions as CRM tasks (docs/sync.md, Tasks): the rows of sync_hubspot__tasks created, updated and completed as
HubSpot tasks with the plan, batches, dead letters and audit of the other objects (engine.py) — and exactly one open
task per action key (the task's custom property revops_action_key), also when answers get lost or the run is killed.

plan:      per action key, from the model and crm_sync.tasks: create (no open task known; needs a CRM contact to
           associate, else rejected) | update (an open task whose mapped values changed: only the changed properties)
           | unchanged | complete (an open task whose key left the model) | handed_over (a person completed, edited or
           deleted it: never written again).
create:    never sent twice blindly. Before a batch of creates the CRM is searched for tasks with those keys
           (revops_action_key IN [...]): an open task holding our values (the ones to create, or ones of a write whose
           answer was lost) is adopted, one a person changed is handed over, and only the rest is created, associated
           with its contact (task_to_contact, 204). A create whose answer is lost (dropped connection, 5xx, timeout:
           it may have been applied) is not resent: the next round searches again, after task_search_settle_s, and
           adopts what the lost request created; after task_create_rounds rounds the rest is dead-lettered and the next
           run starts from the search again. Only a 429 (refused before it was processed) is retried as such.
update,    the CRM's current values are read back (batch/read) right before writing. A task whose watched values (the
complete:  warehouse's properties and the status) are neither those the CRM confirmed last nor ones we sent since
           (answer unknown) was changed by hand: handed over, not written. The others get batch/update, which is
           idempotent and so retried like any update.
read-back: at sync time, not from the landed CRM extraction: the extraction may be an hour old, and a task a rep
           completes between extraction and sync must not be reopened or overwritten; the read costs one request per
           100 tasks the run writes. (The extraction lands revops_action_key, status and completion date for the
           models.) A rep who edits a task in the milliseconds between the read and the write is not seen.
state:     crm_sync.tasks per key (task id, state, the values the CRM confirmed) in the batch's one transaction after
           the CRM answered; crm_sync.task_writes_pending holds each write's values from just before its request until
           its answer is recorded, so values found after a crash or a lost answer are recognised as ours.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import duckdb
import polars as pl

from revops.faults import crash_point
from revops.hubspot import FatalError, HubSpotClient, HubSpotError, RetriableError

from .engine import (DEAD_LETTER_UPSERT, Action, Endpoint, Outcome, Planned, RecordState, RunResult, RunStatus,
                     SyncConfig, _frame_rows, _now, _send, audit_batch, ensure_properties)

OBJECT = "tasks"
MODEL = "sync_hubspot__tasks"
KEY_PROPERTY = "revops_action_key"
STATUS = "hs_task_status"
COMPLETED = "COMPLETED"
TASK_TO_CONTACT = 204  # HubSpot's default (HUBSPOT_DEFINED) association type task -> contact
DATETIME_PROPERTIES = frozenset({"hs_timestamp"})
SEARCH_PAGE = 200


class TaskState(StrEnum):
    OPEN = "open"  # the sync's task: written while the warehouse wants it
    COMPLETED = "completed"  # completed by the sync (the warehouse no longer wanted it)
    HANDED_OVER = "handed_over"  # a person completed, edited or deleted it: left alone for good


@dataclass(frozen=True)
class TaskOwnership:
    """What seeds/field_ownership lets the sync do with a task."""
    written: tuple[str, ...]  # owner warehouse: written while the task is open and untouched by hand
    status: bool  # hs_task_status is create_and_complete: NOT_STARTED on create, COMPLETED to retire a task

    @property
    def watched(self) -> tuple[str, ...]:
        """The values the hand-edit check compares: the written ones and the status."""
        return tuple(sorted({*self.written, STATUS}))


def ownership(con: duckdb.DuckDBPyConnection) -> TaskOwnership:
    owners = dict(con.execute("select property, owner from config.field_ownership where object = ?",
                              [OBJECT]).fetchall())
    written = tuple(sorted(p for p, o in owners.items() if o == "warehouse"))
    if KEY_PROPERTY not in written:
        raise ValueError(f"seeds/field_ownership must give tasks.{KEY_PROPERTY} to the warehouse: it is how the sync "
                         "finds its tasks in the CRM")
    return TaskOwnership(written, owners.get(STATUS) == "create_and_complete")


@dataclass
class TaskPlanned(Planned):
    contact_id: str | None = None  # the contact a created task is associated with
    confirmed: dict = field(default_factory=dict)  # the watched values the CRM confirmed last (an open task)
    pending: list[dict] = field(default_factory=list)  # values of writes sent since whose answer is not recorded
    previous_task_id: str | None = None  # a task of this key the sync completed earlier (not adopted again)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint.CREATE if self.action is Action.CREATE else Endpoint.UPDATE


@dataclass(frozen=True)
class TaskResult:
    """What one batch did to one task."""
    outcome: Outcome  # succeeded / task id / error, as for the other objects
    state: TaskState | None = None  # the task's state now; None: a failure, the state stays
    confirmed: dict | None = None  # the watched values the CRM holds now
    payload_hash: str | None = None  # the desired hash those values stand for (None: not the desired ones yet)
    sent: bool = False  # went out in a write request of this batch
    settled: bool = True  # False: a write's answer is still unknown; its pending values stay
    needs_update: bool = False  # adopted holding older values of ours: an update follows in this run

    @property
    def record_state(self) -> RecordState:
        if self.state is TaskState.HANDED_OVER:
            return RecordState.HANDED_OVER
        return RecordState.SUCCEEDED if self.outcome.succeeded else RecordState.DEAD_LETTERED


# --- values ----------------------------------------------------------------------------------------------------------

def _norm(prop: str, value) -> str:
    """A value as compared: empty is "", a datetime its epoch milliseconds (ISO or millis), else the stripped text."""
    if value is None:
        return ""
    text = str(value).strip()
    if prop in DATETIME_PROPERTIES and text:
        if text.isdigit():
            return text
        try:
            return str(int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000))
        except ValueError:
            return text
    return text


def _watched(props: dict, own: TaskOwnership) -> dict:
    return {p: props.get(p) for p in own.watched}


def is_untouched(current: dict, base: dict, attempts: list[dict], own: TaskOwnership) -> bool:
    """Whether the CRM's watched values are ours: each is the base value (the one confirmed last, or for a create
    the one to create) or one that a write sent since carried (its answer unknown). Anything else: a person."""
    for prop in own.watched:
        allowed = {_norm(prop, base.get(prop))} | {_norm(prop, a[prop]) for a in attempts if prop in a}
        if _norm(prop, current.get(prop)) not in allowed:
            return False
    return True


def changes(desired: dict, confirmed: dict, own: TaskOwnership) -> dict:
    """The properties an update sends: the written ones whose desired value differs from the confirmed one ("" clears
    a value the warehouse no longer has, e.g. the owner of a task now in the fallback queue)."""
    out = {p: v for p, v in desired.items() if p in own.written and _norm(p, v) != _norm(p, confirmed.get(p))}
    out.update({p: "" for p in own.written if p not in desired and _norm(p, confirmed.get(p))})
    return out


# --- plan ------------------------------------------------------------------------------------------------------------

def _pending(con) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for key, props in con.execute("select action_key, properties::varchar from crm_sync.task_writes_pending "
                                  "order by sent_at").fetchall():
        out.setdefault(key, []).append(json.loads(props))
    return out


def plan_tasks(con: duckdb.DuckDBPyConnection) -> list[TaskPlanned]:
    """One planned record per desired task and per open task the model no longer has (see the module doc)."""
    own = ownership(con)
    states = {r["action_key"]: r for r in _frame_rows(
        con, "select action_key, task_id, state, payload::varchar as payload, payload_hash from crm_sync.tasks")}
    dead = {r[0] for r in con.execute("select sync_key from crm_sync.dead_letters where object = ? "
                                      "and resolved_at is null", [OBJECT]).fetchall()}
    pending = _pending(con)
    out: list[TaskPlanned] = []
    desired_keys: set[str] = set()
    for row in _frame_rows(con, f"select * from main.{MODEL} order by {KEY_PROPERTY}"):
        key = row[KEY_PROPERTY]
        desired_keys.add(key)
        values = {p: row[p] for p in own.written if row.get(p) is not None}
        st = states.get(key)
        confirmed = json.loads(st["payload"]) if st and st["payload"] else {}
        p = TaskPlanned(OBJECT, key, Action.CREATE, row["payload_hash"], values, contact_id=row.get("crm_contact_id"),
                        confirmed=confirmed, pending=pending.get(key, []))
        if st is None or st["state"] == TaskState.COMPLETED:
            if own.status:
                p.properties = {**values, STATUS: row[STATUS]}  # created with its first status
            if st is not None:
                p.previous_task_id, p.reason = st["task_id"], "wanted again after the sync completed its task: a new one"
            if not p.contact_id:
                p.action, p.reason = Action.REJECTED, "no CRM contact to associate the task with"
        elif st["state"] == TaskState.HANDED_OVER:
            p.action, p.crm_id = Action.HANDED_OVER, st["task_id"]
            p.reason = "completed, edited or deleted by hand in the CRM: left alone"
        else:
            p.crm_id = st["task_id"]
            if st["payload_hash"] == p.payload_hash and key not in dead:
                p.action = Action.UNCHANGED
            else:
                p.action, p.properties = Action.UPDATE, changes(values, confirmed, own)
        out.append(p)
    for key, st in states.items():
        if key in desired_keys or st["state"] != TaskState.OPEN:
            continue
        confirmed = json.loads(st["payload"]) if st["payload"] else {}
        p = TaskPlanned(OBJECT, key, Action.COMPLETE, st["payload_hash"] or "", {STATUS: COMPLETED}, crm_id=st["task_id"],
                        confirmed=confirmed, pending=pending.get(key, []),
                        reason="the next action changed: the warehouse no longer wants this task")
        if not own.status:  # the seed does not let the sync set the status: the task stays as it is
            p.action, p.properties, p.reason = Action.UNCHANGED, {}, "no longer wanted; the status is not ours to set"
        out.append(p)
    return out


# --- CRM calls -------------------------------------------------------------------------------------------------------

def _search(client: HubSpotClient, keys: list[str], own: TaskOwnership, request_ids: list[str]) -> dict[str, list[dict]]:
    """Every task (open or completed, not archived) carrying one of `keys`, by key, oldest first."""
    found: dict[str, list[dict]] = {}
    after = None
    while True:
        body = {"filterGroups": [{"filters": [{"propertyName": KEY_PROPERTY, "operator": "IN", "values": keys}]}],
                "properties": list(own.watched), "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "limit": SEARCH_PAGE}
        if after:
            body["after"] = after
        page = client.request("POST", f"/crm/v3/objects/{OBJECT}/search", json=body)
        request_ids.append(client.last_correlation_id or "")
        for task in page.get("results", []):
            found.setdefault((task.get("properties") or {}).get(KEY_PROPERTY), []).append(task)
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return found


def _read(client: HubSpotClient, task_ids: list[str], own: TaskOwnership, request_ids: list[str]) -> dict[str, dict]:
    """The tasks' current properties by id; a task not found (deleted in the CRM) is missing from the result."""
    body = client.request("POST", f"/crm/v3/objects/{OBJECT}/batch/read",
                          json={"inputs": [{"id": i} for i in task_ids], "properties": list(own.watched)})
    request_ids.append(client.last_correlation_id or "")
    return {str(t["id"]): t.get("properties") or {} for t in body.get("results", [])}


def _create_once(client: HubSpotClient, records: list[TaskPlanned], request_ids: list[str]) -> dict[str, tuple[str, object]]:
    """One batch/create, never retried on an unknown outcome: key -> ("created", the task) | ("refused", message) |
    ("unknown", message). A 4xx for the whole request created nothing: it is split in halves until the bad input
    stands alone."""
    inputs = [{"properties": p.properties, "objectWriteTraceId": p.sync_key,
               "associations": [{"to": {"id": p.contact_id}, "types": [
                   {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_CONTACT}]}]}
              for p in records]
    try:
        body = client.request("POST", Endpoint.CREATE.path(OBJECT), json={"inputs": inputs}, idempotent=False)
        request_ids.append(client.last_correlation_id or "")
    except FatalError as e:
        if len(records) == 1:
            return {records[0].sync_key: ("refused", f"rejected by the CRM: {e}")}
        half = len(records) // 2
        return {**_create_once(client, records[:half], request_ids), **_create_once(client, records[half:], request_ids)}
    except RetriableError as e:
        return {p.sync_key: ("unknown", str(e)) for p in records}
    keys = {p.sync_key for p in records}
    out: dict[str, tuple[str, object]] = {}
    for task in body.get("results", []):
        key = (task.get("properties") or {}).get(KEY_PROPERTY) or task.get("objectWriteTraceId")
        if key in keys:
            out[key] = ("created", task)
    for err in body.get("errors", []):
        context = err.get("context") or {}
        failed = context.get("objectWriteTraceId") or [
            records[int(i)].sync_key for i in context.get("index", []) if str(i).isdigit() and int(i) < len(records)]
        for key in failed:
            out.setdefault(key, ("refused", err.get("message") or err.get("category")))
    for p in records:  # neither created nor refused in the answer: find out by searching
        out.setdefault(p.sync_key, ("unknown", "the CRM's answer has no result for this input"))
    return out


def _found_decision(p: TaskPlanned, tasks: list[dict], own: TaskOwnership, sent: bool) -> TaskResult | None:
    """What the tasks already in the CRM with p's key mean for its create; None: there is none, create it."""
    open_tasks = [t for t in tasks if (t.get("properties") or {}).get(STATUS) != COMPLETED]
    if open_tasks:
        task = min(open_tasks, key=lambda t: int(t["id"]))
        current = _watched(task.get("properties") or {}, own)
        if not is_untouched(current, p.properties, p.pending, own):
            return TaskResult(Outcome(True, str(task["id"])), TaskState.HANDED_OVER, current, p.payload_hash, sent)
        is_desired = is_untouched(current, p.properties, [], own)
        return TaskResult(Outcome(True, str(task["id"])), TaskState.OPEN, current,
                          p.payload_hash if is_desired else None, sent, needs_update=not is_desired)
    by_hand = [t for t in tasks if str(t["id"]) != p.previous_task_id]
    if by_hand:  # completed, and not by the sync: a person did it before the sync learned the task's id
        task = min(by_hand, key=lambda t: int(t["id"]))
        return TaskResult(Outcome(True, str(task["id"])), TaskState.HANDED_OVER,
                          _watched(task.get("properties") or {}, own), p.payload_hash, sent)
    return None


def _create_batch(client: HubSpotClient, batch: list[TaskPlanned], own: TaskOwnership, config: SyncConfig,
                  request_ids: list[str]) -> dict[str, TaskResult]:
    """Search, adopt, create the rest once; after a lost answer search again (see the module doc)."""
    todo = {p.sync_key: p for p in batch}
    lost: dict[str, str] = {}  # key -> the error of its create whose answer was lost
    out: dict[str, TaskResult] = {}
    for round_no in range(config.task_create_rounds + 1):
        if round_no and config.task_search_settle_s:
            time.sleep(config.task_search_settle_s)
        try:
            found = _search(client, list(todo), own, request_ids)
        except HubSpotError as e:
            for key in todo:
                out[key] = TaskResult(Outcome(False, error=f"could not search the CRM for the task before creating "
                                                          f"it: {e}"), sent=key in lost, settled=False)
            return out
        for key in list(todo):
            decided = _found_decision(todo[key], found.get(key, []), own, key in lost)
            if decided is not None:
                out[key] = decided
                del todo[key]
        if not todo or round_no == config.task_create_rounds:
            break
        for key, (kind, detail) in _create_once(client, list(todo.values()), request_ids).items():
            p = todo[key]
            if kind == "created":
                task = detail if isinstance(detail, dict) else {}
                current = {**_watched(p.properties, own), **{k: v for k, v in _watched(
                    task.get("properties") or {}, own).items() if v is not None}}
                out[key] = TaskResult(Outcome(True, str(task.get("id"))), TaskState.OPEN, current, p.payload_hash,
                                      sent=True)
                del todo[key]
            elif kind == "refused":
                out[key] = TaskResult(Outcome(False, error=str(detail)), sent=True)
                del todo[key]
            else:
                lost[key] = str(detail)
        if not todo:
            break
    for key in todo:
        out[key] = TaskResult(Outcome(False, error=f"the create's answer was lost ({lost.get(key)}) and the task was "
                                                   "not found afterwards; the next run searches for it before "
                                                   "creating it"), sent=True, settled=False)
    return out


def _update_batch(client: HubSpotClient, batch: list[TaskPlanned], own: TaskOwnership,
                  request_ids: list[str]) -> dict[str, TaskResult]:
    """Read back, hand the changed-by-hand tasks over, batch/update the rest (updates and completes)."""
    try:
        current = _read(client, [p.crm_id for p in batch], own, request_ids)
    except HubSpotError as e:
        return {p.sync_key: TaskResult(Outcome(False, error=f"could not read the task back before writing it: {e}"),
                                       settled=False) for p in batch}
    out: dict[str, TaskResult] = {}
    to_send: list[TaskPlanned] = []
    for p in batch:
        now_state = TaskState.COMPLETED if p.action is Action.COMPLETE else TaskState.OPEN
        props = current.get(p.crm_id)
        if props is None:  # deleted (archived) in the CRM: not recreated
            out[p.sync_key] = TaskResult(Outcome(True, p.crm_id), TaskState.HANDED_OVER, p.confirmed, p.payload_hash)
        elif not is_untouched(_watched(props, own), p.confirmed, p.pending, own):
            out[p.sync_key] = TaskResult(Outcome(True, p.crm_id), TaskState.HANDED_OVER, _watched(props, own),
                                         p.payload_hash)
        elif not p.properties:  # the values are the desired ones already
            out[p.sync_key] = TaskResult(Outcome(True, p.crm_id), now_state, _watched(props, own), p.payload_hash)
        else:
            to_send.append(p)
    if to_send:
        sent = _send(client, OBJECT, Endpoint.UPDATE, to_send, request_ids)
        for p in to_send:
            o = sent[p.sync_key]
            if not o.succeeded:
                out[p.sync_key] = TaskResult(o, sent=True, settled=False)
                continue
            confirmed = {**_watched(current[p.crm_id], own), **{k: (v or None) for k, v in p.properties.items()}}
            out[p.sync_key] = TaskResult(Outcome(True, p.crm_id),
                                         TaskState.COMPLETED if p.action is Action.COMPLETE else TaskState.OPEN,
                                         confirmed, p.payload_hash, sent=True)
    return out


# --- state -----------------------------------------------------------------------------------------------------------

def _write_pending(con, run_id: str, records: list[TaskPlanned], own: TaskOwnership) -> None:
    """The values about to be sent, before the request: a create's whole watched set ("" for what it leaves
    empty), an update's properties."""
    rows = [(p.sync_key, p.crm_id, json.dumps({k: p.properties.get(k, "") for k in own.watched}
                                              if p.action is Action.CREATE else p.properties))
            for p in records if p.properties]
    if not rows:
        return
    con.register("_pending_rows", pl.DataFrame(rows, schema={"action_key": pl.String, "task_id": pl.String,
                                                             "properties": pl.String}, orient="row"))
    try:
        con.execute("insert into crm_sync.task_writes_pending select action_key, task_id, properties::json, ?, ? "
                    "from _pending_rows", [run_id, _now()])
    finally:
        con.unregister("_pending_rows")


def _record(con, run_id: str, batch_no: int, endpoint: Endpoint, batch: list[TaskPlanned],
            results: dict[str, TaskResult], started: float, request_ids: list[str]) -> tuple[int, int, int]:
    """One transaction after the CRM answered: the batch and record audit, the tasks' state, dead letters, and the
    pending values of the writes whose answer is now known. Returns (succeeded, failed, handed over)."""
    now = _now()
    res = [results[p.sync_key] for p in batch]
    rows = pl.DataFrame({
        "sync_key": [p.sync_key for p in batch],
        "crm_id": [r.outcome.crm_id or p.crm_id for p, r in zip(batch, res)],
        "succeeded": [r.outcome.succeeded for r in res],
        "outcome": [r.record_state.value for r in res],
        "error": [r.outcome.error for r in res],
        "payload": [json.dumps(p.properties) for p in batch],
        "payload_hash": [p.payload_hash for p in batch],
        "state": [r.state.value if r.state else None for r in res],
        "confirmed": [json.dumps(r.confirmed) if r.confirmed is not None else None for r in res],
        "confirmed_hash": [r.payload_hash for r in res],
        "settled": [r.settled for r in res],
    }, schema={"sync_key": pl.String, "crm_id": pl.String, "succeeded": pl.Boolean, "outcome": pl.String,
               "error": pl.String, "payload": pl.String, "payload_hash": pl.String, "state": pl.String,
               "confirmed": pl.String, "confirmed_hash": pl.String, "settled": pl.Boolean})
    handed = sum(r.state is TaskState.HANDED_OVER for r in res)
    ok = sum(r.outcome.succeeded for r in res) - handed
    bad = len(res) - ok - handed
    con.register("_batch_rows", rows)
    con.execute("begin transaction")
    try:
        audit_batch(con, run_id, OBJECT, batch_no, endpoint, batch, ok, bad,
                    "ok" if not bad else ("partial" if ok or handed else "failed"), started, now, request_ids)
        con.execute("insert into crm_sync.record_outcomes select ?, ?, ?, sync_key, crm_id, outcome, error "
                    "from _batch_rows", [run_id, OBJECT, batch_no])
        con.execute("""insert or replace into crm_sync.tasks
                       select sync_key, crm_id, state, confirmed::json, confirmed_hash, ?, ?
                       from _batch_rows where state is not null""", [now, run_id])
        con.execute("""update crm_sync.dead_letters set resolved_at = ?
                       where object = ? and resolved_at is null
                         and sync_key in (select sync_key from _batch_rows where succeeded)""", [now, OBJECT])
        con.execute(DEAD_LETTER_UPSERT, [OBJECT, now, now])
        con.execute("delete from crm_sync.task_writes_pending where action_key in "
                    "(select sync_key from _batch_rows where settled)")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_batch_rows")
    return ok, bad, handed


# --- the run ---------------------------------------------------------------------------------------------------------

def _followup_update(p: TaskPlanned, r: TaskResult, own: TaskOwnership, desired: dict) -> TaskPlanned:
    """The update of a task adopted with older values of ours: from what it holds to what is desired now."""
    confirmed = r.confirmed or {}
    return TaskPlanned(OBJECT, p.sync_key, Action.UPDATE, p.payload_hash, changes(desired, confirmed, own),
                       crm_id=r.outcome.crm_id, confirmed=confirmed)


def send_tasks(con: duckdb.DuckDBPyConnection, client: HubSpotClient, run_id: str, plans: list[TaskPlanned],
               config: SyncConfig, res: RunResult, on_batch=None) -> None:
    """Creates first (search, adopt, create the rest), then updates and completes (read back, write); one state
    transaction per batch; the run's counts in `res`; stops like the other objects on the error-rate breaker."""
    creates = [p for p in plans if p.action is Action.CREATE]
    writes = [p for p in plans if p.action in (Action.UPDATE, Action.COMPLETE)]
    if not creates and not writes:
        return
    own = ownership(con)
    try:
        ensure_properties(client, OBJECT, sorted({k for p in creates + writes for k in p.properties} | {KEY_PROPERTY}))
    except HubSpotError as e:
        res.status, res.message = RunStatus.FAILED, f"could not create the {OBJECT} properties: {e}"
        return
    batch_no = 0

    def run_batch(endpoint: Endpoint, batch: list[TaskPlanned]) -> dict[str, TaskResult] | None:
        nonlocal batch_no
        batch_no += 1
        started, request_ids = time.perf_counter(), []
        _write_pending(con, run_id, batch, own)
        results = (_create_batch(client, batch, own, config, request_ids) if endpoint is Endpoint.CREATE
                   else _update_batch(client, batch, own, request_ids))
        crash_point("REVOPS_FAULT_KILL_AT_BATCH")  # the CRM has the tasks, the state does not yet
        ok, bad, handed = _record(con, run_id, batch_no, endpoint, batch, results, started, request_ids)
        tripped = res.count_batch(config, sum(r.sent for r in results.values()), ok, bad, handed)
        if on_batch:
            on_batch(OBJECT, batch_no, ok, bad)
        return None if tripped else results

    desired = {p.sync_key: {k: v for k, v in p.properties.items() if k != STATUS} for p in creates}
    for start in range(0, len(creates), config.batch_size):
        batch = creates[start:start + config.batch_size]
        results = run_batch(Endpoint.CREATE, batch)
        if results is None:
            return
        writes += [_followup_update(p, results[p.sync_key], own, desired[p.sync_key])
                   for p in batch if results[p.sync_key].needs_update]
    for start in range(0, len(writes), config.batch_size):
        if run_batch(Endpoint.UPDATE, writes[start:start + config.batch_size]) is None:
            return
