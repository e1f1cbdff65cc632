"""Next actions: the stage map (one row per person) — counts by stage and route, and per owner the actions due
today with the evidence behind each."""

import altair as alt
import streamlit as st

from dashboard import data, fmt, ui


def render() -> None:
    f = ui.filters()
    today = ui.today()
    st.title("Next actions")
    ui.applies(owner=True, segment=True, dates=False,
               note=f"The stage map is as of {fmt.day(today)}; “due today” = next action date on or before it "
                    "(waiting and no-action rows left out).")
    h = data.actions_headline(ui.query, f, today)
    ui.metrics_row([
        ("Persons", h["persons"], "count"),
        ("Actions due today", h["due_today"], "count"),
        ("Suppressed", h["suppressed"], "count", "Do-not-contact, legal hold, bounced, unsubscribed, frequency cap, "
         "paused sending domain"),
        ("Exceptions to review", h["exceptions"], "count", "Routes a person should look at: low identity confidence"),
    ])
    counts = data.stage_route_counts(ui.query, f)
    left, right = st.columns([3, 2])
    with left:
        st.altair_chart(alt.Chart(counts).mark_bar().encode(
            y=alt.Y("stage:N", title=None, sort="-x"), x=alt.X("sum(persons):Q", title="persons"),
            color=alt.Color("route:N", title="route"), tooltip=["stage", "route", "persons"],
        ).properties(title="Persons by stage and route", height=320), width="stretch")
    with right:
        pivot = counts.pivot_table(index="stage", columns="route", values="persons", aggfunc="sum",
                                   fill_value=0, margins=True, margins_name="total")
        st.dataframe(pivot, width="stretch")

    due = data.actions_due(ui.query, f, today)
    st.subheader("Due today, per owner")
    per_owner = due.groupby("owner").size().rename("due today").reset_index().sort_values("due today",
                                                                                           ascending=False)
    st.dataframe(per_owner, hide_index=True, width="stretch")
    st.dataframe(due.drop(columns=["person_id"]), hide_index=True, width="stretch", height=480, column_config={
        "lead_score": st.column_config.NumberColumn("score", format="%.0f"),
        "evidence_note": st.column_config.TextColumn("evidence", width="large"),
        "next_action": st.column_config.TextColumn("next action", width="large")})
