"""Helpers for tests that need a sandbox CRM: a tiny hand-made world and a running server.

    with running_server(tmp_path) as (server, client):
        client.get("/crm/v3/objects/contacts")

The tiny world is independent of the world generator, so tests of the server (and of
clients such as the reverse ETL) do not change when the generator does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from .config import ServerConfig
from .server import CRMServer

TEST_TOKEN = "pat-na1-sandbox-test-token"


def _contact(cid: int, email: str, first: str, last: str, day: int, company: int | None = None,
             archived: bool = False, **extra: str) -> dict[str, Any]:
    created = f"2026-08-{day:02d}T09:00:00.000Z"
    modified = f"2026-08-{day:02d}T10:00:00.000Z"
    rec: dict[str, Any] = {
        "id": str(cid),
        "properties": {"email": email, "firstname": first, "lastname": last, "createdate": created,
                       "lastmodifieddate": modified, "hs_object_id": str(cid), **extra},
        "createdAt": created, "updatedAt": modified, "archived": archived,
    }
    if company:
        rec["associations"] = {"companies": {"results": [{"id": str(company), "type": "contact_to_company"}]}}
    return rec


def _company(cid: int, name: str, domain: str, employees: str, revenue: str, day: int) -> dict[str, Any]:
    ts = f"2026-07-{day:02d}T08:00:00.000Z"
    return {"id": str(cid), "properties": {"name": name, "domain": domain, "numberofemployees": employees,
                                           "annualrevenue": revenue, "country": "US", "createdate": ts,
                                           "hs_lastmodifieddate": ts},
            "createdAt": ts, "updatedAt": ts, "archived": False}


def _engagement(eid: int, kind: str, contact: int, day: int, **props: str) -> dict[str, Any]:
    ts = f"2026-08-{day:02d}T12:00:00.000Z"
    return {"id": str(eid), "properties": {"hs_timestamp": ts, "hubspot_owner_id": "501", "hs_createdate": ts,
                                           "hs_lastmodifieddate": ts, **props},
            "createdAt": ts, "updatedAt": ts, "archived": False,
            "associations": {"contacts": {"results": [{"id": str(contact), "type": f"{kind}_to_contact"}]}}}


def tiny_world() -> dict[str, list[dict[str, Any]]]:
    """A dozen contacts, three companies, a deal, one engagement of each kind, two owners."""
    contacts = [
        _contact(1001, "ann@acme.com", "Ann", "Lee", 1, 77, jobtitle="VP Sales", lifecyclestage="lead",
                 hubspot_owner_id="501", hs_email_optout="false", country="US"),
        _contact(1002, "bob@acme.com", "Bob", "Stone", 2, 77, jobtitle="Engineer"),
        _contact(1003, "cara@globex.com", "Cara", "Diaz", 3, 78, phone="+1-555-0100"),
        _contact(1004, "ann.lee@acme.com", "Ann", "Lee", 4, 77, archived=True, hs_merged_object_ids="1001"),
        _contact(1005, "dan@initech.io", "Dan", "Ng", 5, 79, hs_email_optout="true"),
    ]
    contacts += [_contact(1005 + i, f"person{i}@example.com", f"P{i}", "Example", 5 + i) for i in range(1, 8)]
    deal_ts = "2026-08-10T00:00:00.000Z"
    return {
        "contacts": contacts,
        "companies": [
            _company(77, "Acme", "acme.com", "120", "5000000", 1),
            _company(78, "Globex", "globex.com", "99", "750000.50", 2),
            _company(79, "Initech", "initech.io", "1500", "90000000", 3),
        ],
        "deals": [{
            "id": "9001",
            "properties": {"dealname": "Acme - New Business", "amount": "12000", "dealstage": "qualifiedtobuy",
                           "pipeline": "default", "closedate": "2026-09-30T00:00:00.000Z", "createdate": deal_ts,
                           "hubspot_owner_id": "501", "hs_lastmodifieddate": deal_ts},
            "createdAt": deal_ts, "updatedAt": deal_ts, "archived": False,
            "associations": {"companies": {"results": [{"id": "77", "type": "deal_to_company"}]},
                             "contacts": {"results": [{"id": "1001", "type": "deal_to_contact"}]}},
        }],
        "calls": [_engagement(20001, "call", 1001, 6, hs_call_direction="OUTBOUND")],
        "meetings": [_engagement(30001, "meeting", 1002, 7, hs_meeting_outcome="SCHEDULED")],
        "tasks": [_engagement(40001, "task", 1003, 8, hs_task_status="NOT_STARTED", hs_task_subject="Follow up")],
        "owners": [
            {"id": "501", "email": "rep.one@northwind.io", "firstName": "Rita", "lastName": "One", "userId": 9001,
             "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z", "archived": False,
             "teams": [{"id": "1", "name": "NA", "primary": True}]},
            {"id": "502", "email": "rep.two@northwind.io", "firstName": "Raj", "lastName": "Two", "userId": 9002,
             "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z", "archived": True,
             "teams": [{"id": "2", "name": "EMEA", "primary": True}]},
        ],
    }


def write_world(world_dir: Path, world: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """Write ``world`` (default: ``tiny_world()``) as ``<world_dir>/crm/<object>.jsonl``."""
    crm = Path(world_dir) / "crm"
    crm.mkdir(parents=True, exist_ok=True)
    for name, records in (world if world is not None else tiny_world()).items():
        with (crm / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for rec in records:
                f.write(json.dumps(rec) + "\n")
    return Path(world_dir)


def client_for(server: CRMServer, token: str = TEST_TOKEN, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs)


@contextmanager
def running_server(tmp_path: Path, world: dict[str, list[dict[str, Any]]] | None = None,
                   db_name: str = "crm.sqlite", **config: Any) -> Iterator[tuple[CRMServer, httpx.Client]]:
    """A server on 127.0.0.1 with a free port, a tmp database and the tiny world (or ``world``)."""
    world_dir = tmp_path / "world"
    if not (world_dir / "crm").exists():
        write_world(world_dir, world)
    config.setdefault("token", TEST_TOKEN)
    server = CRMServer(ServerConfig(db_path=tmp_path / db_name, world_dir=world_dir, **config)).start()
    try:
        with client_for(server, config["token"]) as client:
            yield server, client
    finally:
        server.stop()
