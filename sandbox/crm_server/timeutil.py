"""Timestamps the way HubSpot writes them: UTC, millisecond precision, ``...Z``.

Every datetime property is stored in this one canonical form so that SQLite can
compare and sort datetimes as plain strings (and use an index for the
incremental-extraction cursor ``lastmodifieddate >= X``).
"""

from __future__ import annotations

import re
import threading
import time
from datetime import date, datetime, timedelta, timezone

_CANONICAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_EPOCH_MS = re.compile(r"^-?\d{1,15}$")
_DATE_ONLY = re.compile(r"^\d{4}-\d\d-\d\d$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def format_ms(ms: int) -> str:
    """Epoch milliseconds -> ``2026-08-03T10:00:00.000Z``."""
    secs, frac = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:03d}Z"


def parse_instant(value: str) -> int | None:
    """Epoch milliseconds from epoch-ms digits or an ISO-8601 date/datetime; None if unparseable.

    Naive datetimes are taken as UTC (all timestamps in this project are UTC).
    """
    s = str(value).strip()
    if not s:
        return None
    if _EPOCH_MS.match(s):
        return int(s)
    try:
        if _DATE_ONLY.match(s):
            d = date.fromisoformat(s)
            dt = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        else:
            dt = datetime.fromisoformat(s.replace("z", "Z"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return (dt - _EPOCH) // timedelta(milliseconds=1)  # exact integer math, no float rounding


def canonical_datetime(value: str) -> str | None:
    """The canonical stored form of a datetime value, or None if it is not a datetime."""
    if _CANONICAL.match(value):  # fast path: seeds and our own writes are already canonical
        return value
    ms = parse_instant(value)
    return None if ms is None else format_ms(ms)


def canonical_date(value: str) -> str | None:
    """``YYYY-MM-DD`` for HubSpot ``date`` properties (which must be midnight UTC), or None."""
    ms = parse_instant(value)
    if ms is None or ms % 86_400_000 != 0:
        return None
    return format_ms(ms)[:10]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class MonotonicClock:
    """Write timestamps that never go backwards and never repeat.

    Two reasons: clients extract incrementally with ``lastmodifieddate >= cursor``,
    so a write must always land at or after every timestamp they have already seen;
    and a seeded world may be dated ahead of the wall clock (a simulated as-of date),
    so the clock starts after the newest timestamp already in the database.
    """

    def __init__(self, floor_ms: int = 0) -> None:
        self._last = floor_ms
        self._lock = threading.Lock()

    def observe(self, ms: int) -> None:
        with self._lock:
            self._last = max(self._last, ms)

    def now_ms(self) -> int:
        with self._lock:
            self._last = max(now_ms(), self._last + 1)
            return self._last

    def now_iso(self) -> str:
        return format_ms(self.now_ms())
