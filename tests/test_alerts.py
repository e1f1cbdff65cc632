"""Alerts (revops/alerts.py, issue 16): one Slack message per event, recorded in ops.alerts, retried, never repeated.

The webhook is a local HTTP sink on 127.0.0.1 (http.server in a thread) that records every POST and answers with the
statuses a test gives it. The S warehouse is a copy of conftest's `two_day_build`. S has no sending domain paused
on its latest day (two were paused earlier in the month), so the pause test forces one in its copy: it updates
main.dim_sending_domain_status and, as a build with that pause would, two rows of main.mart_stage_map. Dead letters
are inserted into the copy's crm_sync.dead_letters; the hand-raise SLA uses a hand-made warehouse of two tables."""

import json
import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from revops import alerts
from revops.exit_codes import ExitCode

REVOPS = str(Path(sys.executable).parent / "revops")
SECRET = "T0000/B0000/s3cr3t-webhook-token"
FAST = alerts.RetryPolicy(attempts_per_run=3, base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.05,
                          timeout_s=5, pace_s=0)


class Sink:
    """A Slack-like incoming webhook on 127.0.0.1: records each POST's JSON body; answers the queued statuses in
    order, then 200 "ok"."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.statuses: list[int] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.bodies.append(json.loads(body))
                status = sink.statuses.pop(0) if sink.statuses else 200
                out = b"ok" if status == 200 else b"internal_error"
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0.01")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/{SECRET}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def texts(self, needle: str) -> list[str]:
        return [b["text"] for b in self.bodies if needle in b["text"]]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.stop()


@pytest.fixture
def s_copy(two_day_build, tmp_path) -> Path:
    db = tmp_path / "s.duckdb"
    shutil.copy(two_day_build[0], db)
    return db


def hand_made(path: Path, requests: list[tuple], as_of=datetime(2026, 10, 31, 12, 0)) -> duckdb.DuckDBPyConnection:
    """A warehouse with only what the hand-raise condition reads: as_of and speed-to-lead's requests."""
    con = duckdb.connect(str(path))
    con.execute("create table main.int_as_of_dated as select cast(? as timestamp) as as_of", [as_of])
    con.execute("""create table main.fct_speed_to_lead (request_id varchar, person_id varchar, owner_id varchar,
                   request_type varchar, requested_at timestamp, first_touch_id varchar, outcome varchar)""")
    for r in requests:
        con.execute("insert into main.fct_speed_to_lead values (?, ?, ?, ?, ?, ?, ?)", list(r))
    return con


def rows(con, kind: str | None = None) -> list[dict]:
    sql = "select alert_key, kind, payload, text, status, attempts, last_error, sent_at from ops.alerts"
    res = con.execute(sql + (" where kind = ?" if kind else "") + " order by created_at, alert_key",
                      [kind] if kind else []).fetchall()
    cols = ["key", "kind", "payload", "text", "status", "attempts", "last_error", "sent_at"]
    return [dict(zip(cols, r)) | {"payload": json.loads(r[2])} for r in res]


T = datetime(2026, 10, 31, 12, 0)


# ------------------------------------------------------------------------------------------ sending domains

