"""Sandbox CRM responses validated against HubSpot's official OpenAPI specs.

Each response is checked against the schema the spec declares for that path, method and
status code (a success status the spec does not declare fails the test). The specs live
outside the repository (``../shared/hubspot-openapi`` next to it, or ``$HUBSPOT_OPENAPI_DIR``).

One deliberate relaxation: HubSpot's live API returns ``null`` for a requested property that
has no value, while the published schema types property values as ``string`` only; the
sandbox follows the live API, so ``properties`` values may be string or null here.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from sandbox.crm_server.testing import running_server, tiny_world

SPEC_DIR = Path(os.environ.get("HUBSPOT_OPENAPI_DIR") or Path(__file__).parents[1].parent / "shared" / "hubspot-openapi")
NULLABLE_PROPERTIES = ("SimplePublicObject", "SimplePublicObjectWithAssociations", "SimplePublicUpsertObject")

pytestmark = pytest.mark.skipif(
    not SPEC_DIR.is_dir(),
    reason=f"HubSpot OpenAPI specs not found at {SPEC_DIR}; set HUBSPOT_OPENAPI_DIR to validate responses",
)

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", value):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("uuid", raises=ValueError)
def _uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(uuid.UUID(value))


@functools.cache
def spec(name: str) -> dict[str, Any]:
    data = json.loads((SPEC_DIR / f"{name}.json").read_text())
    for schema_name in NULLABLE_PROPERTIES:
        schema = data["components"]["schemas"].get(schema_name)
        if schema:
            schema["properties"]["properties"]["additionalProperties"] = {"type": ["string", "null"]}
    return data


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def check(spec_name: str, path: str, method: str, response: httpx.Response) -> dict[str, Any]:
    """Validate ``response`` against the spec's schema for (path, method, status); returns the body."""
    document = spec(spec_name)
    responses = document["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    if status not in responses and response.is_success:
        pytest.fail(f"{method} {path} answered {status}, which the spec does not declare ({sorted(responses)})")
    declared = responses.get(status) or responses["default"]
    if "$ref" in declared:
        declared = _resolve(document, declared["$ref"])
    if not declared.get("content"):
        assert response.content == b"", f"{method} {path} {status} should have no body"
        return {}
    content = declared["content"]
    schema = (content.get("application/json") or content.get("*/*"))["schema"]
    root = {**copy.deepcopy(schema), "components": document["components"]}
    body = response.json()
    validator = jsonschema.Draft4Validator(root, format_checker=FORMATS)
    problems = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not problems, f"{method} {path} {status}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in problems[:5])
    return body


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("openapi"), tiny_world(), rate_limit_10s=100_000,
                        search_per_second=10_000) as (_, c):
        yield c


C = "/crm/v3/objects/contacts"


def test_list_and_get(client):
    body = check("contacts", C, "GET", client.get(C, params={"limit": 2, "associations": "companies,deals"}))
    assert body["paging"]["next"]["after"] and body["results"][0]["associations"]["companies"]["results"]
    check("contacts", C, "GET", client.get(C, params={"archived": "true", "properties": "phone,email"}))
    body = check("contacts", f"{C}/{{contactId}}", "GET",
                 client.get(f"{C}/1001", params={"associations": "companies", "properties": "phone"}))
    assert body["properties"]["phone"] is None  # the relaxation above, exercised
    check("contacts", f"{C}/{{contactId}}", "GET", client.get(f"{C}/424242"))
    check("companies", "/crm/v3/objects/companies/{companyId}", "GET",
          client.get("/crm/v3/objects/companies/77", params={"associations": "contacts,deals"}))
    check("companies", "/crm/v3/objects/companies", "GET", client.get("/crm/v3/objects/companies"))
    check("deals", "/crm/v3/objects/0-3/{dealId}", "GET", client.get("/crm/v3/objects/0-3/9001?associations=contacts"))
    for kind in ("calls", "meetings", "tasks"):
        check(kind, f"/crm/v3/objects/{kind}", "GET", client.get(f"/crm/v3/objects/{kind}", params={"associations": "contacts"}))


def test_search(client):
    request = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE",
                                              "value": "1785000000000"}]}],
               "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}], "limit": 3}
    body = check("contacts", f"{C}/search", "POST", client.post(f"{C}/search", json=request))
    assert body["total"] > 3 and body["paging"]["next"]["after"] == "3"
    check("contacts", f"{C}/search", "POST", client.post(f"{C}/search", json={"limit": 500}))
    check("deals", "/crm/v3/objects/0-3/search", "POST",
          client.post("/crm/v3/objects/0-3/search", json={"properties": ["amount", "dealstage"]}))


