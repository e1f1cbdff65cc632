"""Translate a ``PublicObjectSearchRequest`` into SQL over the store.

Semantics follow HubSpot's CRM search:
- ``filterGroups`` are ORed, filters inside a group ANDed (at most 5 groups, 6 filters
  per group, 18 filters in all);
- datetime properties compare as instants whether the value is epoch milliseconds or
  ISO-8601, numbers compare numerically, strings case-insensitively;
- ``limit`` at most 200; ``after`` is an offset and results stop at 10,000 (``total``
  still counts them all), which is why clients window their cursor;
- ties of any sort are broken by id ascending so that paging is stable;
- archived records are never returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import errors
from .properties import PropertyCatalog
from .schema import ObjectType
from .store import prop_sql
from .timeutil import canonical_datetime

SEARCH_RESULT_CAP = 10_000  # HubSpot's hard limit on how deep a search can page
SEARCH_MAX_LIMIT = 200
SEARCH_DEFAULT_LIMIT = 10
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18

_COMPARISONS = {"EQ": "=", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
OPERATORS = frozenset({*_COMPARISONS, "NEQ", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
                       "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"})


@dataclass
class SearchPlan:
    where: str
    params: list[Any]
    order_by: str
    limit: int
    offset: int
    properties: list[str] | None


def _bad(message: str) -> errors.ApiError:
    return errors.validation_error(message)


def _int_field(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key)
    if value is None or value == "":
        return default
    try:
        return int(str(value))
    except ValueError:
        raise _bad(f"Invalid input JSON: '{key}' must be an integer, got {value!r}") from None


def _typed(ot: ObjectType, name: str, catalog: PropertyCatalog) -> tuple[str, Callable[[str], Any]]:
    """(SQL expression, converter of a filter value) for comparing property ``name``."""
    if name == "hs_object_id":
        return "id", lambda v: int(float(v))
    definition = catalog.get(ot.name, name)
    if definition is None:
        raise _bad(f"There was a problem with the request: property '{name}' does not exist on {ot.name}")
    raw = prop_sql(name)
    ptype = definition["type"]
    if ptype == "number":
        return f"CAST({raw} AS REAL)", float
    if ptype in ("datetime", "date"):
        def to_instant(v: str) -> str:
            canonical = canonical_datetime(v)
            if canonical is None:
                raise ValueError(v)
            return canonical if ptype == "datetime" else canonical[:10]
        return raw, to_instant
    if ot.name == "contacts" and name == "email":
        return "uniq", lambda v: v.strip().lower()  # the indexed, lower-cased copy of the email
    return f"lower({raw})", lambda v: v.lower()


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _filter_sql(ot: ObjectType, f: Any, catalog: PropertyCatalog) -> tuple[str, list[Any]]:
    if not isinstance(f, dict) or not isinstance(f.get("propertyName"), str):
        raise _bad("Invalid input JSON: each filter needs a propertyName")
    name, op = f["propertyName"], f.get("operator")
    if op not in OPERATORS:
        raise _bad(f"Invalid input JSON: operator {op!r} is not one of {sorted(OPERATORS)}")
    expr, convert = _typed(ot, name, catalog)
    raw = "id" if name == "hs_object_id" else prop_sql(name)

    def conv(value: Any, field: str) -> Any:
        if value is None:
            raise _bad(f"Invalid input JSON: operator {op} on '{name}' requires '{field}'")
        try:
            return convert(_scalar(value))
        except ValueError:
            raise _bad(f"There was a problem with the request: {value!r} is not a valid value for '{name}'") from None

    if op in _COMPARISONS:
        return f"{expr} {_COMPARISONS[op]} ?", [conv(f.get("value"), "value")]
    if op == "NEQ":
        return f"({expr} IS NULL OR {expr} != ?)", [conv(f.get("value"), "value")]
    if op == "BETWEEN":
        return f"{expr} BETWEEN ? AND ?", [conv(f.get("value"), "value"), conv(f.get("highValue"), "highValue")]
    if op in ("IN", "NOT_IN"):
        values = f.get("values")
        if not isinstance(values, list) or not values:
            raise _bad(f"Invalid input JSON: operator {op} on '{name}' requires a non-empty 'values' list")
        converted = [conv(v, "values") for v in values]
        marks = ",".join("?" * len(converted))
        if op == "IN":
            return f"{expr} IN ({marks})", converted
        return f"({expr} IS NULL OR {expr} NOT IN ({marks}))", converted
    if op == "HAS_PROPERTY":
        return f"({raw} IS NOT NULL AND {raw} != '')", []
    if op == "NOT_HAS_PROPERTY":
        return f"({raw} IS NULL OR {raw} = '')", []
    token = f.get("value")
    if token is None:
        raise _bad(f"Invalid input JSON: operator {op} on '{name}' requires 'value'")
    sql = f"crm_contains_token({raw}, ?)"
    return (sql if op == "CONTAINS_TOKEN" else f"NOT {sql}"), [_scalar(token)]


def _order_by(ot: ObjectType, sorts: Any, catalog: PropertyCatalog) -> str:
    if sorts is None:
        sorts = []
    if not isinstance(sorts, list):
        raise _bad("Invalid input JSON: 'sorts' must be a list")
    parts = []
    for s in sorts:
        if isinstance(s, str):  # the SDK types sorts as strings: "name" or "-name"
            name, desc = s.lstrip("-"), s.startswith("-")
        elif isinstance(s, dict) and isinstance(s.get("propertyName"), str):
            name = s["propertyName"]
            direction = str(s.get("direction", "ASCENDING")).upper()
            if direction not in ("ASCENDING", "DESCENDING"):
                raise _bad(f"Invalid input JSON: sort direction {direction!r} must be ASCENDING or DESCENDING")
            desc = direction == "DESCENDING"
        else:
            raise _bad("Invalid input JSON: each sort needs a propertyName")
        if name in ("hs_object_id", "id"):
            parts.append(f"id {'DESC' if desc else 'ASC'}")
            continue
        expr, _ = _typed(ot, name, catalog)
        parts.append(f"{expr} {'DESC' if desc else 'ASC'}")
    if not any(p.startswith("id ") for p in parts):
        parts.append("id ASC")  # stable paging
    return ", ".join(parts)


def _properties(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [p for p in (s.strip() for s in value.split(",")) if p]
    if isinstance(value, list) and all(isinstance(p, str) for p in value):
        return [p.strip() for p in value if p.strip()] or None
    raise _bad("Invalid input JSON: 'properties' must be a list of property names")


def plan_search(ot: ObjectType, body: Any, catalog: PropertyCatalog, result_cap: int = SEARCH_RESULT_CAP) -> SearchPlan:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _bad("Invalid input JSON: the search request must be an object")
    limit = _int_field(body, "limit", SEARCH_DEFAULT_LIMIT)
    if limit < 0 or limit > SEARCH_MAX_LIMIT:
        raise _bad(f"limit must be between 0 and {SEARCH_MAX_LIMIT}, got {limit}")
    offset = _int_field(body, "after", 0)
    if offset < 0:
        raise _bad(f"after must be a non-negative offset, got {offset}")
    if offset >= result_cap:
        raise _bad(f"Search results are limited to {result_cap:,} records: after={offset} is past the end. "
                   "Narrow the filter (for example window the lastmodifieddate cursor) instead of paging deeper.")

    groups = body.get("filterGroups") or []
    if not isinstance(groups, list):
        raise _bad("Invalid input JSON: 'filterGroups' must be a list")
    if len(groups) > MAX_FILTER_GROUPS:
        raise _bad(f"Too many filter groups: {len(groups)} (maximum {MAX_FILTER_GROUPS})")
    group_sql, params, n_filters = [], [], 0
    for g in groups:
        filters = g.get("filters") if isinstance(g, dict) else None
        if not isinstance(filters, list):
            raise _bad("Invalid input JSON: each filter group needs a 'filters' list")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise _bad(f"Too many filters in a group: {len(filters)} (maximum {MAX_FILTERS_PER_GROUP})")
        n_filters += len(filters)
        clauses = []
        for f in filters:
            sql, p = _filter_sql(ot, f, catalog)
            clauses.append(sql)
            params.extend(p)
        if clauses:
            group_sql.append("(" + " AND ".join(clauses) + ")")
    if n_filters > MAX_FILTERS:
        raise _bad(f"Too many filters: {n_filters} (maximum {MAX_FILTERS} across all groups)")
    where = " OR ".join(group_sql) if group_sql else "1"

    query = body.get("query")
    if isinstance(query, str) and query.strip():
        text = " OR ".join(f"crm_query_match({prop_sql(p)}, ?)" for p in ot.query_props)
        where = f"({where}) AND ({text})"
        params.extend([query.strip()] * len(ot.query_props))

    # Never page past the cap, even when the page would start before it.
    limit = min(limit, result_cap - offset)
    return SearchPlan(where, params, _order_by(ot, body.get("sorts"), catalog), limit, offset,
                      _properties(body.get("properties")))