def test_one_pause_alert_per_paused_domain_across_three_runs_then_one_resume(s_copy, sink):
    con = duckdb.connect(str(s_copy))
    # start from every domain active (whether S pauses one on its latest day depends on its random draws: a single
    # complaint among a sales domain's ~300 weekly sends crosses the 0.08 % threshold), then force one paused
    con.execute("""update main.dim_sending_domain_status set status = 'active', paused_since = null,
                   pause_reason = null where status = 'paused'""")
    bounce_rate, complaint_rate = con.execute("""select bounce_rate_7d, complaint_rate_7d from main.dim_sending_domain_status
                                                 where sending_domain = 'news.northwind-mail.com'""").fetchall()[0]
    assert bounce_rate > 0.02  # the degrading domain's trailing bounce rate, as the data has it
    con.execute("""update main.dim_sending_domain_status set status = 'paused', status_since = date '2026-10-30',
                   paused_since = date '2026-10-30', pause_reason = 'bounce_rate'
                   where sending_domain = 'news.northwind-mail.com'""")
    con.execute("""update main.mart_stage_map set next_action_kind = 'call',
                   blocked_decision = 'email: sending domain news.northwind-mail.com paused'
                   where person_id in (select person_id from main.mart_stage_map where next_action_kind = 'email'
                                       order by person_id limit 2)""")
    for _ in range(3):
        alerts.raise_alerts(con, url=sink.url, policy=FAST)
    paused = rows(con, alerts.Kind.DOMAIN_PAUSED)
    assert [r["key"] for r in paused] == ["domain_paused:news.northwind-mail.com:2026-10-30"]
    p = paused[0]["payload"]
    assert p["domain"] == "news.northwind-mail.com" and p["paused_since"] == "2026-10-30"
    assert p["bounce_rate_7d"] == pytest.approx(bounce_rate, abs=1e-9)
    assert p["complaint_rate_7d"] == pytest.approx(complaint_rate, abs=1e-9)
    assert p["next_actions_moved_to_calls"] == 2
    assert paused[0]["status"] == "sent" and paused[0]["attempts"] == 1
    posts = sink.texts("news.northwind-mail.com paused")
    assert len(posts) == 1 and f"{bounce_rate:.2%}" in posts[0] and "2 next action(s) moved to calls" in posts[0]
    body = next(b for b in sink.bodies if "paused" in b["text"])
    assert body["blocks"][0]["type"] == "header" and body["blocks"][-1]["type"] == "context"
    # the other four domains are active and were never alerted as paused: no resume alert for them
    assert rows(con, alerts.Kind.DOMAIN_RESUMED) == []

    # the domain recovers on the latest day: one resume alert, once
    con.execute("""update main.dim_sending_domain_status set status = 'active', status_since = date '2026-10-31',
                   paused_since = null where sending_domain = 'news.northwind-mail.com'""")
    alerts.raise_alerts(con, url=sink.url, policy=FAST)
    alerts.raise_alerts(con, url=sink.url, policy=FAST)
    resumed = rows(con, alerts.Kind.DOMAIN_RESUMED)
    assert [r["key"] for r in resumed] == ["domain_resumed:news.northwind-mail.com:2026-10-31"]
    assert resumed[0]["payload"]["paused_since"] == "2026-10-30"
    assert len(sink.texts("resumed")) == 1 and len(sink.texts("news.northwind-mail.com paused")) == 1
    con.close()


# ------------------------------------------------------------------------------------------ hand raises

def test_a_hand_raise_with_no_touch_in_5_minutes_alerts_once(tmp_path, sink):
    con = hand_made(tmp_path / "w.duckdb", [
        ("req-late", "per_1", "70000001", "Demo Requested", T - timedelta(minutes=6), None, "open"),
        ("req-fresh", "per_2", "70000002", "Demo Requested", T - timedelta(minutes=3), None, "open"),
        ("req-answered", "per_3", "70000001", "Contact Sales Submitted", T - timedelta(minutes=30), "t-1", "answered"),
        ("req-missed", "per_4", "queue:inbound", "Demo Requested", T - timedelta(days=9), None, "missed"),
    ])
    assert alerts.hand_raise_sla_minutes(con) == 5.0  # no hand-raise tier in sla_tiers: speed-to-lead's 5 min
    run = alerts.raise_alerts(con, url=sink.url, policy=FAST)
    assert [a.key for a in run.raised] == ["hand_raise_sla:req-late"]
    (r,) = rows(con)
    assert r["payload"]["person_id"] == "per_1" and r["payload"]["owner_id"] == "70000001"
    assert r["payload"]["minutes_waited"] == 6 and r["status"] == "sent"
    assert "per_1" in r["text"] and "70000001" in r["text"] and "6 min" in r["text"]
    assert run.lines() == [f"sent    hand_raise_sla  {r['text']}"]
    # the same event again: one row, one POST
    again = alerts.raise_alerts(con, url=sink.url, policy=FAST)
    assert again.raised == [] and again.deliveries == []
    assert alerts.record(con, [alerts.hand_raise_alerts(con)[0]] * 2) == []
    assert len(rows(con)) == 1 and len(sink.bodies) == 1
    # two minutes later the fresh one has waited 5 min too: it alerts, the late one does not again
    con.execute("update main.int_as_of_dated set as_of = as_of + interval 3 minute")
    assert [a.key for a in alerts.raise_alerts(con, url=sink.url, policy=FAST).raised] == ["hand_raise_sla:req-fresh"]
    assert len(sink.bodies) == 2


