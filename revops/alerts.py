"""Alerts when something needs a human (docs/operations.md, Alerts): a sending domain paused or resumed, a hand
raise not actioned within its SLA, new dead letters, a failed Dagster run.

One destination: a Slack incoming webhook (`REVOPS_ALERT_WEBHOOK_URL`), POSTed a JSON body `{"text": <fallback
text>, "blocks": [<Block Kit blocks>]}`. The URL is a secret (whoever has it can post to the channel): it is never
printed, logged or stored, and it is refused when it is plain http to anything but a loopback address.

The record is the warehouse table `ops.alerts`, one row per event, keyed by `alert_key` (what makes it one event, see
each `*_alerts` function). A row is written before it is sent, so re-running never repeats an event; delivery
status is pending | sent | failed, with the attempts and the last error. A POST that fails is retried in the same run
(capped exponential backoff with full jitter, Retry-After honoured on 429) and, if it still fails, by every later
run until it is sent. A crash between Slack's answer and the status update can send one message twice (Slack's
webhooks have no idempotency key); it never loses one.

No network besides the webhook: evaluating the conditions reads the warehouse only.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from revops import settings
from revops.hubspot import ALLOW_INSECURE_ENV, is_loopback, plain_http_verdict

WEBHOOK_ENV = "REVOPS_ALERT_WEBHOOK_URL"
TABLE = "ops.alerts"


class Kind:
    DOMAIN_PAUSED = "domain_paused"
    DOMAIN_RESUMED = "domain_resumed"
    HAND_RAISE_SLA = "hand_raise_sla"
    DEAD_LETTERS = "dead_letters"
    RUN_FAILED = "run_failed"


class Status:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


DDL = f"""
create schema if not exists ops;
create table if not exists {TABLE} (
    alert_key varchar primary key,          -- what makes it one event: never sent twice
    kind varchar not null,                  -- domain_paused|domain_resumed|hand_raise_sla|dead_letters|run_failed
    created_at timestamptz not null,        -- when the event was recorded
    payload json not null,                  -- the facts of the event
    text varchar not null,                  -- one line, the message's fallback text
    message json not null,                  -- the webhook body: {{"text": ..., "blocks": [...]}}
    status varchar not null,                -- pending | sent | failed
    attempts integer not null,              -- POSTs tried so far, over all runs
    last_error varchar,                     -- the last failed attempt's error (never the URL)
    last_attempt_at timestamptz,
    sent_at timestamptz
);
"""


class AlertConfigError(ValueError):
    """The webhook URL cannot be used (not a URL, or plain http off loopback). The message never holds the URL."""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


# ---------------------------------------------------------------------------------------------------- the alert

@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    text: str  # one line (the CLI prints it; Slack shows it in notifications)
    payload: dict
    blocks: list = field(default_factory=list)

    def message(self) -> dict:
        """The webhook body: `text` is what notifications show (and all a client without blocks shows)."""
        return {"text": _esc(self.text), "blocks": self.blocks}


def _esc(value) -> str:
    """Slack reads &, < and > as markup (`<!channel>` would ping everyone): data goes in escaped."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _blocks(title: str, sentence: str, facts: dict[str, object], key: str) -> list[dict]:
    """Block Kit: a header, the sentence, up to 10 fields, and the alert key as context (Slack's limits: header 150
    characters, section text 3000, field 2000)."""
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _esc(sentence)[:3000]}},
    ]
    fields = [{"type": "mrkdwn", "text": f"*{_esc(k)}*\n{_esc(v)}"[:2000]} for k, v in facts.items() if v is not None]
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"revops alert `{_esc(key)}`"}]})
    return blocks


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.2%}"


def _iso(v) -> str | None:
    return v.isoformat() if isinstance(v, (date, datetime)) else (None if v is None else str(v))


def _first_line(text: str | None, limit: int = 300) -> str:
    lines = [ln.strip() for ln in str(text or "").strip().splitlines() if ln.strip()]
    return (lines[0] if lines else "no error message")[:limit]


# --------------------------------------------------------------------------------------------- the warehouse side

def _has_table(con, schema: str, table: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_catalog = current_database() "
                       "and table_schema = ? and table_name = ?", [schema, table]).fetchall()[0][0] > 0


