"""CRM extraction through the HubSpot CRM v3 API into `raw.crm_<object>` (docs/landing.md).

Incremental by each object's last-modified property: search `GTE cursor`, ascending, 200 a page, `after`
paging. A search stops at 10,000 results, so when a query nears that cap the next query starts again from
the last modified time seen (a window). Each page lands in one transaction together with its associations and
the new cursor, so the cursor only advances over committed rows and a crash re-extracts at most one page.
Records are keyed (id, updatedAt): a record seen again unchanged (window overlap, rerun) lands once; a changed
record lands as a new version. Archived (merged-away) records are listed separately and kept with their flag.

Echoes: the reverse ETL writes `revops_*` properties, which the extraction does not ask for, yet each write moves the
record's last-modified time, so after a sync the search returns every record it touched (37,904 of 38,204 contacts
on M). A version whose content (every field but the modification time) equals the latest landed one is an echo: it
is counted, not landed, so it triggers nothing downstream (raw.crm_latest keeps each record's content hash).
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from dataclasses import dataclass, field

import duckdb
import polars as pl

from revops.hubspot import HubSpotClient
from revops.landing.contracts import CRM_CONTRACTS, check_records
from revops.faults import crash_point
from revops.landing.files import landed_under_keys

SEARCH_PAGE = 200
SEARCH_CAP = 10_000

OBJECTS: dict[str, dict] = {
    "contacts": {"cursor": "lastmodifieddate", "assoc": ["companies"],
                 "properties": ["email", "firstname", "lastname", "jobtitle", "company", "phone", "country",
                                "lifecyclestage", "hs_lead_status", "hubspot_owner_id", "hs_email_optout",
                                "hs_merged_object_ids", "createdate", "lastmodifieddate"]},
    "companies": {"cursor": "hs_lastmodifieddate", "assoc": [],
                  "properties": ["name", "domain", "industry", "numberofemployees", "annualrevenue", "country",
                                 "lifecyclestage", "hubspot_owner_id", "createdate", "hs_lastmodifieddate"]},
    "deals": {"cursor": "hs_lastmodifieddate", "assoc": ["companies", "contacts"],
              "properties": ["dealname", "amount", "dealstage", "pipeline", "closedate", "createdate",
                             "hubspot_owner_id", "hs_lastmodifieddate"]},
    "calls": {"cursor": "hs_lastmodifieddate", "assoc": ["contacts"],
              "properties": ["hs_timestamp", "hubspot_owner_id", "hs_call_direction", "hs_lastmodifieddate"]},
    "meetings": {"cursor": "hs_lastmodifieddate", "assoc": ["contacts"],
                 "properties": ["hs_timestamp", "hubspot_owner_id", "hs_meeting_outcome", "hs_lastmodifieddate"]},
    "tasks": {"cursor": "hs_lastmodifieddate", "assoc": ["contacts"],
              # revops_action_key: the key of the tasks the reverse ETL created (a task without one is a rep's own)
              "properties": ["hs_timestamp", "hubspot_owner_id", "hs_task_status", "hs_task_subject",
                             "hs_task_priority", "hs_task_completion_date", "revops_action_key",
                             "hs_lastmodifieddate"]},
}

DDL = """
create schema if not exists raw;
create table if not exists raw.crm_cursors (
    object varchar primary key,
    cursor_ms bigint not null,      -- last-modified time (epoch ms) of the newest committed record
    updated_at timestamptz not null default now()
);
create table if not exists raw.crm_associations (
    from_object varchar not null, from_id varchar not null, to_object varchar not null, to_id varchar not null,
    landed_at timestamptz not null default now()
);
create table if not exists raw.crm_latest (
    object varchar not null,
    id varchar not null,
    content_md5 varchar not null,   -- md5 of the record without its modification times (see content_md5)
    primary key (object, id)
);
create table if not exists raw.crm_owners (
    record_key varchar not null, record json not null, request varchar not null,
    landed_at timestamptz not null default now()
);
"""

OBJECT_DDL = """
create table if not exists raw.crm_{obj} (
    record_key varchar not null,    -- id|updatedAt: an unchanged record seen again lands once
    record json not null,           -- the API object as returned
    archived boolean not null,
    request varchar not null,       -- the request that returned it (for tracing)
    landed_at timestamptz not null default now()
);
"""


@dataclass
class ExtractResult:
    object: str
    pages: int = 0
    read: int = 0
    landed: int = 0
    duplicates: int = 0
    quarantined: int = 0
    windows: int = 0
    echoes: int = 0                 # versions that changed nothing but the modification time (not landed)
    extra: dict = field(default_factory=dict)


MODIFIED_FIELDS = ("lastmodifieddate", "hs_lastmodifieddate")


def content_md5(record: dict) -> str:
    """A record's content without the times that every write moves (top-level updatedAt, the last-modified
    properties): equal for a version that differs only by a write to properties the extraction does not read."""
    props = record.get("properties")
    stripped = {k: v for k, v in record.items() if k != "updatedAt"}
    if isinstance(props, dict):
        stripped["properties"] = {k: v for k, v in props.items() if k not in MODIFIED_FIELDS}
    return hashlib.md5(json.dumps(stripped, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    fresh = con.execute("select count(*) from information_schema.tables "
                        "where table_schema = 'raw' and table_name = 'crm_latest'").fetchone()[0] == 0
    con.execute(DDL)
    for obj in OBJECTS:
        con.execute(OBJECT_DDL.format(obj=obj))
    if fresh:
        _backfill_latest(con)


def _backfill_latest(con) -> None:
    """A warehouse landed before echo recognition: the content hash of each record's latest landed version, once."""
    for obj in OBJECTS:
        rows = con.execute(f"""
            select record::varchar from raw.crm_{obj}
            qualify row_number() over (partition by split_part(record_key, '|', 1)
                                       order by record ->> 'updatedAt' desc, landed_at desc) = 1""").fetchall()
        latest = {}
        for (text,) in rows:
            rec = json.loads(text)
            latest[str(rec.get("id"))] = content_md5(rec)
        if latest:
            con.register("_latest", pl.DataFrame({"id": list(latest), "content_md5": list(latest.values())}))
            con.execute("insert or replace into raw.crm_latest select ?, id, content_md5 from _latest", [obj])
            con.unregister("_latest")


