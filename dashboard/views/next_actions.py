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

    work = data.owner_workload(ui.query, f)
    st.subheader("A day's work against capacity")
    if work.empty:
        st.info("No task actions (calls, emails, meeting prep, enrichment, reviews) are due.")
    else:
        today_work = work[work["is_owner_today"]]
        st.caption("Each owner's task actions due on their today (their territory's local date) against their "
                   "capacity (seeds/owner_capacity.csv): hand raises first and never deferred, the rest moved to "
                   "the next working days when the day is full.")
        left, right = st.columns(2)
        with left:
            bars = alt.Chart(today_work).mark_bar().encode(
                y=alt.Y("owner:N", title=None, sort="-x"), x=alt.X("actions_due:Q", title="due today"),
                tooltip=["owner", "actions_due", "capacity", "hand_raises", "handed_over_here"])
            ticks = alt.Chart(today_work).mark_tick(color="black", thickness=2).encode(
                y=alt.Y("owner:N", sort="-x"), x="capacity:Q")
            st.altair_chart((bars + ticks).properties(title="Due today per owner (tick: capacity)",
                                                      height=max(160, 18 * len(today_work))), width="stretch")
        with right:
            backlog = work.groupby("due_date", as_index=False)[["actions_due", "moved_here"]].sum()
            st.altair_chart(alt.Chart(backlog).mark_bar().encode(
                x=alt.X("due_date:T", title="due"), y=alt.Y("actions_due:Q", title="task actions"),
                tooltip=["due_date", "actions_due", "moved_here"],
            ).properties(title="Backlog by day (moved_here: pushed from a full day)"), width="stretch")

    tasks = data.task_status(ui.query, f)
    left, right = st.columns(2)
    with left:
        st.subheader("CRM tasks by status")
        if tasks.empty:
            st.info("No CRM tasks yet: `revops sync` creates one per call, email, meeting prep, enrichment and "
                    "review.")
        else:
            st.caption("open: the warehouse still wants it; completed: the sync completed it when the next action "
                       "moved on; handed_over: a rep completed, edited or deleted it (never written again).")
            st.dataframe(tasks.pivot_table(index="owner", columns="state", values="tasks", aggfunc="sum",
                                           fill_value=0), width="stretch")
    with right:
        st.subheader("Latest alerts")
        alerts = data.latest_alerts(ui.query)
        if alerts.empty:
            st.info("No alerts: a paused sending domain, a hand raise past its SLA, new dead letters or a failed run "
                    "would show here (and in Slack when REVOPS_ALERT_WEBHOOK_URL is set).")
        else:
            st.dataframe(alerts, hide_index=True, width="stretch",
                         column_config={"alert": st.column_config.TextColumn("alert", width="large")})

    due = data.actions_due(ui.query, f, today)
    st.subheader("Due today, per owner")
    per_owner = due.groupby("owner").size().rename("due today").reset_index().sort_values("due today",
                                                                                           ascending=False)
    st.dataframe(per_owner, hide_index=True, width="stretch")
    st.dataframe(due.drop(columns=["person_id"]), hide_index=True, width="stretch", height=480, column_config={
        "lead_score": st.column_config.NumberColumn("score", format="%.0f"),
        "evidence_note": st.column_config.TextColumn("evidence", width="large"),
        "next_action": st.column_config.TextColumn("next action", width="large")})
