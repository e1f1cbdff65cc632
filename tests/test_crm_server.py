"""Behaviour of the HubSpot-compatible sandbox CRM server (sandbox/crm_server)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from sandbox.crm_server import SEARCH_RESULT_CAP, CRMServer, ServerConfig, seed_counts
from sandbox.crm_server.__main__ import main as cli_main
from sandbox.crm_server.testing import TEST_TOKEN, client_for, running_server, tiny_world, write_world

CONTACTS = "/crm/v3/objects/contacts"
# Generous limits for tests that are not about rate limiting (HubSpot's search limit is 5/s).
NO_LIMITS = {"rate_limit_10s": 1_000_000, "search_per_second": 1_000_000}


def serve(tmp_path, world=None, **config):
    """running_server() with rate limits out of the way unless a test sets them."""
    return running_server(tmp_path, world, **{**NO_LIMITS, **config})


@pytest.fixture
def crm(tmp_path):
    with serve(tmp_path) as (server, client):
        yield server, client


@pytest.fixture
def client(crm):
    return crm[1]


def search(client: httpx.Client, object_type: str = "contacts", **body) -> httpx.Response:
    return client.post(f"/crm/v3/objects/{object_type}/search", json=body)


def flt(name: str, op: str, value=None, **more) -> dict:
    f = {"propertyName": name, "operator": op, **more}
    if value is not None:
        f["value"] = value
    return f


def ids(response: httpx.Response) -> list[str]:
    return [r["id"] for r in response.json()["results"]]


# --- health, auth ----------------------------------------------------------------------------


def test_health_needs_no_token(crm):
    server, _ = crm
    r = httpx.get(f"{server.url}/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic abc"}])
def test_401_without_or_with_wrong_token(crm, headers):
    server, _ = crm
    r = httpx.get(f"{server.url}{CONTACTS}", headers=headers)
    assert r.status_code == 401
    body = r.json()
    assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
    assert body["correlationId"] and "wrong-token" not in r.text


def test_token_comes_from_environment_and_is_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBSPOT_TOKEN", "env-secret-token")
    log = tmp_path / "access.log"
    config = ServerConfig(db_path=tmp_path / "db.sqlite", world_dir=write_world(tmp_path / "w"), access_log=log)
    assert "env-secret-token" not in repr(config)
    server = CRMServer(config).start()
    try:
        with client_for(server, "env-secret-token") as c:
            assert c.get(CONTACTS).status_code == 200
            assert c.get(f"{CONTACTS}?email=x@y.com", headers={"Authorization": "Bearer nope"}).status_code == 401
    finally:
        server.stop()
    text = log.read_text()
    assert "GET /crm/v3/objects/contacts 200" in text and "GET /crm/v3/objects/contacts 401" in text
    assert "secret" not in text and "nope" not in text and "x@y.com" not in text


def test_server_refuses_to_start_without_token(tmp_path, monkeypatch):
    monkeypatch.delenv("HUBSPOT_TOKEN", raising=False)
    with pytest.raises(RuntimeError, match="HUBSPOT_TOKEN"):
        CRMServer(ServerConfig(db_path=tmp_path / "db.sqlite")).start()


# --- reads -----------------------------------------------------------------------------------


def test_list_pages_with_default_properties(client):
    seen, after, pages = [], None, 0
    while True:
        r = client.get(CONTACTS, params={"limit": 5, **({"after": after} if after else {})})
        assert r.status_code == 200
        body = r.json()
        seen += [x["id"] for x in body["results"]]
        pages += 1
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
        assert body["paging"]["next"]["link"].startswith(str(client.base_url).rstrip("/") + CONTACTS + "?")
    assert pages == 3
    assert seen == [str(i) for i in range(1001, 1013) if i != 1004]  # 1004 is archived
    first = client.get(CONTACTS, params={"limit": 1}).json()["results"][0]
    assert first["properties"] == {
        "createdate": "2026-08-01T09:00:00.000Z", "email": "ann@acme.com", "firstname": "Ann",
        "hs_object_id": "1001", "lastmodifieddate": "2026-08-01T10:00:00.000Z", "lastname": "Lee"}
    assert first["createdAt"] == "2026-08-01T09:00:00.000Z" and first["archived"] is False


def test_list_limit_is_capped_at_100_and_properties_param(client):
    r = client.get(CONTACTS, params={"limit": 1000, "properties": "jobtitle,phone"})
    assert r.status_code == 200 and len(r.json()["results"]) == 11
    props = r.json()["results"][0]["properties"]
    # requested ones (null when unset, as HubSpot) plus createdate, lastmodifieddate, hs_object_id
    assert set(props) == {"jobtitle", "phone", "createdate", "lastmodifieddate", "hs_object_id"}
    assert props["jobtitle"] == "VP Sales" and props["phone"] is None


def test_get_by_id_by_email_and_404(client):
    r = client.get(f"{CONTACTS}/1003", params={"properties": "phone"})
    assert r.status_code == 200 and r.json()["properties"]["phone"] == "+1-555-0100"
    r = client.get("/crm/v3/objects/0-1/1003")  # type id alias
    assert r.status_code == 200 and r.json()["id"] == "1003"
    r = client.get(f"{CONTACTS}/CARA@globex.com", params={"idProperty": "email"})
    assert r.status_code == 200 and r.json()["id"] == "1003"
    r = client.get(f"{CONTACTS}/999999")
    assert r.status_code == 404
    assert r.json()["category"] == "OBJECT_NOT_FOUND" and r.json()["status"] == "error"


def test_archived_records_hidden_by_default(client):
    assert "1004" not in ids(client.get(CONTACTS, params={"limit": 100}))
    archived = client.get(CONTACTS, params={"limit": 100, "archived": "true"}).json()["results"]
    assert [a["id"] for a in archived] == ["1004"]
    assert archived[0]["archived"] is True and archived[0]["archivedAt"]
    assert client.get(f"{CONTACTS}/1004").status_code == 404
    assert client.get(f"{CONTACTS}/1004", params={"archived": "true"}).status_code == 200
    assert search(client, filterGroups=[{"filters": [flt("lastname", "EQ", "Lee")]}]).json()["total"] == 1


def test_associations_both_directions(client):
    contact = client.get(f"{CONTACTS}/1001", params={"associations": "companies,deals,calls"}).json()
    assert contact["associations"]["companies"]["results"] == [{"id": "77", "type": "contact_to_company"}]
    assert contact["associations"]["deals"]["results"] == [{"id": "9001", "type": "contact_to_deal"}]
    assert contact["associations"]["calls"]["results"] == [{"id": "20001", "type": "contact_to_call"}]
    company = client.get("/crm/v3/objects/companies/77", params={"associations": "contacts,deals"}).json()
    # 1004 is associated too but archived: HubSpot does not return associations to archived records
    assert company["associations"]["contacts"]["results"] == [
        {"id": "1001", "type": "company_to_contact"}, {"id": "1002", "type": "company_to_contact"}]
    assert company["associations"]["deals"]["results"] == [{"id": "9001", "type": "company_to_deal"}]
    listed = client.get("/crm/v3/objects/meetings", params={"associations": "contacts"}).json()["results"]
    assert listed[0]["associations"]["contacts"]["results"] == [{"id": "1002", "type": "meeting_to_contact"}]
    task = client.get("/crm/v3/objects/0-27/40001", params={"associations": "contacts"}).json()
    assert task["associations"]["contacts"]["results"][0] == {"id": "1003", "type": "task_to_contact"}
    # no associations of a type -> no key, as HubSpot
    assert "associations" not in client.get(f"{CONTACTS}/1006", params={"associations": "companies"}).json()

    v4 = client.get("/crm/v4/objects/companies/77/associations/contacts").json()
    assert v4["results"] == [
        {"toObjectId": 1001, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 280, "label": None}]},
        {"toObjectId": 1002, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 280, "label": None}]}]
    r = client.post("/crm/v4/associations/contacts/companies/batch/read",
                    json={"inputs": [{"id": "1001"}, {"id": "1003"}, {"id": "1006"}]})
    assert r.status_code == 207
    body = r.json()
    assert {x["from"]["id"]: [t["toObjectId"] for t in x["to"]] for x in body["results"]} == {"1001": [77], "1003": [78]}
    assert body["numErrors"] == 1 and body["errors"][0]["context"] == {"fromObjectId": ["1006"]}
    r = client.post("/crm/v4/associations/deals/contacts/batch/read", json={"inputs": [{"id": "9001"}]})
    assert r.status_code == 200 and r.json()["results"][0]["to"][0]["associationTypes"][0]["typeId"] == 3


def test_owners(client):
    body = client.get("/crm/v3/owners").json()
    assert [o["id"] for o in body["results"]] == ["501"]
    assert body["results"][0] == {
        "id": "501", "email": "rep.one@northwind.io", "firstName": "Rita", "lastName": "One", "userId": 9001,
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z", "archived": False,
        "teams": [{"id": "1", "name": "NA", "primary": True}], "type": "PERSON"}
    assert [o["id"] for o in client.get("/crm/v3/owners", params={"archived": "true"}).json()["results"]] == ["502"]
    assert client.get("/crm/v3/owners", params={"email": "REP.ONE@northwind.io"}).json()["results"][0]["id"] == "501"
    assert client.get("/crm/v3/owners", params={"email": "nobody@x.io"}).json()["results"] == []
    assert client.get("/crm/v3/owners/501").json()["email"] == "rep.one@northwind.io"
    assert client.get("/crm/v3/owners/9001", params={"idProperty": "userId"}).json()["id"] == "501"
    assert client.get("/crm/v3/owners/502").status_code == 404
    assert client.get("/crm/v3/owners/502", params={"archived": "true"}).status_code == 200


def test_owners_paging(tmp_path):
    world = tiny_world()
    world["owners"] = [dict(world["owners"][0], id=str(600 + i), userId=7000 + i, email=f"o{i}@x.io")
                       for i in range(7)]
    with serve(tmp_path, world) as (_, client):
        first = client.get("/crm/v3/owners", params={"limit": 5}).json()
        assert len(first["results"]) == 5
        rest = client.get("/crm/v3/owners", params={"limit": 5, "after": first["paging"]["next"]["after"]}).json()
        assert [o["id"] for o in rest["results"]] == ["605", "606"] and "paging" not in rest


# --- search ----------------------------------------------------------------------------------


def test_search_operators(client):
    def found(*filters, object_type="contacts", groups=None, **body):
        fg = groups if groups is not None else [{"filters": list(filters)}]
        r = search(client, object_type, filterGroups=fg, limit=100, **body)
        assert r.status_code == 200, r.text
        return ids(r)

    assert found(flt("email", "EQ", "ANN@acme.com")) == ["1001"]  # case-insensitive
    assert found(flt("firstname", "NEQ", "Ann"))[:2] == ["1002", "1003"]
    assert found(flt("firstname", "IN", values=["ann", "CARA"])) == ["1001", "1003"]
    assert "1001" not in found(flt("firstname", "NOT_IN", values=["Ann"]))
    assert found(flt("phone", "HAS_PROPERTY")) == ["1003"]
    assert "1003" not in found(flt("phone", "NOT_HAS_PROPERTY"))
    assert found(flt("email", "CONTAINS_TOKEN", "*@acme.com")) == ["1001", "1002"]
    assert found(flt("jobtitle", "CONTAINS_TOKEN", "sales")) == ["1001"]
    assert "1001" not in found(flt("jobtitle", "NOT_CONTAINS_TOKEN", "sales"))
    # OR of groups, AND inside a group
    assert found(groups=[{"filters": [flt("firstname", "EQ", "Ann"), flt("lastname", "EQ", "Lee")]},
                         {"filters": [flt("firstname", "EQ", "Dan")]}]) == ["1001", "1005"]
    # numbers compare numerically ("99" < "120" although "99" > "120" as text)
    assert found(flt("numberofemployees", "GT", "100"), object_type="companies") == ["77", "79"]
    assert found(flt("annualrevenue", "BETWEEN", "700000", highValue="6000000"), object_type="companies") == ["77", "78"]
    # datetimes compare as instants: epoch milliseconds and ISO-8601 are the same filter
    iso = found(flt("lastmodifieddate", "GTE", "2026-08-11T10:00:00.000Z"))
    epoch = found(flt("lastmodifieddate", "GTE", "1786442400000"))
    offset = found(flt("lastmodifieddate", "GTE", "2026-08-11T12:00:00+02:00"))
    assert iso == epoch == offset == ["1011", "1012"]
    assert found(flt("lastmodifieddate", "LT", "1785751200000")) == ["1001", "1002"]  # < 2026-08-03T10:00Z
    assert found(flt("hs_timestamp", "BETWEEN", "2026-08-06", highValue="2026-08-07"), object_type="calls") == ["20001"]
    assert found(flt("hs_object_id", "IN", values=["1002", "1003"])) == ["1002", "1003"]
    # free-text query
    assert found(query="cara") == ["1003"]


def test_search_sorts_defaults_and_paging(client):
    r = search(client, sorts=[{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}], limit=3)
    body = r.json()
    assert ids(r) == ["1012", "1011", "1010"] and body["total"] == 11 and body["paging"]["next"]["after"] == "3"
    assert set(body["results"][0]["properties"]) == {
        "createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}
    r = search(client, sorts=[{"propertyName": "lastname", "direction": "ASCENDING"}], limit=20,
               properties=["lastname"])
    # ties (seven "Example") broken by id ascending so paging is stable
    assert ids(r) == ["1003", "1006", "1007", "1008", "1009", "1010", "1011", "1012", "1001", "1005", "1002"]
    all_ids, after = [], None
    while True:
        body = search(client, limit=4, **({"after": after} if after else {})).json()
        all_ids += [x["id"] for x in body["results"]]
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    assert all_ids == [str(i) for i in range(1001, 1013) if i != 1004]


def test_search_limit_200(client):
    assert search(client, limit=200).status_code == 200
    r = search(client, limit=201)
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"


def test_search_rejects_bad_requests(client):
    assert search(client, filterGroups=[{"filters": [flt("nope", "EQ", "x")]}]).status_code == 400
    assert search(client, filterGroups=[{"filters": [flt("email", "LIKE", "x")]}]).status_code == 400
    assert search(client, filterGroups=[{"filters": [flt("createdate", "GT", "yesterday")]}]).status_code == 400
    assert search(client, filterGroups=[{"filters": [flt("email", "HAS_PROPERTY")]}] * 6).status_code == 400


def test_search_cap_configurable(tmp_path):
    world = tiny_world()
    world["companies"] = [
        {"id": str(5000 + i), "properties": {"name": f"C{i}", "hs_lastmodifieddate": f"2026-08-01T00:00:{i:02d}.000Z"}}
        for i in range(50)]
    with serve(tmp_path, world, search_result_cap=30) as (_, client):
        got, after = [], None
        while True:
            body = search(client, "companies", limit=8, **({"after": after} if after else {})).json()
            assert body["total"] == 50  # total still tells the full count
            got += ids_of(body)
            if "paging" not in body:
                break
            after = body["paging"]["next"]["after"]
        assert len(got) == 30 and got == [str(5000 + i) for i in range(30)]
        r = search(client, "companies", after="30")
        assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
        # windowing the cursor reaches the rest, as clients are expected to do
        last = search(client, "companies", limit=1, after="29",
                      sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]).json()
        cursor = last["results"][0]["properties"]["hs_lastmodifieddate"]
        rest = search(client, "companies", limit=100,
                      filterGroups=[{"filters": [flt("hs_lastmodifieddate", "GT", cursor)]}]).json()
        assert rest["total"] == 20 and len(rest["results"]) == 20


def ids_of(body: dict) -> list[str]:
    return [r["id"] for r in body["results"]]


def test_search_cap_default_is_hubspots_10000(tmp_path):
    assert SEARCH_RESULT_CAP == 10_000 and ServerConfig(db_path=tmp_path / "x").search_result_cap == 10_000
    n = 10_050
    world = {"contacts": [{"id": str(i), "properties": {"email": f"c{i}@x.io", "lastmodifieddate": "2026-08-01T00:00:00.000Z"}}
                          for i in range(1, n + 1)]}
    with serve(tmp_path, world) as (_, client):
        body = search(client, limit=200, after="9900").json()
        assert body["total"] == n and len(body["results"]) == 100 and "paging" not in body
        assert body["results"][-1]["id"] == "10000"
        r = search(client, limit=10, after="10000")
        assert r.status_code == 400 and "10,000" in r.json()["message"]


# --- writes ----------------------------------------------------------------------------------


def test_unknown_property_is_a_400_validation_error(client):
    r = client.post(f"{CONTACTS}/batch/update", json={"inputs": [{"id": "1001", "properties": {"favourite_colour": "red"}}]})
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    detail = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert detail == [{"isValid": False, "message": 'Property "favourite_colour" does not exist',
                       "error": "PROPERTY_DOESNT_EXIST", "name": "favourite_colour",
                       "localizedErrorMessage": 'Property "favourite_colour" does not exist'}]
    assert body["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST" and len(body["correlationId"]) == 36
    assert client.get(f"{CONTACTS}/1001").json()["properties"]["lastmodifieddate"] == "2026-08-01T10:00:00.000Z"


@pytest.mark.parametrize("props, code", [
    ({"createdate": "2026-01-01T00:00:00.000Z"}, "READ_ONLY_VALUE"),
    ({"hs_object_id": "5"}, "READ_ONLY_VALUE"),
    ({"lastmodifieddate": "2026-01-01T00:00:00.000Z"}, "READ_ONLY_VALUE"),
    ({"firstname": 5}, "INVALID_PROPERTY_VALUE_TYPE"),
    ({"hs_email_optout": True}, "INVALID_PROPERTY_VALUE_TYPE"),
])
def test_read_only_and_non_string_values_are_rejected(client, props, code):
    r = client.patch(f"{CONTACTS}/1001", json={"properties": props})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == code


def test_value_validation_single_record(client):
    cases = [({"email": "not-an-email"}, "INVALID_EMAIL"), ({"hs_email_optout": "maybe"}, "INVALID_OPTION")]
    for props, code in cases:
        r = client.patch(f"{CONTACTS}/1001", json={"properties": props})
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == code
    r = client.patch("/crm/v3/objects/companies/77", json={"properties": {"numberofemployees": "lots"}})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "INVALID_DECIMAL"
    r = client.patch("/crm/v3/objects/deals/9001", json={"properties": {"closedate": "1790000000000"}})
    assert r.status_code == 200 and r.json()["properties"]["closedate"] == "2026-09-21T14:13:20.000Z"


def test_batch_of_101_inputs_is_rejected(client):
    for op in ("read", "update", "upsert", "archive", "create"):
        inputs = [{"id": str(i), "idProperty": "email", "properties": {}} for i in range(101)]
        if op == "create":
            inputs = [{"properties": {}} for _ in range(101)]
        r = client.post(f"{CONTACTS}/batch/{op}", json={"inputs": inputs})
        assert r.status_code == 400, op
        assert r.json()["category"] == "VALIDATION_ERROR"
    assert client.post(f"{CONTACTS}/batch/read", json={"inputs": [{"id": "1001"}] * 100}).status_code == 200


def test_duplicate_ids_in_a_batch_are_rejected(client):
    r = client.post(f"{CONTACTS}/batch/update", json={"inputs": [
        {"id": "1001", "properties": {"firstname": "A"}}, {"id": "1002", "properties": {}},
        {"id": "1001", "properties": {"firstname": "B"}}]})
    assert r.status_code == 400
    assert r.json()["message"].startswith("Duplicate IDs found in batch input: [1001]")
    r = client.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "ann@acme.com", "idProperty": "email", "properties": {}},
        {"id": "ANN@acme.com", "idProperty": "email", "properties": {}}]})
    assert r.status_code == 400 and "Duplicate IDs" in r.json()["message"]
    assert client.get(f"{CONTACTS}/1001").json()["properties"]["firstname"] == "Ann"  # nothing applied


def test_partial_failure_is_a_207_and_good_records_are_applied(client):
    r = client.post(f"{CONTACTS}/batch/update", json={"inputs": [
        {"id": "1001", "properties": {"jobtitle": "CRO"}},
        {"id": "424242", "properties": {"jobtitle": "Ghost"}},
        {"id": "1002", "properties": {"email": "bob(at)acme"}},
        {"id": "1003", "properties": {"jobtitle": "CTO"}, "objectWriteTraceId": "t-3"},
    ]})
    assert r.status_code == 207
    body = r.json()
    assert body["status"] == "COMPLETE" and body["numErrors"] == 2
    assert sorted(x["id"] for x in body["results"]) == ["1001", "1003"]
    by_category = {e["category"]: e for e in body["errors"]}
    assert by_category["OBJECT_NOT_FOUND"]["context"] == {"ids": ["424242"]}
    assert by_category["VALIDATION_ERROR"]["context"] == {"ids": ["1002"]}
    assert "INVALID_EMAIL" in by_category["VALIDATION_ERROR"]["message"]
    assert [x for x in body["results"] if x["id"] == "1003"][0]["objectWriteTraceId"] == "t-3"
    assert client.get(f"{CONTACTS}/1001", params={"properties": "jobtitle"}).json()["properties"]["jobtitle"] == "CRO"
    assert client.get(f"{CONTACTS}/1002").json()["properties"]["email"] == "bob@acme.com"


def test_batch_read(client):
    r = client.post(f"{CONTACTS}/batch/read", json={"inputs": [{"id": "1003"}, {"id": "1001"}], "properties": ["jobtitle"]})
    assert r.status_code == 200 and ids(r) == ["1003", "1001"]
    assert r.json()["results"][1]["properties"]["jobtitle"] == "VP Sales"
    r = client.post(f"{CONTACTS}/batch/read", json={"idProperty": "email", "inputs": [{"id": "bob@acme.com"}, {"id": "zz@q.io"}]})
    assert r.status_code == 207 and ids(r) == ["1002"]
    assert r.json()["errors"][0]["context"] == {"ids": ["zz@q.io"]}


def test_batch_upsert_creates_and_updates(client):
    max_id = 40001
    r = client.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "Ann@Acme.com", "idProperty": "email", "properties": {"jobtitle": "CEO"}},
        {"id": "new.person@example.org", "idProperty": "email", "properties": {"firstname": "New"}},
        {"id": "not an email", "idProperty": "email", "properties": {"firstname": "Bad"}},
    ]})
    assert r.status_code == 207
    body = r.json()
    results = {x["id"]: x for x in body["results"]}
    assert results["1001"]["new"] is False and results["1001"]["properties"]["jobtitle"] == "CEO"
    created = [x for x in body["results"] if x["new"]][0]
    assert int(created["id"]) > max_id and created["properties"]["hs_object_id"] == created["id"]
    assert created["properties"]["email"] == "new.person@example.org"
    assert created["properties"]["createdate"] == created["createdAt"] == created["properties"]["lastmodifieddate"]
    assert body["numErrors"] == 1 and body["errors"][0]["context"] == {"ids": ["not an email"]}
    r = client.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "new.person@example.org", "idProperty": "email", "properties": {"lastname": "Person"}}]})
    assert r.status_code == 200 and r.json()["results"][0]["new"] is False
    assert r.json()["results"][0]["id"] == created["id"]
    r = client.post(f"{CONTACTS}/batch/upsert", json={"inputs": [{"id": "1001", "properties": {}}]})
    assert r.status_code == 400  # upsert needs an idProperty


def test_create_update_archive_single_and_batch(client):
    r = client.post(CONTACTS, json={"properties": {"email": "Zed@Zeta.io", "firstname": "Zed"},
                                    "associations": [{"to": {"id": "78"}, "types": [
                                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]})
    assert r.status_code == 201
    zed = r.json()
    assert zed["properties"]["email"] == "zed@zeta.io" and int(zed["id"]) > 40001
    company = client.get("/crm/v3/objects/companies/78", params={"associations": "contacts"}).json()
    assert {"id": zed["id"], "type": "company_to_contact"} in company["associations"]["contacts"]["results"]
    assert client.post(CONTACTS, json={"properties": {"email": "zed@zeta.io"}}).status_code == 409
    r = client.patch(f"{CONTACTS}/{zed['id']}", json={"properties": {"firstname": "Zedd", "phone": ""}})
    assert r.status_code == 200 and r.json()["properties"]["firstname"] == "Zedd"
    assert client.patch(f"{CONTACTS}/777777", json={"properties": {"firstname": "x"}}).status_code == 404
    assert client.delete(f"{CONTACTS}/{zed['id']}").status_code == 204
    assert client.get(f"{CONTACTS}/{zed['id']}").status_code == 404

    r = client.post("/crm/v3/objects/deals/batch/create", json={"inputs": [
        {"properties": {"dealname": "D1", "amount": "100"}}, {"properties": {"dealname": "D2", "amount": "1e3x"}}]})
    assert r.status_code == 207 and [x["properties"]["dealname"] for x in r.json()["results"]] == ["D1"]
    assert r.json()["errors"][0]["context"] == {"index": ["1"]}
    d1 = r.json()["results"][0]
    assert d1["properties"]["createdate"] == d1["properties"]["hs_lastmodifieddate"]
    r = client.post("/crm/v3/objects/deals/batch/create", json={"inputs": [{"properties": {"dealname": "D3"}}]})
    assert r.status_code == 201
    assert client.post("/crm/v3/objects/deals/batch/archive",
                       json={"inputs": [{"id": d1["id"]}, {"id": "31337"}]}).status_code == 204
    assert client.get(f"/crm/v3/objects/deals/{d1['id']}").status_code == 404


def test_lastmodifieddate_moves_forward_and_old_cursor_finds_change(client):
    before = client.get(f"{CONTACTS}/1002").json()
    cursor = max(r["properties"]["lastmodifieddate"]
                 for r in search(client, limit=100, properties=["lastmodifieddate"]).json()["results"])
    stamps = []
    for title in ("A", "B", "C"):
        r = client.patch(f"{CONTACTS}/1002", json={"properties": {"jobtitle": title}})
        stamps.append(r.json()["properties"]["lastmodifieddate"])
        assert r.json()["updatedAt"] == stamps[-1]
    assert before["properties"]["lastmodifieddate"] < stamps[0] < stamps[1] < stamps[2]
    assert stamps[-1].endswith("Z") and len(stamps[-1]) == len("2026-08-01T10:00:00.000Z")
    # a write that changes nothing does not move it
    r = client.patch(f"{CONTACTS}/1002", json={"properties": {"jobtitle": "C"}})
    assert r.json()["properties"]["lastmodifieddate"] == stamps[-1]
    body = search(client, filterGroups=[{"filters": [flt("lastmodifieddate", "GTE", cursor)]}],
                  sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]).json()
    assert ids_of(body)[-1] == "1002" and body["results"][-1]["properties"]["lastmodifieddate"] == stamps[-1]
    # the same holds for the other objects' hs_lastmodifieddate and for upserts
    r = client.post("/crm/v3/objects/companies/batch/update", json={"inputs": [{"id": "78", "properties": {"industry": "X"}}]})
    stamp = r.json()["results"][0]["properties"]["hs_lastmodifieddate"]
    assert stamp > stamps[-1]
    found = search(client, "companies", filterGroups=[{"filters": [flt("hs_lastmodifieddate", "GTE", stamp)]}])
    assert ids(found) == ["78"]


# --- properties API --------------------------------------------------------------------------

DESIGN_PROPERTIES = {
    "contacts": {"email": "string", "firstname": "string", "lastname": "string", "jobtitle": "string",
                 "company": "string", "phone": "string", "country": "string", "lifecyclestage": "enumeration",
                 "hs_lead_status": "enumeration", "hubspot_owner_id": "enumeration", "hs_email_optout": "bool",
                 "hs_merged_object_ids": "enumeration", "createdate": "datetime", "lastmodifieddate": "datetime"},
    "companies": {"name": "string", "domain": "string", "industry": "enumeration", "numberofemployees": "number",
                  "annualrevenue": "number", "country": "string", "lifecyclestage": "enumeration",
                  "hubspot_owner_id": "enumeration", "createdate": "datetime", "hs_lastmodifieddate": "datetime"},
    "deals": {"dealname": "string", "amount": "number", "dealstage": "enumeration", "pipeline": "enumeration",
              "closedate": "datetime", "createdate": "datetime", "hubspot_owner_id": "enumeration",
              "hs_lastmodifieddate": "datetime"},
    "calls": {"hs_timestamp": "datetime", "hubspot_owner_id": "enumeration", "hs_call_direction": "enumeration"},
    "meetings": {"hs_timestamp": "datetime", "hubspot_owner_id": "enumeration", "hs_meeting_outcome": "enumeration"},
    "tasks": {"hs_timestamp": "datetime", "hubspot_owner_id": "enumeration", "hs_task_status": "enumeration",
              "hs_task_subject": "string"},
}


def test_builtin_properties_cover_design(client):
    for object_type, expected in DESIGN_PROPERTIES.items():
        defs = {d["name"]: d for d in client.get(f"/crm/v3/properties/{object_type}").json()["results"]}
        assert {n: defs[n]["type"] for n in expected} == expected, object_type
        assert not [n for n in defs if n.startswith("revops_")]
    stages = client.get("/crm/v3/properties/0-3/dealstage").json()
    assert [o["value"] for o in stages["options"]] == [
        "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
        "contractsent", "closedwon", "closedlost"]
    r = client.get("/crm/v3/properties/contacts/revops_lead_score")
    assert r.status_code == 404 and r.json()["category"] == "OBJECT_NOT_FOUND"


def test_create_custom_property_then_write_it(crm, tmp_path):
    server, client = crm
    spec = {"name": "revops_lead_grade", "label": "Lead grade", "type": "enumeration", "fieldType": "select",
            "groupName": "contactinformation",
            "options": [{"label": g, "value": g, "hidden": False, "displayOrder": i} for i, g in enumerate("ABCD")]}
    assert client.patch(f"{CONTACTS}/1001", json={"properties": {"revops_lead_grade": "A"}}).status_code == 400
    r = client.post("/crm/v3/properties/contacts", json=spec)
    assert r.status_code == 201
    created = r.json()
    assert created["name"] == "revops_lead_grade" and created["hubspotDefined"] is False
    assert [o["value"] for o in created["options"]] == ["A", "B", "C", "D"]
    r = client.post("/crm/v3/properties/contacts", json=spec)
    assert r.status_code == 409 and r.json()["status"] == "error"
    assert client.post("/crm/v3/properties/contacts", json={"name": "Bad Name"}).status_code == 400
    assert client.get("/crm/v3/properties/contacts/revops_lead_grade").json()["type"] == "enumeration"
    assert client.get("/crm/v3/properties/companies/revops_lead_grade").status_code == 404
    r = client.post(f"{CONTACTS}/batch/update", json={"inputs": [
        {"id": "1001", "properties": {"revops_lead_grade": "A"}}, {"id": "1002", "properties": {"revops_lead_grade": "Z"}}]})
    assert r.status_code == 207 and "INVALID_OPTION" in r.json()["errors"][0]["message"]
    found = search(client, filterGroups=[{"filters": [flt("revops_lead_grade", "EQ", "A")]}], properties=["revops_lead_grade"])
    assert ids(found) == ["1001"] and found.json()["results"][0]["properties"]["revops_lead_grade"] == "A"


def test_upsert_by_custom_unique_property(client):
    r = client.post("/crm/v3/properties/contacts", json={
        "name": "revops_person_id", "label": "Person", "type": "string", "fieldType": "text",
        "groupName": "revops", "hasUniqueValue": True})
    assert r.status_code == 201 and r.json()["hasUniqueValue"] is True
    assert client.patch(f"{CONTACTS}/1001", json={"properties": {"revops_person_id": "P-1"}}).status_code == 200
    r = client.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"id": "P-1", "idProperty": "revops_person_id", "properties": {"jobtitle": "Chief"}},
        {"id": "P-2", "idProperty": "revops_person_id", "properties": {"email": "p2@example.org"}}]})
    assert r.status_code == 200
    results = {x["properties"]["revops_person_id"]: x for x in r.json()["results"]}
    assert results["P-1"]["id"] == "1001" and results["P-1"]["new"] is False
    assert results["P-2"]["new"] is True and results["P-2"]["properties"]["email"] == "p2@example.org"
    r = client.patch(f"{CONTACTS}/1002", json={"properties": {"revops_person_id": "P-1"}})
    assert r.status_code == 409 and "Existing ID: 1001" in r.json()["message"]
    assert client.get(f"{CONTACTS}/P-2", params={"idProperty": "revops_person_id"}).json()["id"] == results["P-2"]["id"]
    assert client.get(f"{CONTACTS}/x", params={"idProperty": "firstname"}).status_code == 400


# --- rate limits -----------------------------------------------------------------------------


def test_ten_second_rolling_limit(tmp_path):
    with serve(tmp_path, rate_limit_10s=5) as (_, client):
        remaining = []
        for _ in range(5):
            r = client.get(CONTACTS)
            assert r.status_code == 200
            assert r.headers["X-HubSpot-RateLimit-Max"] == "5"
            assert r.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
            assert r.headers["X-HubSpot-RateLimit-Daily"] == "250000"
            remaining.append(int(r.headers["X-HubSpot-RateLimit-Remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        r = client.get(CONTACTS)
        assert r.status_code == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 10
        body = r.json()
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert body["status"] == "error" and body["correlationId"]
        assert r.headers["X-HubSpot-RateLimit-Daily-Remaining"] == str(250_000 - 5)  # rejected requests are free


def test_daily_limit(tmp_path):
    with serve(tmp_path, daily_limit=3) as (_, client):
        assert [client.get(CONTACTS).status_code for _ in range(3)] == [200, 200, 200]
        r = client.get(CONTACTS)
        assert r.status_code == 429 and r.json()["policyName"] == "DAILY"
        assert int(r.headers["Retry-After"]) <= 86_400 and r.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


def test_search_per_second_limit(tmp_path):
    with serve(tmp_path, search_per_second=2) as (_, client):
        statuses = [search(client).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        r = search(client)
        assert r.json()["policyName"] == "SECONDLY" and r.headers["Retry-After"] == "1"
        assert client.get(CONTACTS).status_code == 200  # other endpoints are not affected
        time.sleep(1.05)
        assert search(client).status_code == 200


# --- fault injection -------------------------------------------------------------------------


def test_5xx_fault_rate(tmp_path):
    with serve(tmp_path, fault_5xx_rate=0.3, fault_seed=7, rate_limit_10s=10_000) as (_, client):
        responses = [client.get(CONTACTS, params={"limit": 1}) for _ in range(200)]
    failed = [r for r in responses if r.status_code >= 500]
    assert 40 <= len(failed) <= 80  # 60 expected; the seeded RNG makes the exact number reproducible
    assert {r.status_code for r in failed} <= {502, 503, 504} and len({r.status_code for r in failed}) == 3
    assert all(r.json()["status"] == "error" and r.json()["message"] for r in failed)
    assert all(r.status_code == 200 for r in responses if r not in failed)


def test_faults_are_reproducible_and_never_half_apply(tmp_path):
    def run(sub: str) -> list[int]:
        with serve(tmp_path / sub, fault_5xx_rate=0.3, fault_429_rate=0.2, fault_seed=3) as (srv, client):
            statuses = []
            for i in range(30):
                r = client.post(f"{CONTACTS}/batch/update",
                                json={"inputs": [{"id": "1001", "properties": {"jobtitle": f"T{i}"}}]})
                statuses.append(r.status_code)
            title = client.get(f"{CONTACTS}/1001", params={"properties": "jobtitle"})
            while title.status_code != 200:
                title = client.get(f"{CONTACTS}/1001", params={"properties": "jobtitle"})
        last_ok = max(i for i, s in enumerate(statuses) if s == 200)
        assert title.json()["properties"]["jobtitle"] == f"T{last_ok}"  # failed writes left no trace
        return statuses

    first, second = run("a"), run("b")
    assert first == second and {429, 200} <= set(first) and any(s >= 500 for s in first)


def test_spurious_429_has_retry_after(tmp_path):
    with serve(tmp_path, fault_429_rate=1.0) as (_, client):
        r = client.get(CONTACTS)
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        assert r.json()["policyName"] == "TEN_SECONDLY_ROLLING" and r.headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_dropped_connection_is_a_connection_error_and_writes_nothing(tmp_path):
    with serve(tmp_path, drop_rate=1.0) as (server, client):
        with pytest.raises(httpx.TransportError):
            client.patch(f"{CONTACTS}/1001", json={"properties": {"jobtitle": "dropped"}})
        assert httpx.get(f"{server.url}/health").status_code == 200  # health is never faulted
    with serve(tmp_path) as (_, client):
        assert client.get(f"{CONTACTS}/1001", params={"properties": "jobtitle"}).json()["properties"]["jobtitle"] == "VP Sales"


def test_drop_after_commit_applies_the_write(tmp_path):
    with serve(tmp_path, drop_after_commit_rate=1.0) as (_, client):
        with pytest.raises(httpx.TransportError):
            client.patch(f"{CONTACTS}/1001", json={"properties": {"jobtitle": "committed"}})
        assert client.get(f"{CONTACTS}/1001").status_code == 200  # reads are not writes: answered
    with serve(tmp_path) as (_, client):
        assert client.get(f"{CONTACTS}/1001", params={"properties": "jobtitle"}).json()["properties"]["jobtitle"] == "committed"


def test_latency(tmp_path):
    with serve(tmp_path, latency_ms=150) as (_, client):
        started = time.monotonic()
        assert client.get(CONTACTS).status_code == 200
        assert time.monotonic() - started >= 0.15


# --- persistence, seeding, configuration -----------------------------------------------------


def test_persistence_across_restart_and_no_second_seed(tmp_path):
    with serve(tmp_path) as (server, client):
        assert server.seeded and server.seeded["contacts"] == 12 and server.seeded["owners"] == 2
        client.patch(f"{CONTACTS}/1001", json={"properties": {"jobtitle": "Persisted"}})
        new_id = client.post(CONTACTS, json={"properties": {"email": "kept@x.io"}}).json()["id"]
        client.post("/crm/v3/properties/contacts", json={
            "name": "revops_route", "label": "Route", "type": "string", "fieldType": "text", "groupName": "g"})
    assert seed_counts(tmp_path / "crm.sqlite")["contacts"] == 13
    with serve(tmp_path) as (server, client):  # same db, same world
        assert server.seeded is None
        assert server.store is not None and server.store.get_meta("seed_runs") == "1"
        got = client.get(f"{CONTACTS}/1001", params={"properties": "jobtitle"}).json()
        assert got["properties"]["jobtitle"] == "Persisted"
        assert client.get(f"{CONTACTS}/{new_id}").json()["properties"]["email"] == "kept@x.io"
        assert client.get("/crm/v3/properties/contacts/revops_route").status_code == 200
        newer = client.post(CONTACTS, json={"properties": {"email": "newer@x.io"}}).json()["id"]
        assert int(newer) > int(new_id)
    assert seed_counts(tmp_path / "crm.sqlite") == {
        "contacts": 14, "companies": 3, "deals": 1, "calls": 1, "meetings": 1, "tasks": 1, "owners": 2}


def test_reseed_starts_over(tmp_path):
    with serve(tmp_path) as (_, client):
        client.post(CONTACTS, json={"properties": {"email": "gone@x.io"}})
    with serve(tmp_path, reseed=True) as (server, client):
        assert server.seeded is not None
        assert client.get(f"{CONTACTS}/gone@x.io", params={"idProperty": "email"}).status_code == 404


def test_seed_is_lenient_where_the_contract_is_loose_and_strict_where_broken(tmp_path):
    world = {"contacts": [{"id": "5", "properties": {"email": "a@b.io", "hs_analytics_source": "ORGANIC",
                                                     "custom_score": 7, "lastmodifieddate": "1785751200000"},
                           "createdAt": "2026-08-03T10:00:00Z", "updatedAt": "2026-08-03T10:00:00Z"}]}
    with serve(tmp_path, world) as (_, client):
        rec = client.get(f"{CONTACTS}/5", params={"properties": "hs_analytics_source,custom_score"}).json()
        assert rec["properties"]["custom_score"] == "7" and rec["properties"]["hs_analytics_source"] == "ORGANIC"
        assert rec["properties"]["lastmodifieddate"] == "2026-08-03T10:00:00.000Z"
        assert rec["createdAt"] == "2026-08-03T10:00:00.000Z"
        assert rec["properties"]["createdate"] == "2026-08-03T10:00:00.000Z"  # filled from createdAt
        assert client.patch(f"{CONTACTS}/5", json={"properties": {"hs_analytics_source": "X"}}).status_code == 200
    broken = tmp_path / "broken"
    (broken / "crm").mkdir(parents=True)
    (broken / "crm" / "contacts.jsonl").write_text('{"id": "1", "properties": {}}\n{oops\n')
    with pytest.raises(ValueError, match=r"contacts.jsonl:2"):
        CRMServer(ServerConfig(db_path=tmp_path / "b.sqlite", world_dir=broken, token="t")).start()
    assert seed_counts(tmp_path / "b.sqlite")["contacts"] == 0  # the failed seed left nothing


def test_config_from_env_and_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_FAULT_5XX_RATE", "0.25")
    monkeypatch.setenv("SANDBOX_FAULT_429_RATE", "0.1")
    monkeypatch.setenv("SANDBOX_LATENCY_MS", "20")
    monkeypatch.setenv("SANDBOX_FAULT_DROP_RATE", "0.05")
    monkeypatch.setenv("SANDBOX_FAULT_SEED", "11")
    config = ServerConfig.from_env(db_path=tmp_path / "x.sqlite", fault_seed=12, port=None)
    assert (config.fault_5xx_rate, config.fault_429_rate, config.latency_ms, config.drop_rate) == (0.25, 0.1, 20, 0.05)
    assert config.fault_seed == 12 and config.port == 0 and config.db_path == tmp_path / "x.sqlite"
    monkeypatch.setenv("SANDBOX_LATENCY_MS", "soon")
    with pytest.raises(ValueError, match="SANDBOX_LATENCY_MS"):
        ServerConfig.from_env()


def test_cli_seed_only(tmp_path, capsys):
    world = write_world(tmp_path / "w")
    assert cli_main(["--world", str(world), "--db", str(tmp_path / "cli.sqlite"), "--seed-only"]) == 0
    assert "seeded" in capsys.readouterr().out
    assert cli_main(["--world", str(world), "--db", str(tmp_path / "cli.sqlite"), "--seed-only"]) == 0
    assert "already seeded" in capsys.readouterr().out
    assert seed_counts(tmp_path / "cli.sqlite")["contacts"] == 12


def test_cli_serves_until_terminated(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    world = write_world(tmp_path / "w")
    env = {**os.environ, "HUBSPOT_TOKEN": TEST_TOKEN, "SANDBOX_FAULT_5XX_RATE": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.crm_server", "--world", str(world), "--db", str(tmp_path / "c.sqlite"),
         "--port", "0", "--rate-limit-10s", "7"],
        cwd=Path(__file__).resolve().parents[1], env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.split("listening on ")[1].split()[0]
        r = httpx.get(f"{url}{CONTACTS}", headers={"Authorization": f"Bearer {TEST_TOKEN}"})
        assert r.status_code == 200 and r.headers["X-HubSpot-RateLimit-Max"] == "7"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
