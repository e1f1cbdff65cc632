"""What each dashboard page reads from the marts snapshot, as SQL with the page's filters applied.

Every function takes `query(sql, params) -> pandas.DataFrame` (a cached read of the current snapshot in the app, a
plain DuckDB connection in tests) and the shared `Filters`. The dashboard computes no KPI: every measure is the row
of the mart that computes it for exactly the filters set (docs/kpis.md: each measure is defined once, in a mart or a
shared macro). Speed-to-lead and double touch are read from their cubes (mart_speed_to_lead_cube,
mart_double_touch_cube, mart_double_touch_emitter_pairs), which hold every owner, segment (and request type) slice
for every span of whole ISO weeks: medians and distinct persons do not add up, so a filtered number is never summed
from finer rows. The date range selects the weeks it touches. Only counts that add up (the latency buckets, the stage
map's persons) are summed here; thresholds are read from the dbt vars for labels and target lines, never applied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import yaml

Query = Callable[[str, list], pd.DataFrame]

# The KPI thresholds are dbt vars: read from the one place the marts take them from, for labels and target lines.
DBT_VARS = yaml.safe_load((Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml").read_text())["vars"]
FAST_MINUTES = float(DBT_VARS["speed_to_lead_fast_seconds"]) / 60  # the "within 5 min" bar, in minutes
HOUR_MINUTES = float(DBT_VARS["speed_to_lead_hour_seconds"]) / 60  # the "within 1 h" bar, in minutes
WINDOW_DAYS = int(DBT_VARS["speed_to_lead_window_days"])  # no sales touch within this: missed (or open)
FOLD_HOURS = int(DBT_VARS["request_fold_hours"])  # a request this soon after the previous counted one is folded
DOUBLE_TOUCH_HOURS = int(DBT_VARS["double_touch_window_hours"])
KILL_SWITCH_DAYS = int(DBT_VARS["kill_switch_window_days"])
MAX_BOUNCE_RATE = float(DBT_VARS["kill_switch_max_bounce_rate"])
MAX_COMPLAINT_RATE = float(DBT_VARS["kill_switch_max_complaint_rate"])

ATTRIBUTION_MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based"]
MODEL_LABELS = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear",
                "time_decay": "Time decay", "position_based": "Position based"}

# The playbooks' targets (../shared/playbooks; docs/architecture.md): what RevOps holds these numbers against.
TARGETS = {
    "median_speed_to_lead_minutes": (f"≤ {FAST_MINUTES:g} min", FAST_MINUTES),
    "bounce_rate": (f"< {MAX_BOUNCE_RATE:.0%}", MAX_BOUNCE_RATE),
    "complaint_rate": (f"< {MAX_COMPLAINT_RATE:.2%} (kill switch; mailbox providers: 0.1%)", MAX_COMPLAINT_RATE),
    "sync_success_rate": ("≥ 99.5%", 0.995),
}
COMPLAINT_PROVIDER_LIMIT = 0.001  # Google and Yahoo's bulk-sender limit, the playbooks' second complaint line

# the daily KPIs of the overview: column of mart_revops_kpis, label, kind of number, higher is better (None: neither)
DAILY_KPIS = [
    ("inbound_requests", "Inbound requests", "count", True),
    ("median_speed_to_lead_minutes", "Median speed-to-lead", "minutes", False),
    ("share_within_5_min", "Answered within 5 min", "pct", True),
    ("missed_share", "Missed requests", "pct", False),
    ("open_requests", "Open requests", "count", None),
    ("touches", "Touches", "count", True),
    ("double_touches_per_10k", "Double touches per 10k", "per_10k", False),
    ("bounce_rate", "Bounce rate", "pct", False),
    ("complaint_rate", "Complaint rate", "pct", False),
    ("paused_domains", "Paused sending domains", "count", False),
    ("signals", "Signals", "count", True),
    ("deals_won", "Deals won", "count", True),
    ("won_revenue", "Won revenue", "money", True),
]


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    owner_id: str | None = None  # None: every owner
    segment: str | None = None  # None: every segment

    @property
    def is_default(self) -> bool:
        return self.owner_id is None and self.segment is None


@dataclass(frozen=True)
class Bounds:
    first_day: date
    last_day: date  # "today" of the data: the latest day of mart_revops_kpis (the build's as_of day)
    owners: pd.DataFrame  # owner_id, owner_name
    segments: list[str]


def bounds(query: Query) -> Bounds:
    # won deals reach back before the first touch (the CRM's history): the range starts at the earliest of both
    days = query("""select least(min(day_utc), (select cast(min(close_date) as date) from fct_signal_attribution))
                           as first_day, max(day_utc) as last_day
                    from mart_revops_kpis""", [])
    owners = query("""select owner_id, owner_name from dim_owner
                      where owner_id in (select owner_id from mart_stage_map union select owner_id from fct_speed_to_lead)
                      order by is_queue, owner_name""", [])
    segments = query("select distinct segment from dim_account order by segment", [])["segment"].tolist()
    return Bounds(_d(days.at[0, "first_day"]), _d(days.at[0, "last_day"]), owners, segments)


def _d(x) -> date:
    return pd.Timestamp(x).date()


@dataclass(frozen=True)
class Weeks:
    """The span of whole ISO weeks (Monday `start` to Sunday `end`) a page measures: the weeks the date range
    touches, within the weeks the cube holds; `start` None when the range holds none of them."""
    start: date | None
    end: date | None

    @property
    def empty(self) -> bool:
        return self.start is None

    def text(self) -> str:
        return "no week with data" if self.empty else f"the ISO weeks {self.start} – {self.end}"


def weeks(query: Query, f: Filters, cube: str) -> Weeks:
    """The span of `cube` (mart_speed_to_lead_cube or mart_double_touch_cube) that the date range selects."""
    have = query(f"select min(period_start) as first, max(period_end) as last from {cube} "
                 "where period_grain = 'weeks'", [])
    if have.empty or pd.isna(have.at[0, "first"]):
        return Weeks(None, None)
    start = max(f.start - timedelta(days=f.start.weekday()), _d(have.at[0, "first"]))
    end = min(f.end + timedelta(days=6 - f.end.weekday()), _d(have.at[0, "last"]))
    return Weeks(start, end) if start <= end else Weeks(None, None)


def _slice(f: Filters, alias: str, owner: bool = True, segment: bool = True) -> tuple[str, list]:
    """The owner and segment filters as a condition on a cube's slice columns ('all' when a filter is not set)."""
    sql, params = [], []
    if owner:
        sql.append(f"{alias}.owner_id = ?")
        params.append(f.owner_id or "all")
    if segment:
        sql.append(f"{alias}.segment = ?")
        params.append(f.segment or "all")
    return " and ".join(sql), params


