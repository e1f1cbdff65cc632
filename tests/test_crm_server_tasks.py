"""The sandbox CRM takes task writes as HubSpot does (hubspot-openapi tasks.json, properties.json): batch create
with task-to-contact associations, batch update and read, search on a custom property, v4 associations, and
HubSpot's validation of task properties, with its error shapes."""

from __future__ import annotations

import pytest

from sandbox.crm_server.testing import running_server

TASKS = "/crm/v3/objects/tasks"
NO_LIMITS = {"rate_limit_10s": 1_000_000, "search_per_second": 1_000_000}
TO_CONTACT = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]
KEY_PROPERTY = {"name": "revops_action_key", "label": "Action key", "type": "string", "fieldType": "text",
                "groupName": "task"}


@pytest.fixture
def client(tmp_path):
    with running_server(tmp_path, **NO_LIMITS) as (_, c):
        yield c


def task(contact: str | None = "1001", **props: str) -> dict:
    item = {"properties": {"hs_timestamp": "2026-10-31T00:00:00.000Z", "hs_task_subject": "Call Ann",
                           "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH", "hs_task_type": "CALL",
                           "hubspot_owner_id": "501", **props}}
    if contact:
        item["associations"] = [{"to": {"id": contact}, "types": TO_CONTACT}]
    return item


def test_batch_create_with_contact_association_then_read_it_every_way(client):
    r = client.post(f"{TASKS}/batch/create", json={"inputs": [
        {**task("1001"), "objectWriteTraceId": "k1"}, {**task("1002", hs_task_subject="Email Bob"), "objectWriteTraceId": "k2"}]})
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "COMPLETE" and [t["objectWriteTraceId"] for t in body["results"]] == ["k1", "k2"]
    first = body["results"][0]
    assert first["properties"]["hs_task_subject"] == "Call Ann" and first["properties"]["hubspot_owner_id"] == "501"
    assert first["properties"]["hs_createdate"] == first["properties"]["hs_lastmodifieddate"]
    tid = first["id"]
    # v3 read with associations, v4 per record and in batch, and the contact's side
    got = client.get(f"{TASKS}/{tid}", params={"associations": "contacts", "properties": "hs_task_status"}).json()
    assert got["associations"]["contacts"]["results"] == [{"id": "1001", "type": "task_to_contact"}]
    v4 = client.get(f"/crm/v4/objects/tasks/{tid}/associations/contacts").json()
    assert v4["results"] == [{"toObjectId": 1001, "associationTypes": [
        {"category": "HUBSPOT_DEFINED", "typeId": 204, "label": None}]}]
    batch = client.post("/crm/v4/associations/tasks/contacts/batch/read", json={"inputs": [{"id": tid}]}).json()
    assert batch["results"][0]["to"][0]["toObjectId"] == 1001
    back = client.get("/crm/v4/objects/contacts/1001/associations/tasks").json()
    assert {"toObjectId": int(tid), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 203,
                                                          "label": None}]} in back["results"]
    read = client.post(f"{TASKS}/batch/read", json={"inputs": [{"id": tid}, {"id": "1"}],
                                                    "properties": ["hs_task_subject", "hs_task_type"]})
    assert read.status_code == 207 and read.json()["results"][0]["properties"]["hs_task_type"] == "CALL"
    assert read.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"