def _ms(iso) -> int | None:
    """HubSpot's ISO-8601 UTC string ('...Z') as epoch milliseconds, or None for a value that is not one (the
    record goes to quarantine; the cursor follows the others)."""
    try:
        return int(datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _checked(con, table: str, records: list, compact: bool = True
             ) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    """The page's records against the object's landing contract (contracts.CRM_CONTRACTS): (key, text) of the
    good ones, (position, text, reason) of the bad ones. The text is serialized as earlier releases did, so an
    unchanged record extracted again compares equal to the landed one."""
    texts = [json.dumps(r, separators=(",", ":")) if compact else json.dumps(r) for r in records]
    good, bad = [], []
    for i, (text, (err, key)) in enumerate(zip(texts, check_records(con, CRM_CONTRACTS[table], texts,
                                                                      datetime.now(timezone.utc))), start=1):
        if err:
            bad.append((i, text[:100_000], err))
        else:
            good.append((key, text))
    return good, bad


def _land_page(con, obj: str, records: list[dict], request: str, archived: bool, cursor_ms: int | None,
               assoc: dict[str, list[tuple[str, str]]] | None) -> tuple[int, int, int, int]:
    """One transaction: the page's records, bad ones to quarantine, its associations, the new cursor. A record
    seen again unchanged lands once; the same id and updatedAt with another payload (e.g. more properties asked
    for) lands as a new version under key#hash, the later one winning in staging; an echo does not land.
    Returns (landed, duplicates, quarantined, echoes)."""
    good, bad = _checked(con, f"crm_{obj}", records)
    ids = [g[0].split("|")[0] for g in good]
    hashes = [content_md5(json.loads(g[1])) for g in good]
    rows = pl.DataFrame({"record_key": [g[0] for g in good], "record": [g[1] for g in good], "id": ids,
                         "content_md5": hashes, "position": list(range(len(good)))},
                        schema={"record_key": pl.String, "record": pl.String, "id": pl.String,
                                "content_md5": pl.String, "position": pl.Int64})
    con.execute("begin transaction")
    try:
        con.register("_page", rows)
        # the landed versions the page could repeat, by key, without reading the whole table (landed_under_keys)
        landed_under_keys(con, f"raw.crm_{obj}", """
            select record_key from _page union all select record_key || '#' || left(md5(record), 12) from _page""",
                          "_hits")
        # an echo (same content as the latest landed version of the id) is neither landed nor remembered anew
        echoes = con.execute("""
            select count(*) from _page p inner join raw.crm_latest l
                on l.object = ? and l.id = p.id and l.content_md5 = p.content_md5
            where p.record_key not in (select record_key from _hits)""",
            [obj]).fetchone()[0]
        landed = con.execute(f"""
            insert into raw.crm_{obj} (record_key, record, archived, request)
            select case when p.record_key in (select record_key from _hits)
                        then p.record_key || '#' || left(md5(p.record), 12) else p.record_key end,
                   record::json, ?, ?
            from _page p
            where not exists (select 1 from _hits h where h.record_key = p.record_key
                              and h.h = md5(p.record))
              and p.record_key || '#' || left(md5(p.record), 12) not in (select record_key from _hits)
              and not exists (select 1 from (select id, content_md5 from raw.crm_latest
                                             where object = ? and id in (select id from _page)) l
                              where l.id = p.id and l.content_md5 = p.content_md5)
            qualify row_number() over (partition by record_key, md5(record)) = 1
        """, [archived, request, obj]).fetchone()[0]
        # the page's versions in order of modification: the last one of an id is its latest content
        con.execute("""
            insert or replace into raw.crm_latest (object, id, content_md5)
            select ?, id, arg_max(content_md5, position) from _page group by id""", [obj])
        for line, raw, err in bad:
            con.execute("insert into raw.quarantine (source, file, line, raw_text, error) values (?, ?, ?, ?, ?)",
                        [f"crm_{obj}", request, line, raw, err])
        for to_obj, pairs in (assoc or {}).items():
            # only what changed is written: an unchanged page (an echo) leaves the associations as they were
            con.register("_assoc", pl.DataFrame({"from_id": [p[0] for p in pairs], "to_id": [p[1] for p in pairs]},
                                                schema={"from_id": pl.String, "to_id": pl.String}))
            if ids:
                con.execute("""
                delete from raw.crm_associations a
                where a.from_object = ? and a.to_object = ? and list_contains(?, a.from_id)
                  and not exists (select 1 from _assoc n where n.from_id = a.from_id and n.to_id = a.to_id)""",
                            [obj, to_obj, sorted(set(ids))])
            # (the landed pairs of the page's ids only: an anti-join against the whole table hashed all of it)
            con.execute("""
                insert into raw.crm_associations (from_object, from_id, to_object, to_id)
                select distinct ?, from_id, ?, to_id from _assoc n
                where not exists (select 1 from (select from_id, to_id from raw.crm_associations
                                                 where from_object = ? and to_object = ?
                                                   and from_id in (select from_id from _assoc)) a
                                  where a.from_id = n.from_id and a.to_id = n.to_id)""", [obj, to_obj, obj, to_obj])
            con.unregister("_assoc")
        crash_point("REVOPS_FAULT_KILL_AT_PAGE")  # records and associations written, cursor not, nothing committed
        if cursor_ms is not None:
            con.execute("insert or replace into raw.crm_cursors (object, cursor_ms, updated_at) values (?, ?, now())",
                        [obj, cursor_ms])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_page")
    return landed, len(good) - landed - echoes, len(bad), echoes


def _associations(client: HubSpotClient, obj: str, to_obj: str, ids: list[str]) -> list[tuple[str, str]]:
    if not ids:
        return []
    res = client.request("POST", f"/crm/v4/associations/{obj}/{to_obj}/batch/read",
                         json={"inputs": [{"id": i} for i in ids]})
    return [(str(r["from"]["id"]), str(t["toObjectId"])) for r in res.get("results", []) for t in r.get("to", [])]


@dataclass
class _Page:
    results: list
    request: str
    newest: int | None      # the newest last-modified time on the page (epoch ms), the cursor once it landed


SEARCH_PER_S = 5  # HubSpot's search limit per token: 5 requests in any second


class _SearchPace:
    """Send a search only when the one SEARCH_PER_S searches back has been answered more than a second ago: its
    arrival at the server was before its answer, so no second at the server can hold more than SEARCH_PER_S
    arrivals, however late a request left (a busy process delays sends by tens of ms; pacing by send times alone
    drew 14 429s on M, each costing a 1-second Retry-After). Costs one round trip a second: ~97 % of the limit."""

    def __init__(self) -> None:
        self.answered: deque[float] = deque(maxlen=SEARCH_PER_S)

    def wait(self) -> None:
        if len(self.answered) == SEARCH_PER_S:
            time.sleep(max(0.0, self.answered[0] + 1.0 - time.monotonic()))

    def done(self) -> None:
        self.answered.append(time.monotonic())


def _search_pages(client: HubSpotClient, obj: str, cursor: int, pace: _SearchPace, stop: threading.Event):
    """The object's search pages from `cursor`, in order, windowed past the result cap, paced under the search
    limit. Runs in its own thread so the next search is on the wire while a page lands."""
    spec = OBJECTS[obj]
    prop = spec["cursor"]
    window_start, after = cursor, None
    while not stop.is_set():
        body = {"filterGroups": [{"filters": [{"propertyName": prop, "operator": "GTE", "value": str(window_start)}]}],
                "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
                "properties": spec["properties"], "limit": SEARCH_PAGE}
        if after:
            body["after"] = after
        # search has its own per-second limit (HubSpot: 5/s): pace instead of collecting 429s
        pace.wait()
        try:
            page = client.request("POST", f"/crm/v3/objects/{obj}/search", json=body)
        finally:
            pace.done()
        results = page.get("results", [])
        newest = max((ms for r in results if isinstance(r, dict) and isinstance(r.get("properties"), dict)
                      and (ms := _ms(r["properties"].get(prop))) is not None), default=None)
        yield _Page(results, f"POST /crm/v3/objects/{obj}/search {prop}>={window_start} after={after or 0}", newest)
        nxt = (page.get("paging") or {}).get("next", {}).get("after")
        seen = int(after or 0) + len(results)
        if not results or page.get("total", 0) <= seen:
            return
        if nxt and int(nxt) + SEARCH_PAGE <= SEARCH_CAP:
            after = nxt
            continue
        # the query hit (or would pass) the result cap: a new window from the newest time seen; the records
        # at exactly that time come again and are skipped as duplicates
        if newest is None or newest <= window_start:
            raise RuntimeError(f"{obj}: more records than one search returns share {prop}={window_start}; "
                               "cannot window the search")
        window_start, after = newest, None
        yield "window"


_DONE = object()


def _prefetched(pages, stop: threading.Event, depth: int = 3):
    """Iterate `pages` in a thread, `depth` ahead: searches keep going at their limit while the caller reads
    associations and lands (HubSpot's other endpoints have their own limit). A failure on either side stops
    both; what was fetched ahead and not landed is read again next run (the cursor moves only with landed pages)."""
    q: queue.Queue = queue.Queue(maxsize=depth)

    def run():
        try:
            for item in pages:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as e:  # handed to the caller, raised there
            q.put(e)

    worker = threading.Thread(target=run, name="crm-search", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=60)


def extract_object(con, client: HubSpotClient, obj: str, full_refresh: bool = False,
                   on_page: Callable[[ExtractResult], None] | None = None,
                   pace: _SearchPace | None = None) -> ExtractResult:
    """Incremental extraction of one object type (search API, windowed), then its archived records."""
    spec = OBJECTS[obj]
    if full_refresh:
        con.execute("delete from raw.crm_cursors where object = ?", [obj])
    row = con.execute("select cursor_ms from raw.crm_cursors where object = ?", [obj]).fetchone()
    cursor = row[0] if row else 0
    res = ExtractResult(obj)
    stop = threading.Event()
    for page in _prefetched(_search_pages(client, obj, cursor, pace or _SearchPace(), stop), stop):
        if isinstance(page, str):  # a new search window
            res.windows += 1
            continue
        ids = [str(r["id"]) for r in page.results if isinstance(r, dict) and r.get("id")]
        assoc = {to: _associations(client, obj, to, ids) for to in spec["assoc"]}
        landed, dup, bad, echoes = _land_page(con, obj, page.results, page.request, False, page.newest, assoc)
        res.pages += 1
        res.read += len(page.results)
        res.landed += landed
        res.duplicates += dup
        res.quarantined += bad
        res.echoes += echoes
        res.extra["associations"] = res.extra.get("associations", 0) + sum(len(p) for p in assoc.values())
        if on_page:
            on_page(res)
    res.extra["archived"] = _extract_archived(con, client, obj)
    return res


def _extract_archived(con, client: HubSpotClient, obj: str) -> int:
    """Archived records are not searchable: list them (they are few) and keep them with their flag."""
    after, n = None, 0
    while True:
        params = {"archived": "true", "limit": 100, "properties": ",".join(OBJECTS[obj]["properties"])}
        if after:
            params["after"] = after
        page = client.request("GET", f"/crm/v3/objects/{obj}", params=params)
        results = page.get("results", [])
        _land_page(con, obj, results, f"GET /crm/v3/objects/{obj}?archived=true after={after or 0}", True, None, None)
        n += len(results)
        after = (page.get("paging") or {}).get("next", {}).get("after")
        if not after:
            return n


def extract_owners(con, client: HubSpotClient) -> int:
    """Owners are few and have no search: a full list every run, keyed (id, updatedAt)."""
    after, n = None, 0
    while True:
        params = {"limit": 100, **({"after": after} if after else {})}
        page = client.request("GET", "/crm/v3/owners", params=params)
        good, bad = _checked(con, "crm_owners", page.get("results", []), compact=False)
        for line, raw, err in bad:
            con.execute("insert into raw.quarantine (source, file, line, raw_text, error) values (?, ?, ?, ?, ?)",
                        ["crm_owners", "GET /crm/v3/owners", line, raw, err])
        rows = pl.DataFrame({"record_key": [g[0] for g in good], "record": [g[1] for g in good]},
                            schema={"record_key": pl.String, "record": pl.String})
        con.execute("select 1").fetchall()  # DuckDB 2 refuses register() while an earlier result is unread
        con.register("_owners", rows)
        n += con.execute("insert into raw.crm_owners (record_key, record, request) select record_key, record::json, "
                         "'GET /crm/v3/owners' from _owners o where not exists "
                         "(select 1 from raw.crm_owners t where t.record_key = o.record_key)").fetchone()[0]
        con.unregister("_owners")
        after = (page.get("paging") or {}).get("next", {}).get("after")
        if not after:
            return n


def extract_all(con, client: HubSpotClient, objects: list[str] | None = None, full_refresh: bool = False,
                on_page: Callable[[ExtractResult], None] | None = None) -> dict[str, ExtractResult]:
    from revops.landing.files import ensure_schema as ensure_file_schema

    ensure_file_schema(con)  # raw.quarantine
    ensure_schema(con)
    out = {}
    owners = extract_owners(con, client)
    pace = _SearchPace()  # one limit for every object's searches
    for obj in objects or list(OBJECTS):
        out[obj] = extract_object(con, client, obj, full_refresh=full_refresh, on_page=on_page, pace=pace)
    out["owners"] = ExtractResult("owners", read=owners, landed=owners)
    return out