# ---------------------------------------------------------------- overview

def daily_kpis(query: Query, f: Filters) -> pd.DataFrame:
    return query("select * from mart_revops_kpis where day_utc between ? and ? order by day_utc", [f.start, f.end])


def latest_sync_runs(query: Query) -> pd.DataFrame:
    """The two latest syncs that sent something (a run with nothing to send has no success rate): the overview
    shows the last one's success rate and the change."""
    return query("""select run_id, started_at, status, sent, confirmed, success_rate from mart_sync_health
                    where not dry_run and sent > 0 order by started_at desc limit 2""", [])


# ---------------------------------------------------------------- speed-to-lead

STL_MEASURES = ["requests", "answered_requests", "missed_requests", "open_requests", "known_outcome_requests",
                "median_latency_minutes", "p90_latency_minutes", "median_business_latency_minutes",
                "share_within_5_min", "share_within_1_hour", "missed_share"]
_STL_COLS = ", ".join(f"c.{m}" for m in STL_MEASURES)


def speed_to_lead_weeks(query: Query, f: Filters) -> Weeks:
    return weeks(query, f, "mart_speed_to_lead_cube")


def speed_to_lead_headline(query: Query, f: Filters) -> dict:
    """mart_speed_to_lead_cube's row for the weeks of the date range, the owner and the segment (all request
    types); no request there: zero counts and no measures."""
    w = speed_to_lead_weeks(query, f)
    row = pd.DataFrame()
    if not w.empty:
        where, params = _slice(f, "c")
        row = query(f"""select {_STL_COLS} from mart_speed_to_lead_cube as c
                        where c.period_grain = 'weeks' and c.period_start = ? and c.period_end = ?
                            and c.request_type = 'all' and {where}""", [w.start, w.end, *params])
    if row.empty:
        return {m: (0 if m.endswith("_requests") or m == "requests" else None) for m in STL_MEASURES}
    return row.iloc[0].to_dict()