def test_a_custom_task_property_exists_only_once_created_and_is_searchable(client):
    r = client.post(f"{TASKS}/batch/create", json={"inputs": [task(revops_action_key="p1:call:1")]})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    assert r.json()["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert client.post("/crm/v3/properties/tasks", json=KEY_PROPERTY).status_code == 201
    r = client.post(f"{TASKS}/batch/create", json={"inputs": [
        task(revops_action_key="p1:call:1"), task(revops_action_key="p2:email:1", hs_task_type="EMAIL"),
        task(revops_action_key="p3:enrich:1", hs_task_type="TODO")]})
    assert r.status_code == 201
    ids = {t["properties"]["revops_action_key"]: t["id"] for t in r.json()["results"]}

    def search(*filters) -> list[str]:
        body = client.post(f"{TASKS}/search", json={"filterGroups": [{"filters": list(filters)}],
                                                    "properties": ["revops_action_key", "hs_task_status"]}).json()
        return sorted(t["properties"]["revops_action_key"] for t in body["results"])

    assert search({"propertyName": "revops_action_key", "operator": "IN", "values": ["p1:call:1", "p3:enrich:1",
                                                                                       "p9:call:1"]}) == [
        "p1:call:1", "p3:enrich:1"]
    assert search({"propertyName": "revops_action_key", "operator": "EQ", "value": "p2:email:1"}) == ["p2:email:1"]
    client.patch(f"{TASKS}/{ids['p1:call:1']}", json={"properties": {"hs_task_status": "COMPLETED"}})
    assert search({"propertyName": "revops_action_key", "operator": "HAS_PROPERTY"},
                  {"propertyName": "hs_task_status", "operator": "NEQ", "value": "COMPLETED"}) == [
        "p2:email:1", "p3:enrich:1"]


@pytest.mark.parametrize("props, code", [
    ({"hs_task_status": "DONE"}, "INVALID_OPTION"),
    ({"hs_task_priority": "URGENT"}, "INVALID_OPTION"),
    ({"hs_task_type": "MEETING"}, "INVALID_OPTION"),
    ({"hubspot_owner_id": "999"}, "INVALID_OWNER_ID"),  # no such owner
    ({"hubspot_owner_id": "502"}, "INVALID_OWNER_ID"),  # a deactivated (archived) owner
    ({"hubspot_owner_id": "rep.one"}, "INVALID_OWNER_ID"),
    ({"hs_timestamp": "tomorrow"}, "INVALID_DATE"),
    ({"hs_timestamp": ""}, "REQUIRED_PROPERTY"),
])
def test_invalid_task_values_fail_their_record_in_a_batch_and_the_request_alone(client, props, code):
    r = client.post(f"{TASKS}/batch/create", json={"inputs": [task(), {**task(**props), "objectWriteTraceId": "bad"}]})
    assert r.status_code == 207
    body = r.json()
    assert len(body["results"]) == 1 and body["numErrors"] == 1
    err = body["errors"][0]
    assert err["category"] == "VALIDATION_ERROR" and err["context"] == {"index": ["1"], "objectWriteTraceId": ["bad"]}
    assert err["errors"][0]["code"] == code and err["errors"][0]["in"] == next(iter(props))
    single = client.post(TASKS, json=task(**props))
    assert single.status_code == 400 and single.json()["category"] == "VALIDATION_ERROR"
    assert single.json()["errors"][0]["code"] == code
    assert single.json()["errors"][0]["context"] == {"propertyName": [next(iter(props))]}
    assert f'"error":"{code}"' in single.json()["message"]  # HubSpot's "Property values were not valid: [...]"


def test_hs_timestamp_is_required_on_create_only(client):
    no_time = task()
    del no_time["properties"]["hs_timestamp"]
    r = client.post(f"{TASKS}/batch/create", json={"inputs": [no_time]})
    assert r.status_code == 207 and r.json()["errors"][0]["errors"][0] == {
        "message": "hs_timestamp is required to create a task", "code": "REQUIRED_PROPERTY", "in": "hs_timestamp",
        "context": {"propertyName": ["hs_timestamp"]}}
    assert client.post(TASKS, json=no_time).status_code == 400
    tid = client.post(TASKS, json=task()).json()["id"]
    # an update need not carry it
    r = client.post(f"{TASKS}/batch/update", json={"inputs": [{"id": tid, "properties": {"hs_task_priority": "LOW"}}]})
    assert r.status_code == 200 and r.json()["results"][0]["properties"]["hs_task_priority"] == "LOW"


def test_invalid_values_in_a_batch_update_fail_that_record_and_apply_the_rest(client):
    made = client.post(f"{TASKS}/batch/create", json={"inputs": [task(), task()]}).json()["results"]
    a, b = made[0]["id"], made[1]["id"]
    r = client.post(f"{TASKS}/batch/update", json={"inputs": [
        {"id": a, "properties": {"hs_task_subject": "Call Ann today"}},
        {"id": b, "properties": {"hs_task_status": "FINISHED"}, "objectWriteTraceId": "t-b"}]})
    assert r.status_code == 207
    assert r.json()["errors"][0]["context"] == {"ids": [b], "objectWriteTraceId": ["t-b"]}
    assert client.get(f"{TASKS}/{a}", params={"properties": "hs_task_subject"}).json()[
        "properties"]["hs_task_subject"] == "Call Ann today"
    assert client.get(f"{TASKS}/{b}", params={"properties": "hs_task_status"}).json()[
        "properties"]["hs_task_status"] == "NOT_STARTED"


def test_completing_a_task_sets_its_completion_date_and_reopening_clears_it(client):
    tid = client.post(TASKS, json=task()).json()["id"]
    done = client.post(f"{TASKS}/batch/update", json={"inputs": [
        {"id": tid, "properties": {"hs_task_status": "COMPLETED"}}]}).json()["results"][0]["properties"]
    assert done["hs_task_completion_date"] == done["hs_lastmodifieddate"]
    again = client.patch(f"{TASKS}/{tid}", json={"properties": {"hs_task_status": "COMPLETED"}}).json()["properties"]
    assert again["hs_task_completion_date"] == done["hs_task_completion_date"]  # unchanged: nothing written
    reopened = client.patch(f"{TASKS}/{tid}", json={"properties": {"hs_task_status": "IN_PROGRESS"}}).json()
    assert "hs_task_completion_date" not in reopened["properties"]
    r = client.patch(f"{TASKS}/{tid}", json={"properties": {"hs_task_completion_date": "2026-10-31T00:00:00Z"}})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "READ_ONLY_VALUE"


@pytest.mark.parametrize("types, problem", [
    ([{"associationCategory": "USER_DEFINED", "associationTypeId": 204}], "HUBSPOT_DEFINED"),
    ([{"associationTypeId": 204}], "associationCategory"),
    ([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}], "not valid from tasks"),
])
def test_a_wrong_association_fails_the_whole_batch(client, types, problem):
    bad = task()
    bad["associations"][0]["types"] = types
    before = client.post(f"{TASKS}/search", json={}).json()["total"]
    r = client.post(f"{TASKS}/batch/create", json={"inputs": [task(), bad]})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR" and problem in r.json()["message"]
    assert r.json()["context"] == {"index": ["1"]}
    assert client.post(f"{TASKS}/search", json={}).json()["total"] == before  # nothing of the batch applied