def _columns(con, schema: str, table: str) -> set[str]:
    return {r[0] for r in con.execute("select column_name from information_schema.columns where table_catalog = "
                                      "current_database() and table_schema = ? and table_name = ?",
                                      [schema, table]).fetchall()}


def _alerted(con, kind: str, field_name: str, where: dict[str, str] | None = None) -> list:
    """Values of payload field `field_name` of the recorded alerts of `kind` (optionally where other payload fields
    equal the given values)."""
    sql = f"select payload->>'{field_name}' from {TABLE} where kind = ?"
    params: list = [kind]
    for k, v in (where or {}).items():
        sql += f" and payload->>'{k}' = ?"
        params.append(v)
    return [r[0] for r in con.execute(sql, params).fetchall() if r[0] is not None]


def _calls_moved(con, domain: str) -> int | None:
    """Next actions that became calls because the domain is paused: mart_stage_map's blocked_decision names the
    decision the pause blocked ('email: sending domain <d> paused') on rows whose next action is a call."""
    if not {"next_action_kind", "blocked_decision"} <= _columns(con, "main", "mart_stage_map"):
        return None
    return con.execute("select count(*) from main.mart_stage_map where next_action_kind = 'call' "
                       "and blocked_decision = ?", [f"email: sending domain {domain} paused"]).fetchall()[0][0]


def domain_alerts(con) -> list[Alert]:
    """Pause: a domain whose current state (main.dim_sending_domain_status, the latest day's) is paused; key
    (domain, paused_since). Resume: a domain active again since a day after the start of the last pause that was
    alerted, and not alerted as resumed since; key (domain, the day it resumed)."""
    if not _has_table(con, "main", "dim_sending_domain_status"):
        return []
    rows = con.execute("""select sending_domain, status, status_since, paused_since, pause_reason, as_of_day,
                                 sends_7d, bounce_rate_7d, complaint_rate_7d
                          from main.dim_sending_domain_status order by sending_domain""").fetchall()
    out = []
    for domain, status, since, paused_since, reason, as_of_day, sends, bounce, complaint in rows:
        rates = {"Bounce rate (7 d)": _pct(bounce), "Complaint rate (7 d)": _pct(complaint),
                 "Sends (7 d)": f"{sends:,}" if sends is not None else None}
        if status == "paused":
            paused_since = paused_since or since
            moved = _calls_moved(con, domain)
            key = f"{Kind.DOMAIN_PAUSED}:{domain}:{_iso(paused_since)}"
            moved_txt = "" if moved is None else f"; {moved:,} next action(s) moved to calls"
            text = (f"Sending domain {domain} paused since {_iso(paused_since)} ({reason or 'kill switch'}): bounce "
                    f"rate {_pct(bounce)}, complaint rate {_pct(complaint)} over 7 days{moved_txt}")
            payload = {"domain": domain, "paused_since": _iso(paused_since), "pause_reason": reason,
                       "as_of_day": _iso(as_of_day), "sends_7d": sends, "bounce_rate_7d": bounce,
                       "complaint_rate_7d": complaint, "next_actions_moved_to_calls": moved}
            facts = {"Domain": domain, "Paused since": _iso(paused_since), **rates,
                     "Next actions moved to calls": moved, "Reason": reason}
            out.append(Alert(key, Kind.DOMAIN_PAUSED, text, payload,
                             _blocks(f":no_entry: Sending domain paused: {domain}", text + ". No email is proposed "
                                     "from it until it recovers.", facts, key)))
        elif status == "active" and since is not None:
            pauses = [date.fromisoformat(p) for p in _alerted(con, Kind.DOMAIN_PAUSED, "paused_since",
                                                               {"domain": domain})]
            last_pause = max(pauses, default=None)
            if last_pause is None or last_pause >= since:
                continue  # never alerted as paused (or that pause is not over): nothing to resume
            resumes = [date.fromisoformat(r) for r in _alerted(con, Kind.DOMAIN_RESUMED, "resumed_on",
                                                                {"domain": domain})]
            if any(r > last_pause for r in resumes):
                continue
            key = f"{Kind.DOMAIN_RESUMED}:{domain}:{_iso(since)}"
            text = (f"Sending domain {domain} resumed on {_iso(since)} (paused since {last_pause.isoformat()}): "
                    f"bounce rate {_pct(bounce)}, complaint rate {_pct(complaint)} over 7 days")
            payload = {"domain": domain, "resumed_on": _iso(since), "paused_since": last_pause.isoformat(),
                       "as_of_day": _iso(as_of_day), "sends_7d": sends, "bounce_rate_7d": bounce,
                       "complaint_rate_7d": complaint}
            facts = {"Domain": domain, "Active since": _iso(since), "Was paused since": last_pause.isoformat(),
                     **rates}
            out.append(Alert(key, Kind.DOMAIN_RESUMED, text, payload,
                             _blocks(f":white_check_mark: Sending domain resumed: {domain}", text + ". Email next "
                                     "actions come back with the next build.", facts, key)))
    return out


