"""Crash points for the kill -9 tests of landing and the sync: the process kills itself (SIGKILL, no cleanup, no
rollback) inside the N-th unit of work's open transaction, where N comes from the environment. Off unless the
variable is set. The one place fault injection lives in the project's own code (the sandbox CRM has its own)."""

from __future__ import annotations

import os
import signal
from collections import Counter

_units_started: Counter[str] = Counter()


def crash_point(env_var: str) -> None:
    """Count one more unit for `env_var` (e.g. REVOPS_FAULT_KILL_AT_FILE) and die if it is the N-th."""
    _units_started[env_var] += 1
    if os.environ.get(env_var) == str(_units_started[env_var]):
        os.kill(os.getpid(), signal.SIGKILL)
