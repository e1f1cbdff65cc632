"""Reverse ETL: the warehouse's desired CRM properties (the sync_hubspot__* models) written back to the CRM —
planned by diff, batched, retried, dead-lettered, audited (docs/sync.md).

plan:  desired rows vs crm_sync.confirmed → create (email key never confirmed) | update | unchanged | rejected
       (no usable key); a record in the dead-letter table is planned again until it succeeds or changes.
guard: a run aborts before sending when more than `max_change_share` of the previously confirmed records would
       change, unless forced (a broken model must not rewrite the whole CRM).
send:  custom properties created first; batches of <= 100 with no record twice; update by CRM id, upsert by email;
       every input carries objectWriteTraceId = its sync_key, so 207 results and errors map back to records; a 400
       for the whole batch is split in halves until the bad record stands alone. Retries, backoff, Retry-After and
       the rate-limit window live in revops.hubspot.HubSpotClient.
state: per batch, one DuckDB transaction after the CRM answered: the audit rows, the confirmed hashes of the
       records that succeeded, the dead letters of those that failed.
tasks: next actions as CRM tasks, created, updated and completed with the same plan, batches, audit and dead letters,
       exactly one open task per action key (reverse_etl/tasks.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum

import duckdb
import polars as pl

from revops.hubspot import FatalError, HubSpotClient, HubSpotError, RetriableError
from revops.faults import crash_point

from .state import ensure_schema

OBJECTS = {
    "contacts": {"model": "sync_hubspot__contacts", "group": "contactinformation"},
    "companies": {"model": "sync_hubspot__companies", "group": "companyinformation"},
    "tasks": {"model": "sync_hubspot__tasks", "group": "task"},
}
# what a sync writes unless told otherwise; tasks last: a contact the sync creates gets its task once extracted
DEFAULT_OBJECTS = ("contacts", "companies", "tasks")
KEY_COLUMNS = {"sync_key", "person_id", "account_id", "crm_contact_id", "crm_company_id", "email", "payload_hash"}


@dataclass(frozen=True)
class SyncConfig:
    batch_size: int = 100  # HubSpot's batch limit
    max_change_share: float = 0.5  # of previously confirmed records a run may change without --force
    breaker_min_records: int = 200  # records sent before the error-rate breaker may trip
    breaker_error_rate: float = 0.5  # failed / sent above this stops the run
    task_create_rounds: int = 5  # search-then-create rounds for a batch of tasks whose create answers get lost
    task_search_settle_s: float = 2.0  # wait before searching again after a lost create answer (HubSpot's search
    #                                    index shows a new record after a few seconds)


class Action(StrEnum):
    """What the plan does with a record."""
    CREATE = "create"  # keyed by email, never confirmed: an upsert creates it (a task: no open task known)
    UPDATE = "update"
    UNCHANGED = "unchanged"  # the CRM confirmed this payload hash already
    REJECTED = "rejected"  # no key to write it by (a task: no CRM contact to associate it with)
    COMPLETE = "complete"  # a task the warehouse no longer wants: set COMPLETED (if nobody changed it by hand)
    HANDED_OVER = "handed_over"  # a task a person completed, edited or deleted: never written again


class Endpoint(StrEnum):
    """The HubSpot batch endpoint a batch goes to: by CRM id, by email (idProperty=email), or a create (tasks)."""
    UPDATE = "batch/update"
    UPSERT = "batch/upsert"
    CREATE = "batch/create"

    def path(self, obj: str) -> str:
        return f"/crm/v3/objects/{obj}/{self.value}"


class RunStatus(StrEnum):
    RUNNING = "running"
    PLANNED = "planned"  # a dry run
    ABORTED = "aborted"  # the change-share guard stopped it before sending
    FAILED = "failed"  # could not start sending (properties could not be created)
    STOPPED = "stopped"  # the error-rate circuit breaker
    SUCCEEDED = "succeeded"
    COMPLETED_WITH_DEAD_LETTERS = "completed_with_dead_letters"


class RecordState(StrEnum):
    SUCCEEDED = "succeeded"
    DEAD_LETTERED = "dead_lettered"
    HANDED_OVER = "handed_over"  # a task found changed by hand: not written


@dataclass(frozen=True)
class Outcome:
    """What the CRM said about one record of a batch."""
    succeeded: bool
    crm_id: str | None = None
    error: str | None = None


@dataclass
class Planned:
    object: str
    sync_key: str
    action: Action
    payload_hash: str
    properties: dict
    crm_id: str | None = None
    email: str | None = None
    reason: str | None = None

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint.UPDATE if self.crm_id else Endpoint.UPSERT


@dataclass
class RunResult:
    run_id: str
    status: RunStatus = RunStatus.RUNNING
    message: str = ""
    plan: dict = field(default_factory=dict)
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    dead_lettered: int = 0
    handed_over: int = 0  # tasks this run found changed by hand in the CRM (not written; from now on left alone)

    def count_batch(self, config: "SyncConfig", sent: int, ok: int, bad: int, handed_over: int = 0) -> bool:
        """Add a confirmed batch to the run's counts; True when the error-rate circuit breaker trips (the run is
        then STOPPED): the one place both the property sync and the task sync count and break."""
        self.sent += sent
        self.succeeded += ok
        self.failed += bad
        self.dead_lettered += bad
        self.handed_over += handed_over
        if self.sent >= config.breaker_min_records and self.failed > config.breaker_error_rate * self.sent:
            self.status = RunStatus.STOPPED
            self.message = f"circuit breaker: {self.failed:,} of {self.sent:,} records failed"
            return True
        return False


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _frame_rows(con, sql: str, params=None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def check_inputs(con, objects) -> None:
    """What the sync reads exists (the sync models of `objects`, the field ownership seed): a warehouse not built
    that far raises duckdb.CatalogException before anything is planned or sent."""
    for obj in objects:
        con.execute(f"select 1 from main.{OBJECTS[obj]['model']} limit 0")
    con.execute("select 1 from config.field_ownership limit 0")


def owned_properties(con, obj: str) -> dict[str, str]:
    """property -> owner (warehouse | if_blank) that the sync may write for an object: the others never leave."""
    rows = con.execute("select property, owner from config.field_ownership where object = ? "
                       "and owner in ('warehouse', 'if_blank')", [obj]).fetchall()
    return dict(rows)


def plan(con, obj: str) -> list[Planned]:
    spec = OBJECTS[obj]
    owned = owned_properties(con, obj)
    confirmed = dict(con.execute("select sync_key, payload_hash from crm_sync.confirmed where object = ?",
                                 [obj]).fetchall())
    dead = {r[0]: r[1] for r in con.execute(
        "select sync_key, payload_hash from crm_sync.dead_letters where object = ? and resolved_at is null",
        [obj]).fetchall()}
    out = []
    for row in _frame_rows(con, f"select * from main.{spec['model']} order by sync_key"):
        props = {k: v for k, v in row.items() if k in owned and k not in KEY_COLUMNS and v is not None}
        crm_id = row.get("crm_contact_id") or row.get("crm_company_id")
        email = row.get("email")
        p = Planned(obj, row["sync_key"], Action.UPDATE, row["payload_hash"], props, crm_id, email)
        if not crm_id and not (email and "@" in email and "." in email.split("@")[-1]):
            p.action, p.reason = Action.REJECTED, "no CRM id and no valid email to upsert by"
        elif confirmed.get(p.sync_key) == p.payload_hash and p.sync_key not in dead:
            p.action = Action.UNCHANGED
        elif not crm_id and p.sync_key not in confirmed:
            p.action = Action.CREATE
        out.append(p)
    return out


def ensure_properties(client: HubSpotClient, obj: str, names: list[str], rounds: int = 10) -> list[str]:
    """Create the custom properties the CRM does not have yet; returns the names created. A create whose
    response was lost and that then answers 409 (it exists) counts as done; a round that gives up on retries
    starts again from the list, up to `rounds` times."""
    created: list[str] = []
    for round_no in range(1, rounds + 1):
        try:
            existing = {p["name"] for p in client.request("GET", f"/crm/v3/properties/{obj}").get("results", [])}
            for name in sorted(set(names) - existing):
                try:
                    client.request("POST", f"/crm/v3/properties/{obj}", json={
                        "name": name, "label": name.replace("_", " ").title(), "type": "string",
                        "fieldType": "text", "groupName": OBJECTS[obj]["group"]})
                except FatalError as e:
                    if e.status != 409:
                        raise
                created.append(name)
            return created
        except RetriableError:
            if round_no == rounds:
                raise
    return created


def idempotency_key(run_id: str, records: list[Planned]) -> str:
    """Derived from the run and each record's key and payload hash: the same batch gets the same key."""
    h = hashlib.sha256(run_id.encode())
    for r in sorted(records, key=lambda r: r.sync_key):
        h.update(f"|{r.sync_key}:{r.payload_hash}".encode())
    return h.hexdigest()[:32]


