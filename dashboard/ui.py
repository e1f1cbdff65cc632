"""What every page shares: the snapshot it reads, the cached query, the filters of the sidebar, and metrics."""

from __future__ import annotations

from datetime import date

import altair as alt
import duckdb
import pandas as pd
import streamlit as st

from dashboard import data, fmt
from revops import snapshot

ALL = "(all)"


@st.cache_resource(max_entries=4, show_spinner=False)
def _connect(path: str) -> duckdb.DuckDBPyConnection:
    # read-only: the snapshot is never written after its publish, and a read-only open takes no write lock
    return duckdb.connect(path, read_only=True)


@st.cache_data(max_entries=1024, show_spinner=False)
def _run(path: str, sql: str, params: tuple) -> pd.DataFrame:
    return _connect(path).cursor().execute(sql, list(params)).df()


def current_snapshot() -> snapshot.Snapshot:
    """The snapshot this run of the page reads: the newest published one, fixed for the whole run."""
    found = snapshot.open_current()
    if found is None:
        st.title("RevOps warehouse")
        st.warning(f"No snapshot of the marts in {snapshot.snapshot_dir()} yet. Run `make demo` (or `revops build`), "
                   "which publishes one after the build; this page picks it up by itself.")
        _watch_for_snapshot(None)
        st.stop()
    snap, con = found
    con.close()
    return snap


def query(sql: str, params: list | None = None) -> pd.DataFrame:
    return _run(str(st.session_state["snapshot"].path), sql, tuple(params or []))


@st.fragment(run_every=10)
def _watch_for_snapshot(current: str | None) -> None:
    """Every 10 s: a newer snapshot than the one shown reloads the page (an open dashboard follows the pipeline)."""
    newest = snapshot.current_path()
    if newest is not None and newest.name != current:
        st.rerun(scope="app")


def sidebar(snap: snapshot.Snapshot) -> data.Filters:
    """The filters every page shares (bound to the URL: a filtered view is a link), and what data is shown."""
    b = data.bounds(query)
    st.session_state["bounds"] = b
    with st.sidebar:
        st.header("Filters")
        default = (b.first_day, b.last_day)
        current = tuple(st.session_state.get("dates", ()))
        # a range the reader never changed follows the data (after a run adds a day, the page shows that day); one
        # outside the data's days starts over
        if (not current or current == st.session_state.get("dates_default")
                or any(not b.first_day <= d <= b.last_day for d in current)):
            st.session_state["dates"] = default
        st.session_state["dates_default"] = default
        picked = st.date_input("Date range (UTC days)", min_value=b.first_day, max_value=b.last_day, key="dates")
        start, end = (picked[0], picked[-1]) if isinstance(picked, (tuple, list)) and picked else (b.first_day,
                                                                                                   b.last_day)
        names = dict(zip(b.owners["owner_id"], b.owners["owner_name"]))
        owner = st.selectbox("Owner", [ALL, *names], format_func=lambda o: names.get(o, o), key="owner",
                             bind="query-params")
        segment = st.selectbox("Segment", [ALL, *b.segments], key="segment", bind="query-params")
        st.divider()
        st.caption(f"Data through **{b.last_day}** (the build's as-of day). Snapshot published "
                   f"{fmt.day(pd.Timestamp(snap.published_at).tz_convert('UTC').to_pydatetime().replace(tzinfo=None))}"
                   f" · `{snap.name}`")
        _watch_for_snapshot(snap.name)
    return data.Filters(start, end, None if owner == ALL else owner, None if segment == ALL else segment)


def filters() -> data.Filters:
    return st.session_state["filters"]


def bounds() -> data.Bounds:
    return st.session_state["bounds"]


def applies(owner: bool, segment: bool, dates: bool = True, note: str = "") -> None:
    """Say which of the shared filters this page applies, so a number is never read as filtered when it isn't."""
    f = filters()
    used = [n for n, on in (("date range", dates), ("owner", owner), ("segment", segment)) if on]
    unused = [n for n, on in (("date range", dates), ("owner", owner), ("segment", segment)) if not on]
    active = []
    if dates:
        active.append(f"{f.start} – {f.end}")
    if owner and f.owner_id:
        active.append(f"owner {owner_name(f.owner_id)}")
    if segment and f.segment:
        active.append(f"segment {f.segment}")
    text = f"Filters applied: {', '.join(used) or 'none'} ({'; '.join(active) or 'all'})."
    if unused:
        text += f" Not applicable here: {', '.join(unused)}."
    st.caption(text + (" " + note if note else ""))


def owner_name(owner_id: str | None) -> str:
    o = bounds().owners
    hit = o.loc[o["owner_id"] == owner_id, "owner_name"]
    return hit.iloc[0] if len(hit) else str(owner_id)


def metric(label: str, value, kind: str, *, delta: str | None = None, better_up: bool | None = True,
           help: str | None = None) -> None:
    """better_up: a rise is good (True), bad (False) or neither (None: the delta is not coloured)."""
    st.metric(label, fmt.FORMATS[kind](value) if kind in fmt.FORMATS else str(value), delta=delta,
              delta_color="off" if better_up is None else "normal" if better_up else "inverse", help=help,
              border=True)


def metrics_row(items: list[tuple]) -> None:
    """Metrics, at most four to a row (more truncates a duration): (label, value, kind[, help])."""
    for start in range(0, len(items), 4):
        for col, item in zip(st.columns(4), items[start:start + 4]):
            with col:
                metric(item[0], item[1], item[2], help=item[3] if len(item) > 3 else None)


def time_x(field: str, title: str | None = None, fmt: str = "%b %d") -> alt.X:
    """A time axis in UTC: the marts' days are UTC days, and a browser's own zone would shift them."""
    return alt.X(f"{field}:T", title=title, scale=alt.Scale(type="utc"), axis=alt.Axis(format=fmt))


def time_tip(field: str, unit: str = "utcyearmonthdatehoursminutes") -> alt.Tooltip:
    return alt.Tooltip(f"{field}:T", timeUnit=unit, title=f"{field} (UTC)")


def line_with_target(df: pd.DataFrame, x: str, y: str, title: str, y_format: str, targets: list[tuple[float, str]],
                     color: str | None = None, height: int = 220, x_format: str = "%b %d") -> alt.Chart:
    """A trend with the playbook's target drawn in as a dashed rule."""
    enc = {"x": time_x(x, fmt=x_format), "y": alt.Y(f"{y}:Q", title=None, axis=alt.Axis(format=y_format)),
           "tooltip": [time_tip(x), alt.Tooltip(f"{y}:Q", format=y_format)]}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
        enc["tooltip"].append(alt.Tooltip(f"{color}:N"))
    chart = alt.Chart(df).mark_line(point=len(df) < 40).encode(**enc)
    for value, label in targets:
        rule = pd.DataFrame({"target": [value], "label": [label]})
        chart += alt.Chart(rule).mark_rule(strokeDash=[6, 4], color="#d62728").encode(
            y="target:Q", tooltip=[alt.Tooltip("label:N", title="target")])
        chart += alt.Chart(rule).mark_text(align="left", dx=4, dy=-6, color="#d62728").encode(
            y="target:Q", text="label:N", x=alt.value(0))
    return chart.properties(title=title, height=height)


def pct_columns(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Shares as percentages for st.dataframe (its number formats are printf-like)."""
    out = df.copy()
    for c in cols:
        out[c] = out[c] * 100
    return out


def today() -> date:
    return bounds().last_day
