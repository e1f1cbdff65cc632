"""Property definitions: HubSpot's built-ins that the warehouse uses, plus custom ones.

The built-ins cover every property named in docs/landing.md with HubSpot's types
(dates are ``datetime``, amounts and head counts ``number``, opt-out ``bool``).
Custom properties (the warehouse's ``revops_*``) do not exist until created through
``POST /crm/v3/properties/{objectType}``; they are persisted by the store and
registered here.
"""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

from . import errors
from .schema import OBJECT_TYPES

# Written only by the server itself; a client writing them gets a 400.
READ_ONLY_PROPERTIES = frozenset(
    {"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_createdate",
     "hs_merged_object_ids", "hs_task_completion_date"}
)

PROPERTY_TYPES = ("bool", "date", "datetime", "enumeration", "number", "phone_number", "string")
FIELD_TYPES = ("booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number",
               "phonenumber", "radio", "select", "text", "textarea")
_DEFAULT_FIELD_TYPE = {"bool": "booleancheckbox", "date": "date", "datetime": "date", "enumeration": "select",
                       "number": "number", "phone_number": "phonenumber", "string": "text"}
# Names are embedded in SQLite JSON paths, so they are restricted to HubSpot's own charset.
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")

# Built-in definitions carry a fixed timestamp: they exist "since the portal was created".
_BUILTIN_TS = "2020-01-01T00:00:00.000Z"


def _opts(*values: str) -> list[dict[str, Any]]:
    return [{"label": v.replace("_", " ").title(), "value": v, "displayOrder": i, "hidden": False,
             "description": ""} for i, v in enumerate(values)]


_BOOL_OPTIONS = [{"label": "True", "value": "true", "displayOrder": 0, "hidden": False, "description": ""},
                 {"label": "False", "value": "false", "displayOrder": 1, "hidden": False, "description": ""}]


def _p(name: str, label: str, ptype: str = "string", group: str = "", *, field: str | None = None,
       options: list[dict[str, Any]] | None = None, owner: bool = False) -> dict[str, Any]:
    read_only = name in READ_ONLY_PROPERTIES
    d: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": ptype,
        "fieldType": field or _DEFAULT_FIELD_TYPE[ptype],
        "groupName": group,
        "description": "",
        "options": options if options is not None else (_BOOL_OPTIONS if ptype == "bool" else []),
        "displayOrder": -1,
        "calculated": False,
        "externalOptions": owner,
        "hasUniqueValue": False,
        "hidden": False,
        "hubspotDefined": True,
        "formField": not read_only,
        "dataSensitivity": "non_sensitive",
        "archived": False,
        "createdAt": _BUILTIN_TS,
        "updatedAt": _BUILTIN_TS,
        "modificationMetadata": {"archivable": False, "readOnlyDefinition": True, "readOnlyValue": read_only},
    }
    if owner:
        d["referencedObjectType"] = "OWNER"
    return d


def _owner(group: str) -> dict[str, Any]:
    return _p("hubspot_owner_id", "Owner", "enumeration", group, owner=True)


def _lifecycle(group: str) -> dict[str, Any]:
    return _p("lifecyclestage", "Lifecycle Stage", "enumeration", group, field="radio", options=_opts(
        "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
        "evangelist", "other"))


def _system(created: str, modified: str, group: str) -> list[dict[str, Any]]:
    return [
        _p(created, "Create Date", "datetime", group),
        _p(modified, "Last Modified Date", "datetime", group),
        _p("hs_object_id", "Record ID", "number", group),
    ]


def _engagement(group: str) -> list[dict[str, Any]]:
    return [_p("hs_timestamp", "Activity date", "datetime", group), _owner(group),
            *_system("hs_createdate", "hs_lastmodifieddate", group)]