def hand_raise_sla_minutes(con) -> float:
    """The hand-raise SLA in minutes: a `hand_raise` trigger in config.sla_tiers (seeds/sla_tiers.csv, hours) if
    there is one, else dbt's var speed_to_lead_fast_seconds (the "answered within 5 min" threshold of
    speed-to-lead, dbt_project/dbt_project.yml)."""
    if _has_table(con, "config", "sla_tiers"):
        hours = con.execute("select min(sla_hours) from config.sla_tiers where trigger = 'hand_raise'").fetchall()[0][0]
        if hours is not None:
            return float(hours) * 60
    import yaml

    try:
        seconds = yaml.safe_load((settings.REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"][
            "speed_to_lead_fast_seconds"]
    except (OSError, KeyError, TypeError):
        seconds = 300
    return float(seconds) / 60


def hand_raise_alerts(con, sla_minutes: float | None = None) -> list[Alert]:
    """Counted demo / contact-sales requests (main.fct_speed_to_lead) that no sales touch has answered yet (outcome
    'open') and that waited longer than the SLA at as_of (main.int_as_of_dated). Key: the request id."""
    if not (_has_table(con, "main", "fct_speed_to_lead") and _has_table(con, "main", "int_as_of_dated")):
        return []
    sla = hand_raise_sla_minutes(con) if sla_minutes is None else float(sla_minutes)
    cols = _columns(con, "main", "fct_speed_to_lead")
    unanswered = "r.outcome = 'open'" if "outcome" in cols else "r.first_touch_id is null"
    person_cols, person_join = "null, null, null, null", ""
    if _has_table(con, "main", "dim_person"):
        person_cols = "p.first_name, p.last_name, p.account_domain, p.primary_crm_contact_id"
        person_join = "left join main.dim_person p on p.person_id = r.person_id"
    owner_cols, owner_join = "null, null", ""
    if _has_table(con, "main", "stg_hubspot__owners"):
        owner_cols = "trim(concat_ws(' ', o.first_name, o.last_name)), o.owner_email"
        owner_join = "left join main.stg_hubspot__owners o on cast(o.owner_id as varchar) = r.owner_id"
    rows = con.execute(f"""
        select r.request_id, r.person_id, r.owner_id, r.request_type, r.requested_at, a.as_of,
               date_diff('second', r.requested_at, a.as_of) / 60.0 as minutes_waited,
               {person_cols}, {owner_cols}
        from main.fct_speed_to_lead r
        cross join (select max(as_of) as as_of from main.int_as_of_dated) a
        {person_join}
        {owner_join}
        where {unanswered} and date_diff('second', r.requested_at, a.as_of) > ? * 60
        order by r.requested_at, r.request_id""", [sla]).fetchall()
    out = []
    for (request_id, person_id, owner_id, request_type, requested_at, as_of, waited, first, last, company,
         contact_id, owner_name, owner_email) in rows:
        name = " ".join(x for x in (first, last) if x) or None
        who = f"{name} ({person_id})" if name else str(person_id)
        if company:
            who += f" at {company}"
        owner = f"{owner_name} ({owner_id})" if owner_name else str(owner_id)
        minutes = int(waited)
        key = f"{Kind.HAND_RAISE_SLA}:{request_id}"
        text = (f"Hand raise not actioned: {request_type or 'request'} from {who}, owner {owner}, waiting "
                f"{minutes:,} min (SLA {sla:g} min)")
        payload = {"request_id": request_id, "request_type": request_type, "person_id": person_id,
                   "person_name": name, "account_domain": company, "crm_contact_id": contact_id,
                   "owner_id": owner_id, "owner_name": owner_name, "owner_email": owner_email,
                   "requested_at": _iso(requested_at), "as_of": _iso(as_of), "minutes_waited": minutes,
                   "sla_minutes": sla}
        facts = {"Person": who, "Owner": owner, "Request": request_type, "Requested at (UTC)": _iso(requested_at),
                 "Waiting": f"{minutes:,} min", "SLA": f"{sla:g} min", "CRM contact": contact_id}
        out.append(Alert(key, Kind.HAND_RAISE_SLA, text, payload,
                         _blocks(":raising_hand: Hand raise waiting past its SLA", text + ". No sales touch yet: "
                                 "call now.", facts, key)))
    return out


def dead_letter_alerts(con) -> list[Alert]:
    """Open dead letters (crm_sync.dead_letters, unresolved) first failed after the latest one the previous alert of
    this kind counted. Key: the latest first_failed_at among them."""
    if not _has_table(con, "crm_sync", "dead_letters"):
        return []
    marks = _alerted(con, Kind.DEAD_LETTERS, "latest_first_failed_at")
    since = max((datetime.fromisoformat(m) for m in marks), default=None)
    rows = con.execute("""
        select object, sync_key, error, first_failed_at
        from crm_sync.dead_letters
        where resolved_at is null and (cast(? as timestamptz) is null or first_failed_at > cast(? as timestamptz))
        order by first_failed_at, object, sync_key""", [since, since]).fetchall()
    if not rows:
        return []
    latest = max(r[3] for r in rows)
    by_object: dict[str, int] = {}
    for obj, *_ in rows:
        by_object[obj] = by_object.get(obj, 0) + 1
    first_error = _first_line(rows[0][2], 500)
    key = f"{Kind.DEAD_LETTERS}:{_iso(latest)}"
    split = ", ".join(f"{n:,} {o}" for o, n in sorted(by_object.items()))
    text = f"{len(rows):,} new dead letter(s) in the CRM sync ({split}); first error: {first_error}"
    payload = {"count": len(rows), "by_object": by_object, "first_error": first_error,
               "first_record": f"{rows[0][0]}:{rows[0][1]}", "first_failed_at": _iso(rows[0][3]),
               "latest_first_failed_at": _iso(latest), "previous_alert_up_to": _iso(since)}
    facts = {"New dead letters": f"{len(rows):,}", "By object": split, "First record": payload["first_record"],
             "First failed at": _iso(rows[0][3]), "First error": first_error}
    return [Alert(key, Kind.DEAD_LETTERS, text, payload,
                  _blocks(":envelope_with_arrow: New dead letters in the CRM sync", text + ". The next sync retries "
                          "them; crm_sync.dead_letters has each error.", facts, key))]


def run_failure_alert(job_name: str, run_id: str, error: str | None, step_key: str | None = None) -> Alert:
    """A failed Dagster run (the sensor in dagster_project/defs/alerts/sensors.py). Key: the run id."""
    line = _first_line(error)
    key = f"{Kind.RUN_FAILED}:{run_id}"
    where = f" at step {step_key}" if step_key else ""
    text = f"Dagster run {run_id} of job {job_name} failed{where}: {line}"
    payload = {"job_name": job_name, "run_id": run_id, "step_key": step_key, "error": line}
    facts = {"Job": job_name, "Run": run_id, "Step": step_key, "Error": line}
    return Alert(key, Kind.RUN_FAILED, text, payload,
                 _blocks(f":x: Dagster run failed: {job_name}", text, facts, key))


# --------------------------------------------------------------------------------------------------- the record

def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def record(con, alerts: Iterable[Alert], now: datetime | None = None) -> list[Alert]:
    """Insert the alerts whose key is not recorded yet (status pending); returns those. One row per key, ever."""
    ensure_schema(con)
    new = []
    for a in alerts:
        if con.execute(f"select count(*) from {TABLE} where alert_key = ?", [a.key]).fetchall()[0][0]:
            continue
        con.execute(f"insert into {TABLE} (alert_key, kind, created_at, payload, text, message, status, attempts) "
                    "values (?, ?, ?, ?, ?, ?, ?, 0) on conflict do nothing",
                    [a.key, a.kind, _now(now), json.dumps(a.payload, default=str), a.text,
                     json.dumps(a.message(), default=str), Status.PENDING])
        new.append(a)
    return new


# --------------------------------------------------------------------------------------------------- delivery

@dataclass(frozen=True)
class RetryPolicy:
    """Per alert and run: up to `attempts_per_run` POSTs, waiting a random time up to min(max_delay_s, base_delay_s
    * 2^(n-1)) between them (full jitter), or Retry-After on a 429 (capped at max_retry_after_s). After an alert has
    used up its attempts on a retriable error the webhook is taken to be down: the rest wait for the next run."""
    attempts_per_run: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0
    timeout_s: float = 10.0
    pace_s: float = 1.0  # between two messages: Slack takes about one a second per webhook

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_s)
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


