"""Signal-to-revenue: won revenue shared among the signals before each deal (docs/kpis.md) under five attribution
models — the model is a control on one page — by month, the signals' conversion, and one deal's signals."""

import altair as alt
import streamlit as st

from dashboard import data, fmt, ui


def render() -> None:
    f = ui.filters()
    st.title("Signal-to-revenue")
    ui.applies(owner=False, segment=False, note="Dates select deals by close date. Signals count in the 90 days "
               "before a deal's creation.")
    model = st.radio("Attribution model", data.ATTRIBUTION_MODELS, format_func=data.MODEL_LABELS.get,
                     horizontal=True, key="model", bind="query-params")
    h = data.attribution_headline(ui.query, f, model)
    ui.metrics_row([
        ("Won deals", h["won_deals"], "count"),
        ("Won revenue", h["won_revenue"], "money"),
        ("Attributed revenue", h["attributed_revenue"], "money", f"{data.MODEL_LABELS[model]} model"),
        ("Unattributed revenue", h["unattributed_revenue"], "money",
         f"{fmt.count(h['unattributed_deals'])} won deals without a signal in the window: reported, never dropped"),
        ("Top signal type revenue", h["top_signal_revenue"], "money", h["top_signal_type"]),
    ])
    st.caption(f"Top signal type under {data.MODEL_LABELS[model]}: **{h['top_signal_type'] or fmt.NONE}**.")

    by_type = data.attribution_by_signal_type(ui.query, f)
    # the unattributed revenue is a metric above: as a bar it would dwarf every signal type
    signals_only = by_type[by_type["signal_type"] != "unattributed"]
    long = signals_only.melt(id_vars="signal_type", var_name="model", value_name="revenue").fillna({"revenue": 0})
    long["model"] = long["model"].map(data.MODEL_LABELS)
    st.altair_chart(alt.Chart(long).mark_bar().encode(
        y=alt.Y("signal_type:N", title=None, sort=signals_only["signal_type"].tolist()),
        x=alt.X("revenue:Q", title="attributed revenue", axis=alt.Axis(format="$,.0f")),
        yOffset=alt.YOffset("model:N", sort=[data.MODEL_LABELS[m] for m in data.ATTRIBUTION_MODELS]),
        color=alt.Color("model:N", sort=[data.MODEL_LABELS[m] for m in data.ATTRIBUTION_MODELS], title="model"),
        opacity=alt.condition(alt.datum.model == data.MODEL_LABELS[model], alt.value(1.0), alt.value(0.35)),
        tooltip=["signal_type", "model", alt.Tooltip("revenue:Q", format="$,.0f")],
    ).properties(title="Attributed revenue by signal type — the five models side by side (selected model solid)",
                 height=max(300, 18 * 5 * len(signals_only))), width="stretch")
    st.dataframe(by_type, hide_index=True, width="stretch", column_config={
        m: st.column_config.NumberColumn(data.MODEL_LABELS[m], format="dollar") for m in data.ATTRIBUTION_MODELS})

    monthly = data.attribution_monthly(ui.query, f, model)
    st.altair_chart(alt.Chart(monthly).mark_bar().encode(
        x=alt.X("utcyearmonth(close_month):O", title="close month"),
        y=alt.Y("attributed_revenue:Q", title="attributed revenue", axis=alt.Axis(format="$,.0f")),
        color=alt.Color("signal_type:N", title="signal type"),
        tooltip=["signal_type", alt.Tooltip("attributed_revenue:Q", format="$,.0f"),
                 alt.Tooltip("attributed_deals:Q", format=".2f")],
    ).properties(title=f"By month — {data.MODEL_LABELS[model]}", height=280), width="stretch")

    st.subheader("Signal-to-meeting and signal-to-opportunity")
    st.caption("All signals of the warehouse: share followed by a meeting booked for the account within 14 days, and "
               "by a deal created within 30 days.")
    conv = data.signal_conversion(ui.query)
    st.dataframe(ui.pct_columns(conv, ["signal_to_meeting_rate", "signal_to_opportunity_rate"]), hide_index=True,
                 width="stretch", column_config={
                     "signal_to_meeting_rate": st.column_config.NumberColumn("→ meeting", format="%.1f%%"),
                     "signal_to_opportunity_rate": st.column_config.NumberColumn("→ opportunity", format="%.1f%%")})

    st.subheader("One deal's signals and weights")
    deals = data.won_deals(ui.query, f)
    if deals.empty:
        st.caption("No won deal closed in the date range.")
        return
    labels = {r.deal_id: f"deal {r.deal_id} · {fmt.money(r.amount)} · closed {r.closed} · {r.signals} signals"
              for r in deals.itertuples()}
    deal_id = st.selectbox("Deal", list(labels), format_func=labels.get, key="deal")
    signals = data.deal_signals(ui.query, deal_id)
    if signals.empty:
        st.caption("No signal in the 90 days before this deal was created: its revenue is unattributed.")
    else:
        amount = float(deals.loc[deals["deal_id"] == deal_id, "amount"].iloc[0])
        shown = signals.copy()
        for m in data.ATTRIBUTION_MODELS:
            shown[f"{m} $"] = shown[m] * amount
        st.dataframe(shown, hide_index=True, width="stretch", column_config={
            **{m: st.column_config.NumberColumn(data.MODEL_LABELS[m], format="%.3f") for m in data.ATTRIBUTION_MODELS},
            **{f"{m} $": st.column_config.NumberColumn(f"{data.MODEL_LABELS[m]} $", format="dollar")
               for m in data.ATTRIBUTION_MODELS},
            "signal_at": st.column_config.DatetimeColumn("signal (UTC)", format="YYYY-MM-DD HH:mm")})
