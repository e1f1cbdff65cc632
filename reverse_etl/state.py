"""The sync's state and audit trail in the warehouse (schema `crm_sync`, docs/sync.md).

`crm_sync.confirmed` holds, per record, the payload hash the CRM last confirmed: it is written in the same
transaction as the batch's audit rows and only after the CRM answered, so a crash before that point re-sends the
same values next run (the CRM ends with the same value, never a second different one) and a crash after it
sends nothing again.

Tasks (reverse_etl/tasks.py) keep their own state: `crm_sync.tasks` holds, per action key, the CRM task, its state
(open | completed: by the sync | handed_over: a person completed, edited or deleted it, so the sync never writes it
again) and the values the CRM confirmed last, which the hand-edit check compares the CRM's current values with.
`crm_sync.task_writes_pending` holds the task writes sent whose answer is not recorded yet (written before the
request, removed with the batch's state): after a lost answer or a crash, the values found in the CRM are ours if
they are the confirmed ones or one of these."""

from __future__ import annotations

import duckdb

DDL = """
create schema if not exists crm_sync;
create table if not exists crm_sync.runs (
    run_id varchar primary key, started_at timestamptz not null, finished_at timestamptz, status varchar not null,
    dry_run boolean not null, forced boolean not null, message varchar,
    planned_creates bigint, planned_updates bigint, unchanged bigint, rejected bigint,
    sent bigint, succeeded bigint, failed bigint, dead_lettered bigint, requests bigint, retries bigint
);
create table if not exists crm_sync.plan (
    run_id varchar not null, object varchar not null, sync_key varchar not null, action varchar not null,
    reason varchar, payload_hash varchar
);
create table if not exists crm_sync.batches (
    run_id varchar not null, object varchar not null, batch_no integer not null, endpoint varchar not null,
    idempotency_key varchar not null, records integer not null, succeeded integer not null, failed integer not null,
    status varchar not null, duration_ms double not null, sent_at timestamptz not null
);
create table if not exists crm_sync.record_outcomes (
    run_id varchar not null, object varchar not null, batch_no integer not null, sync_key varchar not null,
    crm_id varchar, outcome varchar not null, error varchar
);
create table if not exists crm_sync.confirmed (
    object varchar not null, sync_key varchar not null, crm_id varchar, payload_hash varchar not null,
    confirmed_at timestamptz not null, run_id varchar not null, primary key (object, sync_key)
);
create table if not exists crm_sync.tasks (
    action_key varchar primary key, task_id varchar, state varchar not null, payload json,
    payload_hash varchar, updated_at timestamptz not null, run_id varchar not null
);
create table if not exists crm_sync.task_writes_pending (
    action_key varchar not null, task_id varchar, properties json not null, run_id varchar not null,
    sent_at timestamptz not null
);
create table if not exists crm_sync.dead_letters (
    object varchar not null, sync_key varchar not null, payload json not null, payload_hash varchar not null,
    error varchar not null, attempts integer not null, first_failed_at timestamptz not null,
    last_failed_at timestamptz not null, resolved_at timestamptz, primary key (object, sync_key)
);
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    # added after the first release of the table: warehouses that synced before get the column too
    con.execute("alter table crm_sync.batches add column if not exists request_ids varchar")
    # added with the tasks: completes planned and tasks left alone because a person changed them
    con.execute("alter table crm_sync.runs add column if not exists planned_completes bigint")
    con.execute("alter table crm_sync.runs add column if not exists handed_over bigint")