def _send(client: HubSpotClient, obj: str, endpoint: Endpoint, records: list[Planned],
          request_ids: list[str] | None = None) -> dict[str, Outcome]:
    """sync_key -> Outcome for one batch, all of one endpoint; a 400 for the whole batch is split in halves until
    the bad record stands alone. The CRM's request (correlation) ids of the answered requests are appended to
    `request_ids`."""
    inputs = [{"id": r.crm_id, "properties": r.properties, "objectWriteTraceId": r.sync_key}
              if endpoint is Endpoint.UPDATE else
              {"idProperty": "email", "id": r.email, "properties": r.properties, "objectWriteTraceId": r.sync_key}
              for r in records]
    out: dict[str, Outcome] = {}
    try:
        body = client.request("POST", endpoint.path(obj), json={"inputs": inputs})
        if request_ids is not None and client.last_correlation_id:
            request_ids.append(client.last_correlation_id)
    except FatalError as e:
        if len(records) == 1:
            return {records[0].sync_key: Outcome(False, error=f"rejected by the CRM: {e}")}
        half = len(records) // 2
        out.update(_send(client, obj, endpoint, records[:half], request_ids))
        out.update(_send(client, obj, endpoint, records[half:], request_ids))
        return out
    except RetriableError as e:
        return {r.sync_key: Outcome(False, error=f"gave up after retries: {e}") for r in records}
    for res in body.get("results", []):
        out[res.get("objectWriteTraceId")] = Outcome(True, str(res.get("id")))
    for err in body.get("errors", []):
        for key in (err.get("context") or {}).get("objectWriteTraceId", []):
            out[key] = Outcome(False, error=err.get("message") or err.get("category"))
    for r in records:  # an input the CRM neither confirmed nor refused (not found): failed
        out.setdefault(r.sync_key, Outcome(False, error="no result for this input"))
    return out


