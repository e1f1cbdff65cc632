"""Property value validation: the one place that decides whether a write is acceptable.

Problems come in two severities, mirroring how a client can react:
- *request* problems (not a string, unknown property, read-only property) mean the
  client's mapping is wrong; the whole request fails with 400 VALIDATION_ERROR;
- *record* problems (an invalid email, a non-number in a number property, a value
  that is not an option of an enumeration) are about one record's data; in a batch
  they fail only that record (207 multi-status), in a single-record call they are a 400.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .properties import READ_ONLY_PROPERTIES, PropertyCatalog
from .timeutil import canonical_date, canonical_datetime

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

# Built-in enumerations HubSpot checks against their options although a portal cannot change them: a task's
# status, priority and type (any other value is a 400 / a failed record, as in HubSpot).
STRICT_ENUMERATIONS = frozenset({("tasks", "hs_task_status"), ("tasks", "hs_task_priority"), ("tasks", "hs_task_type")})

# Properties a create must carry: an engagement (call, meeting, task) is placed on the timeline by hs_timestamp
# (a task's due date), which HubSpot requires.
REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {
    "calls": ("hs_timestamp",), "meetings": ("hs_timestamp",), "tasks": ("hs_timestamp",)}


@dataclass(frozen=True)
class Problem:
    name: str
    code: str  # HubSpot's error code, e.g. PROPERTY_DOESNT_EXIST, INVALID_EMAIL
    message: str


def check_request(object_type: str, props: Any, catalog: PropertyCatalog) -> list[Problem]:
    """Request-level problems of one record's ``properties``; raises if it is not even an object."""
    if not isinstance(props, dict):
        raise errors.validation_error("Invalid input JSON: 'properties' must be an object of string values")
    problems = []
    for name, value in props.items():
        if value is not None and not isinstance(value, str):
            problems.append(Problem(name, "INVALID_PROPERTY_VALUE_TYPE",
                                    f'Property "{name}" value must be a string, got {type(value).__name__}'))
        elif catalog.get(object_type, name) is None:
            problems.append(Problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
        elif name in READ_ONLY_PROPERTIES:
            problems.append(Problem(name, "READ_ONLY_VALUE",
                                    f'"{name}" is a read only property; its value cannot be set.'))
    return problems


def normalize_record(object_type: str, props: dict[str, str | None], catalog: PropertyCatalog,
                     owner_exists: Callable[[str], bool] | None = None
                     ) -> tuple[dict[str, str | None], list[Problem]]:
    """Canonical values (datetimes to ``...Z`` ms, bools lower-case) and the record-level problems.

    ``""`` and ``None`` both clear a property, as in HubSpot. An owner property (``hubspot_owner_id``) must name an
    active owner of the portal when ``owner_exists`` is given.
    """
    out: dict[str, str | None] = {}
    problems: list[Problem] = []
    for name, value in props.items():
        if value is None or value == "":
            out[name] = None
            continue
        definition = catalog.get(object_type, name) or {}
        ptype = definition.get("type", "string")
        value = value.strip() if ptype != "string" else value
        canonical: str | None = value
        if object_type == "contacts" and name == "email":
            canonical = value.strip().lower()  # HubSpot stores emails lower-cased
            if not _EMAIL.match(canonical):
                problems.append(Problem(name, "INVALID_EMAIL", f"Email address {value} is invalid"))
        elif ptype == "number":
            try:
                ok = math.isfinite(float(value))
            except ValueError:
                ok = False
            if not ok:
                problems.append(Problem(name, "INVALID_DECIMAL", f"{value} was not a valid number."))
        elif ptype == "bool":
            canonical = value.lower()
            if canonical not in ("true", "false"):
                problems.append(Problem(name, "INVALID_OPTION",
                                        f"{value} was not one of the allowed options: [true, false]"))
        elif ptype == "datetime":
            canonical = canonical_datetime(value)
            if canonical is None:
                problems.append(Problem(name, "INVALID_DATE",
                                        f"{value} is not a valid datetime: use epoch milliseconds or ISO-8601"))
        elif ptype == "date":
            canonical = canonical_date(value)
            if canonical is None:
                problems.append(Problem(name, "INVALID_DATE",
                                        f"{value} is not a valid date: use YYYY-MM-DD or midnight UTC "
                                        "in epoch milliseconds"))
        elif ptype == "enumeration" and (_validates_options(definition)
                                         or (object_type, name) in STRICT_ENUMERATIONS):
            allowed = [o["value"] for o in definition["options"]]
            chosen = value.split(";") if definition.get("fieldType") == "checkbox" else [value]
            bad = [v for v in chosen if v not in allowed]
            if bad:
                problems.append(Problem(name, "INVALID_OPTION",
                                        f"{bad[0]} was not one of the allowed options: [{', '.join(allowed)}]"))
        elif definition.get("referencedObjectType") == "OWNER" and (
                not value.isdigit() or (owner_exists is not None and not owner_exists(value))):
            problems.append(Problem(name, "INVALID_OWNER_ID", f"{value} is not a valid owner id"))
        out[name] = canonical
    return out, problems


def missing_on_create(object_type: str, values: dict[str, str | None]) -> list[Problem]:
    """The required properties a create leaves out (or clears)."""
    return [Problem(name, "REQUIRED_PROPERTY", f"{name} is required to create a {object_type[:-1]}")
            for name in REQUIRED_ON_CREATE.get(object_type, ()) if values.get(name) in (None, "")]


def _validates_options(definition: dict[str, Any]) -> bool:
    # Built-in enumerations accept any value: a portal's stages, statuses and industries are
    # configurable in HubSpot and a seeded world may use its own. Custom enumerations (the
    # ones this project creates) are checked against their options, as HubSpot does.
    return (not definition.get("hubspotDefined", True) and not definition.get("externalOptions")
            and bool(definition.get("options")))


def _message(problems: list[Problem]) -> str:
    items = [{"isValid": False, "message": p.message, "error": p.code, "name": p.name,
              "localizedErrorMessage": p.message} for p in problems]
    return "Property values were not valid: " + json.dumps(items, separators=(",", ":"))


def _details(problems: list[Problem]) -> list[dict[str, Any]]:
    return [{"message": p.message, "code": p.code, "in": p.name, "context": {"propertyName": [p.name]}}
            for p in problems]


def request_error(problems: list[Problem]) -> errors.ApiError:
    """The 400 for a request whose properties are invalid."""
    return errors.validation_error(_message(problems), errors=_details(problems))


def record_error(problems: list[Problem], context: dict[str, list[str]]) -> dict[str, Any]:
    """The 207 ``errors[]`` item for one record whose values are invalid."""
    return errors.standard_error("VALIDATION_ERROR", _message(problems), context=context,
                                 errors=_details(problems))