# ------------------------------------------------------------------------------------------ dead letters

def test_new_dead_letters_alert_once_with_the_first_error(s_copy, sink):
    from reverse_etl.state import ensure_schema

    con = duckdb.connect(str(s_copy))
    ensure_schema(con)
    t1 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)

    def dead(obj, key, error, at, resolved=None):
        con.execute("insert into crm_sync.dead_letters values (?, ?, '{}', 'h', ?, 3, ?, ?, ?)",
                    [obj, key, error, at, at, resolved])

    dead("contacts", "per_b", "HTTP 400: Property values were not valid\nINVALID_EMAIL", t1)
    dead("contacts", "per_a", "HTTP 400: Property values were not valid\nINVALID_EMAIL", t1)
    dead("companies", "acc_1", "HTTP 404: object not found", t1 + timedelta(seconds=2))
    dead("contacts", "per_old", "resolved long ago", t1 - timedelta(days=1), resolved=t1)
    alerts.raise_alerts(con, url=sink.url, policy=FAST)
    (r,) = rows(con, alerts.Kind.DEAD_LETTERS)
    assert r["payload"]["count"] == 3 and r["payload"]["by_object"] == {"contacts": 2, "companies": 1}
    assert r["payload"]["first_error"] == "HTTP 400: Property values were not valid"
    assert r["payload"]["first_record"] == "contacts:per_a"
    latest = r["payload"]["latest_first_failed_at"]
    assert r["key"] == f"dead_letters:{latest}" and datetime.fromisoformat(latest) == t1 + timedelta(seconds=2)
    assert len(sink.texts("dead letter")) == 1 and "3 new dead letter(s)" in sink.texts("dead letter")[0]
    alerts.raise_alerts(con, url=sink.url, policy=FAST)  # nothing new: nothing sent
    assert len(sink.texts("dead letter")) == 1
    # a later sync dead-letters two more (one of them again after it had been resolved): one more alert, of 2
    dead("contacts", "per_c", "HTTP 500 after 8 attempts", t1 + timedelta(hours=1))
    con.execute("update crm_sync.dead_letters set resolved_at = null, first_failed_at = ?, error = 'again' "
                "where sync_key = 'per_old'", [t1 + timedelta(hours=1)])
    alerts.raise_alerts(con, url=sink.url, policy=FAST)
    later = rows(con, alerts.Kind.DEAD_LETTERS)
    assert [x["payload"]["count"] for x in later] == [3, 2]
    assert len(sink.texts("dead letter")) == 2
    con.close()


def test_a_sync_under_forced_faults_dead_letters_and_alerts_once(s_copy, world_s, sink, tmp_path):
    """Not hand-inserted rows: the sync itself dead-letters under a CRM that answers 5xx to 60 % of requests (the
    sandbox's fault injection), and the dead-letter alert counts exactly what it dead-lettered; a second run adds
    nothing."""
    from revops.hubspot import HubSpotClient, RetryPolicy
    from reverse_etl.engine import run_sync
    from sandbox.crm_server import CRMServer, ServerConfig

    srv = CRMServer(ServerConfig(db_path=tmp_path / "crm.sqlite", world_dir=world_s, token="t",
                                 fault_5xx_rate=0.6, fault_seed=5)).start()
    con = duckdb.connect(str(s_copy))
    try:
        with HubSpotClient(base_url=srv.url, token="t",
                           policy=RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.02)) as client:
            res = run_sync(con, client, objects=("companies",))
    finally:
        srv.stop()
    dead = con.execute("select count(*) from crm_sync.dead_letters where resolved_at is null").fetchall()[0][0]
    alerts.raise_alerts(con, url=sink.url, policy=FAST)
    alerts.raise_alerts(con, url=sink.url, policy=FAST)
    (r,) = rows(con, alerts.Kind.DEAD_LETTERS)
    con.close()
    assert res.dead_lettered == dead > 0
    assert r["payload"]["count"] == dead and len(sink.texts("dead letter")) == 1