# the failed rows of the registered frame _batch_rows (sync_key, payload, payload_hash, error, succeeded) into the
# dead-letter table: a new one starts at attempt 1, an open one counts one more, a resolved one opens again at 1
DEAD_LETTER_UPSERT = """
    insert into crm_sync.dead_letters
    select ?, sync_key, payload::json, payload_hash, error, 1, ?, ?, null from _batch_rows where not succeeded
    on conflict (object, sync_key) do update set
        payload = excluded.payload, payload_hash = excluded.payload_hash, error = excluded.error,
        attempts = case when crm_sync.dead_letters.resolved_at is null
                        then crm_sync.dead_letters.attempts + 1 else 1 end,
        first_failed_at = case when crm_sync.dead_letters.resolved_at is null
                               then crm_sync.dead_letters.first_failed_at else excluded.first_failed_at end,
        last_failed_at = excluded.last_failed_at, resolved_at = null
"""


def audit_batch(con, run_id: str, obj: str, batch_no: int, endpoint: Endpoint, records: list, ok: int, bad: int,
                status: str, started: float, now: datetime, request_ids: list[str]) -> None:
    """The batch's audit row (crm_sync.batches), inside the caller's transaction: the real endpoint, the
    idempotency key, the counts, how long the CRM took and its request ids."""
    con.execute("insert into crm_sync.batches (run_id, object, batch_no, endpoint, idempotency_key, records, "
                "succeeded, failed, status, duration_ms, sent_at, request_ids) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, obj, batch_no, f"POST {endpoint.path(obj)}", idempotency_key(run_id, records), len(records),
                 ok, bad, status, (time.perf_counter() - started) * 1000, now, ",".join(i for i in request_ids if i)])


