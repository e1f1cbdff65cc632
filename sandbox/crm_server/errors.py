"""Every error body the server sends is built here, in HubSpot's shapes.

Two shapes exist in HubSpot's API:
- the top-level ``Error`` body of a failed request
  (``{"status": "error", "message", "correlationId", "category", ...}``), and
- the ``StandardError`` items inside a 207 batch response
  (``{"status", "category", "message", "context", "errors", "links"}``).
"""

from __future__ import annotations

import uuid
from typing import Any

# HubSpot's documentation link for private-app authentication, quoted in its 401 message.
_AUTH_DOCS = "https://developers.hubspot.com/docs/methods/auth/oauth-overview"


def new_correlation_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """Raised anywhere in request handling; turned into an HTTP error response by the app."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, list[str]] | None = None,
        sub_category: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context
        self.sub_category = sub_category
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self, correlation_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id,
            "category": self.category,
        }
        if self.sub_category:
            body["subCategory"] = self.sub_category
        if self.context is not None:
            body["context"] = self.context
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def standard_error(
    category: str,
    message: str,
    *,
    context: dict[str, list[str]],
    errors: list[dict[str, Any]] | None = None,
    sub_category: str | None = None,
) -> dict[str, Any]:
    """One per-record error of a 207 multi-status batch response (HubSpot's ``StandardError``)."""
    item: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": errors or [],
        "links": {},
    }
    if sub_category:
        item["subCategory"] = sub_category
    return item


# --- the concrete errors, so that messages stay consistent ------------------------------------


def validation_error(message: str, *, errors: list[dict[str, Any]] | None = None,
                     context: dict[str, list[str]] | None = None) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message, errors=errors, context=context)


def not_found(message: str = "resource not found") -> ApiError:
    return ApiError(404, "OBJECT_NOT_FOUND", message)


def conflict(message: str, category: str = "CONFLICT") -> ApiError:
    return ApiError(409, category, message)


def missing_auth() -> ApiError:
    return ApiError(
        401,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication "
        f"and you can find more details at {_AUTH_DOCS}",
    )


def invalid_auth() -> ApiError:
    # Deliberately does not echo the presented token.
    return ApiError(
        401,
        "INVALID_AUTHENTICATION",
        "Authentication credentials are invalid or expired. This API supports OAuth 2.0 "
        f"authentication and you can find more details at {_AUTH_DOCS}",
    )


# HubSpot reports which limit was hit by policy name; the message names it in lower case.
RATE_LIMIT_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


def rate_limited(policy: str, retry_after_s: int) -> ApiError:
    """429 as HubSpot sends it (``errorType``/``policyName``), plus ``category`` so it is also a valid ``Error``."""
    return ApiError(
        429,
        "RATE_LIMITS",
        RATE_LIMIT_MESSAGES[policy],
        extra={"errorType": "RATE_LIMIT", "policyName": policy, "groupName": "publicapi:private-app:sandbox"},
        headers={"Retry-After": str(max(1, int(retry_after_s)))},
    )


_5XX_MESSAGES = {
    500: "Internal Server Error",
    502: "Bad Gateway: the upstream service did not respond in time",
    503: "Service Unavailable: please retry the request",
    504: "Gateway Timeout: the request took too long to process",
}


def server_error(status: int) -> ApiError:
    return ApiError(status, "INTERNAL_ERROR", _5XX_MESSAGES.get(status, "Internal Server Error"))
