"""The generated world served by the CRM sandbox, through the `revops` CLI, over real HTTP."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

TOKEN = "integration-test-token"


@pytest.fixture()
def served_world(world_s, tmp_path):
    """`revops sandbox serve` on the S world, in its own process, on a free port."""
    ready = tmp_path / "url"
    env = {**os.environ, "HUBSPOT_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "revops"), "sandbox", "serve", "--world", str(world_s),
         "--db", str(tmp_path / "crm.sqlite"), "--port", "0", "--ready-file", str(ready)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for _ in range(300):
        if ready.exists() and ready.read_text():
            break
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stdout.read()}")
        time.sleep(0.1)
    yield ready.read_text(), proc
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    assert TOKEN not in out  # the token is never printed


def lines(p: Path) -> list[dict]:
    return [json.loads(l) for l in p.read_text().splitlines()]


def test_served_world_matches_the_files(served_world, world_s):
    url, _proc = served_world
    h = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=h, timeout=30) as c:
        assert c.get("/crm/v3/objects/contacts").status_code == 200
        assert httpx.get(url + "/crm/v3/objects/contacts").status_code == 401
        contacts = lines(world_s / "crm" / "contacts.jsonl")
        live = {x["id"] for x in contacts if not x["archived"]}
        archived = {x["id"] for x in contacts if x["archived"]}
        seen, after = set(), None
        while True:
            params = {"limit": 100, "properties": "email,hs_merged_object_ids"}
            if after:
                params["after"] = after
            page = c.get("/crm/v3/objects/contacts", params=params).json()
            seen |= {x["id"] for x in page["results"]}
            after = (page.get("paging") or {}).get("next", {}).get("after")
            if not after:
                break
        assert seen == live
        arch = c.get("/crm/v3/objects/contacts", params={"archived": "true", "limit": 100}).json()
        assert {x["id"] for x in arch["results"]} <= archived and arch["results"]
        # incremental extraction: a search by lastmodifieddate GTE a cursor returns exactly the newer contacts
        mid = sorted(x["properties"]["lastmodifieddate"] for x in contacts if not x["archived"])[len(live) // 2]
        body = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": mid}]}],
                "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}], "limit": 200,
                "properties": ["email", "lastmodifieddate"]}
        res = c.post("/crm/v3/objects/contacts/search", json=body).json()
        expected = sum(1 for x in contacts if not x["archived"] and x["properties"]["lastmodifieddate"] >= mid)
        assert res["total"] == expected
        stamps = [x["properties"]["lastmodifieddate"] for x in res["results"]]
        assert stamps == sorted(stamps) and stamps[0] >= mid
        # every object type is served with the generator's counts
        for obj in ("companies", "deals", "calls", "meetings", "tasks"):
            n = sum(1 for x in lines(world_s / "crm" / f"{obj}.jsonl") if not x["archived"])
            r = c.post(f"/crm/v3/objects/{obj}/search", json={"limit": 1})
            time.sleep(0.25)  # search has its own per-second limit
            assert r.json()["total"] == n, obj
        owners = c.get("/crm/v3/owners", params={"limit": 500}).json()["results"]
        assert len(owners) == len(lines(world_s / "crm" / "owners.jsonl"))
        # associations survive seeding: a deal's company and contact
        deal = next(x for x in lines(world_s / "crm" / "deals.jsonl") if x.get("associations", {}).get("contacts"))
        got = c.get(f"/crm/v3/objects/deals/{deal['id']}", params={"associations": "contacts,companies"}).json()
        assert {a["id"] for a in got["associations"]["contacts"]["results"]} == {
            a["id"] for a in deal["associations"]["contacts"]["results"]}
