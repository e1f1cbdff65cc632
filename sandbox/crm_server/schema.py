"""The CRM object types this server speaks, their aliases and their association types."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError


@dataclass(frozen=True)
class ObjectType:
    name: str  # plural API name, also the seed file name: crm/<name>.jsonl
    type_id: str  # HubSpot object type id, accepted as an alias in every path
    singular: str
    created_prop: str  # set on create
    modified_prop: str  # set on every write that changes something; the extraction cursor
    default_props: tuple[str, ...]  # returned when the request names no properties
    query_props: tuple[str, ...]  # searched by the free-text ``query`` of a search request
    hubspot_object_name: str  # used in HubSpot's "Could not get some CONTACT objects" messages


_ENGAGEMENT_DEFAULTS = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")

OBJECT_TYPES: dict[str, ObjectType] = {
    t.name: t
    for t in (
        ObjectType(
            "contacts", "0-1", "contact", "createdate", "lastmodifieddate",
            ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
            ("email", "firstname", "lastname", "phone", "company"), "CONTACT",
        ),
        ObjectType(
            "companies", "0-2", "company", "createdate", "hs_lastmodifieddate",
            ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
            ("name", "domain", "website", "phone"), "COMPANY",
        ),
        ObjectType(
            "deals", "0-3", "deal", "createdate", "hs_lastmodifieddate",
            ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
             "hs_object_id", "pipeline"),
            ("dealname",), "DEAL",
        ),
        ObjectType("calls", "0-48", "call", "hs_createdate", "hs_lastmodifieddate",
                   _ENGAGEMENT_DEFAULTS, ("hs_call_title", "hs_call_body"), "CALL"),
        ObjectType("meetings", "0-47", "meeting", "hs_createdate", "hs_lastmodifieddate",
                   _ENGAGEMENT_DEFAULTS, ("hs_meeting_title", "hs_meeting_body"), "MEETING_EVENT"),
        ObjectType("tasks", "0-27", "task", "hs_createdate", "hs_lastmodifieddate",
                   _ENGAGEMENT_DEFAULTS, ("hs_task_subject", "hs_task_body"), "TASK"),
    )
}

# Seed files that are not CRM objects in the /objects sense.
OWNERS = "owners"
SEED_FILES = (*OBJECT_TYPES, OWNERS)

_ALIASES: dict[str, str] = {}
for _t in OBJECT_TYPES.values():
    for _alias in (_t.name, _t.type_id, _t.singular):
        _ALIASES[_alias] = _t.name
_ALIASES["meeting_event"] = _ALIASES["meeting_events"] = "meetings"


def lookup_object_type(name: str) -> ObjectType | None:
    key = _ALIASES.get(name) or _ALIASES.get(name.lower())
    return OBJECT_TYPES[key] if key else None


def resolve_object_type(name: str) -> ObjectType:
    ot = lookup_object_type(name)
    if ot is None:
        raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
    return ot


# (from type, to type) -> (v3 association type name, v4 HUBSPOT_DEFINED typeId).
# Names follow the seed contract (``meeting_to_contact``); type ids are HubSpot's defaults.
ASSOCIATION_TYPES: dict[tuple[str, str], tuple[str, int]] = {
    ("contacts", "companies"): ("contact_to_company", 279),
    ("companies", "contacts"): ("company_to_contact", 280),
    ("deals", "companies"): ("deal_to_company", 341),
    ("companies", "deals"): ("company_to_deal", 342),
    ("deals", "contacts"): ("deal_to_contact", 3),
    ("contacts", "deals"): ("contact_to_deal", 4),
    ("calls", "contacts"): ("call_to_contact", 194),
    ("contacts", "calls"): ("contact_to_call", 193),
    ("meetings", "contacts"): ("meeting_to_contact", 200),
    ("contacts", "meetings"): ("contact_to_meeting", 199),
    ("tasks", "contacts"): ("task_to_contact", 204),
    ("contacts", "tasks"): ("contact_to_task", 203),
}
_BY_TYPE_ID = {type_id: (pair, name) for pair, (name, type_id) in ASSOCIATION_TYPES.items()}


def association_type(from_type: str, to_type: str, seed_name: str | None = None) -> tuple[str, int]:
    """Name and type id of the association from one object type to another.

    Pairs outside the table (not in our seed contract) still work: they get a
    generated ``<from>_to_<to>`` name and type id 0.
    """
    known = ASSOCIATION_TYPES.get((from_type, to_type))
    if known:
        return known
    if seed_name:
        return seed_name, 0
    return f"{OBJECT_TYPES[from_type].singular}_to_{OBJECT_TYPES[to_type].singular}", 0


def association_by_type_id(type_id: int) -> tuple[tuple[str, str], str] | None:
    """((from type, to type), name) of a HUBSPOT_DEFINED association type id."""
    return _BY_TYPE_ID.get(type_id)