_BUILTINS: dict[str, list[dict[str, Any]]] = {
    "contacts": [
        _p("email", "Email", "string", "contactinformation"),
        _p("firstname", "First Name", "string", "contactinformation"),
        _p("lastname", "Last Name", "string", "contactinformation"),
        _p("jobtitle", "Job Title", "string", "contactinformation"),
        _p("company", "Company Name", "string", "contactinformation"),
        _p("phone", "Phone Number", "string", "contactinformation", field="phonenumber"),
        _p("mobilephone", "Mobile Phone Number", "string", "contactinformation", field="phonenumber"),
        _p("website", "Website URL", "string", "contactinformation"),
        _p("address", "Street Address", "string", "contactinformation"),
        _p("city", "City", "string", "contactinformation"),
        _p("state", "State/Region", "string", "contactinformation"),
        _p("zip", "Postal Code", "string", "contactinformation"),
        _p("country", "Country/Region", "string", "contactinformation"),
        _lifecycle("contactinformation"),
        _p("hs_lead_status", "Lead Status", "enumeration", "sales_properties", field="radio", options=_opts(
            "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
            "BAD_TIMING")),
        _owner("sales_properties"),
        _p("hs_email_optout", "Unsubscribed from all email", "bool", "contactinformation"),
        _p("hs_merged_object_ids", "Merged Contact IDs", "enumeration", "contactinformation", field="checkbox"),
        *_system("createdate", "lastmodifieddate", "contactinformation"),
    ],
    "companies": [
        _p("name", "Company name", "string", "companyinformation"),
        _p("domain", "Company Domain Name", "string", "companyinformation"),
        _p("website", "Website URL", "string", "companyinformation"),
        _p("industry", "Industry", "enumeration", "companyinformation"),
        _p("numberofemployees", "Number of Employees", "number", "companyinformation"),
        _p("annualrevenue", "Annual Revenue", "number", "companyinformation"),
        _p("description", "Description", "string", "companyinformation", field="textarea"),
        _p("phone", "Phone Number", "string", "companyinformation", field="phonenumber"),
        _p("city", "City", "string", "companyinformation"),
        _p("state", "State/Region", "string", "companyinformation"),
        _p("country", "Country/Region", "string", "companyinformation"),
        _lifecycle("companyinformation"),
        _owner("companyinformation"),
        _p("hs_merged_object_ids", "Merged Company IDs", "enumeration", "companyinformation", field="checkbox"),
        *_system("createdate", "hs_lastmodifieddate", "companyinformation"),
    ],
    "deals": [
        _p("dealname", "Deal Name", "string", "dealinformation"),
        _p("amount", "Amount", "number", "dealinformation"),
        _p("dealstage", "Deal Stage", "enumeration", "dealinformation", field="radio", options=_opts(
            "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
            "contractsent", "closedwon", "closedlost")),
        _p("pipeline", "Pipeline", "enumeration", "dealinformation", options=_opts("default")),
        _p("closedate", "Close Date", "datetime", "dealinformation"),
        _p("dealtype", "Deal Type", "enumeration", "dealinformation", field="radio",
           options=_opts("newbusiness", "existingbusiness")),
        _p("description", "Deal Description", "string", "dealinformation", field="textarea"),
        _owner("dealinformation"),
        *_system("createdate", "hs_lastmodifieddate", "dealinformation"),
    ],
    "calls": [
        *_engagement("call"),
        _p("hs_call_direction", "Call direction", "enumeration", "call", options=_opts("INBOUND", "OUTBOUND")),
        _p("hs_call_title", "Call Title", "string", "call"),
        _p("hs_call_body", "Call notes", "string", "call", field="html"),
        _p("hs_call_status", "Call status", "enumeration", "call", options=_opts(
            "BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED", "IN_PROGRESS",
            "NO_ANSWER", "QUEUED", "RINGING")),
        _p("hs_call_duration", "Call duration", "number", "call"),
        _p("hs_call_disposition", "Call outcome", "string", "call"),
    ],
    "meetings": [
        *_engagement("meeting"),
        _p("hs_meeting_title", "Meeting name", "string", "meeting"),
        _p("hs_meeting_body", "Meeting description", "string", "meeting", field="html"),
        _p("hs_meeting_start_time", "Start Time", "datetime", "meeting"),
        _p("hs_meeting_end_time", "End Time", "datetime", "meeting"),
        _p("hs_meeting_location", "Location", "string", "meeting"),
        _p("hs_meeting_outcome", "Meeting outcome", "enumeration", "meeting", options=_opts(
            "SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED")),
    ],
    "tasks": [
        *_engagement("task"),
        _p("hs_task_subject", "Task Title", "string", "task"),
        _p("hs_task_body", "Notes", "string", "task", field="html"),
        _p("hs_task_status", "Task Status", "enumeration", "task", options=_opts(
            "NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")),
        _p("hs_task_priority", "Priority", "enumeration", "task", options=_opts("NONE", "LOW", "MEDIUM", "HIGH")),
        _p("hs_task_type", "Task Type", "enumeration", "task", options=_opts("CALL", "EMAIL", "TODO")),
        # set by the server when the status becomes COMPLETED, cleared when it leaves it (api.py)
        _p("hs_task_completion_date", "Completed at", "datetime", "task"),
    ],
}
assert set(_BUILTINS) == set(OBJECT_TYPES)


