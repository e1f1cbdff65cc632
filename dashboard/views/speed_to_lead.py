"""Speed-to-lead: how fast inbound requests get their first sales touch (docs/kpis.md), by owner, request type,
segment and week, the requests still open (not answered yet), and the day's requests open, missed or late."""

import altair as alt
import streamlit as st

from dashboard import data, fmt, ui

SHARES = ["share_within_5_min", "share_within_1_hour", "missed_share"]
COLUMNS = {
    "requests": st.column_config.NumberColumn("requests", format="%d"),
    "answered_requests": st.column_config.NumberColumn("answered", format="%d"),
    "missed_requests": st.column_config.NumberColumn("missed", format="%d"),
    "open_requests": st.column_config.NumberColumn("open", format="%d", help="Not answered yet: window still open"),
    "known_outcome_requests": st.column_config.NumberColumn("known outcome", format="%d",
                                                            help="Answered + missed: what the shares are of"),
    "median_latency_minutes": st.column_config.NumberColumn("median (min)", format="%.1f"),
    "p90_latency_minutes": st.column_config.NumberColumn("p90 (min)", format="%.1f"),
    "median_business_latency_minutes": st.column_config.NumberColumn("median, business hours (min)", format="%.1f"),
    "share_within_5_min": st.column_config.NumberColumn("≤ 5 min", format="%.1f%%"),
    "share_within_1_hour": st.column_config.NumberColumn("≤ 1 h", format="%.1f%%"),
    "missed_share": st.column_config.NumberColumn("missed", format="%.1f%%"),
}


def _bucket_colors(labels: list[str]) -> list[str]:
    """Green for the fastest bucket, blue then orange for slower ones, red for missed, grey for open."""
    answered = [b for b in labels if b not in ("missed", "open")]
    colors = {b: ("#2ca02c" if i == 0 else "#4c78a8" if i <= len(answered) // 2 else "#f58518")
              for i, b in enumerate(answered)}
    colors.update({"missed": "#d62728", "open": "#9e9e9e"})
    return [colors[b] for b in labels]


def render() -> None:
    f = ui.filters()
    st.title("Speed-to-lead")
    w = data.speed_to_lead_weeks(ui.query, f)
    ui.applies(owner=True, segment=True, note=f"Requests count by the ISO week they were made in: {w.text()} (the "
               "weeks the date range touches). Owner: of the first sales touch; for a request without one the owner "
               "of the person's CRM contact, else the inbound queue. Target: first touch within "
               f"{data.FAST_MINUTES:g} minutes.")
    h = data.speed_to_lead_headline(ui.query, f)
    ui.metrics_row([
        ("Counted requests", h["requests"], "count", "Demo and contact-sales requests; one within "
         f"{data.FOLD_HOURS} h of the person's previous counted request is folded into it"),
        ("Open (not answered yet)", h["open_requests"], "count",
         f"No sales touch yet, but the {data.WINDOW_DAYS}-day window is still open at the data's as-of time: "
         "counted on their own, in none of the shares"),
        ("Median latency", h["median_latency_minutes"], "minutes", "Of the answered requests"),
        ("p90 latency", h["p90_latency_minutes"], "minutes"),
        ("Median, business hours", h["median_business_latency_minutes"], "minutes",
         "Counting only the owner territory's business hours"),
        ("Within 5 min", h["share_within_5_min"], "pct", "Of the requests whose outcome is known (answered or "
         "missed; target: all of them)"),
        ("Within 1 h", h["share_within_1_hour"], "pct", "Of the requests whose outcome is known"),
        ("Missed", h["missed_share"], "pct", f"No sales touch within {data.WINDOW_DAYS} days, of the requests whose "
         "outcome is known"),
    ])
    st.caption(f"{fmt.count(h['answered_requests'])} answered, {fmt.count(h['missed_requests'])} missed, "
               f"{fmt.count(h['open_requests'])} open: the shares are of the {fmt.count(h['known_outcome_requests'])} "
               "answered or missed.")

    left, right = st.columns(2)
    with left:
        dist = data.latency_distribution(ui.query, f)
        labels = dist["latency"].tolist()
        st.altair_chart(alt.Chart(dist).mark_bar().encode(
            x=alt.X("latency:N", sort=labels, title=None),
            y=alt.Y("requests:Q", title="requests"),
            color=alt.Color("latency:N", legend=None, scale=alt.Scale(domain=labels, range=_bucket_colors(labels))),
            tooltip=["latency", "requests"]).properties(title="Latency to the first sales touch", height=260),
            width="stretch")
    with right:
        weekly = data.speed_to_lead_by(ui.query, f, "week")
        st.altair_chart(ui.line_with_target(weekly, "week", "median_latency_minutes", "Median latency by week (min)",
                                            ".1f", [(data.FAST_MINUTES, f"target {data.FAST_MINUTES:g} min")],
                                            height=260), width="stretch")

    st.subheader("Breakdown")
    for tab, dimension in zip(st.tabs(["By owner", "By request type", "By segment", "By week"]),
                              ["owner", "request type", "segment", "week"]):
        with tab:
            st.dataframe(ui.pct_columns(data.speed_to_lead_by(ui.query, f, dimension), SHARES),
                         column_config=COLUMNS, hide_index=True, width="stretch")

    day = f.end
    late = data.late_requests(ui.query, f, day)
    st.subheader(f"Open, missed or late on {fmt.day(day)}")
    st.caption(f"{fmt.count(len(late))} requests of {fmt.day(day)} (the last day of the date range) not answered "
               f"within {data.FAST_MINUTES:g} minutes: open (no sales touch yet, window still open), missed, or "
               "answered late.")
    st.dataframe(late.drop(columns=["person_id"]), hide_index=True, width="stretch", column_config={
        "requested_at": st.column_config.DatetimeColumn("requested (UTC)", format="YYYY-MM-DD HH:mm"),
        "window_closes_at": st.column_config.DatetimeColumn("window closes (UTC)", format="YYYY-MM-DD HH:mm"),
        "latency_minutes": st.column_config.NumberColumn("latency (min)", format="%.1f")})
