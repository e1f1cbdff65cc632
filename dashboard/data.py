"""What each dashboard page reads from the marts snapshot, as SQL with the page's filters applied.

Every function takes `query(sql, params) -> pandas.DataFrame` (a cached read of the current snapshot in the app, a
plain DuckDB connection in tests) and the shared `Filters`. With no filter set the figures are the marts' own
rows (mart_revops_kpis, mart_speed_to_lead_summary, mart_double_touch_rates, ...); with a filter they are
aggregated from the marts' fact tables with the same definitions (DESIGN 6), so an owner's speed-to-lead equals
the owner row of mart_speed_to_lead_summary and the tests check that it does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

Query = Callable[[str, list], pd.DataFrame]

# The KPI thresholds are dbt vars: read from the one place the marts take them from, never repeated here.
DBT_VARS = yaml.safe_load((Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml").read_text())["vars"]
FAST_SECONDS = int(DBT_VARS["speed_to_lead_fast_seconds"])  # 300
HOUR_SECONDS = int(DBT_VARS["speed_to_lead_hour_seconds"])  # 3600
MAX_BOUNCE_RATE = float(DBT_VARS["kill_switch_max_bounce_rate"])  # 0.02
MAX_COMPLAINT_RATE = float(DBT_VARS["kill_switch_max_complaint_rate"])  # 0.0008

ATTRIBUTION_MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based"]
MODEL_LABELS = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear",
                "time_decay": "Time decay", "position_based": "Position based"}

# The playbooks' targets (../shared/playbooks; DESIGN 1): what RevOps holds these numbers against.
TARGETS = {
    "median_speed_to_lead_minutes": ("≤ 5 min", 5.0),
    "bounce_rate": (f"< {MAX_BOUNCE_RATE:.0%}", MAX_BOUNCE_RATE),
    "complaint_rate": (f"< {MAX_COMPLAINT_RATE:.2%} (kill switch; mailbox providers: 0.1%)", MAX_COMPLAINT_RATE),
    "sync_success_rate": ("≥ 99.5%", 0.995),
}
COMPLAINT_PROVIDER_LIMIT = 0.001  # Google and Yahoo's bulk-sender limit, the playbooks' second complaint line

# the daily KPIs of the overview: column of mart_revops_kpis, label, kind of number, higher is better
DAILY_KPIS = [
    ("inbound_requests", "Inbound requests", "count", True),
    ("median_speed_to_lead_minutes", "Median speed-to-lead", "minutes", False),
    ("share_within_5_min", "Answered within 5 min", "pct", True),
    ("missed_share", "Missed requests", "pct", False),
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


def _person_filter(f: Filters, person_col: str) -> tuple[str, list]:
    """SQL (and its parameters) keeping the persons of the owner and segment filters: the owner of the person's
    next action (mart_stage_map) and the segment of the person's current account."""
    sql, params = [], []
    if f.owner_id is not None:
        sql.append(f"{person_col} in (select person_id from mart_stage_map where owner_id = ?)")
        params.append(f.owner_id)
    if f.segment is not None:
        sql.append(f"""{person_col} in (select dim_person.person_id from dim_person
                       left join dim_account using (account_id) where coalesce(dim_account.segment, 'unknown') = ?)""")
        params.append(f.segment)
    return (" and ".join(sql) or "true"), params


# ---------------------------------------------------------------- overview

def daily_kpis(query: Query, f: Filters) -> pd.DataFrame:
    return query("select * from mart_revops_kpis where day_utc between ? and ? order by day_utc", [f.start, f.end])


def latest_sync_runs(query: Query) -> pd.DataFrame:
    """The two latest syncs that sent something (a run with nothing to send has no success rate): the overview
    shows the last one's success rate and the change."""
    return query("""select run_id, started_at, status, sent, confirmed, success_rate from mart_sync_health
                    where not dry_run and sent > 0 order by started_at desc limit 2""", [])


# ---------------------------------------------------------------- speed-to-lead

