"""The sandbox CRM logs every property value an API write changes (not the seeding), so a sync test can prove
that no record had a value written twice."""

from revops.hubspot import HubSpotClient
from sandbox.crm_server import CRMServer, ServerConfig

TOKEN = "write-log-test"


def test_api_writes_are_logged_per_changed_property_and_seeding_is_not(world_s, tmp_path):
    srv = CRMServer(ServerConfig(db_path=tmp_path / "crm.sqlite", world_dir=world_s, token=TOKEN)).start()
    try:
        assert srv.store.write_log() == []  # seeding writes nothing to the log
        with HubSpotClient(base_url=srv.url, token=TOKEN) as client:
            page = client.request("GET", "/crm/v3/objects/contacts", params={"limit": 1, "properties": "jobtitle"})
            contact = page["results"][0]
            client.request("PATCH", f"/crm/v3/objects/contacts/{contact['id']}",
                           json={"properties": {"jobtitle": "VP Revenue"}})
            # the same value again changes nothing and logs nothing
            client.request("PATCH", f"/crm/v3/objects/contacts/{contact['id']}",
                           json={"properties": {"jobtitle": "VP Revenue"}})
            created = client.request("POST", "/crm/v3/objects/contacts",
                                     json={"properties": {"email": "new.person@example.org", "firstname": "New"}})
        log = srv.store.write_log("contacts")
    finally:
        srv.stop()
    job = [row for row in log if row[1] == int(contact["id"]) and row[2] == "jobtitle"]
    assert len(job) == 1 and job[0][4] == "VP Revenue"
    assert job[0][3] == contact["properties"].get("jobtitle")
    new = {row[2]: row[4] for row in log if row[1] == int(created["id"])}
    assert new["email"] == "new.person@example.org" and new["firstname"] == "New"
