"""The dashboard's password gate (docs/architecture.md): on a loopback address nothing is asked; on any other address (or on
every interface) the app asks for $REVOPS_DASHBOARD_PASSWORD before it renders anything, and shows nothing but a
refusal when that variable is not set. The address is the one the server was started with, however it was started
(`python -m dashboard`, `revops dashboard` or a plain `streamlit run`)."""

from __future__ import annotations

import hmac
import os

import streamlit as st

from dashboard.launch import PASSWORD_ENV
from revops.hubspot import is_loopback

_SESSION_KEY = "_revops_dashboard_authenticated"


def gate() -> None:
    """Return when the reader may see the dashboard; otherwise render the password form (or the refusal) and stop
    the script run."""
    address = st.get_option("server.address") or ""
    if address and is_loopback(address):
        return
    expected = os.environ.get(PASSWORD_ENV)
    if not expected:
        st.error(f"This dashboard is served on {address or 'every interface'} without a password. Set "
                 f"{PASSWORD_ENV} and start it again, or serve it on 127.0.0.1 (`make dashboard`).")
        st.stop()
    if st.session_state.get(_SESSION_KEY):
        return
    with st.form("password"):
        given = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Open the dashboard")
    if submitted and hmac.compare_digest(given.encode(), expected.encode()):
        st.session_state[_SESSION_KEY] = True
        st.rerun()
    if submitted:
        st.error("Wrong password.")
    st.stop()