def _record_batch(con, run_id: str, obj: str, batch_no: int, endpoint: Endpoint, records: list[Planned],
                  outcome: dict[str, Outcome], started: float, request_ids: list[str]) -> tuple[int, int]:
    # set-based writes through registered frames: a row-by-row insert costs ~1 ms each in DuckDB, which made
    # the state, not the CRM, the bottleneck (7 of 10 s for 1,900 records)
    now = _now()
    rows = pl.DataFrame({
        "sync_key": [r.sync_key for r in records],
        "crm_id": [outcome[r.sync_key].crm_id or r.crm_id for r in records],
        "succeeded": [outcome[r.sync_key].succeeded for r in records],
        "error": [outcome[r.sync_key].error for r in records],
        "payload": [json.dumps(r.properties) for r in records],
        "payload_hash": [r.payload_hash for r in records],
    }, schema={"sync_key": pl.String, "crm_id": pl.String, "succeeded": pl.Boolean, "error": pl.String,
               "payload": pl.String, "payload_hash": pl.String})
    ok = int(rows["succeeded"].sum())
    bad = rows.height - ok
    con.register("_batch_rows", rows)
    con.execute("begin transaction")
    try:
        audit_batch(con, run_id, obj, batch_no, endpoint, records, ok, bad, "ok" if not bad else
                    ("partial" if ok else "failed"), started, now, request_ids)
        con.execute("""insert into crm_sync.record_outcomes
                       select ?, ?, ?, sync_key, crm_id,
                              case when succeeded then ? else ? end, error
                       from _batch_rows""", [run_id, obj, batch_no, RecordState.SUCCEEDED.value,
                                             RecordState.DEAD_LETTERED.value])
        con.execute("""insert or replace into crm_sync.confirmed
                       select ?, sync_key, crm_id, payload_hash, ?, ? from _batch_rows where succeeded""",
                    [obj, now, run_id])
        con.execute("""update crm_sync.dead_letters set resolved_at = ?
                       where object = ? and resolved_at is null
                         and sync_key in (select sync_key from _batch_rows where succeeded)""", [now, obj])
        con.execute(DEAD_LETTER_UPSERT, [obj, now, now])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_batch_rows")
    return ok, bad


