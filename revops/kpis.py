"""`revops kpis`: the headline KPIs of a warehouse as lines of text, read from the KPI marts.

Nothing is computed here: every share, median and rate is a column of the mart that defines it (docs/kpis.md; see
docs/kpis.md) — speed-to-lead from mart_speed_to_lead_summary, double touch from mart_double_touch_rates, the kill
switch from dim_sending_domain_status — and the won revenue is summed from the attribution mart's deals."""

from __future__ import annotations

from pathlib import Path


def lines(db: Path) -> list[str]:
    """The report for the warehouse file `db`, opened read-only."""
    from revops.warehouse import connect

    con = connect(db, read_only=True)
    try:
        return _report(con, db)
    finally:
        con.close()


def _report(con, db: Path) -> list[str]:
    out = []
    first, last = con.execute("select min(day_utc), max(day_utc) from mart_revops_kpis").fetchall()[0]
    out.append(f"KPIs {first} .. {last} ({db})")
    stl = con.execute("""
        select requests, answered_requests, missed_requests, open_requests, known_outcome_requests,
               median_latency_minutes, p90_latency_minutes, share_within_5_min, share_within_1_hour, missed_share
        from mart_speed_to_lead_summary where period_grain = 'all' and dimension = 'all'""").fetchall()
    if stl and stl[0][0]:
        n, answered, missed, open_, known, med, p90, fast, hour, missed_share = stl[0]
        out.append(f"speed-to-lead: {n:,} counted requests ({answered:,} answered, {missed:,} missed, {open_:,} open), "
                   f"median {_num(med, '{:.1f} min')}, p90 {_num(p90, '{:.1f} min')}; of the {known:,} with a known "
                   f"outcome {_num(fast, '{:.1%}')} within 5 min, {_num(hour, '{:.1%}')} within 1 h, "
                   f"{_num(missed_share, '{:.1%}')} missed")
    for kind, incidents, per_10k, share in con.execute("""
            select pair_kind, incidents, incidents_per_10k_touches, share_of_touched_persons
            from mart_double_touch_rates where period_grain = 'all'
            order by pair_kind = 'all' desc, pair_kind""").fetchall():
        out.append(f"double touch {kind:<20} {incidents:>7,} incidents, {per_10k:>7.1f} per 10k touches, "
                   f"{share:.1%} of touched persons")
    for domain, status, since, rate in con.execute("""
            select sending_domain, status, status_since, bounce_rate_7d from dim_sending_domain_status
            order by status desc, sending_domain""").fetchall():
        out.append(f"sending domain {domain:<26} {status:<6} since {since}  bounce rate 7d {(rate or 0):.2%}")
    # a deal has one row per signal: its amount counts once, from the distinct deals
    won, unattributed = con.execute("""
        select (select sum(deal_amount) from (select distinct deal_id, deal_amount from fct_signal_attribution)),
               sum(attributed_revenue) filter (where attribution_model = 'linear' and signal_id is null)
        from fct_signal_attribution""").fetchall()[0]
    out.append(f"won revenue {won or 0:,.0f}, of which unattributed {unattributed or 0:,.0f}; by signal type "
               "(linear | time_decay | position_based):")
    for signal_type, linear, decay, position in con.execute("""
            select signal_type,
                   sum(attributed_revenue) filter (where attribution_model = 'linear'),
                   sum(attributed_revenue) filter (where attribution_model = 'time_decay'),
                   sum(attributed_revenue) filter (where attribution_model = 'position_based')
            from fct_signal_attribution where signal_id is not null
            group by 1 order by 2 desc limit 5""").fetchall():
        out.append(f"  {signal_type:<26} {linear:>12,.0f} {decay:>12,.0f} {position:>12,.0f}")
    return out


def _num(x, pattern: str) -> str:
    return "—" if x is None else pattern.format(x)
