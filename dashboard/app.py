"""The RevOps dashboard: `python -m dashboard` (`make dashboard`; dashboard/launch.py binds 127.0.0.1). It reads the
newest read-only snapshot of the marts (revops/snapshot.py), never the warehouse, so it neither blocks nor is broken
by a run. Served on any other address it asks for $REVOPS_DASHBOARD_PASSWORD first (dashboard/auth.py)."""

import streamlit as st

from dashboard import auth, ui
from dashboard.views import deliverability, double_touch, next_actions, overview, signal_revenue, speed_to_lead, \
    sync_health

st.set_page_config(page_title="RevOps warehouse", page_icon="📈", layout="wide")
auth.gate()  # before anything is read or rendered

snap = ui.current_snapshot()
st.session_state["snapshot"] = snap
st.session_state["filters"] = ui.sidebar(snap)

page = st.navigation([
    st.Page(overview.render, title="Overview", url_path="overview", default=True),
    st.Page(speed_to_lead.render, title="Speed-to-lead", url_path="speed-to-lead"),
    st.Page(double_touch.render, title="Double touch", url_path="double-touch"),
    st.Page(signal_revenue.render, title="Signal-to-revenue", url_path="signal-to-revenue"),
    st.Page(deliverability.render, title="Deliverability", url_path="deliverability"),
    st.Page(next_actions.render, title="Next actions", url_path="next-actions"),
    st.Page(sync_health.render, title="Sync health", url_path="sync-health"),
])
page.run()