def speed_to_lead_by(query: Query, f: Filters, dimension: str) -> pd.DataFrame:
    """The cube's rows split by one dimension (owner, request type, segment, week), the other filters applied."""
    w = speed_to_lead_weeks(query, f)
    if w.empty:
        return pd.DataFrame(columns=[dimension, *STL_MEASURES])
    owner, segment = f.owner_id or "all", f.segment or "all"
    if dimension == "week":
        label, split = "c.period_start", "c.period_weeks = 1 and c.period_start between ? and ?"
        params = [w.start, w.end]
    else:
        label, split, params = {
            "owner": ("coalesce(o.owner_name, c.owner_id)", "c.period_start = ? and c.period_end = ?", [w.start, w.end]),
            "request type": ("c.request_type", "c.period_start = ? and c.period_end = ?", [w.start, w.end]),
            "segment": ("c.segment", "c.period_start = ? and c.period_end = ?", [w.start, w.end]),
        }[dimension]
    # the split dimension is every value but 'all' (only the filtered one when its filter is set); the others are
    # the filter's value, or 'all'
    conds = {"owner": "c.owner_id", "segment": "c.segment", "request type": "c.request_type"}
    values = {"owner": owner, "segment": segment, "request type": "all"}
    for dim, col in conds.items():
        if dim == dimension:
            split += f" and {col} <> 'all'" + (f" and {col} = ?" if values[dim] != "all" else "")
            params += [values[dim]] if values[dim] != "all" else []
        else:
            split += f" and {col} = ?"
            params.append(values[dim])
    return query(f"""select {label} as "{dimension}", {_STL_COLS}
                     from mart_speed_to_lead_cube as c left join dim_owner as o on o.owner_id = c.owner_id
                     where c.period_grain = 'weeks' and {split} order by 1""", params)


def latency_distribution(query: Query, f: Filters) -> pd.DataFrame:
    """Requests per latency bucket (answered within each step, missed, open) over the weeks and slice of the filters:
    mart_speed_to_lead_latency_buckets' counts, which add up. Every bucket the mart knows is listed, in order."""
    w = speed_to_lead_weeks(query, f)
    params: list = [w.start, w.end]
    where = "b.request_week between ? and ?"
    for col, value in (("b.owner_id", f.owner_id), ("b.segment", f.segment)):
        if value is not None:
            where += f" and {col} = ?"
            params.append(value)
    return query(f"""with buckets as (
                         select latency_bucket, min(latency_bucket_order) as bucket_order
                         from mart_speed_to_lead_latency_buckets group by latency_bucket),
                     counts as (
                         select b.latency_bucket, sum(b.requests) as requests
                         from mart_speed_to_lead_latency_buckets as b where {where} group by b.latency_bucket)
                     select buckets.latency_bucket as latency, buckets.bucket_order,
                            cast(coalesce(counts.requests, 0) as bigint) as requests
                     from buckets left join counts using (latency_bucket)
                     order by buckets.bucket_order""", params)


def late_requests(query: Query, f: Filters, day: date) -> pd.DataFrame:
    """The requests of `day` not answered within 5 minutes (fct_speed_to_lead's answered_within_5_min): open (no
    sales touch yet, window still open), missed (none in the window), or answered late."""
    where, params = "cast(s.requested_at as date) = ?", [day]
    for col, value in (("s.owner_id", f.owner_id), ("s.segment", f.segment)):
        if value is not None:
            where += f" and {col} = ?"
            params.append(value)
    return query(f"""select s.requested_at, s.request_type,
                            coalesce(trim(coalesce(p.first_name, '') || ' ' || coalesce(p.last_name, '')), '')
                                as person, p.best_email as email,
                            coalesce(o.owner_name, s.owner_id) as owner,
                            case s.outcome when 'open' then 'open: no sales touch yet'
                                           when 'missed' then 'missed: no sales touch in the window'
                                           else 'answered late' end as status,
                            s.window_closes_at, s.latency_seconds / 60.0 as latency_minutes, s.segment, s.person_id
                     from fct_speed_to_lead as s
                     left join dim_person as p on p.person_id = s.person_id
                     left join dim_owner as o on o.owner_id = s.owner_id
                     where {where} and not s.answered_within_5_min
                     order by s.outcome = 'answered', s.outcome, s.requested_at, s.request_id""", params)


