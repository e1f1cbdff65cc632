"""Sync health: every reverse-ETL run into the CRM (records sent, confirmed, rejected, dead-lettered, the success
rate against the 99.5% target) and the open dead letters with their errors."""

import streamlit as st

from dashboard import data, ui


def render() -> None:
    st.title("Sync health")
    st.caption("Syncs run in wall-clock time, after the data's last day: the date range does not select them; owner "
               "and segment do not apply.")
    h = data.sync_headline(ui.query)
    ui.metrics_row([
        ("Sync runs", h["runs"], "count"),
        ("Records sent", h["sent"], "count"),
        ("Confirmed", h["confirmed"], "count"),
        ("Rejected before sending", h["rejected"], "count", "Failed the sync model's checks: never sent"),
        ("Dead-lettered", h["dead_lettered"], "count"),
        ("Success rate (last run)", h["success_rate"], "pct", "Confirmed / sent of the latest sync that sent "
         f"something (mart_sync_health); target {data.TARGETS['sync_success_rate'][0]}"),
    ])
    runs = data.sync_runs(ui.query)
    if runs.empty:
        st.info("No sync has run yet: `revops sync` (or the crm_sync asset) writes the scores and next actions.")
    else:
        st.subheader("Runs")
        st.dataframe(ui.pct_columns(runs, ["success_rate"]), hide_index=True, width="stretch", column_config={
            "success_rate": st.column_config.NumberColumn("success rate", format="%.2f%%"),
            "started_at": st.column_config.DatetimeColumn("started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "finished_at": st.column_config.DatetimeColumn("finished (UTC)", format="YYYY-MM-DD HH:mm:ss")})
        ok = runs[(~runs["dry_run"]) & (runs["sent"] > 0)]
        if len(ok):
            st.altair_chart(ui.line_with_target(ok, "started_at", "success_rate", "Success rate per run", ".2%",
                                                [(data.TARGETS["sync_success_rate"][1],
                                                  f"target {data.TARGETS['sync_success_rate'][0]}")],
                                                x_format="%m-%d %H:%M"), width="stretch")
    dead = data.dead_letters(ui.query)
    st.subheader(f"Dead letters ({len(dead):,} open)")
    if dead.empty:
        st.success("No open dead letters.")
    else:
        st.dataframe(dead, hide_index=True, width="stretch", column_config={
            "error": st.column_config.TextColumn("error", width="large")})