def test_batch_read_update_upsert_create(client):
    ok = client.post(f"{C}/batch/read", json={"inputs": [{"id": "1001"}], "properties": ["email"]})
    assert check("contacts", f"{C}/batch/read", "POST", ok)["status"] == "COMPLETE"
    partial = client.post(f"{C}/batch/read", json={"inputs": [{"id": "1001"}, {"id": "5"}], "properties": []})
    assert check("contacts", f"{C}/batch/read", "POST", partial)["numErrors"] == 1

    ok = client.post(f"{C}/batch/update", json={"inputs": [{"id": "1002", "properties": {"jobtitle": "QA"}}]})
    check("contacts", f"{C}/batch/update", "POST", ok)
    partial = client.post(f"{C}/batch/update", json={"inputs": [
        {"id": "1002", "properties": {"jobtitle": "QA lead"}}, {"id": "8", "properties": {"jobtitle": "x"}},
        {"id": "1003", "properties": {"email": "broken"}}]})
    assert check("contacts", f"{C}/batch/update", "POST", partial)["numErrors"] == 2

    ok = client.post(f"{C}/batch/upsert", json={"inputs": [
        {"id": "bob@acme.com", "idProperty": "email", "properties": {"jobtitle": "QA"}},
        {"id": "fresh@example.org", "idProperty": "email", "properties": {"firstname": "F"}}]})
    body = check("contacts", f"{C}/batch/upsert", "POST", ok)
    assert sorted(r["new"] for r in body["results"]) == [False, True]
    partial = client.post(f"{C}/batch/upsert", json={"inputs": [
        {"id": "fresh@example.org", "idProperty": "email", "properties": {"lastname": "G"}},
        {"id": "nope", "idProperty": "email", "properties": {}}]})
    check("contacts", f"{C}/batch/upsert", "POST", partial)

    check("contacts", f"{C}/batch/create", "POST",
          client.post(f"{C}/batch/create", json={"inputs": [{"properties": {"email": "made@x.io"}, "associations": []}]}))
    check("contacts", f"{C}/batch/create", "POST",
          client.post(f"{C}/batch/create", json={"inputs": [{"properties": {"email": "made2@x.io"}},
                                                             {"properties": {"email": "made@x.io"}}]}))
    check("contacts", C, "POST", client.post(C, json={"properties": {"email": "single@x.io"}, "associations": []}))
    check("contacts", f"{C}/{{contactId}}", "PATCH", client.patch(f"{C}/1005", json={"properties": {"phone": "1"}}))
    check("contacts", f"{C}/batch/archive", "POST", client.post(f"{C}/batch/archive", json={"inputs": [{"id": "1012"}]}))


def test_error_bodies(client, tmp_path):
    bad = client.post(f"{C}/batch/update", json={"inputs": [{"id": "1001", "properties": {"nope": "x"}}]})
    assert check("contacts", f"{C}/batch/update", "POST", bad)["category"] == "VALIDATION_ERROR"
    too_many = client.post(f"{C}/batch/update", json={"inputs": [{"id": str(i), "properties": {}} for i in range(101)]})
    check("contacts", f"{C}/batch/update", "POST", too_many)
    dupes = client.post(f"{C}/batch/upsert", json={"inputs": [{"id": "a@b.io", "idProperty": "email", "properties": {}}] * 2})
    check("contacts", f"{C}/batch/upsert", "POST", dupes)
    unauthenticated = httpx.get(f"{client.base_url}{C}")
    assert check("contacts", C, "GET", unauthenticated)["category"] == "INVALID_AUTHENTICATION"
    conflict = client.post(C, json={"properties": {"email": "ann@acme.com"}})
    assert conflict.status_code == 409 and check("contacts", C, "POST", conflict)
    with running_server(tmp_path, tiny_world(), rate_limit_10s=1) as (_, limited):
        limited.get(C)
        throttled = limited.get(C)
        assert throttled.status_code == 429 and check("contacts", C, "GET", throttled)["policyName"]
    with running_server(tmp_path / "faults", tiny_world(), fault_5xx_rate=1.0) as (_, failing):
        check("contacts", C, "GET", failing.get(C))


def test_properties_api(client):
    P = "/crm/v3/properties/{objectType}"
    body = check("properties", P, "GET", client.get("/crm/v3/properties/contacts"))
    assert {"email", "lastmodifieddate"} <= {p["name"] for p in body["results"]}
    for object_type in ("companies", "0-3", "calls", "meetings", "tasks"):
        check("properties", P, "GET", client.get(f"/crm/v3/properties/{object_type}"))
    spec_body = {"name": "revops_next_action_date", "label": "Next action date", "type": "datetime",
                 "fieldType": "date", "groupName": "contactinformation", "description": "Set by the warehouse"}
    created = check("properties", P, "POST", client.post("/crm/v3/properties/contacts", json=spec_body))
    assert created["name"] == "revops_next_action_date"
    check("properties", P, "POST", client.post("/crm/v3/properties/contacts", json=spec_body))  # 409
    check("properties", P, "POST", client.post("/crm/v3/properties/contacts", json={"name": "x"}))  # 400
    check("properties", f"{P}/{{propertyName}}", "GET", client.get("/crm/v3/properties/contacts/revops_next_action_date"))
    check("properties", f"{P}/{{propertyName}}", "GET", client.get("/crm/v3/properties/contacts/nope"))


def test_owners(client):
    body = check("crmOwners", "/crm/v3/owners", "GET", client.get("/crm/v3/owners"))
    assert body["results"][0]["type"] == "PERSON"
    check("crmOwners", "/crm/v3/owners", "GET", client.get("/crm/v3/owners", params={"archived": "true", "limit": 1}))
    check("crmOwners", "/crm/v3/owners/{ownerId}", "GET", client.get("/crm/v3/owners/501"))
    check("crmOwners", "/crm/v3/owners/{ownerId}", "GET", client.get("/crm/v3/owners/404"))
