"""Double touch: a person touched by two different emitters within a day (var double_touch_window_hours; docs/kpis.md),
over time, by the pair of emitter kinds, and the campaigns and sequences that collide most. Every number is a row
of mart_double_touch_cube or mart_double_touch_emitter_pairs."""

import altair as alt
import streamlit as st

from dashboard import data, fmt, ui

KIND_LABELS = {"all": "All double touches", "marketing×sales": "Marketing × sales", "sales×sales": "Sales × sales",
               "marketing×marketing": "Marketing × marketing"}


def render() -> None:
    f = ui.filters()
    st.title("Double touch")
    w = data.double_touch_weeks(ui.query, f)
    ui.applies(owner=True, segment=True, note=f"Touches count by the ISO week they were made in: {w.text()} (the "
               "weeks the date range touches). Owner and segment select persons: the owner of their next action, "
               "the segment of their current account.")
    rates = data.double_touch_rates(ui.query, f).set_index("pair_kind")
    total = rates.loc["all"]
    ui.metrics_row([
        ("Touches", total["touches"], "count", "Emails delivered and outbound calls"),
        ("Double touches", total["incidents"], "count"),
        ("Double touches per 10k touches", total["incidents_per_10k_touches"], "per_10k"),
        ("Touched persons with a double touch", total["share_of_touched_persons"], "pct"),
    ])
    ui.metrics_row([(f"{KIND_LABELS[k]} per 10k", rates.loc[k, "incidents_per_10k_touches"], "per_10k",
                     f"{fmt.count(rates.loc[k, 'incidents'])} incidents; t2 and its latest t1 of another emitter")
                    for k in ["marketing×sales", "sales×sales", "marketing×marketing"]])

    left, right = st.columns([2, 1])
    with left:
        weekly = data.double_touch_weekly(ui.query, f)
        st.altair_chart(alt.Chart(weekly).mark_line(point=True).encode(
            x=ui.time_x("week", "week"), y=alt.Y("incidents_per_10k_touches:Q", title="per 10k touches"),
            color=alt.Color("pair_kind:N", title=None),
            tooltip=[ui.time_tip("week", "utcyearmonthdate"), "pair_kind:N", "incidents:Q",
                     alt.Tooltip("incidents_per_10k_touches:Q", format=".1f")]).properties(
            title="Double touches per 10k touches, by week", height=300), width="stretch")
    with right:
        split = rates.drop(index="all").reset_index()
        st.altair_chart(alt.Chart(split).mark_bar().encode(
            y=alt.Y("pair_kind:N", title=None, sort="-x"), x=alt.X("incidents:Q", title="incidents"),
            tooltip=["pair_kind", "incidents"]).properties(title="Emitter-pair split", height=300), width="stretch")

    st.subheader("Campaigns and sequences that collide most")
    st.caption("Emitters: marketing:<campaign>, sales:<sequence>, sales:call:<owner>. t2 is the double touch, t1 its "
               f"latest earlier touch from another emitter within {data.DOUBLE_TOUCH_HOURS} h.")
    st.dataframe(data.colliding_emitters(ui.query, f), hide_index=True, width="stretch", column_config={
        "median_gap_minutes": st.column_config.NumberColumn("median gap (min)", format="%.0f")})