class PropertyCatalog:
    """All property definitions per object type: built-ins plus custom ones."""

    def __init__(self) -> None:
        self._defs: dict[str, dict[str, dict[str, Any]]] = {
            ot: {d["name"]: d for d in defs} for ot, defs in _BUILTINS.items()
        }
        self._lock = threading.Lock()

    def get(self, object_type: str, name: str) -> dict[str, Any] | None:
        return self._defs[object_type].get(name)

    def all(self, object_type: str) -> list[dict[str, Any]]:
        return list(self._defs[object_type].values())

    def add(self, object_type: str, definition: dict[str, Any]) -> None:
        with self._lock:
            defs = dict(self._defs[object_type])  # copy-on-write: readers never see a half-updated dict
            defs[definition["name"]] = definition
            self._defs[object_type] = defs

    def is_unique(self, object_type: str, name: str) -> bool:
        """Whether ``name`` can identify a record (``idProperty``)."""
        if name == "hs_object_id" or (object_type == "contacts" and name == "email"):
            return True
        d = self.get(object_type, name)
        return bool(d and d.get("hasUniqueValue"))


def seed_definition(name: str, now_iso: str) -> dict[str, Any]:
    """A string property found in seed data but unknown to the catalog: the portal evidently has it."""
    d = custom_definition({"name": name, "label": name, "type": "string", "fieldType": "text",
                           "groupName": "seeded"}, now_iso)
    d["description"] = "Found in the seed world's records; registered automatically."
    return d


def validate_property_create(body: Any) -> None:
    """Check a ``PropertyCreate`` request body; raise a 400 VALIDATION_ERROR listing every problem."""
    if not isinstance(body, dict):
        raise errors.validation_error("Invalid input JSON: expected an object")
    problems: list[str] = []
    for field in ("name", "label", "type", "fieldType", "groupName"):
        if not isinstance(body.get(field), str) or not body.get(field):
            problems.append(f"{field} is required and must be a non-empty string")
    name = body.get("name")
    if isinstance(name, str) and name and not PROPERTY_NAME.match(name):
        problems.append(f"Property name '{name}' is invalid: use lower-case letters, digits and underscores, "
                        "starting with a letter")
    if isinstance(body.get("type"), str) and body["type"] not in PROPERTY_TYPES:
        problems.append(f"type '{body['type']}' is not one of {list(PROPERTY_TYPES)}")
    if isinstance(body.get("fieldType"), str) and body["fieldType"] not in FIELD_TYPES:
        problems.append(f"fieldType '{body['fieldType']}' is not one of {list(FIELD_TYPES)}")
    options = body.get("options", [])
    if not isinstance(options, list) or any(
        not isinstance(o, dict) or not isinstance(o.get("value"), str) or not isinstance(o.get("label"), str)
        for o in options
    ):
        problems.append("options must be a list of objects with string label and value")
    if problems:
        raise errors.validation_error(
            "Property definition was not valid: " + "; ".join(problems),
            errors=[{"message": p, "code": "INVALID_PROPERTY_DEFINITION"} for p in problems],
        )


def custom_definition(body: dict[str, Any], now_iso: str) -> dict[str, Any]:
    """The stored/returned ``Property`` for a validated ``PropertyCreate`` body."""
    ptype = body["type"]
    options = [
        {"label": o["label"], "value": o["value"], "displayOrder": int(o.get("displayOrder", i)),
         "hidden": bool(o.get("hidden", False)), "description": str(o.get("description", ""))}
        for i, o in enumerate(body.get("options") or [])
    ]
    if ptype == "bool" and not options:
        options = copy.deepcopy(_BOOL_OPTIONS)
    d: dict[str, Any] = {
        "name": body["name"],
        "label": body["label"],
        "type": ptype,
        "fieldType": body["fieldType"],
        "groupName": body["groupName"],
        "description": str(body.get("description", "")),
        "options": options,
        "displayOrder": int(body.get("displayOrder", -1)),
        "calculated": False,
        "externalOptions": bool(body.get("externalOptions", False)),
        "hasUniqueValue": bool(body.get("hasUniqueValue", False)),
        "hidden": bool(body.get("hidden", False)),
        "hubspotDefined": False,
        "formField": bool(body.get("formField", False)),
        "dataSensitivity": body.get("dataSensitivity", "non_sensitive"),
        "archived": False,
        "createdAt": now_iso,
        "updatedAt": now_iso,
        "modificationMetadata": {"archivable": True, "readOnlyDefinition": False, "readOnlyValue": False},
    }
    for optional in ("referencedObjectType", "numberDisplayHint", "textDisplayHint", "showCurrencySymbol"):
        if optional in body:
            d[optional] = body[optional]
    return d
