"""Overview: the daily headline KPIs as trends against the playbooks' targets, and what changed since yesterday."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, fmt, ui

TARGET_LINES = {  # KPI column -> [(value, label)] drawn into its trend
    "median_speed_to_lead_minutes": [(data.FAST_MINUTES, f"target {data.FAST_MINUTES:g} min")],
    "bounce_rate": [(data.MAX_BOUNCE_RATE, f"kill switch {data.MAX_BOUNCE_RATE:.0%}")],
    "complaint_rate": [(data.MAX_COMPLAINT_RATE, f"kill switch {data.MAX_COMPLAINT_RATE:.2%}"),
                       (data.COMPLAINT_PROVIDER_LIMIT, "providers 0.1%")],
}
NOTES = {
    "missed_share": f"No sales touch within {data.WINDOW_DAYS} days of the request, of the day's requests whose "
                    "outcome is known (answered, or missed with the window closed); open requests are in none of "
                    "the shares.",
    "open_requests": f"Requests of the day with no sales touch yet whose {data.WINDOW_DAYS}-day window is still "
                     "open at the data's as-of time: not answered yet, not missed.",
    "share_within_5_min": "Of the day's requests whose outcome is known (answered or missed).",
}
AXIS = {"count": ",d", "pct": ".2%", "minutes": ".1f", "money": "$,.0f", "per_10k": ".1f"}


def render() -> None:
    f = ui.filters()
    st.title("Overview")
    kpis = data.daily_kpis(ui.query, f)
    if kpis.empty:
        st.info("No KPI days in the date range.")
        return
    day = kpis["day_utc"].iloc[-1]
    today = kpis.iloc[-1]
    yesterday = kpis.iloc[-2] if len(kpis) > 1 else None
    ui.applies(owner=False, segment=False,
               note=f"Company-wide daily KPIs (mart_revops_kpis) of **{fmt.day(pd.Timestamp(day).date())}**, the "
                    "last day of the range, with the change since the day before.")

    runs = data.latest_sync_runs(ui.query)
    items = [(col, label, kind, up) for col, label, kind, up in data.DAILY_KPIS]
    for row in range(0, len(items), 4):
        for c, (col, label, kind, up) in zip(st.columns(4), items[row:row + 4]):
            with c:
                target = data.TARGETS.get(col)
                ui.metric(label, today[col], kind, better_up=up,
                          delta=fmt.delta(today[col], yesterday[col], kind) if yesterday is not None else None,
                          help=" ".join(t for t in (f"Target {target[0]}." if target else "", NOTES.get(col, ""))
                                        if t) or None)
    with st.columns(4)[0]:
        last = runs.iloc[0] if len(runs) else None
        prev = runs.iloc[1] if len(runs) > 1 else None
        ui.metric("Sync success rate (last run)", None if last is None else last["success_rate"], "pct",
                  delta=fmt.delta(last["success_rate"], prev["success_rate"], "pct") if prev is not None else None,
                  help=f"Target {data.TARGETS['sync_success_rate'][0]}; confirmed / sent of the latest CRM sync "
                       "that had something to send")

    st.subheader("What changed since yesterday")
    if yesterday is None:
        st.caption("One day in the range: nothing to compare with.")
    else:
        st.table(pd.DataFrame([{
            "KPI": label,
            str(pd.Timestamp(kpis["day_utc"].iloc[-2]).date()): fmt.FORMATS[kind](yesterday[col]),
            str(pd.Timestamp(day).date()): fmt.FORMATS[kind](today[col]),
            "change": fmt.delta(today[col], yesterday[col], kind) or fmt.NONE,
            "target": data.TARGETS[col][0] if col in data.TARGETS else "",
        } for col, label, kind, _ in data.DAILY_KPIS]).set_index("KPI"))

    st.subheader("Trends")
    trend_cols = st.columns(2)
    for i, (col, label, kind, _) in enumerate(data.DAILY_KPIS):
        with trend_cols[i % 2]:
            st.altair_chart(ui.line_with_target(kpis, "day_utc", col, label, AXIS[kind], TARGET_LINES.get(col, [])),
                            width="stretch")
    all_runs = ui.query("select started_at, success_rate from mart_sync_health where not dry_run and sent > 0", [])
    with trend_cols[len(data.DAILY_KPIS) % 2]:
        if all_runs.empty:
            st.caption("Sync success rate: no sync has sent anything yet.")
        else:
            st.altair_chart(ui.line_with_target(all_runs, "started_at", "success_rate", "Sync success rate per run",
                                                ".1%", [(data.TARGETS["sync_success_rate"][1],
                                                         f"target {data.TARGETS['sync_success_rate'][0]}")],
                                                x_format="%m-%d %H:%M").encode(
                y=alt.Y("success_rate:Q", scale=alt.Scale(domain=[0.95, 1.0]), axis=alt.Axis(format=".1%"),
                        title=None)), width="stretch")
