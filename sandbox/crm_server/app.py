"""The request pipeline around the endpoints: health, latency, faults, auth, rate limits, errors.

Order matters and is deliberate:
1. ``/health`` answers before anything else (no auth, no faults): it is for readiness checks.
2. Added latency, then the fault plan is drawn: drops, 5xx and spurious 429s happen
   before authentication and before the database is touched, like a failing gateway.
3. Authentication (401), then the real rate limits (429; rejected requests cost nothing).
4. The endpoint runs (a write is one transaction). Only the opt-in ``drop_after_commit``
   fault acts after it, by discarding the response of a committed write.
"""

from __future__ import annotations

import hmac
import logging
import time
import traceback
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import errors
from .api import CrmApi, Request, Response
from .config import ServerConfig
from .errors import ApiError
from .faults import FaultInjector
from .ratelimit import RateLimiter
from .store import Store
from .timeutil import MonotonicClock

log = logging.getLogger(__name__)

_RATE_LIMIT_KEY = "token"  # one valid token, one bucket; the token itself is never used as a key or logged


class CrmApp:
    def __init__(self, config: ServerConfig, store: Store, clock: MonotonicClock, token: str) -> None:
        self.api = CrmApi(store, clock, config.search_result_cap)
        self.limiter = RateLimiter(config.rate_limit_10s, config.daily_limit, config.search_per_second)
        self.faults = FaultInjector(config.fault_5xx_rate, config.fault_429_rate, config.drop_rate,
                                    config.drop_after_commit_rate, config.latency_ms, config.fault_seed)
        self._token = token.encode()

    def _authenticate(self, authorization: str | None) -> None:
        if not authorization:
            raise errors.missing_auth()
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise errors.missing_auth()
        if not hmac.compare_digest(presented.strip().encode(), self._token):  # constant time
            raise errors.invalid_auth()

    def handle(self, method: str, target: str, headers: Any, body: bytes, base_url: str) -> Response | None:
        """The response to one HTTP request, or None when the connection must be dropped unanswered."""
        url = urlsplit(target)
        path = url.path.rstrip("/") or "/"
        if path == "/health" and method in ("GET", "HEAD"):
            return Response(200, {"status": "ok"})

        correlation_id = errors.new_correlation_id()
        kind = ""
        method_error: ApiError | None = None
        try:
            matched = self.api.match(method, path)
        except ApiError as e:  # 405: answered after authentication, like any other error
            matched, method_error = None, e
        if matched:
            kind = matched[0].kind
        is_search = kind == "search"
        rate_headers = self.limiter.peek(_RATE_LIMIT_KEY, is_search)  # every response carries them

        if self.faults.latency_s:
            time.sleep(self.faults.latency_s)
        plan = self.faults.plan(is_write=kind == "write")
        if plan.drop:
            return None
        try:
            if plan.status_5xx:
                raise errors.server_error(plan.status_5xx)
            self._authenticate(headers.get("Authorization"))
            if plan.spurious_429:
                rate_headers["X-HubSpot-RateLimit-Remaining"] = "0"
                raise errors.rate_limited("SECONDLY" if is_search else "TEN_SECONDLY_ROLLING", 1)
            decision = self.limiter.acquire(_RATE_LIMIT_KEY, is_search)
            rate_headers = decision.headers
            if not decision.allowed:
                raise errors.rate_limited(decision.policy or "TEN_SECONDLY_ROLLING", decision.retry_after_s)
            if method_error is not None:
                raise method_error
            if matched is None:
                raise errors.not_found(f"No endpoint {method} {path}")
            route, params = matched
            request = Request(method, path, parse_qs(url.query, keep_blank_values=True), body, base_url)
            response = route.handler(request, **params)
        except ApiError as e:
            response = Response(e.status, e.body(correlation_id), dict(e.headers))
        except Exception:  # a bug: answer like HubSpot's 500, keep the trace in the server log only
            log.error("unhandled error in %s %s\n%s", method, path, traceback.format_exc())
            response = Response(500, errors.server_error(500).body(correlation_id))
        if plan.drop_after_commit and response.status < 300:
            return None
        response.headers.update(rate_headers)
        response.headers["X-HubSpot-Correlation-Id"] = correlation_id
        return response
