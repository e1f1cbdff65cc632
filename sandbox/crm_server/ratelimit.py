"""HubSpot-style rate limits, per token.

- a rolling 10-second window (``TEN_SECONDLY_ROLLING``, default 100 requests),
- a daily cap (``DAILY``, default 250,000, resetting at midnight UTC),
- a separate per-second limit for search endpoints (``SECONDLY``, default 5); as in
  HubSpot, search requests count against it instead of the 10-second window.

Rejected requests do not consume quota, so a client that honours ``Retry-After``
gets through.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

WINDOW_S = 10.0
SEARCH_WINDOW_S = 1.0


@dataclass
class _Bucket:
    window: deque[float] = field(default_factory=deque)
    search_window: deque[float] = field(default_factory=deque)
    day: str = ""
    day_count: int = 0


@dataclass
class Decision:
    allowed: bool
    headers: dict[str, str]
    policy: str | None = None  # TEN_SECONDLY_ROLLING | SECONDLY | DAILY when not allowed
    retry_after_s: int = 0


class RateLimiter:
    def __init__(self, per_10s: int, daily: int, search_per_second: int,
                 clock=time.monotonic, utcnow=lambda: datetime.now(timezone.utc)) -> None:
        self.per_10s = per_10s
        self.daily = daily
        self.search_per_second = search_per_second
        self._clock = clock
        self._utcnow = utcnow
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, key: str, now: float) -> _Bucket:
        b = self._buckets.setdefault(key, _Bucket())
        while b.window and b.window[0] <= now - WINDOW_S:
            b.window.popleft()
        while b.search_window and b.search_window[0] <= now - SEARCH_WINDOW_S:
            b.search_window.popleft()
        today = self._utcnow().date().isoformat()
        if b.day != today:
            b.day, b.day_count = today, 0
        return b

    def _headers(self, b: _Bucket, search: bool) -> dict[str, str]:
        h = {
            "X-HubSpot-RateLimit-Max": str(self.per_10s),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.per_10s - len(b.window))),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(WINDOW_S * 1000)),
            "X-HubSpot-RateLimit-Daily": str(self.daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily - b.day_count)),
        }
        if search:
            h["X-HubSpot-RateLimit-Secondly"] = str(self.search_per_second)
            h["X-HubSpot-RateLimit-Secondly-Remaining"] = str(max(0, self.search_per_second - len(b.search_window)))
        return h

    def peek(self, key: str, search: bool = False) -> dict[str, str]:
        """Headers describing the current state, without consuming anything."""
        with self._lock:
            return self._headers(self._bucket(key, self._clock()), search)

    def acquire(self, key: str, search: bool = False) -> Decision:
        with self._lock:
            now = self._clock()
            b = self._bucket(key, now)
            if b.day_count >= self.daily:
                tomorrow = (self._utcnow() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
                wait = math.ceil((tomorrow - self._utcnow()).total_seconds())
                return Decision(False, self._headers(b, search), "DAILY", wait)
            window, limit, span, policy = (
                (b.search_window, self.search_per_second, SEARCH_WINDOW_S, "SECONDLY") if search
                else (b.window, self.per_10s, WINDOW_S, "TEN_SECONDLY_ROLLING")
            )
            if len(window) >= limit:
                wait = math.ceil(window[0] + span - now) if window else 1
                return Decision(False, self._headers(b, search), policy, max(1, wait))
            window.append(now)
            b.day_count += 1
            return Decision(True, self._headers(b, search))
