"""A small HubSpot CRM v3 client: typed errors, one retry policy, Retry-After honoured.

Used by CRM extraction (landing) and, later, the reverse ETL. Retriable: 429, 5xx, timeouts and dropped
connections; fatal: any other 4xx (the request itself is wrong, resending cannot help).
"""

from __future__ import annotations

import ipaddress
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

# The sandbox CRM of `make demo` by default (docs/landing.md); a real portal: HUBSPOT_BASE_URL=https://api.hubapi.com
DEFAULT_BASE_URL = "http://127.0.0.1:8765"


# Plain http off loopback is refused (the bearer token would cross the network in clear text, docs/sync.md) unless this
# variable is 1; then every client started says so on stderr.
ALLOW_INSECURE_ENV = "REVOPS_ALLOW_INSECURE_HTTP"


class HubSpotError(Exception):
    base_url: str | None = None  # the CRM that answered (set by HubSpotClient.request)

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


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback IP literal (127.0.0.0/8, ::1). Decided on the name alone, never by resolving it:
    `localhost.example.com` or `127.0.0.1.nip.io` are other hosts."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_verdict(scheme: str, host: str, allow_insecure: bool | None = None) -> str:
    """The one rule for secrets over the network (the CRM token, the alert webhook URL): "ok" for https, or plain
    http to a loopback address; "overridden" for plain http elsewhere when allowed explicitly (`allow_insecure`,
    default $REVOPS_ALLOW_INSECURE_HTTP=1); else "refused". On the URL's parts alone: nothing is resolved."""
    if scheme == "https" or is_loopback(host):
        return "ok"
    if allow_insecure is None:
        allow_insecure = os.environ.get(ALLOW_INSECURE_ENV) == "1"
    return "overridden" if allow_insecure else "refused"


def check_transport(base_url: str, allow_insecure: bool | None = None) -> str | None:
    """Whether the token may be sent to `base_url`: https anywhere, plain http only to a loopback address. Raises
    FatalError otherwise; returns a warning (for stderr) when plain http off loopback is allowed explicitly
    (`allow_insecure`, default $REVOPS_ALLOW_INSECURE_HTTP=1). Looks at the URL only: nothing is connected."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        raise FatalError("HUBSPOT_BASE_URL is not a URL: use https://api.hubapi.com or the sandbox's "
                         "http://127.0.0.1:PORT") from None
    if url.scheme == "https" and url.host:
        return None
    if url.scheme != "http" or not url.host:
        raise FatalError(f"HUBSPOT_BASE_URL must start with https:// (http:// only for a loopback address); it has "
                         f"{repr(url.scheme + '://') if url.scheme else 'no scheme'}: e.g. https://api.hubapi.com")
    verdict = plain_http_verdict(url.scheme, url.host, allow_insecure)
    if verdict == "ok":
        return None
    if verdict == "refused":
        # the bearer token would cross the network in clear text (docs/sync.md)
        raise FatalError(f"refusing to send the token over plain http to {url.host}: use https "
                         f"(HUBSPOT_BASE_URL=https://api.hubapi.com) or a loopback address ({ALLOW_INSECURE_ENV}=1 "
                         "overrides this, for a network you trust)")
    return (f"warning: {ALLOW_INSECURE_ENV}=1: the HubSpot token goes over plain http to {url.host}; anyone on the "
            "way can read it")


class HubSpotClient:
    def __init__(self, base_url: str | None = None, token: str | None = None, policy: RetryPolicy | None = None,
                 timeout_s: float = 30.0, sleep: Callable[[float], None] = time.sleep, seed: int | None = None):
        self.base_url = (base_url or os.environ.get("HUBSPOT_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        token = token or os.environ.get("HUBSPOT_TOKEN")
        if not token:
            raise FatalError("no HubSpot token: set HUBSPOT_TOKEN (a private app's access token; "
                             "docs/operations.md lists the scopes)")
        warning = check_transport(self.base_url)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        # the token lives only in this header, never in logs or error messages
        self._token = token
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

    def request(self, method: str, path: str, *, json: dict | None = None, params: dict | None = None,
                idempotent: bool = True) -> dict:
        """The answer's JSON body. `idempotent=False` is for a request that must not be sent twice blindly (a
        create): only a 429 (refused before it was processed) is retried; a 5xx, a timeout or a dropped connection
        may come after the CRM applied it, so it is raised at once (RetriableError) for the caller to find out."""
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
            if (isinstance(err, FatalError) or attempt >= self.policy.max_attempts
                    or (not idempotent and err.status != 429)):
                err.base_url = self.base_url
                if self._token in str(err):  # a server that echoes the token must not get it into our messages
                    err.args = (str(err).replace(self._token, "<HUBSPOT_TOKEN>"),)
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