@dataclass
class Delivery:
    key: str
    kind: str
    text: str
    status: str
    attempts: int
    error: str | None = None


def webhook_url() -> str | None:
    return os.environ.get(WEBHOOK_ENV) or None


def check_webhook(url: str, allow_insecure: bool | None = None) -> str | None:
    """https anywhere; plain http only to a loopback address (or with REVOPS_ALLOW_INSECURE_HTTP=1, then a warning
    is returned). Raises AlertConfigError otherwise. Never puts the URL (a secret) into a message."""
    try:
        parsed = urllib.parse.urlsplit(url)
        host = parsed.hostname
    except ValueError:
        host = None
        parsed = None
    if parsed is None or not host or parsed.scheme not in ("https", "http"):
        raise AlertConfigError(f"{WEBHOOK_ENV} is not an https URL: set it to the Slack incoming-webhook URL "
                               "(https://hooks.slack.com/services/...)")
    verdict = plain_http_verdict(parsed.scheme, host, allow_insecure)
    if verdict == "ok":
        return None
    if verdict == "refused":
        raise AlertConfigError(f"refusing to post alerts over plain http to a host other than loopback: the webhook "
                               f"URL is a secret; use its https:// URL in {WEBHOOK_ENV} ({ALLOW_INSECURE_ENV}=1 "
                               "overrides this, for a network you trust)")
    return f"warning: {ALLOW_INSECURE_ENV}=1: alerts and the webhook URL go over plain http"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an error: the body goes nowhere else
        return None


