"""Speed-to-lead: how fast inbound requests get their first sales touch (DESIGN 6), by owner, request type,
segment and week, and today's requests still waiting or answered late."""

import altair as alt
import streamlit as st

from dashboard import data, fmt, ui

SHARES = ["share_within_5_min", "share_within_1_hour", "missed_share"]
COLUMNS = {
    "requests": st.column_config.NumberColumn("requests", format="%d"),
    "missed_requests": st.column_config.NumberColumn("missed", format="%d"),
    "median_latency_minutes": st.column_config.NumberColumn("median (min)", format="%.1f"),
    "p90_latency_minutes": st.column_config.NumberColumn("p90 (min)", format="%.1f"),
    "median_business_latency_minutes": st.column_config.NumberColumn("median, business hours (min)", format="%.1f"),
    "share_within_5_min": st.column_config.NumberColumn("≤ 5 min", format="%.1f%%"),
    "share_within_1_hour": st.column_config.NumberColumn("≤ 1 h", format="%.1f%%"),
    "missed_share": st.column_config.NumberColumn("missed", format="%.1f%%"),
}


def render() -> None:
    f = ui.filters()
    st.title("Speed-to-lead")
    ui.applies(owner=True, segment=True, note="Owner: of the first sales touch; for a missed request the owner of "
               "the person's CRM contact, else the inbound queue. Target: first touch within 5 minutes.")
    h = data.speed_to_lead_headline(ui.query, f)
    ui.metrics_row([
        ("Counted requests", h["requests"], "count", "Demo and contact-sales requests; one within 24 h of the "
         "person's previous counted request is folded into it"),
        ("Median latency", h["median_latency_minutes"], "minutes", "Of the answered requests"),
        ("p90 latency", h["p90_latency_minutes"], "minutes"),
        ("Median, business hours", h["median_business_latency_minutes"], "minutes",
         "Counting only the owner territory's business hours"),
        ("Within 5 min", h["share_within_5_min"], "pct", "Of all requests (target: all of them)"),
        ("Within 1 h", h["share_within_1_hour"], "pct", "Of all requests"),
        ("Missed", h["missed_share"], "pct", "No sales touch within 7 days"),
    ])

    left, right = st.columns(2)
    with left:
        dist = data.latency_distribution(ui.query, f)
        st.altair_chart(alt.Chart(dist).mark_bar().encode(
            x=alt.X("latency:N", sort=data.LATENCY_BUCKETS, title=None),
            y=alt.Y("requests:Q", title="requests"),
            color=alt.Color("latency:N", legend=None, scale=alt.Scale(
                domain=data.LATENCY_BUCKETS,
                range=["#2ca02c", "#4c78a8", "#4c78a8", "#4c78a8", "#f58518", "#f58518", "#d62728"])),
            tooltip=["latency", "requests"]).properties(title="Latency to the first sales touch", height=260),
            width="stretch")
    with right:
        weekly = data.speed_to_lead_by(ui.query, f, "week")
        st.altair_chart(ui.line_with_target(weekly, "week", "median_latency_minutes", "Median latency by week (min)",
                                            ".1f", [(5.0, "target 5 min")], height=260), width="stretch")

    st.subheader("Breakdown")
    for tab, dimension in zip(st.tabs(["By owner", "By request type", "By segment", "By week"]),
                              ["owner", "request type", "segment", "week"]):
        with tab:
            st.dataframe(ui.pct_columns(data.speed_to_lead_by(ui.query, f, dimension), SHARES),
                         column_config=COLUMNS, hide_index=True, width="stretch")

    day = f.end
    late = data.late_requests(ui.query, f, day)
    st.subheader(f"Missed or late on {fmt.day(day)}")
    st.caption(f"{fmt.count(len(late))} requests of {fmt.day(day)} with no sales touch yet or a first touch after "
               "5 minutes (the last day of the date range).")
    st.dataframe(late.drop(columns=["person_id"]), hide_index=True, width="stretch", column_config={
        "requested_at": st.column_config.DatetimeColumn("requested (UTC)", format="YYYY-MM-DD HH:mm"),
        "latency_minutes": st.column_config.NumberColumn("latency (min)", format="%.1f")})
