"""Landing the file sources (ESP webhooks, sales-engagement exports, Segment, enrichment) into `raw`.

Each file lands in one DuckDB transaction: its valid records (deduplicated on the source's delivery key
against everything already landed), its quarantined records with the reason, and its manifest row. A crash
mid-file rolls the whole file back, so a rerun lands it as if the first attempt never happened. A file
already landed with the same checksum is skipped; a changed file replaces its own earlier rows.
Every file reconciles: records read = landed + quarantined + duplicates skipped, or the file fails.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from pydantic import BaseModel, ValidationError

from . import models
from .faults import crash_point

DDL = """
create schema if not exists raw;
create table if not exists raw.landing_manifest (
    path varchar primary key,   -- relative to the landing folder
    source varchar not null,
    size_bytes bigint not null,
    sha256 varchar not null,
    rows_read integer not null,
    rows_landed integer not null,
    rows_quarantined integer not null,
    rows_duplicate integer not null,
    landed_at timestamptz not null default now()
);
create table if not exists raw.quarantine (
    source varchar not null,
    file varchar not null,      -- file path, or the API request for CRM pages
    line integer,               -- 1-based line, or element index of a JSON array
    raw_text varchar,
    error varchar not null,
    quarantined_at timestamptz not null default now()
);
"""

RAW_TABLE_DDL = """
create table if not exists raw.{table} (
    record_key varchar not null,  -- the source's delivery key: a record delivered twice lands once
    record json not null,         -- the record as delivered
    provider varchar,             -- enrichment provider (from the folder), else null
    file varchar not null,
    line integer not null,
    landed_at timestamptz not null default now()
);
"""


@dataclass(frozen=True)
class FileSource:
    name: str  # raw table name
    pattern: str  # glob below the landing folder
    fmt: str  # "json_array" (a webhook POST body) or "jsonl" (optionally .gz)
    model: type[BaseModel]
    key: Callable[[BaseModel], str]  # delivery key of a valid record


def _iso(v) -> str:
    return v.isoformat()


SOURCES: dict[str, FileSource] = {s.name: s for s in [
    FileSource("esp_events", "esp/events/**/*.json", "json_array", models.EspEvent, lambda r: r.sg_event_id),
    FileSource("segment_events", "segment/**/*.jsonl*", "jsonl", models.SegmentEvent, lambda r: r.messageId),
    # sales-engagement records reappear whenever they change: the same id + updatedAt is the same delivery
    FileSource("se_prospects", "sales_engagement/prospects/**/*.jsonl", "jsonl", models.Prospect,
               lambda r: f"{r.id}|{_iso(r.updatedAt)}"),
    FileSource("se_sequence_states", "sales_engagement/sequence_states/**/*.jsonl", "jsonl", models.SequenceState,
               lambda r: f"{r.id}|{_iso(r.updatedAt)}"),
    FileSource("se_mailings", "sales_engagement/mailings/**/*.jsonl", "jsonl", models.Mailing,
               lambda r: f"{r.id}|{_iso(r.updatedAt)}"),
    FileSource("enrichment_companies", "enrichment/*/companies/*.jsonl", "jsonl", models.EnrichmentCompany,
               lambda r: f"{r.domain}|{_iso(r.observed_at)}"),
    FileSource("enrichment_signals", "enrichment/*/signals/*.jsonl", "jsonl", models.EnrichmentSignal,
               lambda r: r.signal_id),
]}


@dataclass
class FileResult:
    source: str
    path: str
    skipped: bool = False
    read: int = 0
    landed: int = 0
    quarantined: int = 0
    duplicates: int = 0


class ReconciliationError(RuntimeError):
    pass


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    for src in SOURCES.values():
        con.execute(RAW_TABLE_DDL.format(table=src.name))


def split_records(text: str, fmt: str) -> Iterator[tuple[int, str]]:
    """(line, raw text) of every record. A JSON array that does not parse as a whole (a body cut off or a
    broken element) is read one element per line, so its good records are not lost with the bad one."""
    if fmt == "jsonl":
        for i, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                yield i, line
        return
    try:
        elements = json.loads(text)
    except json.JSONDecodeError:
        elements = None
    if isinstance(elements, list):
        for i, el in enumerate(elements, start=1):
            yield i, json.dumps(el, separators=(",", ":"), ensure_ascii=False)
        return
    body = [ln for ln in text.split("\n") if ln.strip() not in ("", "[", "]")]
    for i, line in enumerate(body, start=1):
        yield i, line.rstrip().removesuffix(",")


def _reason(e: ValidationError) -> str:
    parts = []
    for err in e.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"field '{loc}': {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)


def land_file(con: duckdb.DuckDBPyConnection, src: FileSource, root: Path, path: Path) -> FileResult:
    rel = str(path.relative_to(root))
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    known = con.execute("select sha256 from raw.landing_manifest where path = ?", [rel]).fetchone()
    if known and known[0] == digest:
        return FileResult(src.name, rel, skipped=True)
    text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8", errors="replace")
    provider = path.relative_to(root).parts[1] if src.name.startswith("enrichment") else None

    good_keys, good_text, good_line, bad = [], [], [], []
    read = 0
    for line, raw in split_records(text, src.fmt):
        read += 1
        try:
            rec = src.model.model_validate_json(raw)
        except ValidationError as e:
            bad.append((line, raw, _reason(e)))
            continue
        good_keys.append(src.key(rec))
        good_text.append(raw)
        good_line.append(line)

    res = FileResult(src.name, rel, read=read, quarantined=len(bad))
    rows = pl.DataFrame({"record_key": good_keys, "record": good_text, "line": good_line},
                        schema={"record_key": pl.String, "record": pl.String, "line": pl.Int32})
    qrows = pl.DataFrame({"line": [b[0] for b in bad], "raw_text": [b[1] for b in bad], "error": [b[2] for b in bad]},
                         schema={"line": pl.Int32, "raw_text": pl.String, "error": pl.String})
    con.execute("begin transaction")
    try:
        # a changed file replaces what it landed before
        con.execute(f"delete from raw.{src.name} where file = ?", [rel])
        con.execute("delete from raw.quarantine where source = ? and file = ?", [src.name, rel])
        con.register("_new_rows", rows)
        con.register("_new_quarantine", qrows)
        landed = con.execute(f"""
            insert into raw.{src.name} (record_key, record, provider, file, line)
            select record_key, record::json, ?, ?, line
            from _new_rows n
            where not exists (select 1 from raw.{src.name} t where t.record_key = n.record_key
                              and t.provider is not distinct from ?)
            qualify row_number() over (partition by record_key order by line) = 1
        """, [provider, rel, provider]).fetchone()[0]
        con.execute("insert into raw.quarantine (source, file, line, raw_text, error) "
                    "select ?, ?, line, raw_text, error from _new_quarantine", [src.name, rel])
        res.landed = landed
        res.duplicates = len(good_keys) - landed
        if res.read != res.landed + res.quarantined + res.duplicates:
            raise ReconciliationError(f"{rel}: read {res.read} != landed {res.landed} + quarantined "
                                      f"{res.quarantined} + duplicates {res.duplicates}")
        crash_point("REVOPS_FAULT_KILL_AT_FILE")  # inside the transaction: rows inserted, nothing committed
        con.execute("""
            insert or replace into raw.landing_manifest
                (path, source, size_bytes, sha256, rows_read, rows_landed, rows_quarantined, rows_duplicate, landed_at)
            values (?, ?, ?, ?, ?, ?, ?, ?, now())
        """, [rel, src.name, len(data), digest, res.read, res.landed, res.quarantined, res.duplicates])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_new_rows")
        con.unregister("_new_quarantine")
    return res


def source_files(src: FileSource, root: Path) -> list[Path]:
    return sorted(p for p in root.glob(src.pattern) if p.is_file())


def land_source(con: duckdb.DuckDBPyConnection, src: FileSource, root: Path,
                on_file: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    ensure_schema(con)
    out = []
    for path in source_files(src, root):
        r = land_file(con, src, root, path)
        out.append(r)
        if on_file:
            on_file(r)
    return out