# ------------------------------------------------------------------------------------------ failed runs

def test_a_failed_run_alerts_once_from_the_sensor(tmp_path, sink, monkeypatch):
    from dagster_project.defs.alerts.sensors import alert_on_run_failure
    from dagster_project.defs.common.resources import WarehouseResource

    @dg.asset
    def fragile():
        raise RuntimeError("the CRM refused the batch <!here>\nsecond line of detail")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([fragile], instance=instance, raise_on_error=False)
    assert not result.success
    db = tmp_path / "w.duckdb"
    monkeypatch.setenv(alerts.WEBHOOK_ENV, sink.url)
    for _ in range(2):  # the daemon may show the sensor the same failure twice: one alert
        ctx = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure", dagster_event=result.get_run_failure_event(), dagster_instance=instance,
            dagster_run=result.dagster_run, resources={"warehouse": WarehouseResource(path=str(db))},
        ).for_run_failure()
        alert_on_run_failure(ctx)
    con = duckdb.connect(str(db))
    (r,) = rows(con, alerts.Kind.RUN_FAILED)
    run_id = result.dagster_run.run_id
    assert r["key"] == f"run_failed:{run_id}" and r["status"] == "sent"
    assert r["payload"]["job_name"] == result.dagster_run.job_name and r["payload"]["step_key"] == "fragile"
    assert "the CRM refused the batch" in r["payload"]["error"] and "second line" not in r["payload"]["error"]
    assert len(sink.bodies) == 1 and run_id in sink.bodies[0]["text"]
    # data never becomes Slack markup: no @here from an error message
    assert "<!here>" not in json.dumps(sink.bodies[0]) and "&lt;!here&gt;" in sink.bodies[0]["text"]
    con.close()