def _redact(text: str, url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    for secret in (url, parsed.path, parsed.query):
        if secret and len(secret) > 1:
            text = text.replace(secret, "<webhook>")
    return text


def post(url: str, body: dict, timeout_s: float) -> tuple[int | None, str, float | None]:
    """One POST of a JSON body. Returns (HTTP status or None when no answer came, a short reason, Retry-After)."""
    data = json.dumps(body, default=str).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8",
                                          "User-Agent": "revops-warehouse-alerts"})
    host = urllib.parse.urlsplit(url).hostname or ""
    # a loopback URL never goes through a proxy from the environment
    handlers = [_NoRedirect()] + ([urllib.request.ProxyHandler({})] if is_loopback(host) else [])
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(req, timeout=timeout_s) as resp:
            return resp.status, _redact(resp.read(500).decode("utf-8", "replace").strip(), url), None
    except urllib.error.HTTPError as e:
        retry_after = e.headers.get("Retry-After") if e.headers else None
        try:
            reason = e.read(500).decode("utf-8", "replace").strip() or str(e.reason)
        except Exception:  # noqa: BLE001  (the body of an error is a courtesy)
            reason = str(e.reason)
        try:
            ra = float(retry_after) if retry_after else None
        except ValueError:
            ra = None
        return e.code, _redact(f"HTTP {e.code}: {reason}"[:300], url), ra
    except urllib.error.URLError as e:
        return None, _redact(f"no answer: {e.reason}"[:300], url), None
    except (TimeoutError, OSError, ValueError) as e:  # timeouts, resets, a malformed answer
        return None, _redact(f"no answer: {type(e).__name__}: {e}"[:300], url), None