# ---------------------------------------------------------------- double touch

PAIR_KINDS = ["all", "marketing×sales", "sales×sales", "marketing×marketing"]
_DT_COLS = "c.pair_kind, c.touches, c.incidents, c.incidents_per_10k_touches, c.touched_persons, " \
           "c.persons_with_incident, c.share_of_touched_persons"


def double_touch_weeks(query: Query, f: Filters) -> Weeks:
    return weeks(query, f, "mart_double_touch_cube")


def double_touch_rates(query: Query, f: Filters) -> pd.DataFrame:
    """mart_double_touch_cube's rows for the weeks of the date range and the owner and segment of the filters (of
    the touched persons: the owner of their next action, the segment of their current account), one per pair kind;
    no touch there: zero touches, no rates."""
    w = double_touch_weeks(query, f)
    rates = pd.DataFrame()
    if not w.empty:
        where, params = _slice(f, "c")
        rates = query(f"""select {_DT_COLS} from mart_double_touch_cube as c
                          where c.period_grain = 'weeks' and c.period_start = ? and c.period_end = ? and {where}
                          order by c.pair_kind""", [w.start, w.end, *params])
    if rates.empty:
        return pd.DataFrame({"pair_kind": PAIR_KINDS, "touches": 0, "incidents": 0,
                             "incidents_per_10k_touches": None, "touched_persons": 0, "persons_with_incident": 0,
                             "share_of_touched_persons": None})
    return rates


def double_touch_weekly(query: Query, f: Filters) -> pd.DataFrame:
    """The one-week rows of the cube in the weeks of the date range, for the owner and segment of the filters."""
    w = double_touch_weeks(query, f)
    if w.empty:
        return pd.DataFrame(columns=["week", *_DT_COLS.replace("c.", "").split(", ")])
    where, params = _slice(f, "c")
    return query(f"""select c.period_start as week, {_DT_COLS} from mart_double_touch_cube as c
                     where c.period_grain = 'weeks' and c.period_weeks = 1 and c.period_start between ? and ?
                         and {where}
                     order by 1, 2""", [w.start, w.end, *params])


def colliding_emitters(query: Query, f: Filters, limit: int = 15) -> pd.DataFrame:
    """The campaigns and sequences that collide most in the weeks and slice of the filters: the pairs (earlier
    emitter, later emitter) of mart_double_touch_emitter_pairs by incidents (it keeps the top 15 of each)."""
    w = double_touch_weeks(query, f)
    where, params = _slice(f, "e")
    return query(f"""select e.earlier_emitter as "earlier touch (t1)", e.emitter as "double touch (t2)", e.pair_kind,
                            e.incidents, e.persons, e.median_gap_minutes
                     from mart_double_touch_emitter_pairs as e
                     where e.period_start = ? and e.period_end = ? and {where} and e.rank_in_slice <= ?
                     order by e.rank_in_slice""", [w.start, w.end, *params, int(limit)])


# ---------------------------------------------------------------- signal-to-revenue

def attribution_by_signal_type(query: Query, f: Filters) -> pd.DataFrame:
    """Attributed revenue by signal type, one column per model (unattributed deals as their own row)."""
    cols = ",\n".join(f"sum(attributed_revenue) filter (where attribution_model = '{m}') as {m}"
                      for m in ATTRIBUTION_MODELS)
    return query(f"""select signal_type, {cols}
                     from fct_signal_attribution where cast(close_date as date) between ? and ?
                     group by 1 order by linear desc nulls last""", [f.start, f.end])


