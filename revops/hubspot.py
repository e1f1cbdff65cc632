"""A small HubSpot CRM v3 client: typed errors, one retry policy, Retry-After honoured.

Used by CRM extraction (landing) and, later, the reverse ETL. Retriable: 429, 5xx, timeouts and dropped
connections; fatal: any other 4xx (the request itself is wrong, resending cannot help).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

# The sandbox CRM of `make demo` by default (DESIGN 3.1); a real portal: HUBSPOT_BASE_URL=https://api.hubapi.com
DEFAULT_BASE_URL = "http://127.0.0.1:8765"


class HubSpotError(Exception):
    def __init__(self, message: str, status: int | None = None, body: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = body or {}


class RetriableError(HubSpotError):
    """Worth sending again later: rate limited, server error, timeout, connection lost."""

    def __init__(self, message: str, status: int | None = None, body: dict | None = None,
                 retry_after: float | None = None):
        super().__init__(message, status, body)
        self.retry_after = retry_after


class FatalError(HubSpotError):
    """The request is wrong (4xx other than 429): sending it again gives the same answer."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Retry-After when the server gives one; else capped exponential backoff with full jitter
        (attempt 1 waits up to 0.5 s, attempt 7 up to 30 s)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay_s * 4)
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


def classify(resp: httpx.Response) -> HubSpotError | None:
    if resp.status_code < 400:
        return None
    try:
        body = resp.json()
    except ValueError:
        body = {"message": resp.text[:500]}
    msg = f"{resp.request.method} {resp.request.url.path}: HTTP {resp.status_code}: {body.get('message', '')}"
    if resp.status_code == 429:
        ra = resp.headers.get("Retry-After")
        return RetriableError(msg, resp.status_code, body, float(ra) if ra else None)
    if resp.status_code >= 500:
        return RetriableError(msg, resp.status_code, body)
    return FatalError(msg, resp.status_code, body)


class HubSpotClient:
    def __init__(self, base_url: str | None = None, token: str | None = None, policy: RetryPolicy | None = None,
                 timeout_s: float = 30.0, sleep: Callable[[float], None] = time.sleep, seed: int | None = None):
        self.base_url = (base_url or os.environ.get("HUBSPOT_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        token = token or os.environ.get("HUBSPOT_TOKEN")
        if not token:
            raise FatalError("no HubSpot token: set HUBSPOT_TOKEN")
        url = httpx.URL(self.base_url)
        if url.scheme != "https" and url.host not in ("127.0.0.1", "localhost", "::1"):
            # the bearer token would cross the network in clear text (DESIGN 8)
            raise FatalError(f"refusing to send the token over plain http to {url.host}: use https "
                             "(HUBSPOT_BASE_URL=https://api.hubapi.com) or a loopback address")
        # the token lives only in this header, never in logs or error messages
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s,
                                  headers={"Authorization": f"Bearer {token}"})
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = random.Random(seed)
        self.stats = {"requests": 0, "retries": 0, "rate_limited": 0}
        self.last_correlation_id: str | None = None  # HubSpot's id of the last answered request, for audits

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method: str, path: str, *, json: dict | None = None, params: dict | None = None) -> dict:
        attempt = 0
        while True:
            attempt += 1
            self.stats["requests"] += 1
            try:
                resp = self._http.request(method, path, json=json, params=params)
                err = classify(resp)
            except (httpx.TimeoutException, httpx.TransportError) as e:
                err = RetriableError(f"{method} {path}: {type(e).__name__}")
            if err is None:
                self.last_correlation_id = resp.headers.get("X-HubSpot-Correlation-Id")
                self._respect_window(resp)
                return resp.json() if resp.content else {}
            if isinstance(err, FatalError) or attempt >= self.policy.max_attempts:
                raise err
            self.stats["retries"] += 1
            self.stats["rate_limited"] += err.status == 429
            self._sleep(self.policy.delay(attempt, err.retry_after, self._rng))

    def _respect_window(self, resp: httpx.Response) -> None:
        """Stay under the rolling 10-second limit instead of running into 429s: when the window is nearly
        spent, wait a share of the interval."""
        remaining = resp.headers.get("X-HubSpot-RateLimit-Remaining")
        interval = resp.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        if remaining is not None and interval is not None and int(remaining) <= 2:
            self._sleep(int(interval) / 1000 / 5)