def test_a_run_failure_waits_in_the_spool_while_the_warehouse_is_in_use(tmp_path, sink):
    script = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
              "time.sleep(30)")
    db = tmp_path / "w.duckdb"
    hand_made(db, []).close()
    holder = subprocess.Popen([sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        alert = alerts.run_failure_alert("land_build_sync", "run-123", "boom")
        out = alerts.raise_run_failure(db, alert, url=sink.url, wait_s=0.5, sleep=lambda s: None)
        assert out.startswith("spooled") and sink.bodies == []
    finally:
        holder.kill()
        holder.wait()
    con = duckdb.connect(str(db))
    run = alerts.raise_alerts(con, url=sink.url, policy=FAST)
    assert [a.key for a in run.raised] == ["run_failed:run-123"] and len(sink.bodies) == 1
    assert not list(alerts.spool_dir(db).glob("*.json"))
    con.close()


# ------------------------------------------------------------------------------------------ retries

def test_a_failed_post_is_retried_recorded_and_sent_by_a_later_run(tmp_path, sink):
    con = hand_made(tmp_path / "w.duckdb", [
        ("req-1", "per_1", "70000001", "Demo Requested", T - timedelta(minutes=40), None, "open"),
    ])
    slept: list[float] = []
    sink.statuses = [500]  # one failure, then 200
    run = alerts.raise_alerts(con, url=sink.url, policy=FAST, sleep=slept.append)
    (r,) = rows(con)
    assert r["status"] == "sent" and r["attempts"] == 2 and r["last_error"] is None
    assert len(sink.bodies) == 2 and sink.bodies[0] == sink.bodies[1]  # the same message again
    assert len(slept) == 1 and 0 <= slept[0] <= FAST.base_delay_s
    assert run.deliveries[0].attempts == 2

    # the webhook is down for a whole run: recorded as failed with its error; the next alert is not even tried
    con.execute("insert into main.fct_speed_to_lead values ('req-2', 'per_2', '70000002', 'Demo Requested', ?, null, "
                "'open'), ('req-3', 'per_3', '70000003', 'Demo Requested', ?, null, 'open')",
                [T - timedelta(minutes=20), T - timedelta(minutes=10)])
    sink.statuses = [503, 429, 503]
    slept.clear()
    run = alerts.raise_alerts(con, url=sink.url, policy=FAST, sleep=slept.append)
    r2, r3 = rows(con)[1:]
    assert r2["status"] == "failed" and r2["attempts"] == 3 and r2["last_error"].startswith("HTTP 503")
    assert r3["status"] == "pending" and r3["attempts"] == 0
    assert len(slept) == 2 and 0 <= slept[0] <= 0.01 and slept[1] == 0.01  # jittered backoff, then Retry-After
    assert all(SECRET not in (x["last_error"] or "") for x in rows(con))
    assert run.undelivered == 2 and [d.status for d in run.deliveries] == ["failed", "pending"]
    # a later run sends what failed and what waited, each once
    run = alerts.raise_alerts(con, url=sink.url, policy=FAST)
    assert [(x["status"], x["attempts"]) for x in rows(con)] == [("sent", 2), ("sent", 4), ("sent", 1)]
    assert run.undelivered == 0 and len(sink.bodies) == 2 + 3 + 2
    assert alerts.raise_alerts(con, url=sink.url, policy=FAST).deliveries == []


def test_a_refused_post_is_not_retried_in_the_run(tmp_path, sink):
    con = hand_made(tmp_path / "w.duckdb", [
        ("req-1", "per_1", "70000001", "Demo Requested", T - timedelta(minutes=40), None, "open"),
    ])
    sink.statuses = [404]
    alerts.raise_alerts(con, url=sink.url, policy=FAST)
    (r,) = rows(con)
    assert (r["status"], r["attempts"]) == ("failed", 1) and r["last_error"].startswith("HTTP 404")
    alerts.raise_alerts(con, url=sink.url, policy=FAST)
    assert [(x["status"], x["attempts"]) for x in rows(con)] == [("sent", 2)]


# ------------------------------------------------------------------------------------------ the webhook URL

@pytest.mark.parametrize("url", ["http://hooks.example.com/services/" + SECRET, "ftp://x/" + SECRET, "not a url"])
def test_plain_http_off_loopback_is_refused_and_the_url_never_shown(tmp_path, url, monkeypatch):
    monkeypatch.delenv("REVOPS_ALLOW_INSECURE_HTTP", raising=False)
    con = hand_made(tmp_path / "w.duckdb", [
        ("req-1", "per_1", "70000001", "Demo Requested", T - timedelta(minutes=40), None, "open"),
    ])
    with pytest.raises(alerts.AlertConfigError) as e:
        alerts.raise_alerts(con, url=url, policy=FAST)
    assert SECRET not in str(e.value) and "hooks.example.com" not in str(e.value)
    assert [(x["status"], x["attempts"]) for x in rows(con)] == [("pending", 0)]  # recorded, waits for a good URL
    assert alerts.check_webhook("https://hooks.slack.com/services/" + SECRET) is None
    assert alerts.check_webhook("http://localhost:9/x") is None


# ------------------------------------------------------------------------------------------ the CLI and Dagster

def revops(*args, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REVOPS_", "HUBSPOT_"))}
    return subprocess.run([REVOPS, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env={**base, **env}, check=False)


def test_revops_alerts_prints_one_line_per_alert(tmp_path, sink):
    db = tmp_path / "w.duckdb"
    con = hand_made(db, [("req-1", "per_1", "70000001", "Demo Requested", T - timedelta(minutes=7), None, "open")])
    con.close()
    res = revops("alerts", "--duckdb", db, env={alerts.WEBHOOK_ENV: sink.url})
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "sent    hand_raise_sla  Hand raise not actioned: Demo Requested from per_1, owner 70000001, waiting 7 min "
        "(SLA 5 min)"]
    assert SECRET not in res.stdout + res.stderr and len(sink.bodies) == 1
    res = revops("alerts", "--duckdb", db, env={alerts.WEBHOOK_ENV: sink.url})
    assert (res.returncode, res.stdout.strip()) == (0, "no new alerts (sending domains: no "
                                                       "main.dim_sending_domain_status; dead letters: no "
                                                       "crm_sync.dead_letters)")
    # a new event with no webhook configured: recorded, one line on stderr, exit 1
    con = duckdb.connect(str(db))
    con.execute("insert into main.fct_speed_to_lead values ('req-2', 'per_2', '7', 'Demo Requested', ?, null, 'open')",
                [T - timedelta(minutes=9)])
    con.close()
    res = revops("alerts", "--duckdb", db, env={})
    assert res.returncode == ExitCode.FAILED and res.stdout.startswith("pending hand_raise_sla")
    assert res.stderr.startswith(f"error: {alerts.WEBHOOK_ENV} is not set: 1 alert(s) wait") and \
        len(res.stderr.strip().splitlines()) == 1
    # --record-only (the demo without a webhook): records, sends nothing, exit 0
    res = revops("alerts", "--duckdb", db, "--record-only", env={alerts.WEBHOOK_ENV: sink.url})
    assert res.returncode == 0 and res.stdout.strip().endswith("recorded only, nothing sent")
    assert len(sink.bodies) == 1
    # a refused URL: exit 1, one line, the URL nowhere
    res = revops("alerts", "--duckdb", db, env={alerts.WEBHOOK_ENV: "http://hooks.example.com/services/" + SECRET})
    assert res.returncode == ExitCode.FAILED and "refusing to post alerts over plain http" in res.stderr
    assert SECRET not in res.stdout + res.stderr and "Traceback" not in res.stderr
    # fixed: the pending one is sent
    res = revops("alerts", "--duckdb", db, env={alerts.WEBHOOK_ENV: sink.url})
    assert res.returncode == 0 and res.stdout.startswith("sent    hand_raise_sla  (earlier) Hand raise not actioned")
    assert len(sink.bodies) == 2


def test_the_alerts_asset_runs_after_the_sync_and_the_models_it_reads(tmp_path, sink, monkeypatch):
    from dagster_project.definitions import defs
    from dagster_project.defs.alerts.assets import alerts as alerts_asset
    from dagster_project.defs.alerts.sensors import alert_on_run_failure
    from dagster_project.defs.common.resources import WarehouseResource

    deps = {k.to_user_string() for k in alerts_asset.asset_deps[alerts_asset.key]}
    assert deps == {"crm_sync", "dim_sending_domain_status", "mart_stage_map", "fct_speed_to_lead", "int_as_of_dated"}
    assert defs.resolve_sensor_def("alert_on_run_failure") is not None
    assert alert_on_run_failure.name == "alert_on_run_failure"
    job = defs.resolve_job_def("land_build_sync")
    assert alerts_asset.key in job.asset_layer.executable_asset_keys

    db = tmp_path / "w.duckdb"
    hand_made(db, [("req-1", "per_1", "70000001", "Demo Requested", T - timedelta(minutes=8), None, "open")]).close()
    monkeypatch.setenv(alerts.WEBHOOK_ENV, sink.url)
    result = dg.materialize([alerts_asset], resources={"warehouse": WarehouseResource(path=str(db))})
    assert result.success
    md = result.asset_materializations_for_node("alerts")[0].metadata
    assert md["raised"].value == 1 and md["sent"].value == 1 and md["undelivered"].value == 0
    assert len(sink.bodies) == 1