def _retriable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


def deliver(con, url: str, policy: RetryPolicy | None = None, keys: Iterable[str] | None = None,
            rng: random.Random | None = None, sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Send the recorded alerts that are pending or failed (oldest first; only `keys` if given), updating each row
    after every attempt."""
    policy = policy or RetryPolicy()
    rng = rng or random.Random()
    sql = f"select alert_key, kind, text, message, attempts, status from {TABLE} where status in (?, ?)"
    params: list = [Status.PENDING, Status.FAILED]
    if keys is not None:
        keys = list(keys)
        if not keys:
            return []
        sql += f" and alert_key in ({', '.join('?' for _ in keys)})"
        params += keys
    rows = con.execute(sql + " order by created_at, alert_key", params).fetchall()
    out: list[Delivery] = []
    webhook_down = False
    for i, (key, kind, text, message, attempts, status) in enumerate(rows):
        if webhook_down:
            out.append(Delivery(key, kind, text, status, attempts,
                                "not tried: the webhook failed every attempt for an earlier alert in this run"))
            continue
        if i and policy.pace_s:
            sleep(policy.pace_s)
        body = json.loads(message)
        error = None
        for attempt in range(1, policy.attempts_per_run + 1):
            attempts += 1
            status, reason, retry_after = post(url, body, policy.timeout_s)
            at = datetime.now(UTC)
            if status is not None and 200 <= status < 300:
                con.execute(f"update {TABLE} set status = ?, attempts = ?, last_attempt_at = ?, sent_at = ?, "
                            "last_error = null where alert_key = ?", [Status.SENT, attempts, at, at, key])
                out.append(Delivery(key, kind, text, Status.SENT, attempts))
                error = None
                break
            error = reason
            con.execute(f"update {TABLE} set status = ?, attempts = ?, last_attempt_at = ?, last_error = ? "
                        "where alert_key = ?", [Status.FAILED, attempts, at, error, key])
            if not _retriable(status):
                break  # the request itself is refused (4xx): the next run tries again, once
            if attempt < policy.attempts_per_run:
                sleep(policy.delay(attempt, retry_after, rng))
        else:
            webhook_down = True
        if error is not None:
            out.append(Delivery(key, kind, text, Status.FAILED, attempts, error))
    return out


# ------------------------------------------------------------------------------------------------ the run

@dataclass
class AlertRun:
    raised: list[Alert]  # new events recorded by this run
    deliveries: list[Delivery]  # what this run tried to send (new and earlier ones)
    configured: bool  # a webhook URL was set
    undelivered: int  # alerts in ops.alerts still pending or failed after this run
    skipped: list[str]  # conditions not evaluated because the warehouse lacks their table
    warning: str | None = None

    def lines(self) -> list[str]:
        """One line per alert of this run: its delivery status, kind and text."""
        done = {d.key: d for d in self.deliveries}
        seen, lines = set(), []
        for a in self.raised:
            d = done.get(a.key)
            status = d.status if d else Status.PENDING
            lines.append(f"{status:<7} {a.kind:<15} {a.text}" + (f"  [{d.error}]" if d and d.error else ""))
            seen.add(a.key)
        for d in self.deliveries:
            if d.key not in seen:
                lines.append(f"{d.status:<7} {d.kind:<15} (earlier) {d.text}" + (f"  [{d.error}]" if d.error else ""))
        return lines


def _db_path(con) -> Path | None:
    rows = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    return Path(rows[0][0]) if rows and rows[0][0] else None


def spool_dir(db_path: Path) -> Path:
    """Where an alert waits when the warehouse is held by another process (the run-failure sensor cannot wait long):
    beside the warehouse file; the next raise_alerts records it."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".alerts-spool")


def spool(db_path: Path, alert: Alert, now: datetime | None = None) -> Path:
    d = spool_dir(db_path)
    d.mkdir(parents=True, exist_ok=True)
    path = d / (hashlib.sha256(alert.key.encode()).hexdigest()[:32] + ".json")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": alert.key, "kind": alert.kind, "text": alert.text, "payload": alert.payload,
                               "blocks": alert.blocks, "created_at": _now(now).isoformat()}, default=str))
    os.replace(tmp, path)
    return path


