"""The HubSpot CRM v3/v4 endpoints: request -> response, no sockets, no auth, no faults.

``app.py`` wraps these handlers with authentication, rate limits and fault injection;
``server.py`` puts them on HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from . import errors, validation
from .errors import ApiError
from .properties import custom_definition, validate_property_create
from .schema import ObjectType, association_by_type_id, association_type, lookup_object_type, resolve_object_type
from .search import SEARCH_RESULT_CAP, plan_search
from .store import Record, Store
from .timeutil import MonotonicClock

BATCH_LIMIT = 100  # HubSpot's maximum inputs per CRM object batch request
ASSOCIATION_BATCH_LIMIT = 1000  # v4 association batch read
LIST_MAX_LIMIT = 100
OWNERS_MAX_LIMIT = 500
V4_ASSOCIATIONS_MAX_LIMIT = 500


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    base_url: str  # scheme://host[:port] as the client addressed us, for paging links

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise errors.validation_error(f"Invalid input JSON on line {getattr(e, 'lineno', 1)}, "
                                          f"column {getattr(e, 'colno', 1)}: {e}") from None

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def q_list(self, name: str) -> list[str]:
        """Repeated and comma-separated values (``properties=a,b&properties=c``)."""
        return [p.strip() for v in self.query.get(name, []) for p in v.split(",") if p.strip()]

    def q_bool(self, name: str, default: bool = False) -> bool:
        value = self.q(name)
        if value is None or value == "":
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise errors.validation_error(f"Query parameter '{name}' must be true or false, got {value!r}")

    def q_int(self, name: str, default: int) -> int:
        value = self.q(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise errors.validation_error(f"Query parameter '{name}' must be an integer, got {value!r}") from None


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable; None sends no body (204)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Response]
    kind: str  # "read" | "write" | "search": decides rate-limit policy and fault eligibility


def _inputs(body: Any, limit: int = BATCH_LIMIT) -> list[Any]:
    """The ``inputs`` of a batch request, with HubSpot's size limit."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise errors.validation_error("Invalid input JSON: expected an object with an 'inputs' list")
    inputs = body["inputs"]
    if len(inputs) > limit:
        raise errors.validation_error(
            f"Too many inputs: {len(inputs)} were sent but a batch accepts at most {limit}",
            context={"maxInputs": [str(limit)]},
        )
    return inputs


def _reject_duplicates(keys: list[str]) -> None:
    seen, dupes = set(), []
    for k in keys:
        if k in seen and k not in dupes:
            dupes.append(k)
        seen.add(k)
    if dupes:
        raise errors.validation_error(f"Duplicate IDs found in batch input: [{', '.join(dupes)}]. IDs must be unique",
                                      context={"ids": dupes})


def _input_id(item: Any, index: int) -> str:
    if not isinstance(item, dict) or item.get("id") is None or isinstance(item.get("id"), (dict, list)):
        raise errors.validation_error(f"Invalid input JSON: inputs[{index}] needs an 'id'")
    return str(item["id"]).strip()


def _batch_response(status_ok: int, results: list[dict[str, Any]], errs: list[dict[str, Any]],
                    started: str, completed: str) -> Response:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": completed}
    if errs:
        body["errors"] = errs
        body["numErrors"] = len(errs)
        return Response(207, body)
    return Response(status_ok, body)