def _where(f: Filters, owner_col: str, segment_col: str, date_col: str | None = None) -> tuple[str, list]:
    """The filters as a SQL condition and its parameters, on the columns that carry them in one mart."""
    sql, params = [], []
    if date_col:
        sql.append(f"cast({date_col} as date) between ? and ?")
        params += [f.start, f.end]
    for col, value in ((owner_col, f.owner_id), (segment_col, f.segment)):
        if value is not None:
            sql.append(f"{col} = ?")
            params.append(value)
    return (" and ".join(sql) or "true"), params


def _stl_where(f: Filters) -> tuple[str, list]:
    return _where(f, "owner_id", "segment", "requested_at")


_STL_MEASURES = f"""
    count(*) as requests,
    count(*) filter (where is_missed) as missed_requests,
    quantile_cont(latency_seconds, 0.5) / 60.0 as median_latency_minutes,
    quantile_cont(latency_seconds, 0.9) / 60.0 as p90_latency_minutes,
    quantile_cont(business_latency_seconds, 0.5) / 60.0 as median_business_latency_minutes,
    avg(case when latency_seconds <= {FAST_SECONDS} then 1.0 else 0.0 end) as share_within_5_min,
    avg(case when latency_seconds <= {HOUR_SECONDS} then 1.0 else 0.0 end) as share_within_1_hour,
    avg(case when is_missed then 1.0 else 0.0 end) as missed_share"""


def speed_to_lead_headline(query: Query, f: Filters) -> dict:
    where, params = _stl_where(f)
    return query(f"select {_STL_MEASURES} from fct_speed_to_lead where {where}", params).iloc[0].to_dict()


def speed_to_lead_by(query: Query, f: Filters, dimension: str) -> pd.DataFrame:
    col = {"owner": "coalesce(dim_owner.owner_name, fct_speed_to_lead.owner_id)", "request type": "request_type",
           "segment": "segment", "week": "request_week"}[dimension]
    where, params = _stl_where(f)
    return query(f"""select {col} as "{dimension}", {_STL_MEASURES}
                     from fct_speed_to_lead left join dim_owner using (owner_id)
                     where {where} group by 1 order by 1""", params)


LATENCY_BUCKETS = ["≤ 5 min", "5–15 min", "15–60 min", "1–4 h", "4–24 h", "1–7 d", "missed"]


def latency_distribution(query: Query, f: Filters) -> pd.DataFrame:
    where, params = _stl_where(f)
    return query(f"""select case when is_missed then 'missed'
                                 when latency_seconds <= 300 then '≤ 5 min'
                                 when latency_seconds <= 900 then '5–15 min'
                                 when latency_seconds <= 3600 then '15–60 min'
                                 when latency_seconds <= 14400 then '1–4 h'
                                 when latency_seconds <= 86400 then '4–24 h' else '1–7 d' end as latency,
                            count(*) as requests
                     from fct_speed_to_lead where {where} group by 1""", params)


def late_requests(query: Query, f: Filters, day: date) -> pd.DataFrame:
    """The requests of `day` that are missed (no sales touch yet) or answered after 5 minutes."""
    where, params = _stl_where(Filters(day, day, f.owner_id, f.segment))
    return query(f"""select requested_at, request_type,
                            coalesce(trim(coalesce(dim_person.first_name, '') || ' ' || coalesce(dim_person.last_name, '')), '')
                                as person, dim_person.best_email as email,
                            coalesce(dim_owner.owner_name, s.owner_id) as owner,
                            case when s.is_missed then 'no sales touch yet' else 'late' end as status,
                            s.latency_seconds / 60.0 as latency_minutes, s.segment, s.person_id
                     from fct_speed_to_lead as s
                     left join dim_person using (person_id)
                     left join dim_owner on dim_owner.owner_id = s.owner_id
                     where {where} and (s.is_missed or s.latency_seconds > {FAST_SECONDS})
                     order by s.is_missed desc, requested_at""", params)


# ---------------------------------------------------------------- double touch

PAIR_KINDS = ["all", "marketing×sales", "sales×sales", "marketing×marketing"]


