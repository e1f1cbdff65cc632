"""Fault injection: what a real CRM API does to clients on a bad day.

Every request (except ``/health``) draws its fate from one seeded RNG *before* the
request touches the database, so a fault never half-applies a write and a run with
the same seed and the same request order sees the same faults:

- ``drop``: the connection is closed without a response (the client sees a
  connection error); nothing was written;
- ``status_5xx``: 502/503/504 with a JSON body; nothing was written;
- ``spurious_429``: a 429 with ``Retry-After`` although the quota is not used up
  (HubSpot's limits are shared with other apps on the portal); nothing was written;
- ``drop_after_commit`` (opt-in, writes only): the write is applied and committed,
  then the connection is closed without a response. Real clients must survive this
  too: they cannot tell it from ``drop`` and must retry idempotently.

Latency is added to every request.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

_5XX_CODES = (502, 503, 504)


@dataclass(frozen=True)
class FaultPlan:
    drop: bool = False
    status_5xx: int | None = None
    spurious_429: bool = False
    drop_after_commit: bool = False


NO_FAULT = FaultPlan()


class FaultInjector:
    def __init__(self, rate_5xx: float = 0.0, rate_429: float = 0.0, drop_rate: float = 0.0,
                 drop_after_commit_rate: float = 0.0, latency_ms: int = 0, seed: int = 0) -> None:
        for name, rate in (("fault_5xx_rate", rate_5xx), ("fault_429_rate", rate_429), ("drop_rate", drop_rate),
                           ("drop_after_commit_rate", drop_after_commit_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        self.rate_5xx = rate_5xx
        self.rate_429 = rate_429
        self.drop_rate = drop_rate
        self.drop_after_commit_rate = drop_after_commit_rate
        self.latency_s = max(0, latency_ms) / 1000.0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return any((self.rate_5xx, self.rate_429, self.drop_rate, self.drop_after_commit_rate))

    def plan(self, is_write: bool) -> FaultPlan:
        if not self.active:
            return NO_FAULT
        with self._lock:
            # Always draw the same number of values so one request's kind never shifts the
            # sequence seen by the next: reproducible given the same request order.
            r_drop, r_5xx, r_429, r_dac, r_code = (self._rng.random() for _ in range(5))
        if r_drop < self.drop_rate:
            return FaultPlan(drop=True)
        if r_5xx < self.rate_5xx:
            return FaultPlan(status_5xx=_5XX_CODES[int(r_code * len(_5XX_CODES))])
        if r_429 < self.rate_429:
            return FaultPlan(spurious_429=True)
        if is_write and r_dac < self.drop_after_commit_rate:
            return FaultPlan(drop_after_commit=True)
        return NO_FAULT