def _unspool(con) -> list[Alert]:
    db = _db_path(con)
    d = spool_dir(db) if db else None
    if not d or not d.is_dir():
        return []
    new = []
    for f in sorted(d.glob("*.json")):
        try:
            s = json.loads(f.read_text())
            alert = Alert(s["key"], s["kind"], s["text"], s["payload"], s["blocks"])
        except (OSError, ValueError, KeyError):
            continue  # a partial file of a crashed writer: left for a person to look at
        new += record(con, [alert], datetime.fromisoformat(s["created_at"]))
        f.unlink()
    return new


def evaluate(con, sla_minutes: float | None = None) -> tuple[list[Alert], list[str]]:
    """Every warehouse condition, as alerts (recorded or not); and the conditions skipped for a missing table."""
    ensure_schema(con)
    alerts, skipped = [], []
    for name, fn, tables in (
            ("sending domains", domain_alerts, [("main", "dim_sending_domain_status")]),
            ("hand raises", lambda c: hand_raise_alerts(c, sla_minutes),
             [("main", "fct_speed_to_lead"), ("main", "int_as_of_dated")]),
            ("dead letters", dead_letter_alerts, [("crm_sync", "dead_letters")])):
        missing = [f"{s}.{t}" for s, t in tables if not _has_table(con, s, t)]
        if missing:
            skipped.append(f"{name}: no {', '.join(missing)}")
            continue
        alerts += fn(con)
    return alerts, skipped


def raise_alerts(con, now: datetime | None = None, *, url: str | None = None, policy: RetryPolicy | None = None,
                 sla_minutes: float | None = None, rng: random.Random | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> AlertRun:
    """Evaluate the warehouse's conditions, record each new event once in ops.alerts, then send every alert not sent
    yet (this run's and earlier runs' pending or failed ones) to the webhook (`url`, default $REVOPS_ALERT_WEBHOOK_URL).
    With no webhook configured the alerts are recorded as pending and sent by the first run that has one. Raises
    AlertConfigError (after recording) when the URL may not be used."""
    ensure_schema(con)
    raised = _unspool(con)
    candidates, skipped = evaluate(con, sla_minutes)
    raised += record(con, candidates, now)
    url = url if url is not None else webhook_url()
    warning = None
    deliveries: list[Delivery] = []
    if url:
        warning = check_webhook(url)
        deliveries = deliver(con, url, policy, rng=rng, sleep=sleep)
    undelivered = con.execute(f"select count(*) from {TABLE} where status <> ?", [Status.SENT]).fetchall()[0][0]
    return AlertRun(raised, deliveries, bool(url), undelivered, skipped, warning)


def raise_run_failure(db_path: Path, alert: Alert, *, url: str | None = None, policy: RetryPolicy | None = None,
                      wait_s: float = 20.0, sleep: Callable[[float], None] = time.sleep) -> str:
    """Record and send one run-failure alert (the sensor's path). The warehouse may be held by another run: wait up
    to `wait_s`, then spool the alert beside the warehouse for the next raise_alerts. Returns what happened."""
    from revops.warehouse import WarehouseInUse, connect

    deadline = time.monotonic() + wait_s
    while True:
        try:
            con = connect(db_path)
            break
        except WarehouseInUse:
            if time.monotonic() >= deadline:
                spool(db_path, alert)
                return "spooled: the warehouse is in use; the next alerts run records and sends it"
            sleep(1.0)
    try:
        ensure_schema(con)
        if not record(con, [alert]):
            return "already recorded"
        url = url if url is not None else webhook_url()
        if not url:
            return f"recorded as pending: {WEBHOOK_ENV} is not set"
        check_webhook(url)
        policy = policy or RetryPolicy(attempts_per_run=3, max_delay_s=4.0)
        d = deliver(con, url, policy, keys=[alert.key])
        return d[0].status + (f": {d[0].error}" if d and d[0].error else "") if d else "not sent"
    finally:
        con.close()
