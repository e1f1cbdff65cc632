"""Numbers for people: the one place the dashboard (and its tests) turn mart values into text."""

from __future__ import annotations

import math
from datetime import date, datetime

NONE = "—"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def count(x) -> str:
    return NONE if _missing(x) else f"{int(round(x)):,}"


def pct(x, digits: int | None = None) -> str:
    """A share (0-1) as a percentage: one decimal, two below 1% (complaint rates live at 0.08%)."""
    if _missing(x):
        return NONE
    if digits is None:
        digits = 2 if 0 < abs(x) < 0.01 else 1
    return f"{x * 100:.{digits}f}%"


def minutes(m) -> str:
    """A duration given in minutes: minutes under an hour, hours under two days, else days."""
    if _missing(m):
        return NONE
    if abs(m) < 60:
        return f"{m:.1f} min"
    if abs(m) < 48 * 60:
        return f"{m / 60:.1f} h"
    return f"{m / 1440:.1f} d"


def money(x) -> str:
    if _missing(x):
        return NONE
    return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"


def rate_per_10k(x) -> str:
    return NONE if _missing(x) else f"{x:,.1f}"


def day(d) -> str:
    if _missing(d):
        return NONE
    if hasattr(d, "to_pydatetime"):  # pandas Timestamp
        d = d.to_pydatetime()
        if d.hour == d.minute == d.second == 0:
            d = d.date()
    if isinstance(d, datetime):
        return d.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(d, date):
        return d.isoformat()
    return str(d)


def delta(today, yesterday, kind: str) -> str | None:
    """The change since yesterday as the metric's delta text, in the metric's own unit (points for shares)."""
    if _missing(today) or _missing(yesterday):
        return None
    d = today - yesterday
    if kind == "pct":
        return f"{d * 100:+.2f} pts" if max(abs(today), abs(yesterday)) < 0.01 else f"{d * 100:+.1f} pts"
    if kind == "minutes":
        return ("+" if d >= 0 else "-") + minutes(abs(d))
    if kind == "money":
        return ("+" if d >= 0 else "-") + money(abs(d))
    if kind == "per_10k":
        return f"{d:+,.1f}"
    return f"{d:+,.0f}"


FORMATS = {"count": count, "pct": pct, "minutes": minutes, "money": money, "per_10k": rate_per_10k}