def run_sync(con: duckdb.DuckDBPyConnection, client: HubSpotClient | None, objects=DEFAULT_OBJECTS,
             dry_run: bool = False, force: bool = False, config: SyncConfig = SyncConfig(),
             on_batch=None) -> RunResult:
    from . import tasks

    ensure_schema(con)
    started_at = _now()
    run_id = started_at.strftime("%Y%m%dT%H%M%S%fZ")
    res = RunResult(run_id)
    plans = {obj: tasks.plan_tasks(con) if obj == "tasks" else plan(con, obj) for obj in objects}
    counts = {a.value: sum(p.action is a for ps in plans.values() for p in ps) for a in Action}
    res.plan = counts
    con.execute("insert into crm_sync.runs (run_id, started_at, finished_at, status, dry_run, forced, message, "
                "planned_creates, planned_updates, unchanged, rejected, sent, succeeded, failed, dead_lettered, "
                "requests, retries, planned_completes, handed_over) "
                "values (?, ?, null, ?, ?, ?, null, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, ?, ?)",
                [run_id, started_at, RunStatus.RUNNING.value, dry_run, force, counts["create"], counts["update"],
                 counts["unchanged"], counts["rejected"], counts["complete"], counts["handed_over"]])
    for obj, ps in plans.items():
        if ps:
            con.register("_plan_rows", pl.DataFrame(
                {"sync_key": [p.sync_key for p in ps], "action": [p.action.value for p in ps],
                 "reason": [p.reason for p in ps], "payload_hash": [p.payload_hash for p in ps]},
                schema={"sync_key": pl.String, "action": pl.String, "reason": pl.String, "payload_hash": pl.String}))
            con.execute("insert into crm_sync.plan select ?, ?, sync_key, action, reason, payload_hash "
                        "from _plan_rows", [run_id, obj])
            con.unregister("_plan_rows")
    # open tasks count like confirmed records, and their updates and completes like updates
    confirmed_before = con.execute("select count(*) from crm_sync.confirmed").fetchall()[0][0] + con.execute(
        "select count(*) from crm_sync.tasks where state = 'open'").fetchall()[0][0]
    changing_confirmed = con.execute(
        "select count(*) from crm_sync.plan p join crm_sync.confirmed c using (object, sync_key) "
        "where p.run_id = ? and p.action = ?", [run_id, Action.UPDATE.value]).fetchall()[0][0] + sum(
        p.action in (Action.UPDATE, Action.COMPLETE) for p in plans.get("tasks", []))
    if dry_run:
        res.status, res.message = RunStatus.PLANNED, "dry run: nothing sent"
    elif (confirmed_before and changing_confirmed > config.max_change_share * confirmed_before and not force):
        res.status = RunStatus.ABORTED
        res.message = (f"the plan changes {changing_confirmed:,} of {confirmed_before:,} confirmed records "
                       f"(> {config.max_change_share:.0%}); rerun with --force if that is intended")
    else:
        assert client is not None
        for obj, ps in plans.items():
            if obj == "tasks":
                tasks.send_tasks(con, client, run_id, ps, config, res, on_batch)
                if res.status in (RunStatus.STOPPED, RunStatus.FAILED):
                    break
                continue
            todo = [p for p in ps if p.action in (Action.CREATE, Action.UPDATE)]
            if not todo:
                continue
            try:
                ensure_properties(client, obj, sorted({k for p in todo for k in p.properties}))
            except HubSpotError as e:
                res.status, res.message = RunStatus.FAILED, f"could not create the {obj} properties: {e}"
                break
            # each batch goes to one endpoint (by CRM id first, then by email), so the audit names the real one
            batches = [(endpoint, group[start:start + config.batch_size])
                       for endpoint in Endpoint
                       for group in [[p for p in todo if p.endpoint is endpoint]]
                       for start in range(0, len(group), config.batch_size)]
            for batch_no, (endpoint, batch) in enumerate(batches, start=1):
                t0 = time.perf_counter()
                request_ids: list[str] = []
                outcome = _send(client, obj, endpoint, batch, request_ids)
                crash_point("REVOPS_FAULT_KILL_AT_BATCH")  # the CRM has the values, the state does not yet
                ok, bad = _record_batch(con, run_id, obj, batch_no, endpoint, batch, outcome, t0, request_ids)
                tripped = res.count_batch(config, len(batch), ok, bad)
                if on_batch:
                    on_batch(obj, batch_no, ok, bad)
                if tripped:
                    break
            if res.status in (RunStatus.STOPPED, RunStatus.FAILED):
                break
        if res.status is RunStatus.RUNNING:
            res.status = RunStatus.SUCCEEDED if not res.failed else RunStatus.COMPLETED_WITH_DEAD_LETTERS
    stats = client.stats if client else {"requests": 0, "retries": 0}
    con.execute("update crm_sync.runs set finished_at = ?, status = ?, message = ?, sent = ?, succeeded = ?, failed = ?, "
                "dead_lettered = ?, requests = ?, retries = ?, handed_over = ? where run_id = ?",
                [_now(), res.status.value, res.message, res.sent, res.succeeded, res.failed, res.dead_lettered,
                 stats["requests"], stats["retries"], counts["handed_over"] + res.handed_over, run_id])
    return res