def test_an_association_to_a_missing_contact_is_refused(client):
    r = client.post(f"{TASKS}/batch/create", json={"inputs": [task("424242")]})
    assert r.status_code == 400 and "does not exist" in r.json()["message"]
    r = client.post(f"{TASKS}/batch/create", json={"inputs": [task("1004")]})  # archived (merged away)
    assert r.status_code == 400


def test_the_sdk_creates_and_reads_tasks(tmp_path):
    from hubspot import HubSpot
    from hubspot.crm.objects.tasks import (ApiException, BatchInputSimplePublicObjectBatchInputForCreate,
                                           SimplePublicObjectBatchInputForCreate)

    from sandbox.crm_server.testing import TEST_TOKEN

    with running_server(tmp_path, **NO_LIMITS) as (server, _):
        api = HubSpot(access_token=TEST_TOKEN, host=server.url)
        made = api.crm.objects.tasks.batch_api.create(
            batch_input_simple_public_object_batch_input_for_create=BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[SimplePublicObjectBatchInputForCreate(properties=task()["properties"],
                                                              associations=task()["associations"])]))
        tid = made.results[0].id
        got = api.crm.objects.tasks.basic_api.get_by_id(tid, properties=["hs_task_subject", "hubspot_owner_id"],
                                                        associations=["contacts"])
        assert got.properties["hubspot_owner_id"] == "501"
        assert [a.id for a in got.associations["contacts"].results] == ["1001"]
        pages = api.crm.associations.v4.basic_api.get_page("tasks", tid, "contacts")
        assert [int(r.to_object_id) for r in pages.results] == [1001]
        with pytest.raises(ApiException) as refused:
            api.crm.objects.tasks.basic_api.create({"properties": {"hs_timestamp": "2026-10-31T00:00:00Z",
                                                                   "hs_task_priority": "URGENT"}})
        assert refused.value.status == 400 and "INVALID_OPTION" in refused.value.body


def test_tasks_against_the_openapi_spec(tmp_path):
    from test_crm_server_openapi import SPEC_DIR, check

    if not SPEC_DIR.is_dir():
        pytest.skip(f"HubSpot OpenAPI specs not found at {SPEC_DIR}")
    with running_server(tmp_path, **NO_LIMITS) as (_, c):
        check("properties", "/crm/v3/properties/{objectType}", "POST",
              c.post("/crm/v3/properties/tasks", json=KEY_PROPERTY))
        created = check("tasks", f"{TASKS}/batch/create", "POST", c.post(f"{TASKS}/batch/create", json={"inputs": [
            {**task(revops_action_key="p1:call:1"), "objectWriteTraceId": "p1:call:1"}]}))
        tid = created["results"][0]["id"]
        check("tasks", f"{TASKS}/batch/create", "POST", c.post(f"{TASKS}/batch/create", json={"inputs": [
            task(), task(hs_task_status="DONE")]}))  # 207
        check("tasks", f"{TASKS}/batch/create", "POST", c.post(f"{TASKS}/batch/create", json={"inputs": [
            task(no_such_property="x")]}))  # 400
        check("tasks", f"{TASKS}/batch/update", "POST", c.post(f"{TASKS}/batch/update", json={"inputs": [
            {"id": tid, "properties": {"hs_task_status": "COMPLETED"}}]}))
        check("tasks", f"{TASKS}/batch/read", "POST", c.post(f"{TASKS}/batch/read", json={
            "inputs": [{"id": tid}], "properties": ["revops_action_key", "hs_task_completion_date"]}))
        check("tasks", f"{TASKS}/search", "POST", c.post(f"{TASKS}/search", json={
            "filterGroups": [{"filters": [{"propertyName": "revops_action_key", "operator": "IN",
                                           "values": ["p1:call:1"]}]}], "properties": ["hs_task_status"]}))
        check("tasks", TASKS, "POST", c.post(TASKS, json=task(hs_task_type="NOTE")))  # 400
        check("tasks", f"{TASKS}/{{taskId}}", "GET", c.get(f"{TASKS}/{tid}", params={"associations": "contacts"}))