def _double_touch(query: Query, f: Filters, by_week: bool) -> pd.DataFrame:
    """mart_double_touch_rates' figures (per week, or over the whole range) for the date range and the persons of
    the filters: touches, incidents, per 10k touches, share of touched persons, in total ('all') and per pair."""
    who, params = _person_filter(f, "person_id")
    period = "cast(date_trunc('week', touched_at) as date)" if by_week else "cast(null as date)"
    kinds = ", ".join(f"'{k}'" for k in PAIR_KINDS)
    return query(f"""
        with touches as (
            select {period} as week, touch_id, person_id from fct_touches
            where counts_as_touch and cast(touched_at as date) between ? and ? and {who}
        ),
        incidents as (
            select {period} as week, touch_id, person_id, pair_kind from fct_double_touches
            where cast(touched_at as date) between ? and ? and {who}
        ),
        totals as (
            select week, count(*) as touches, count(distinct person_id) as touched_persons from touches group by week
        ),
        kinds as (select unnest([{kinds}]) as pair_kind)
        select totals.week, kinds.pair_kind, totals.touches,
               count(incidents.touch_id) as incidents,
               count(incidents.touch_id) * 10000.0 / totals.touches as incidents_per_10k_touches,
               count(distinct incidents.person_id) * 1.0 / totals.touched_persons as share_of_touched_persons
        from totals cross join kinds
        left join incidents
            on incidents.week is not distinct from totals.week and kinds.pair_kind in ('all', incidents.pair_kind)
        group by totals.week, kinds.pair_kind, totals.touches, totals.touched_persons
        order by 1, 2""", [f.start, f.end, *params, f.start, f.end, *params])


def double_touch_rates(query: Query, f: Filters) -> pd.DataFrame:
    """One row per pair kind over the whole range (no touches at all: zero touches, no rates)."""
    rates = _double_touch(query, f, by_week=False).drop(columns="week")
    if rates.empty:
        return pd.DataFrame({"pair_kind": PAIR_KINDS, "touches": 0, "incidents": 0,
                             "incidents_per_10k_touches": None, "share_of_touched_persons": None})
    return rates


def double_touch_weekly(query: Query, f: Filters) -> pd.DataFrame:
    return _double_touch(query, f, by_week=True)


def colliding_emitters(query: Query, f: Filters, limit: int = 15) -> pd.DataFrame:
    """The campaigns and sequences that collide most: pairs (earlier emitter, later emitter) by incidents."""
    who, params = _person_filter(f, "person_id")
    return query(f"""select earlier_emitter as "earlier touch (t1)", emitter as "double touch (t2)", pair_kind,
                            count(*) as incidents, count(distinct person_id) as persons,
                            median(gap_minutes) as median_gap_minutes
                     from fct_double_touches
                     where cast(touched_at as date) between ? and ? and {who}
                     group by all order by incidents desc, 1, 2 limit {int(limit)}""", [f.start, f.end, *params])


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
    return _where(f, "m.owner_id", "coalesce(a.segment, 'unknown')")


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


# ---------------------------------------------------------------- sync health

# Syncs run in wall-clock time, after the data's last day: the date range of the filters does not select them.

def sync_runs(query: Query) -> pd.DataFrame:
    return query("select * from mart_sync_health order by started_at desc", [])


def sync_headline(query: Query) -> dict:
    return query("""select count(*) as runs, coalesce(sum(sent), 0) as sent, coalesce(sum(confirmed), 0) as confirmed,
                           coalesce(sum(rejected), 0) as rejected, coalesce(sum(dead_lettered), 0) as dead_lettered,
                           coalesce(sum(retries), 0) as retries,
                           sum(confirmed) * 1.0 / nullif(sum(sent), 0) as success_rate
                    from mart_sync_health where not dry_run""", []).iloc[0].to_dict()


def dead_letters(query: Query) -> pd.DataFrame:
    return query("""select object, sync_key, error, attempts, first_failed_at, last_failed_at
                    from sync_dead_letters order by last_failed_at desc, object, sync_key""", [])