def attribution_headline(query: Query, f: Filters, model: str) -> dict:
    row = query("""with deals as (
                       select deal_id, any_value(deal_amount) as amount,
                              sum(attributed_revenue) filter (where signal_id is not null) as attributed
                       from fct_signal_attribution
                       where attribution_model = ? and cast(close_date as date) between ? and ?
                       group by deal_id)
                   select count(*) as won_deals, sum(amount) as won_revenue,
                          coalesce(sum(attributed), 0) as attributed_revenue,
                          sum(amount) - coalesce(sum(attributed), 0) as unattributed_revenue,
                          count(*) filter (where attributed is null) as unattributed_deals
                   from deals""", [model, f.start, f.end]).iloc[0].to_dict()
    top = query("""select signal_type, sum(attributed_revenue) as revenue from fct_signal_attribution
                   where attribution_model = ? and signal_id is not null and cast(close_date as date) between ? and ?
                   group by 1 order by 2 desc, 1 limit 1""", [model, f.start, f.end])
    row["top_signal_type"] = top.at[0, "signal_type"] if len(top) else None
    row["top_signal_revenue"] = top.at[0, "revenue"] if len(top) else None
    return row


def attribution_monthly(query: Query, f: Filters, model: str) -> pd.DataFrame:
    """mart_signal_attribution_monthly's figures, for the deals closed in the date range (not whole months)."""
    return query("""select cast(date_trunc('month', close_date) as date) as close_month, signal_type,
                           sum(attributed_revenue) as attributed_revenue, sum(weight) as attributed_deals
                    from fct_signal_attribution
                    where attribution_model = ? and cast(close_date as date) between ? and ?
                    group by all order by 1, 2""", [model, f.start, f.end])


def signal_conversion(query: Query) -> pd.DataFrame:
    return query("select * from mart_signal_conversion order by signals desc", [])


def won_deals(query: Query, f: Filters) -> pd.DataFrame:
    return query("""select deal_id, any_value(deal_amount) as amount, cast(any_value(close_date) as date) as closed,
                           count(signal_id) as signals
                    from fct_signal_attribution where attribution_model = 'linear'
                        and cast(close_date as date) between ? and ?
                    group by deal_id order by amount desc, deal_id""", [f.start, f.end])


def deal_signals(query: Query, deal_id: str) -> pd.DataFrame:
    """One deal's signals with their weight under each of the five models."""
    cols = ",\n".join(f"max(weight) filter (where attribution_model = '{m}') as {m}" for m in ATTRIBUTION_MODELS)
    return query(f"""select signal_at, signal_type, signal_id, {cols}
                     from fct_signal_attribution where deal_id = ? and signal_id is not null
                     group by all order by signal_at, signal_id""", [deal_id])


# ---------------------------------------------------------------- deliverability

def domain_status(query: Query) -> pd.DataFrame:
    return query("select * from dim_sending_domain_status order by status desc, sending_domain", [])


def deliverability_daily(query: Query, f: Filters) -> pd.DataFrame:
    return query("""select * from fct_deliverability_daily where day_utc between ? and ?
                    order by sending_domain, day_utc""", [f.start, f.end])


# ---------------------------------------------------------------- next actions

def _stage_where(f: Filters) -> tuple[str, list]:
    """The owner (of the next action) and segment (of the current account) filters on the stage map."""
    sql, params = [], []
    for col, value in (("m.owner_id", f.owner_id), ("coalesce(a.segment, 'unknown')", f.segment)):
        if value is not None:
            sql.append(f"{col} = ?")
            params.append(value)
    return (" and ".join(sql) or "true"), params


_STAGE_FROM = """mart_stage_map as m
    left join dim_person as p using (person_id)
    left join dim_account as a on a.account_id = p.account_id
    left join dim_owner as o on o.owner_id = m.owner_id"""


def stage_route_counts(query: Query, f: Filters) -> pd.DataFrame:
    where, params = _stage_where(f)
    return query(f"select m.stage, m.route, count(*) as persons from {_STAGE_FROM} where {where} group by all "
                 "order by 1, 2", params)


