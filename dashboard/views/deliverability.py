"""Deliverability: per sending domain the trailing 7-day bounce and complaint rates against the kill switch
(docs/kpis.md: paused when 7 days hold >= 200 sends and bounces > 2% or complaints > 0.08%), paused days marked."""

import altair as alt
import streamlit as st

from dashboard import data, fmt, ui


def _rate_chart(daily, y: str, title: str, targets: list[tuple[float, str]]) -> alt.Chart:
    base = alt.Chart(daily).encode(x=ui.time_x("day_utc"))
    line = base.mark_line().encode(
        y=alt.Y(f"{y}:Q", title=None, axis=alt.Axis(format=".2%")), color=alt.Color("sending_domain:N", title=None),
        tooltip=["sending_domain", ui.time_tip("day_utc", "utcyearmonthdate"), alt.Tooltip(f"{y}:Q", format=".2%"),
                 "sends_7d", "is_paused"])
    paused = base.transform_filter(alt.datum.is_paused).mark_point(shape="cross", size=70, color="#d62728",
                                                                   filled=True).encode(
        y=f"{y}:Q", tooltip=["sending_domain", ui.time_tip("day_utc", "utcyearmonthdate"), "pause_reason"])
    chart = line + paused
    for value, label in targets:
        chart += alt.Chart({"values": [{"v": value, "l": label}]}).mark_rule(
            strokeDash=[6, 4], color="#d62728").encode(y="v:Q", tooltip=[alt.Tooltip("l:N", title="threshold")])
    return chart.properties(title=title, height=300)


def render() -> None:
    f = ui.filters()
    st.title("Deliverability")
    ui.applies(owner=False, segment=False, note="Current state: the latest day of the data; a paused domain sends "
               "nothing (the next actions skip email from it).")
    status = data.domain_status(ui.query)
    paused = status[status["status"] == "paused"]
    ui.metrics_row([
        ("Sending domains", len(status), "count"),
        ("Paused now", len(paused), "count", ", ".join(paused["sending_domain"]) or "none"),
    ])
    st.subheader("Current state")
    for col, r in zip(st.columns(max(len(status), 1)), status.itertuples()):
        with col:
            st.metric(r.sending_domain, "Paused" if r.status == "paused" else "Active",
                      delta=f"since {fmt.day(r.status_since)}", delta_color="off", delta_arrow="off",
                      border=True,
                      help=r.pause_reason if r.status == "paused" else None)
            st.caption(f"{data.KILL_SWITCH_DAYS} days: {fmt.count(r.sends_7d)} sends · bounces {fmt.pct(r.bounce_rate_7d)} · complaints "
                       f"{fmt.pct(r.complaint_rate_7d, 3)}")

    daily = data.deliverability_daily(ui.query, f)
    st.altair_chart(_rate_chart(daily, "bounce_rate_7d", "Trailing 7-day bounce rate (✚ paused days)",
                                [(data.MAX_BOUNCE_RATE, f"kill switch {data.MAX_BOUNCE_RATE:.0%}")]), width="stretch")
    st.altair_chart(_rate_chart(daily, "complaint_rate_7d", "Trailing 7-day complaint rate (✚ paused days)",
                                [(data.MAX_COMPLAINT_RATE, f"kill switch {data.MAX_COMPLAINT_RATE:.2%}"),
                                 (data.COMPLAINT_PROVIDER_LIMIT, "providers 0.1%")]),
                    width="stretch")
    st.subheader("Daily")
    st.dataframe(ui.pct_columns(daily, ["bounce_rate_7d", "complaint_rate_7d", "unsubscribe_rate_7d"]),
                 hide_index=True, width="stretch", column_config={
                     c: st.column_config.NumberColumn(c, format="%.2f%%")
                     for c in ["bounce_rate_7d", "complaint_rate_7d", "unsubscribe_rate_7d"]})
