"""HubSpot's official Python SDK (hubspot-api-client) against the sandbox CRM server.

If the SDK can page, search, create properties and upsert here, a client written for
the real HubSpot API works against the sandbox unchanged (only the host differs).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputUpsert,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
)
from hubspot.crm.properties import PropertyCreate

from sandbox.crm_server.testing import TEST_TOKEN, running_server


@pytest.fixture
def sdk(tmp_path):
    with running_server(tmp_path, rate_limit_10s=10_000, search_per_second=1_000) as (server, client):
        # The SDK builds every API client from these settings; `host` replaces https://api.hubapi.com.
        yield HubSpot(access_token=TEST_TOKEN, host=server.url), client


def test_sdk_lists_contacts_with_paging(sdk):
    api, _ = sdk
    seen, after, pages = [], None, 0
    while True:
        page = api.crm.contacts.basic_api.get_page(limit=4, after=after, properties=["email", "jobtitle"])
        pages += 1
        seen += [(c.id, c.properties["email"]) for c in page.results]
        if page.paging is None or page.paging.next is None:
            break
        after = page.paging.next.after
    assert pages == 3
    assert seen[:3] == [("1001", "ann@acme.com"), ("1002", "bob@acme.com"), ("1003", "cara@globex.com")]
    assert len(seen) == 11 and "1004" not in {i for i, _ in seen}  # archived contact not listed
    first = api.crm.contacts.basic_api.get_page(limit=1, properties=["jobtitle"]).results[0]
    assert first.properties["jobtitle"] == "VP Sales"
    assert first.created_at == datetime(2026, 8, 1, 9, 0, tzinfo=timezone.utc)
    # the SDK's own "fetch everything" helper follows the paging too
    assert len(api.crm.contacts.get_all()) == 11


def test_sdk_searches_by_lastmodifieddate(sdk):
    api, _ = sdk
    api.crm.contacts.basic_api.update("1002", {"properties": {"jobtitle": "Staff Engineer"}})
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[
            Filter(property_name="lastmodifieddate", operator="GTE", value="2026-08-10T10:00:00.000Z")])],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        properties=["email", "jobtitle", "lastmodifieddate"],
        limit=2,
    )
    first = api.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert first.total == 4  # 1010, 1011, 1012 and the just-updated 1002
    assert [c.id for c in first.results] == ["1010", "1011"]
    request.after = first.paging.next.after
    second = api.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert [c.id for c in second.results] == ["1012", "1002"] and second.paging is None
    assert second.results[1].properties["jobtitle"] == "Staff Engineer"
    assert second.results[1].properties["lastmodifieddate"] > "2026-08-12T10:00:00.000Z"
    # epoch milliseconds mean the same instant
    request.after, request.limit = None, 10
    request.filter_groups[0].filters[0].value = "1786356000000"  # 2026-08-10T10:00:00Z
    assert api.crm.contacts.search_api.do_search(public_object_search_request=request).total == 4


def test_sdk_creates_property_and_batch_upserts_by_email(sdk):
    api, _ = sdk
    created = api.crm.properties.core_api.create(
        object_type="contacts",
        property_create=PropertyCreate(name="revops_lead_score", label="Lead score", type="number",
                                       field_type="number", group_name="contactinformation"))
    assert (created.name, created.type, created.field_type, created.hubspot_defined) == (
        "revops_lead_score", "number", "number", False)
    fetched = api.crm.properties.core_api.get_by_name(object_type="contacts", property_name="revops_lead_score")
    assert fetched.label == "Lead score"

    batch = BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        SimplePublicObjectBatchInputUpsert(id="bob@acme.com", id_property="email",
                                           properties={"revops_lead_score": "72"}),
        SimplePublicObjectBatchInputUpsert(id="new.lead@example.org", id_property="email",
                                           properties={"firstname": "Nia", "revops_lead_score": "15"}),
    ])
    result = api.crm.contacts.batch_api.upsert(batch_input_simple_public_object_batch_input_upsert=batch)
    assert result.status == "COMPLETE"
    by_email = {r.properties["email"]: r for r in result.results}
    assert by_email["bob@acme.com"].id == "1002" and by_email["bob@acme.com"].new is False
    assert by_email["new.lead@example.org"].new is True and int(by_email["new.lead@example.org"].id) > 40001

    bob = api.crm.contacts.basic_api.get_by_id("1002", properties=["revops_lead_score", "firstname"])
    assert bob.properties["revops_lead_score"] == "72" and bob.properties["firstname"] == "Bob"
    nia = api.crm.contacts.basic_api.get_by_id("new.lead@example.org", id_property="email",
                                               properties=["revops_lead_score", "firstname"])
    assert nia.properties == {
        "firstname": "Nia", "revops_lead_score": "15", "createdate": nia.properties["createdate"],
        "lastmodifieddate": nia.properties["lastmodifieddate"], "hs_object_id": nia.id}

    # upserting the same values again changes nothing, so the modified date stays
    again = api.crm.contacts.batch_api.upsert(batch_input_simple_public_object_batch_input_upsert=batch)
    assert {r.properties["lastmodifieddate"] for r in again.results} == {
        r.properties["lastmodifieddate"] for r in result.results}


def test_sdk_sees_hubspot_errors(sdk):
    api, _ = sdk
    with pytest.raises(ApiException) as missing:
        api.crm.contacts.basic_api.get_by_id("999999")
    assert missing.value.status == 404
    with pytest.raises(ApiException) as invalid:
        api.crm.contacts.basic_api.update("1001", {"properties": {"no_such_property": "x"}})
    assert invalid.value.status == 400 and "PROPERTY_DOESNT_EXIST" in invalid.value.body