def actions_headline(query: Query, f: Filters, today: date) -> dict:
    where, params = _stage_where(f)
    return query(f"""select count(*) as persons,
                            count(*) filter (where m.next_action_date <= ? and m.next_action_kind not in ('none', 'wait'))
                                as due_today,
                            count(*) filter (where m.stage = 'suppressed') as suppressed,
                            count(*) filter (where m.is_exception) as exceptions
                     from {_STAGE_FROM} where {where}""", [today, *params]).iloc[0].to_dict()


def actions_due(query: Query, f: Filters, today: date) -> pd.DataFrame:
    """Per owner, the actions due by `today` (not 'wait' or 'none'), highest score first, with their evidence."""
    where, params = _stage_where(f)
    return query(f"""select coalesce(o.owner_name, m.owner_id) as owner, m.stage, m.next_action_kind as kind,
                            m.next_action, m.next_action_date as due,
                            trim(coalesce(p.first_name, '') || ' ' || coalesce(p.last_name, '')) as person,
                            p.best_email as email, a.account_name as account, m.lead_score, m.grade,
                            m.evidence_note, m.open_risk, m.person_id
                     from {_STAGE_FROM}
                     where {where} and m.next_action_date <= ? and m.next_action_kind not in ('none', 'wait')
                     order by owner, m.lead_score desc nulls last, m.person_id""", [*params, today])


def owner_workload(query: Query, f: Filters) -> pd.DataFrame:
    """Each owner's task actions per working day against their capacity (mart_owner_workload: the one place the
    capacity rule is applied)."""
    where = "true" if f.owner_id is None else "w.owner_id = ?"
    params = [] if f.owner_id is None else [f.owner_id]
    return query(f"""select w.owner_name as owner, w.owner_id, w.due_date, w.is_owner_today, w.capacity,
                            w.actions_due, w.hand_raises, w.moved_here, w.handed_over_here
                     from mart_owner_workload as w where {where}
                     order by w.due_date, w.owner_name""", params)


def task_status(query: Query, f: Filters) -> pd.DataFrame:
    """The CRM tasks the sync made, by owner and state (mart_sync_task_status)."""
    where = "true" if f.owner_id is None else "t.owner_id = ?"
    params = [] if f.owner_id is None else [f.owner_id]
    return query(f"""select coalesce(o.owner_name, t.owner_id) as owner, t.task_state as state, t.tasks,
                            t.high_priority_tasks, t.earliest_due_at
                     from mart_sync_task_status as t left join dim_owner as o on o.owner_id = t.owner_id
                     where {where} order by owner, state""", params)


def latest_alerts(query: Query, limit: int = 20) -> pd.DataFrame:
    """The newest alerts (mart_alerts), whatever the filters: they are about the whole warehouse."""
    return query("""select created_at, alert_kind as kind, alert_text as alert, delivery_status as delivery
                    from mart_alerts order by created_at desc, alert_key limit ?""", [limit])


# ---------------------------------------------------------------- sync health

# Syncs run in wall-clock time, after the data's last day: the date range of the filters does not select them.

def sync_runs(query: Query) -> pd.DataFrame:
    return query("select * from mart_sync_health order by started_at desc", [])


def sync_headline(query: Query) -> dict:
    """Counts over every sync that was not a dry run (they add up), and the latest sending run's success rate as
    mart_sync_health computes it."""
    row = query("""select count(*) as runs, coalesce(sum(sent), 0) as sent, coalesce(sum(confirmed), 0) as confirmed,
                          coalesce(sum(rejected), 0) as rejected, coalesce(sum(dead_lettered), 0) as dead_lettered,
                          coalesce(sum(retries), 0) as retries
                   from mart_sync_health where not dry_run""", []).iloc[0].to_dict()
    last = latest_sync_runs(query)
    row["success_rate"] = last.at[0, "success_rate"] if len(last) else None
    return row


def dead_letters(query: Query) -> pd.DataFrame:
    return query("""select crm_object as object, sync_key, error, attempts, first_failed_at, last_failed_at
                    from mart_sync_dead_letters order by last_failed_at desc, crm_object, sync_key""", [])