class CrmApi:
    def __init__(self, store: Store, clock: MonotonicClock, search_result_cap: int = SEARCH_RESULT_CAP) -> None:
        self.store = store
        self.clock = clock
        self.search_result_cap = search_result_cap
        # New ids are larger than every id ever stored (archived records keep theirs), across types.
        self._next_id = store.max_id() + 1
        obj = r"/crm/v3/objects/(?P<type>[^/]+)"
        table = [
            ("GET", obj, self.list_objects, "read"),
            ("POST", obj, self.create_object, "write"),
            ("POST", obj + r"/search", self.search, "search"),
            ("POST", obj + r"/batch/read", self.batch_read, "read"),
            ("POST", obj + r"/batch/create", self.batch_create, "write"),
            ("POST", obj + r"/batch/update", self.batch_update, "write"),
            ("POST", obj + r"/batch/upsert", self.batch_upsert, "write"),
            ("POST", obj + r"/batch/archive", self.batch_archive, "write"),
            ("GET", obj + r"/(?P<id>[^/]+)", self.get_object, "read"),
            ("PATCH", obj + r"/(?P<id>[^/]+)", self.update_object, "write"),
            ("DELETE", obj + r"/(?P<id>[^/]+)", self.archive_object, "write"),
            ("GET", r"/crm/v3/properties/(?P<type>[^/]+)", self.list_properties, "read"),
            ("POST", r"/crm/v3/properties/(?P<type>[^/]+)", self.create_property, "write"),
            ("GET", r"/crm/v3/properties/(?P<type>[^/]+)/(?P<name>[^/]+)", self.get_property, "read"),
            ("GET", r"/crm/v3/owners", self.list_owners, "read"),
            ("GET", r"/crm/v3/owners/(?P<id>[^/]+)", self.get_owner, "read"),
            ("GET", r"/crm/v4/objects/(?P<type>[^/]+)/(?P<id>[^/]+)/associations/(?P<to>[^/]+)",
             self.v4_list_associations, "read"),
            ("POST", r"/crm/v4/associations/(?P<type>[^/]+)/(?P<to>[^/]+)/batch/read",
             self.v4_batch_read_associations, "read"),
        ]
        self.routes = [Route(m, re.compile(p + r"/?$"), h, k) for m, p, h, k in table]

    # --- routing -------------------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for a request, or None; raises 405 when the path exists for another method."""
        other_method = False
        for route in self.routes:
            m = route.pattern.match(path)
            if m:
                if route.method == method:
                    # Path parameters arrive percent-encoded (an email id: new.lead%40example.org).
                    return route, {k: unquote(v) for k, v in m.groupdict().items()}
                other_method = True
        if other_method:
            raise ApiError(405, "VALIDATION_ERROR", f"Method {method} is not supported on {path}")
        return None

    # --- record rendering ----------------------------------------------------------------------

    def _public(self, ot: ObjectType, rec: Record, requested: list[str] | None, *, everything: bool = False,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """A record as HubSpot's ``SimplePublicObject``.

        Without ``requested`` the type's default properties are returned; with it, the requested ones
        plus create/modify date and hs_object_id, as HubSpot does. Requested properties that exist but
        have no value are null (HubSpot does that too, although its schema says string).
        """
        if everything:
            props: dict[str, Any] = dict(rec.props)
            props["hs_object_id"] = str(rec.id)
        else:
            names = ot.default_props if requested is None else (
                *requested, ot.created_prop, ot.modified_prop, "hs_object_id")
            props = {}
            for name in names:
                if name == "hs_object_id":
                    props[name] = str(rec.id)
                elif name in rec.props:
                    props[name] = rec.props[name]
                elif self.store.catalog.get(ot.name, name) is not None:
                    props[name] = None
        out: dict[str, Any] = {
            "id": str(rec.id),
            "properties": dict(sorted(props.items())),
            "createdAt": rec.created_at,
            "updatedAt": rec.updated_at,
            "archived": rec.archived,
        }
        if rec.archived and rec.archived_at:
            out["archivedAt"] = rec.archived_at
        if extra:
            out.update(extra)
        return out

    def _with_associations(self, ot: ObjectType, records: list[Record], to_names: list[str],
                           rendered: list[dict[str, Any]]) -> None:
        """Add the v3 ``associations`` block (only non-empty types, as HubSpot) to rendered records."""
        for to_name in to_names:
            to = lookup_object_type(to_name)
            if to is None:
                continue  # HubSpot ignores association types it cannot resolve
            found = self.store.associations(ot.name, [r.id for r in records], to.name)
            for rec, out in zip(records, rendered):
                items = found.get(rec.id)
                if items:
                    out.setdefault("associations", {})[to.name] = {
                        "results": [{"id": str(to_id), "type": name} for to_id, name, _ in items]}

    # --- objects: reads ------------------------------------------------------------------------

    def list_objects(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        limit = min(max(req.q_int("limit", 10), 1), LIST_MAX_LIMIT)
        after = req.q_int("after", 0)
        archived = req.q_bool("archived")
        requested = req.q_list("properties") or None
        records = self.store.list_page(ot.name, after, limit + 1, archived)
        more = len(records) > limit
        records = records[:limit]
        results = [self._public(ot, r, requested) for r in records]
        self._with_associations(ot, records, req.q_list("associations"), results)
        body: dict[str, Any] = {"results": results}
        if more:
            nxt = str(records[-1].id)
            params = {k: ",".join(req.q_list(k)) for k in ("properties", "associations") if req.q_list(k)}
            params.update(limit=str(limit), archived=str(archived).lower(), after=nxt)
            body["paging"] = {"next": {"after": nxt, "link": f"{req.base_url}{req.path}?{urlencode(params)}"}}
        return Response(200, body)

    def _find_one(self, ot: ObjectType, key: str, id_property: str | None, archived: bool | None) -> Record | None:
        if id_property and id_property != "hs_object_id":
            if not self.store.catalog.is_unique(ot.name, id_property):
                raise errors.validation_error(f"{id_property} is not a unique property of {ot.name}")
            return self.store.find_by_unique(ot.name, id_property, [key], archived=bool(archived)).get(
                key.strip().lower())
        return self.store.get(ot.name, int(key), archived) if key.isdigit() else None

    def get_object(self, req: Request, type: str, id: str) -> Response:
        ot = resolve_object_type(type)
        rec = self._find_one(ot, id, req.q("idProperty"), req.q_bool("archived"))
        if rec is None:
            raise errors.not_found()
        out = self._public(ot, rec, req.q_list("properties") or None)
        self._with_associations(ot, [rec], req.q_list("associations"), [out])
        return Response(200, out)

    def search(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        plan = plan_search(ot, req.json(), self.store.catalog, self.search_result_cap)
        records, total = self.store.search(ot.name, plan.where, plan.params, plan.order_by, plan.limit, plan.offset)
        body: dict[str, Any] = {"total": total, "results": [self._public(ot, r, plan.properties) for r in records]}
        next_offset = plan.offset + len(records)
        if records and next_offset < min(total, self.search_result_cap):
            body["paging"] = {"next": {"after": str(next_offset)}}
        return Response(200, body)

    def batch_read(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        body = req.json()
        inputs = _inputs(body)
        started = self.clock.now_iso()
        keys = list(dict.fromkeys(_input_id(item, i) for i, item in enumerate(inputs)))  # reads tolerate repeats
        id_property = body.get("idProperty")
        requested = body.get("properties") or None
        archived = req.q_bool("archived")
        if id_property and id_property != "hs_object_id":
            if not self.store.catalog.is_unique(ot.name, id_property):
                raise errors.validation_error(f"{id_property} is not a unique property of {ot.name}")
            found = self.store.find_by_unique(ot.name, id_property, keys, archived=archived)
            by_key = {k: found.get(k.strip().lower()) for k in keys}
        else:
            found_ids = self.store.get_many(ot.name, [int(k) for k in keys if k.isdigit()], archived)
            by_key = {k: found_ids.get(int(k)) if k.isdigit() else None for k in keys}
        results = [self._public(ot, rec, requested) for rec in by_key.values() if rec is not None]
        missing = [k for k, rec in by_key.items() if rec is None]
        errs = [self._not_found_error(ot, missing)] if missing else []
        return _batch_response(200, results, errs, started, self.clock.now_iso())

    @staticmethod
    def _not_found_error(ot: ObjectType, ids: list[str]) -> dict[str, Any]:
        return errors.standard_error(
            "OBJECT_NOT_FOUND",
            f"Could not get some {ot.hubspot_object_name} objects, they may be deleted or not exist. "
            "Check that ids are valid.",
            context={"ids": ids},
        )

    # --- objects: writes -----------------------------------------------------------------------

    def _check_request(self, ot: ObjectType, all_props: list[Any]) -> None:
        """400 for the whole request if any record's properties are structurally invalid."""
        problems = [p for props in all_props for p in validation.check_request(ot.name, props, self.store.catalog)]
        if problems:
            unique = list({(p.name, p.code): p for p in problems}.values())
            raise validation.request_error(unique)

    def _unique_conflict(self, ot: ObjectType, values: dict[str, str | None], self_id: int | None) -> str | None:
        """Unique properties (contact email, custom ``hasUniqueValue``) stay unique; the conflict message, if any."""
        for name, value in values.items():
            if value is None or name == "hs_object_id" or not self.store.catalog.is_unique(ot.name, name):
                continue
            other = self.store.find_by_unique(ot.name, name, [value]).get(value.strip().lower())
            if other is not None and other.id != self_id:
                if ot.name == "contacts" and name == "email":
                    return f"Contact already exists. Existing ID: {other.id}"  # HubSpot's wording
                return f"A {ot.singular} with {name} {value} already exists. Existing ID: {other.id}"
        return None

    def _apply(self, ot: ObjectType, rec: Record, values: dict[str, str | None], now: str) -> bool:
        """Set/clear properties; stamp the modified date only when something actually changed."""
        changed = False
        values = self._derived(ot, rec.props, values, now)
        for name, value in values.items():
            if value is None:
                if name in rec.props:
                    del rec.props[name]
                    changed = True
            elif rec.props.get(name) != value:
                rec.props[name] = value
                changed = True
        if changed:
            rec.props[ot.modified_prop] = now
            rec.updated_at = now
            self.store.log_changes(rec, self.store.props_of(rec.otype, rec.id))
            self.store.save(rec)
        return changed

    @staticmethod
    def _derived(ot: ObjectType, current: dict[str, str], values: dict[str, str | None],
                 now: str) -> dict[str, str | None]:
        """Values the server sets itself on a write: a task's completion date follows its status (set when it
        becomes COMPLETED, cleared when it leaves it), as in HubSpot."""
        if ot.name != "tasks" or "hs_task_status" not in values:
            return values
        was_done = current.get("hs_task_status") == "COMPLETED"
        is_done = values["hs_task_status"] == "COMPLETED"
        if is_done and not was_done:
            return {**values, "hs_task_completion_date": now}
        if was_done and not is_done:
            return {**values, "hs_task_completion_date": None}
        return values

    def _normalize(self, ot: ObjectType, props: dict[str, Any]) -> tuple[dict[str, str | None], list]:
        """Canonical values and record problems; owner properties must name an active owner of the portal."""
        return validation.normalize_record(ot.name, props, self.store.catalog, self._owner_exists)

    def _owner_exists(self, owner_id: str) -> bool:
        return self.store.owner(int(owner_id), False, False) is not None

    def _create(self, ot: ObjectType, values: dict[str, str | None], now: str) -> Record:
        values = self._derived(ot, {}, values, now)
        props = {k: v for k, v in values.items() if v is not None}
        props[ot.created_prop] = now
        props[ot.modified_prop] = now
        rec = Record(ot.name, self._next_id, False, now, now, None, props)
        self._next_id += 1
        self.store.insert(rec)
        self.store.log_changes(rec, {})
        return rec

    def _create_associations(self, ot: ObjectType, rec: Record, specs: Any) -> str | None:
        """Associations given in a create input (``[{to: {id}, types: [{associationTypeId}]}]``)."""
        if not specs:
            return None
        if not isinstance(specs, list):
            return "associations must be a list"
        for spec in specs:
            to_id = str((spec.get("to") or {}).get("id", "")) if isinstance(spec, dict) else ""
            types = spec.get("types") if isinstance(spec, dict) else None
            if not to_id.isdigit() or not isinstance(types, list) or not types:
                return "each association needs to.id and types"
            for t in types:
                type_id = str(t.get("associationTypeId", "")) if isinstance(t, dict) else ""
                known = association_by_type_id(int(type_id)) if type_id.isdigit() else None
                if known is None or known[0][0] != ot.name:
                    return f"association type {t!r} is not valid from {ot.name}"
                if t.get("associationCategory") != "HUBSPOT_DEFINED":  # the default types are HubSpot's own
                    return (f"association type {type_id} is HUBSPOT_DEFINED, not "
                            f"{t.get('associationCategory')!r} (associationCategory)")
                to_type = known[0][1]
                if self.store.get(to_type, int(to_id)) is None:
                    return f"cannot associate with {to_type} {to_id}: it does not exist"
                self.store.add_association(ot.name, rec.id, to_type, int(to_id),
                                           association_type(ot.name, to_type), association_type(to_type, ot.name))
        return None

    def _single_record_input(self, req: Request, ot) -> tuple[dict, dict]:
        """The body of a single-record create/update and its validated property values (400 if invalid)."""
        body = req.json()
        if not isinstance(body, dict):
            raise errors.validation_error("Invalid input JSON: expected an object with 'properties'")
        self._check_request(ot, [body.get("properties", {})])
        values, problems = self._normalize(ot, body.get("properties", {}))
        if problems:
            raise validation.request_error(problems)
        return body, values

    def create_object(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        body, values = self._single_record_input(req, ot)
        missing = validation.missing_on_create(ot.name, values)
        if missing:
            raise validation.request_error(missing)
        with self.store.transaction():
            conflict = self._unique_conflict(ot, values, None)
            if conflict:
                raise errors.conflict(conflict)
            rec = self._create(ot, values, self.clock.now_iso())
            problem = self._create_associations(ot, rec, body.get("associations"))
            if problem:
                raise errors.validation_error(problem)  # rolls the create back too
        return Response(201, self._public(ot, rec, None, everything=True))

    def update_object(self, req: Request, type: str, id: str) -> Response:
        ot = resolve_object_type(type)
        body, values = self._single_record_input(req, ot)
        with self.store.transaction():
            rec = self._find_one(ot, id, req.q("idProperty"), False)
            if rec is None:
                raise errors.not_found()
            conflict = self._unique_conflict(ot, values, rec.id)
            if conflict:
                raise errors.conflict(conflict)
            # The timestamp is taken inside the transaction so commit order equals timestamp order:
            # a client that has seen a write at time T can never later see a write stamped before T.
            self._apply(ot, rec, values, self.clock.now_iso())
        return Response(200, self._public(ot, rec, None, everything=True))

    def archive_object(self, req: Request, type: str, id: str) -> Response:
        ot = resolve_object_type(type)
        with self.store.transaction():
            rec = self.store.get(ot.name, int(id)) if id.isdigit() else None
            if rec is not None:
                self._archive(rec)
        return Response(204)

    def _archive(self, rec: Record) -> None:
        now = self.clock.now_iso()
        rec.archived, rec.archived_at, rec.updated_at = True, now, now
        self.store.save(rec)

    def batch_archive(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        inputs = _inputs(req.json())
        keys = [_input_id(item, i) for i, item in enumerate(inputs)]
        _reject_duplicates(keys)
        with self.store.transaction():
            found = self.store.get_many(ot.name, [int(k) for k in keys if k.isdigit()])
            for rec in found.values():
                self._archive(rec)
        return Response(204)  # like HubSpot: unknown ids are not an error

    def batch_create(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        inputs = _inputs(req.json())
        for i, item in enumerate(inputs):
            if not isinstance(item, dict):
                raise errors.validation_error(f"Invalid input JSON: inputs[{i}] must be an object")
        self._check_request(ot, [item.get("properties", {}) for item in inputs])
        started = self.clock.now_iso()
        results, errs = [], []
        with self.store.transaction():
            now = self.clock.now_iso()
            for i, item in enumerate(inputs):
                trace = item.get("objectWriteTraceId")
                context = {"index": [str(i)], **({"objectWriteTraceId": [str(trace)]} if trace else {})}
                values, problems = self._normalize(ot, item.get("properties", {}))
                problems += validation.missing_on_create(ot.name, values)
                if problems:
                    errs.append(validation.record_error(problems, context))
                    continue
                conflict = self._unique_conflict(ot, values, None)
                if conflict:
                    errs.append(errors.standard_error("CONFLICT", conflict, context=context))
                    continue
                rec = self._create(ot, values, now)
                problem = self._create_associations(ot, rec, item.get("associations"))
                if problem:  # the whole batch fails (nothing of it is applied): the request is wrong
                    raise errors.validation_error(f"inputs[{i}]: {problem}", context={"index": [str(i)]})
                results.append(self._public(ot, rec, None, everything=True,
                                            extra={"objectWriteTraceId": trace} if trace else None))
        return _batch_response(201, results, errs, started, self.clock.now_iso())

    def _keyed_inputs(self, ot: ObjectType, inputs: list[Any], default_id_property: str | None,
                      require_id_property: bool) -> list[tuple[dict[str, Any], str, str]]:
        """(input, key, idProperty) per input, validated; duplicates (case-insensitive for emails) → 400."""
        keyed = []
        for i, item in enumerate(inputs):
            key = _input_id(item, i)
            id_property = item.get("idProperty") or default_id_property or "hs_object_id"
            if require_id_property and id_property == "hs_object_id":
                raise errors.validation_error(
                    f"inputs[{i}]: upsert needs an idProperty naming a unique property, such as email")
            if not self.store.catalog.is_unique(ot.name, id_property):
                raise errors.validation_error(f"{id_property} is not a unique property of {ot.name}")
            keyed.append((item, key, id_property))
        _reject_duplicates([k.lower() if p != "hs_object_id" else k for _, k, p in keyed])
        self._check_request(ot, [item.get("properties", {}) for item, _, _ in keyed])
        return keyed

    def _lookup(self, ot: ObjectType, keyed: list[tuple[dict[str, Any], str, str]]) -> list[Record | None]:
        by_property: dict[str, list[str]] = {}
        for _, key, prop in keyed:
            by_property.setdefault(prop, []).append(key)
        found = {prop: self.store.find_by_unique(ot.name, prop, keys) for prop, keys in by_property.items()}
        return [found[prop].get(key.strip().lower()) for _, key, prop in keyed]

    def batch_update(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        body = req.json()
        keyed = self._keyed_inputs(ot, _inputs(body), body.get("idProperty"), require_id_property=False)
        started = self.clock.now_iso()
        results, errs, missing = [], [], []
        with self.store.transaction():
            now = self.clock.now_iso()
            for (item, key, _), rec in zip(keyed, self._lookup(ot, keyed)):
                trace = item.get("objectWriteTraceId")
                context = {"ids": [key], **({"objectWriteTraceId": [str(trace)]} if trace else {})}
                if rec is None:
                    missing.append(key)
                    continue
                values, problems = self._normalize(ot, item.get("properties", {}))
                if problems:
                    errs.append(validation.record_error(problems, context))
                    continue
                conflict = self._unique_conflict(ot, values, rec.id)
                if conflict:
                    errs.append(errors.standard_error("CONFLICT", conflict, context=context))
                    continue
                self._apply(ot, rec, values, now)
                results.append(self._public(ot, rec, None, everything=True,
                                            extra={"objectWriteTraceId": trace} if trace else None))
        if missing:
            errs.insert(0, self._not_found_error(ot, missing))
        return _batch_response(200, results, errs, started, self.clock.now_iso())

    def batch_upsert(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        body = req.json()
        keyed = self._keyed_inputs(ot, _inputs(body), body.get("idProperty"), require_id_property=True)
        started = self.clock.now_iso()
        results, errs = [], []
        with self.store.transaction():
            now = self.clock.now_iso()
            for (item, key, id_property), rec in zip(keyed, self._lookup(ot, keyed)):
                trace = item.get("objectWriteTraceId")
                context = {"ids": [key], **({"objectWriteTraceId": [str(trace)]} if trace else {})}
                props = dict(item.get("properties", {}))
                if rec is None:
                    props.setdefault(id_property, key)  # a created record carries its key
                values, problems = self._normalize(ot, props)
                if rec is None:
                    problems += validation.missing_on_create(ot.name, values)
                if rec is None and not problems:
                    # The key itself must be a valid value (an upsert by an invalid email fails that record).
                    _, problems = validation.normalize_record(ot.name, {id_property: key}, self.store.catalog)
                if problems:
                    errs.append(validation.record_error(problems, context))
                    continue
                conflict = self._unique_conflict(ot, values, rec.id if rec else None)
                if conflict:
                    errs.append(errors.standard_error("CONFLICT", conflict, context=context))
                    continue
                created = rec is None
                if created:
                    rec = self._create(ot, values, now)
                else:
                    self._apply(ot, rec, values, now)
                extra: dict[str, Any] = {"new": created}
                if trace:
                    extra["objectWriteTraceId"] = trace
                results.append(self._public(ot, rec, None, everything=True, extra=extra))
        return _batch_response(200, results, errs, started, self.clock.now_iso())

    # --- properties ----------------------------------------------------------------------------

    def list_properties(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        if req.q_bool("archived"):
            return Response(200, {"results": []})  # property archiving is not supported: none are archived
        return Response(200, {"results": self.store.catalog.all(ot.name)})

    def get_property(self, req: Request, type: str, name: str) -> Response:
        ot = resolve_object_type(type)
        definition = self.store.catalog.get(ot.name, name)
        if definition is None:
            raise errors.not_found(f"Property {name} does not exist")
        return Response(200, definition)

    def create_property(self, req: Request, type: str) -> Response:
        ot = resolve_object_type(type)
        body = req.json()
        validate_property_create(body)
        with self.store.transaction():
            if self.store.catalog.get(ot.name, body["name"]) is not None:
                raise errors.conflict(f"Property named '{body['name']}' already exists.",
                                      category="OBJECT_ALREADY_EXISTS")
            definition = custom_definition(body, self.clock.now_iso())
            self.store.insert_property_def(ot.name, definition)
        self.store.catalog.add(ot.name, definition)  # only after the commit succeeded
        return Response(201, definition)

    # --- owners --------------------------------------------------------------------------------

    def list_owners(self, req: Request) -> Response:
        limit = min(max(req.q_int("limit", 100), 1), OWNERS_MAX_LIMIT)
        archived = req.q_bool("archived")
        email = req.q("email")
        owners = self.store.owners_page(req.q_int("after", 0), limit + 1, email, archived)
        body: dict[str, Any] = {"results": owners[:limit]}
        if len(owners) > limit:
            nxt = owners[limit - 1]["id"]
            params = {"limit": str(limit), "after": nxt, "archived": str(archived).lower(),
                      **({"email": email} if email else {})}
            body["paging"] = {"next": {"after": nxt, "link": f"{req.base_url}{req.path}?{urlencode(params)}"}}
        return Response(200, body)

    def get_owner(self, req: Request, id: str) -> Response:
        id_property = req.q("idProperty") or "id"
        if id_property not in ("id", "userId"):
            raise errors.validation_error(f"idProperty must be id or userId, got {id_property!r}")
        owner = self.store.owner(int(id), id_property == "userId", req.q_bool("archived")) if id.isdigit() else None
        if owner is None:
            raise errors.not_found(f"Owner {id} does not exist")
        return Response(200, owner)

    # --- v4 associations -----------------------------------------------------------------------

    @staticmethod
    def _v4_targets(items: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
        grouped: dict[int, list[dict[str, Any]]] = {}
        for to_id, _, type_id in items:
            grouped.setdefault(to_id, []).append({"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None})
        # toObjectId is a number in the live v4 API's JSON (the SDK accepts either).
        return [{"toObjectId": to_id, "associationTypes": types} for to_id, types in grouped.items()]

    def v4_list_associations(self, req: Request, type: str, id: str, to: str) -> Response:
        ot, to_ot = resolve_object_type(type), resolve_object_type(to)
        if not id.isdigit() or self.store.get(ot.name, int(id)) is None:
            raise errors.not_found(f"{ot.hubspot_object_name} {id} does not exist")
        targets = self._v4_targets(self.store.associations(ot.name, [int(id)], to_ot.name).get(int(id), []))
        limit = min(max(req.q_int("limit", V4_ASSOCIATIONS_MAX_LIMIT), 1), V4_ASSOCIATIONS_MAX_LIMIT)
        offset = req.q_int("after", 0)
        body: dict[str, Any] = {"results": targets[offset:offset + limit]}
        if offset + limit < len(targets):
            nxt = str(offset + limit)
            body["paging"] = {"next": {"after": nxt, "link": f"{req.base_url}{req.path}?after={nxt}&limit={limit}"}}
        return Response(200, body)

    def v4_batch_read_associations(self, req: Request, type: str, to: str) -> Response:
        ot, to_ot = resolve_object_type(type), resolve_object_type(to)
        inputs = _inputs(req.json(), ASSOCIATION_BATCH_LIMIT)
        started = self.clock.now_iso()
        keys = list(dict.fromkeys(_input_id(item, i) for i, item in enumerate(inputs)))
        found = self.store.associations(ot.name, [int(k) for k in keys if k.isdigit()], to_ot.name)
        results, errs = [], []
        for key in keys:
            items = found.get(int(key)) if key.isdigit() else None
            if items:
                results.append({"from": {"id": key}, "to": self._v4_targets(items)})
            else:
                # HubSpot reports inputs without associations as errors of a 207, not as empty results.
                errs.append(errors.standard_error(
                    "OBJECT_NOT_FOUND", f"No {to_ot.singular} is associated with {ot.singular} {key}.",
                    context={"fromObjectId": [key]}, sub_category="crm.associations.NO_ASSOCIATIONS_FOUND"))
        return _batch_response(200, results, errs, started, self.clock.now_iso())
