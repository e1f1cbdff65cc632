"""Landing the file sources (ESP webhooks, sales-engagement exports, Segment, enrichment) into `raw`, in bulk.

Files are read whole and handed to DuckDB as Arrow (one string per record, cut at the newlines without a Python
loop); DuckDB checks every record against its source's contract (`contracts.py`) in one statement per batch of
files, computes delivery keys, sorts out duplicates and conflicts, and writes rows, quarantine and manifest.
Python touches single records only where they are rejects: invalid UTF-8, JSON DuckDB refuses (for its message)
or takes although it is not JSON (NaN, trailing commas), and conflicts whose text differs only in formatting.

A batch of files lands in one DuckDB transaction: its valid records, its quarantined records with the reason, and
a manifest row per file; a crash (even kill -9) mid-batch rolls every file of the batch back, so a rerun lands
them as if the first attempt never happened. A file already landed with the same checksum is skipped; a changed
file replaces its own earlier rows. Every file reconciles: read = landed + quarantined + duplicates.

Nothing is dropped silently (docs/landing.md): the same delivery key with another payload is a conflict — landed as a
new version where the source versions its records, else quarantined as `conflicting_duplicate` — and counted; a
file that cannot be read is one quarantine row naming it (landing goes on); a symlink out of the landing folder
is refused the same way.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import contracts
from .contracts import Contract
from revops.faults import crash_point

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
    line integer,               -- 1-based line, or element index of a JSON array; null for a whole file
    raw_text varchar,
    error varchar not null,
    quarantined_at timestamptz not null default now()
);
-- added after the first release: conflicts counted, files that could not be read or were refused
alter table raw.landing_manifest add column if not exists rows_conflicting integer default 0;
alter table raw.landing_manifest add column if not exists status varchar default 'landed';
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
-- md5 of the record's text, stored where landing compared it with another payload; null means md5(record)
alter table raw.{table} add column if not exists payload_hash varchar;
"""

# A batch closes at this many bytes of records or files, whichever comes first: large enough that the per-batch
# statements (~15) cost well under 2 ms a file, small enough that a batch's text and its copies stay < 1 GiB.
BATCH_BYTES = int(os.environ.get("REVOPS_LANDING_BATCH_BYTES", 512 * 2**20))
BATCH_FILES = int(os.environ.get("REVOPS_LANDING_BATCH_FILES", 4000))
CHUNK_ROWS = int(os.environ.get("REVOPS_LANDING_CHUNK_ROWS", 8192))
PREFETCH_FILES = 8  # files read ahead by the reading thread
# A batch with at least this many bytes of records commits by checkpointing: DuckDB then writes its rows once, into
# the database file, instead of into the write-ahead log and again at the next checkpoint (DuckDB's own "checkpoint
# instead of WAL write" for large commits; the checkpoint is atomic, so a kill -9 during it leaves the batch
# uncommitted). A 3 MB source: 11 ms of a 140 ms landing. Smaller batches (a day's few files) write the log: a
# checkpoint of a built warehouse costs 5-20 ms whatever it writes.
DIRECT_CHECKPOINT_BYTES = int(os.environ.get("REVOPS_LANDING_DIRECT_CHECKPOINT_BYTES", 2**20))

STATUS_LANDED, STATUS_UNREADABLE, STATUS_REFUSED = "landed", "unreadable", "refused"


@dataclass(frozen=True)
class FileSource:
    name: str  # raw table name
    pattern: str  # glob below the landing folder ('**' any folders)
    fmt: str  # "json_array" (a webhook POST body) or "jsonl" (optionally .gz)
    also: tuple[str, ...] = ()  # more globs in the same folder (Segment's Parquet files for large volumes)

    @property
    def contract(self) -> Contract:
        return contracts.FILE_CONTRACTS[self.name]

    @property
    def provider_from_folder(self) -> bool:
        return self.name.startswith("enrichment")


SOURCES: dict[str, FileSource] = {s.name: s for s in [
    FileSource("esp_events", "esp/events/**/*.json", "json_array"),
    FileSource("segment_events", "segment/**/*.jsonl*", "jsonl", also=("segment/**/*.parquet",)),
    FileSource("se_prospects", "sales_engagement/prospects/**/*.jsonl", "jsonl"),
    FileSource("se_sequence_states", "sales_engagement/sequence_states/**/*.jsonl", "jsonl"),
    FileSource("se_mailings", "sales_engagement/mailings/**/*.jsonl", "jsonl"),
    FileSource("enrichment_companies", "enrichment/*/companies/*.jsonl", "jsonl"),
    FileSource("enrichment_signals", "enrichment/*/signals/*.jsonl", "jsonl"),
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
    conflicting: int = 0
    problem: str | None = None  # why the file could not be read, or was refused (then nothing of it landed)
    provider: str | None = None


class ReconciliationError(RuntimeError):
    pass


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables, or bring an older warehouse's up to date (one query when they are)."""
    # duckdb_columns(), not information_schema.columns (a view over it): 1.8 ms, not 2.5, on a built warehouse
    have = con.execute("""
        select count(*) from duckdb_columns()
        where schema_name = 'raw' and ((table_name = 'landing_manifest' and column_name = 'status')
                                       or column_name = 'payload_hash')
    """).fetchone()[0]
    if have == len(SOURCES) + 1:
        return
    con.execute(DDL)
    for src in SOURCES.values():
        con.execute(RAW_TABLE_DDL.format(table=src.name))


# --- finding the files ----------------------------------------------------------------------------------------

def _pattern_regex(pattern: str) -> re.Pattern:
    out = ""
    for part in re.split(r"(\*\*/|\*|\?)", pattern):
        out += {"**/": "(?:[^/]+/)*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
    return re.compile(out + r"\Z")


@dataclass(frozen=True)
class Candidate:
    path: Path
    rel: str
    problem: str | None = None  # set for a symlink that is refused or leads nowhere
    status: str = STATUS_LANDED


def discover(src: FileSource, root: Path) -> list[Candidate]:
    """The source's files below `root`, sorted, walking without following links. A symlink to a file inside the
    landing folder is read like a file; one out of it is refused, one that loops or dangles is unreadable — each
    becomes a candidate with its problem, so it is counted and reported rather than skipped."""
    rxs = [_pattern_regex(p) for p in (src.pattern, *src.also)]
    base = root / src.pattern.split("*")[0].rsplit("/", 1)[0]
    real_root = root.resolve()
    out: list[Candidate] = []
    if not base.is_dir():
        return out
    root_len = len(str(root)) + 1
    # os.scandir on strings, not os.walk on Paths: the entry's type comes from the directory listing (no stat a
    # file), and a Path is made only for a file that is kept (a 90-file source: 10 -> 2 ms)
    stack = [str(base)]
    while stack:
        with os.scandir(stack.pop()) as it:
            entries = list(it)
        for e in entries:
            rel = e.path[root_len:].replace(os.sep, "/")
            is_link = e.is_symlink()
            if not is_link:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                    continue
                if any(rx.match(rel) for rx in rxs):
                    out.append(Candidate(Path(e.path), rel))
                continue
            p = Path(e.path)
            if p.is_dir():
                # a linked folder is not walked: its files are counted where they really are, if inside
                try:
                    target = p.resolve(strict=True)
                except (OSError, RuntimeError):
                    continue
                if not target.is_relative_to(real_root):  # below the source's folder: its files would count
                    out.append(Candidate(p, rel, f"a symlink to {target}, outside the landing folder (not followed)",
                                         STATUS_REFUSED))
                continue
            if not any(rx.match(rel) for rx in rxs):
                continue
            try:
                target = p.resolve(strict=True)
            except RuntimeError:
                out.append(Candidate(p, rel, "symlink loop", STATUS_UNREADABLE))
                continue
            except OSError as err:
                out.append(Candidate(p, rel, f"broken symlink ({err.strerror})", STATUS_UNREADABLE))
                continue
            if not target.is_relative_to(real_root):
                out.append(Candidate(p, rel, f"a symlink to {target}, outside the landing folder", STATUS_REFUSED))
                continue
            out.append(Candidate(p, rel))
    return sorted(out, key=lambda c: c.rel)


def source_files(src: FileSource, root: Path) -> list[Path]:
    return [c.path for c in discover(src, root) if c.problem is None]


# --- reading a file -------------------------------------------------------------------------------------------

class Unreadable(Exception):
    pass


LONE_SURROGATE = "invalid UTF-8: a \\u escape of a lone surrogate (no character)"


def _decompress(path: Path, data: bytes) -> bytes:
    if path.suffix != ".gz":
        return data
    if not data:
        raise Unreadable("empty file: not a gzip stream")
    try:
        return gzip.decompress(data)
    except EOFError:
        raise Unreadable("truncated gzip stream (the file ends before the compressed data does)") from None
    except (OSError, zlib.error) as e:
        raise Unreadable(f"corrupt gzip stream ({e})") from None


def json_error(text: str) -> str:
    """The reason DuckDB found a record not to be JSON, in Python's words (only rejects come here)."""
    return strict_json_error(text) or "Invalid JSON: not accepted by DuckDB's parser"


def _has_lone_surrogate(obj) -> bool:
    """A string anywhere in a parsed JSON value that is not encodable as UTF-8 (iterative: nesting is unbounded)."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, str):
            try:
                o.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
    return False


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str):
    """json.loads as RFC 8259 has it: no NaN or Infinity (DuckDB's parser takes those, and trailing commas, so
    records it flags as unusual are settled here)."""
    return json.loads(text, parse_constant=_reject_constant)


def strict_json_error(text: str) -> str | None:
    try:
        obj = strict_json(text)
    except json.JSONDecodeError as e:
        return f"Invalid JSON: {e}"
    except ValueError as e:
        return f"Invalid JSON: {e}"
    except RecursionError:
        return "Invalid JSON: nested too deeply"
    return LONE_SURROGATE if _has_lone_surrogate(obj) else None


def _python_line(line_no: int, raw: bytes) -> tuple[int, str, str | None]:
    """(line, text, reject reason) of one line of a file that is not valid UTF-8 as a whole: the line with the
    invalid byte is rejected here (and kept, its bytes escaped), before DuckDB sees it."""
    try:
        return line_no, raw.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return line_no, raw.decode("utf-8", errors="backslashreplace"), \
            f"invalid UTF-8: byte 0x{raw[e.start]:02x} at offset {e.start} of the record"


def _fast_rows(batch: list["Prepared"], threads: int = 1) -> pa.Table:
    """(file_id, line, text) of every non-empty line of the batch's JSON Lines files, cut by one numpy pass over
    their bodies joined (a per-file cut costs ~0.1 ms a file, which small files feel), plus Parquet rows."""
    bodies = [p for p in batch if p.body is not None]
    parts = []
    if bodies:
        joined = b"".join(p.body if p.body.endswith(b"\n") else p.body + b"\n" for p in bodies)
        sizes = np.array([len(p.body) + (not p.body.endswith(b"\n")) for p in bodies], dtype=np.int64)
        file_start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        nl = np.flatnonzero(np.frombuffer(joined, dtype=np.uint8) == 10)
        line_no, text, starts = _lines_arrow(joined, nl)
        which = np.searchsorted(file_start, starts, side="right") - 1
        # a file's first line is line 1: subtract the lines before the file (the newlines before its start)
        lines_before = np.searchsorted(nl, file_start)
        ids = np.array([p.file_id for p in bodies], dtype=np.int32)
        # each line's newline off, in Arrow (one copy at ~3 GB/s; DuckDB's rtrim takes ten times as long)
        text = pc.utf8_rtrim(text, characters="\r\n")
        parts.append(pa.table({"file_id": pa.array(ids[which]),
                               "line": pa.array((line_no - lines_before[which]).astype(np.int32)),
                               "text": text}))
    for p in batch:
        if p.texts is not None:
            parts.append(pa.table({"file_id": pa.array(np.full(len(p.texts), p.file_id, np.int32)),
                                   "line": p.lines.cast(pa.int32()), "text": p.texts}))
    if not parts:
        return pa.table({"file_id": pa.array([], pa.int32()), "line": pa.array([], pa.int32()),
                         "text": pa.array([], pa.large_string())})
    rows = pa.concat_tables(parts)
    return pa.Table.from_batches(rows.to_batches(max_chunksize=_slice_rows(rows.num_rows, threads)))


def _strings(texts: list[bytes]) -> pa.LargeStringArray:
    """Valid UTF-8 byte strings as one Arrow string array, built from their joined buffer: pa.array() converts
    object by object (0.7-2 s for the 90 ESP bodies of M, 170 MB; the join is one copy, ~0.05 s)."""
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    return pa.LargeStringArray.from_buffers(len(texts), pa.py_buffer(offsets), pa.py_buffer(b"".join(texts)))


def _slice_rows(n: int, threads: int) -> int:
    """Rows per Arrow slice (zero-copy) of a batch of `n` records. DuckDB scans one slice on one thread: a batch as
    a single chunk left the second core idle (mailings 257 -> 203 ms to validate on 2 cores), and slices of a fixed
    8,192 rows leave one thread alone on the last (23k records: 8,192 + 8,192 + 6,581). So: the fewest slices of at
    most CHUNK_ROWS whose count is a multiple of the threads, all of one size (23k records: 4 x 5,742)."""
    slices = -(-n // CHUNK_ROWS)
    slices = -(-slices // threads) * threads
    return max(1, -(-n // max(slices, 1)))


def _lines_arrow(data: bytes, nl: np.ndarray) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """(line numbers, text, start offsets) of every non-empty line of `data` (newlines at `nl`), cut by numpy over
    the buffer itself: no copy and no Python object per record. Element i runs from line i's start to the next
    kept line's start, so it ends with the newline (and any empty lines after it); _fast_rows trims that off."""
    starts = np.concatenate(([0], nl + 1)).astype(np.int64)
    ends = np.concatenate((nl, [len(data)])).astype(np.int64)
    keep = ends > starts
    line_no = (np.arange(len(starts), dtype=np.int64) + 1)[keep]
    starts = starts[keep]
    offsets = np.append(starts, len(data)).astype(np.int64)
    text = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(data))
    return line_no, text, starts


def _parquet_rows(path: Path) -> tuple[pa.Array, pa.Array]:
    """(row number, the row as JSON text) of a Parquet file (docs/landing.md: Segment in Parquet for large volumes), so
    it goes through the same contract as JSON Lines. Its own in-memory DuckDB: this may run in the reading thread."""
    con = duckdb.connect()
    try:
        tbl = con.sql("select to_json(t)::varchar as text from read_parquet(?) t", params=[str(path)]).to_arrow_table()
    except duckdb.Error as e:
        raise Unreadable(f"not a readable Parquet file ({str(e).splitlines()[0][:200]})") from None
    finally:
        con.close()
    text = tbl.column("text").cast(pa.large_string())
    return pa.array(np.arange(1, len(text) + 1, dtype=np.int32)), text.combine_chunks()


@dataclass
class Prepared:
    """One file read and ready for its batch."""
    cand: Candidate
    file_id: int
    provider: str | None
    size: int
    digest: str
    changed: bool                   # it was landed before with another checksum
    lines: pa.Array | None = None   # fast path (Parquet): row numbers
    texts: pa.Array | None = None   # fast path (Parquet): record text
    body: bytes | None = None       # fast path (JSON Lines): the file's text, cut into records with its batch
    array_body: bytes | None = None  # fast path (JSON array): the whole body (valid UTF-8), split by DuckDB
    python_rows: list[tuple[int, str, str | None]] = field(default_factory=list)  # slow path: (line, text, reject)

    @property
    def nbytes(self) -> int:
        return (len(self.body) if self.body is not None else self.size) + sum(len(t) for _, t, _ in self.python_rows)


def split_array_body(text: str, from_bytes: bool = False) -> list[tuple[int, str, str | None]]:
    """(element index, text, reject) of a JSON array body DuckDB could not take whole. A body written one element a
    line (the usual webhook log) is cut at its lines — each line one record for DuckDB to check, so one broken
    element costs one record; any other layout goes to Python's decoder element by element."""
    lines = text.split("\n")
    kept = [ln.rstrip() for ln in lines if ln.strip() not in ("", "[", "]")]
    if len(kept) > 1 and all(ln.startswith("{") or ln.startswith("[{") for ln in kept):
        kept[0] = kept[0].removeprefix("[")
        last = kept[-1].removesuffix(",")
        kept[-1] = last[:-1] if last.endswith("]") and not last.endswith("]]") or last.endswith("}]") else last
        out = []
        for i, ln in enumerate(kept, start=1):
            ln = ln.removesuffix(",")
            err = None
            if from_bytes and any("\udc80" <= ch <= "\udcff" for ch in ln):
                err = "invalid UTF-8: a byte that is not UTF-8 in the element"
                ln = ln.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
            out.append((i, ln, err))
        return out
    return list(split_array_python(text, from_bytes))


def _array_element_lines(file_id: int, body: bytes) -> pa.Table | None:
    """(file_id, line, text) of a JSON array body DuckDB could not take whole, written one element a line — what
    split_array_body makes of it, cut by numpy and Arrow over the body's buffer: Python objects per element cost
    ~3 us each (2.6 s for the 744k events of M's ESP bodies, 88 of whose 90 files hold a broken element), this
    ~0.1 s. None for any other layout (split_array_body's per-element path takes it)."""
    nl = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 10)
    _, text, _ = _lines_arrow(body, nl)
    text = pc.utf8_rtrim_whitespace(text)
    # the lines that are "", "[" or "]" once trimmed go, told by length and first byte in numpy (is_in hashes every
    # line's text: 0.75 s for M's ESP bodies)
    trimmed = pc.utf8_ltrim_whitespace(text)
    offsets = np.frombuffer(trimmed.buffers()[1], dtype=np.int64)[trimmed.offset:trimmed.offset + len(trimmed) + 1]
    lengths = np.diff(offsets)
    first_byte = np.frombuffer(trimmed.buffers()[2], dtype=np.uint8)[np.minimum(offsets[:-1], offsets[-1] - 1)]
    keep = (lengths > 1) | ((lengths == 1) & (first_byte != ord("[")) & (first_byte != ord("]")))
    text = text.filter(pa.array(keep))
    if len(text) <= 1 or not pc.all(pc.or_(pc.starts_with(text, "{"), pc.starts_with(text, "[{"))).as_py():
        return None
    first, last = text[0].as_py().removeprefix("["), text[-1].as_py().removesuffix(",")
    if last.endswith("]") and not last.endswith("]]") or last.endswith("}]"):
        last = last[:-1]
    text = pa.concat_arrays([pa.array([first], text.type), text[1:-1], pa.array([last], text.type)])
    # one trailing comma off each element (a second one stays, and the element is rejected as not JSON)
    text = pc.if_else(pc.ends_with(text, ","), pc.utf8_slice_codeunits(text, 0, -1), text)
    n = len(text)
    return pa.table({"file_id": pa.array(np.full(n, file_id, np.int32)),
                     "line": pa.array(np.arange(1, n + 1, dtype=np.int32)), "text": text})


def split_array_python(text: str, from_bytes: bool = False) -> Iterator[tuple[int, str, str | None]]:
    """(element index, text, reject) of a JSON array body that DuckDB could not take whole (cut off, a broken
    element, an invalid byte): the slow path, Python's decoder element by element, so the complete events are
    kept. After a broken element it resumes at the next line that starts an element at the first element's
    indentation (one element a line, or pretty-printed); what it skipped is one rejected record. With
    `from_bytes`, lone surrogates stand for invalid bytes of the file (decoded with surrogateescape)."""
    dec = json.JSONDecoder(parse_constant=_reject_constant)
    n, pos = len(text), 0
    while pos < n and text[pos] in " \t\r\n\ufeff":
        pos += 1
    if pos >= n or text[pos] != "[":
        yield 1, text[:100_000], "the body should be a JSON array of events"
        return
    pos += 1
    indent = None
    i = 0

    def skip_ws(p: int) -> int:
        while p < n and text[p] in " \t\r\n":
            p += 1
        return p

    while True:
        pos = skip_ws(pos)
        if pos >= n or text[pos] == "]":
            return
        i += 1
        if indent is None:
            indent = pos - (text.rfind("\n", 0, pos) + 1)
        try:
            el, end = dec.raw_decode(text, pos)
            err = None
            if _has_lone_surrogate(el):
                err = ("invalid UTF-8: a byte that is not UTF-8 in the element" if from_bytes else LONE_SURROGATE)
            raw = text[pos:end]
            after = skip_ws(end)
            if after < n and text[after] not in ",]":
                raise ValueError("Expecting ',' delimiter after the element")
        except (ValueError, RecursionError) as e:
            # resume at the next line that starts a value at the elements' indentation
            nxt, resume = pos, n
            while True:
                nl = text.find("\n", nxt)
                if nl < 0:
                    break
                q = nl + 1 + indent
                if q < n and text[nl + 1:q].strip() == "" and text[q] in '{["-0123456789tfn':
                    resume = q
                    break
                nxt = nl + 1
            chunk = text[pos:resume].rstrip().rstrip(",").rstrip()
            reason = strict_json_error(chunk) if not isinstance(e, RecursionError) else None
            yield i, chunk.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace"), \
                reason or f"Invalid JSON: {e}"
            pos = resume
            continue
        if err:
            raw = raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
        yield i, raw, err
        pos = after + 1 if after < n and text[after] == "," else after


def _prepare_or_why(src: FileSource, root: Path, cand: Candidate, file_id: int, known: dict
                    ) -> Prepared | FileResult | Unreadable:
    """_prepare, with a file that cannot be read returned as Unreadable(reason, size, sha256) (from a thread)."""
    try:
        return _prepare(src, root, cand, file_id, known)
    except Unreadable as e:
        data = cand.path.read_bytes()
        return Unreadable(str(e), len(data), hashlib.sha256(data).hexdigest())


def _prepare(src: FileSource, root: Path, cand: Candidate, file_id: int, known: dict) -> Prepared | FileResult:
    try:
        data = cand.path.read_bytes()
    except OSError as e:
        return FileResult(src.name, cand.rel, problem=f"cannot read the file ({e.strerror})")
    digest = hashlib.sha256(data).hexdigest()
    prev = known.get(cand.rel)
    provider = Path(cand.rel).parts[1] if src.provider_from_folder else None
    if prev and prev[0] == digest:
        return FileResult(src.name, cand.rel, skipped=True, problem=prev[2] if prev[1] != STATUS_LANDED else None,
                          provider=provider)
    prep = Prepared(cand, file_id, provider, len(data), digest, changed=prev is not None)
    if cand.path.suffix == ".parquet":
        prep.lines, prep.texts = _parquet_rows(cand.path)
        return prep
    body = _decompress(cand.path, data)
    if body.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark is no part of the first record
        body = b"   " + body[3:]  # (spaces keep the offsets and line numbers)
    suspicious = False
    try:
        body.decode("utf-8")  # the whole file at C speed; a failure sends it down the per-line path
    except UnicodeDecodeError:
        suspicious = True
    if src.fmt == "json_array":
        if suspicious:
            prep.python_rows.extend(split_array_body(body.decode("utf-8", errors="surrogateescape"),
                                                     from_bytes=True))
        else:
            prep.array_body = body
        return prep
    if not suspicious:
        prep.body = body
        return prep
    for i, raw in enumerate(body.split(b"\n"), start=1):
        if raw.strip(b" \t\r"):
            prep.python_rows.append(_python_line(i, raw.rstrip(b"\r")))
    return prep


# --- landing a batch ------------------------------------------------------------------------------------------

INVALID_JSON = "\x00invalid json"  # placeholder until Python words the reason


def _fate_sql(table: str) -> str:
    """The fate of each valid record whose key is not simply new — it comes twice in the batch, or is landed
    already: 'duplicate' (this payload was landed, or comes earlier in the batch), or 'conflict' (the key is taken
    by another payload). Every other valid record lands under its key; this table stays small."""
    return f"""
    create or replace temp table _fate as
    with valid as (
        select file_id, line, base_key, provider from _checked where error is null
    ),
    landed_keys as (
        select record_key, provider, h from _landed
    ),
    busy as materialized (
        select base_key, provider from valid group by all having count(*) > 1
        union
        select record_key, provider from landed_keys
    ),
    candidates as materialized (
        -- only keys that come twice or are landed already need their payload compared (md5 of the text)
        select v.*, md5(c.text) as h
        from valid v semi join busy b on b.base_key = v.base_key and b.provider is not distinct from v.provider
        join _checked c using (file_id, line)
    ),
    existing as (
        -- landed rows under a key this batch delivers, or under a version one of its payloads already made
        select record_key as base_key, provider, h, false as is_version
        from landed_keys
        union all
        select c.base_key, x.provider, x.h, true
        from _landed_versions x join candidates c on x.record_key = c.base_key || '#' || left(c.h, 12)
    ),
    marked as (
        select c.*,
            exists (select 1 from existing e where e.base_key = c.base_key and e.provider is not distinct from c.provider
                    and e.h = c.h) as seen,
            exists (select 1 from existing e where e.base_key = c.base_key and e.provider is not distinct from c.provider
                    and not e.is_version) as key_taken,
            row_number() over (partition by c.base_key, c.provider, c.h order by c.file_id, c.line) as copy_no,
            min(c.file_id::bigint * 4294967296 + c.line) over (partition by c.base_key, c.provider, c.h) as first_pos
        from candidates c
    ),
    ranked as (
        select *, dense_rank() over (partition by base_key, provider order by first_pos) as payload_rank from marked
    )
    select file_id, line, base_key, provider, h,
        case when seen or copy_no > 1 then 'duplicate'
             when key_taken or payload_rank > 1 then 'conflict'
             else 'landed' end as fate
    from ranked
    """


def _find_landed(con, table: str) -> bool:
    """The landed rows the batch could repeat (landed_under_keys): `_landed` under the batch's valid keys,
    `_landed_versions` under the versions (key#hash) its repeated keys' payloads would make. True when any valid key
    of the batch comes twice in it or is landed already: only then has a record a fate other than landing (the
    candidates of _fate_sql)."""
    landed_under_keys(con, f"raw.{table}", "select base_key from _checked where error is null", "_landed",
                      provider=True)
    con.execute("""
        create or replace temp table _busy_keys as
        select base_key from _checked where error is null group by base_key, provider having count(*) > 1
        union select record_key from _landed""")
    if not con.execute("select count(*) from _busy_keys").fetchall()[0][0]:
        con.execute("create or replace temp table _landed_versions as select * from _landed limit 0")
        return False
    landed_under_keys(con, f"raw.{table}", """
        select c.base_key || '#' || left(md5(c.text), 12) from _checked c
        where c.error is null and c.base_key in (select base_key from _busy_keys)""", "_landed_versions", provider=True)
    return True


def landed_under_keys(con, table: str, keys_sql: str, into: str, provider: bool = False) -> None:
    """Temp table `into` of (rid, record_key[, provider], h = the payload's md5) for the rows of landed `table`
    (raw.<source> or raw.crm_<object>) whose record_key is one of `keys_sql`'s. Found by the key column alone (a
    semi-join), their text read by rowid for these rows only: a join that carries `record` reads the whole table's
    JSON text every time, which made landing slow down as the tables grew (L's contacts 4.5 -> 1.4 pages/s past
    ~400k rows; a batch of ESP files). A stored payload_hash (raw.<source>) is used as it is; null means
    md5(record)."""
    stored = "x.payload_hash" if provider else "null::varchar"
    con.execute(f"""
        create or replace temp table {into} as
        select x.rowid as rid, x.record_key{', x.provider' if provider else ''}, {stored} as h from {table} x
        where x.record_key in ({keys_sql})""")
    rids = [r[0] for r in con.execute(f"select rid from {into} where h is null").fetchall()]
    if rids:
        con.execute(f"""
            update {into} set h = m.h
            from (select rowid as rid, md5(record::varchar) as h from {table} where rowid = any(?::bigint[])) m
            where {into}.rid = m.rid""", [rids])


def _same_json(a: str, b: str) -> bool:
    """The same JSON value up to formatting and key order. Compared as canonical text, not with ==, for which
    true == 1 and 1 == 1.0: another payload must stay a conflict."""
    try:
        return json.dumps(strict_json(a), sort_keys=True) == json.dumps(strict_json(b), sort_keys=True)
    except (ValueError, RecursionError):
        return False


def _settle_formatting_conflicts(con, table: str) -> None:
    """A 'conflict' whose payload equals the first one up to formatting (key order, spacing, escapes) is a
    duplicate: decided in Python, for these few rows only."""
    if not con.execute("select count(*) from _fate where fate = 'conflict'").fetchone()[0]:
        return
    # the landed rows under the conflicts' keys, by rowid (_find_landed found them)
    rids = [r[0] for r in con.execute("""
        select l.rid from _landed l semi join _fate f
            on f.fate = 'conflict' and l.record_key = f.base_key and l.provider is not distinct from f.provider
    """).fetchall()]
    rows = con.execute(f"""
        with conflicts as (
            select f.file_id, f.line, f.base_key, f.provider, r.text
            from _fate f join _checked r using (file_id, line)
            where f.fate = 'conflict'
        ),
        first_landed as (
            select x.record_key as base_key, x.provider, x.record::varchar as text from raw.{table} x
            where x.rowid = any(?::bigint[])
            union all
            select f.base_key, f.provider, r.text from _fate f
            join _checked r using (file_id, line)
            where f.fate = 'landed'
        )
        select k.file_id, k.line, k.text, any_value(l.text) from conflicts k
        left join first_landed l on l.base_key = k.base_key and l.provider is not distinct from k.provider
        group by all
    """, [rids]).fetchall()
    same = [(fid, ln) for fid, ln, text, winner in rows if winner is not None and _same_json(text, winner)]
    if same:
        # one statement (executemany costs ~2 ms a row: 14 s for the ~7 k formatting-only repeats of a batch of L's
        # ESP bodies)
        con.register("_same", pa.table({"file_id": pa.array([f for f, _ in same], pa.int32()),
                                        "line": pa.array([ln for _, ln in same], pa.int32())}))
        try:
            con.execute("update _fate set fate = 'duplicate' from _same s "
                        "where _fate.file_id = s.file_id and _fate.line = s.line")
        finally:
            con.unregister("_same")


def _arrow_rows(rows: list[tuple[int, int, str, str | None]]) -> pa.Table:
    return pa.table({"file_id": pa.array([r[0] for r in rows], pa.int32()),
                     "line": pa.array([r[1] for r in rows], pa.int32()),
                     "text": pa.array([r[2] for r in rows], pa.large_string()),
                     "pre_error": pa.array([r[3] for r in rows], pa.string())})


def validate_batch(con, src: FileSource, batch: list[Prepared], now: datetime) -> pa.Table:
    """Every record of a batch of files with its error (or null) and delivery key, as Arrow: (file_id, line,
    provider, text, error, base_key). Engine-neutral: it runs on its own in-memory DuckDB (`con`), never on the
    warehouse, and a writer per engine takes its result (docs/architecture.md). Each record is parsed three times in C
    (valid?, types, texts) and never by Python unless it is a reject. One statement checks the batch and returns
    Arrow: JSON Lines stay in Arrow from the file's buffer to the result (copying their text into a table costs as
    much as validating it), and the few rejects Python words are patched into the result in Arrow."""
    c = src.contract
    # (a query whose result is read: DuckDB 2 refuses register() while an earlier result is unread)
    threads = int(con.execute("select current_setting('threads')").fetchall()[0][0])
    fast_rows = _fast_rows(batch, threads)
    arrays = [p for p in batch if p.array_body is not None]
    registered: list[str] = []

    def register(name: str, obj) -> None:
        con.register(name, obj)
        registered.append(name)

    # the batch's records, from the parts it has (a part's union costs planning even when it is empty)
    parts = []
    try:
        if fast_rows.num_rows:
            register("_fast_rows", fast_rows)
            # blank lines are no records
            parts.append("select file_id, line, text, null::varchar as pre_error from _fast_rows "
                         "where not regexp_full_match(text, '[ \t\r\n]*')")
        broken: set[int] = set()
        if arrays:
            register("_bodies", pa.table({"file_id": pa.array([p.file_id for p in arrays], pa.int32()),
                                          "body": _strings([p.array_body for p in arrays])}))
            # a JSON array body that DuckDB cannot take whole goes down Python's per-element path
            broken = {r[0] for r in con.execute(
                "select file_id from _bodies where not json_valid(body) or json_type(body) <> 'ARRAY'").fetchall()}
            if len(broken) < len(arrays):
                # the exploded array bodies are materialized once (unnest twice over a view would split them twice)
                con.execute("""
                    create or replace temp table _array_rows as
                    select file_id, unnest(range(1, len(els) + 1))::integer as line, unnest(els)::varchar as text
                    from (select file_id, json_extract(body, '$[*]') as els from _bodies
                          where file_id not in (select unnest(?::integer[])))
                """, [sorted(broken)])
                parts.append("select file_id, line, text, null::varchar as pre_error from _array_rows")
        slow = [(p.file_id, ln, t, err) for p in batch for ln, t, err in p.python_rows]
        element_lines = []
        broken_arrays = [p for p in arrays if p.file_id in broken]
        # Arrow's kernels release the GIL: the bodies are cut on every validator thread (M's ESP: 0.41 -> 0.23 s)
        with ThreadPoolExecutor(max_workers=threads) as cutters:
            cut = list(cutters.map(lambda p: _array_element_lines(p.file_id, p.array_body), broken_arrays))
        for p, lines in zip(broken_arrays, cut):
            if lines is not None:
                element_lines.append(lines)
            else:
                slow += [(p.file_id, i, t, e) for i, t, e in split_array_body(p.array_body.decode("utf-8"))]
        if element_lines:
            register("_element_lines", pa.concat_tables(element_lines))
            parts.append("select file_id, line, text, null::varchar as pre_error from _element_lines")
        if slow or not parts:
            register("_py_rows", _arrow_rows(slow))
            parts.append("select file_id, line, text, pre_error from _py_rows")
        if src.provider_from_folder:
            register("_files", pa.table({"file_id": pa.array([p.file_id for p in batch], pa.int32()),
                                         "provider": pa.array([p.provider for p in batch], pa.string())}))
            trimmed = f"select r.*, f.provider from ({' union all '.join(parts)}) r join _files f using (file_id)"
        else:
            trimmed = f"select *, null::varchar as provider from ({' union all '.join(parts)})"
        ok = "pre_error is null and json_valid(text)"
        checked = con.sql(f"""
            with trimmed as (
                {trimmed}
            ),
            parsed as (
                select *, {ok} as is_json, {contracts.parse_sql(c, guard=ok)} from trimmed
            ),
            unpacked as (
                select *, {contracts.unpack_sql(c)} from parsed
            ),
            timed as (
                select *, {contracts.times_sql(c)} from unpacked
            )
            select file_id, line, provider, text,
                   case when pre_error is not null then pre_error
                        when not is_json then ?
                        when {contracts.record_type_sql(c)} <> 'OBJECT' then 'the record should be a JSON object'
                        else {contracts.error_sql(c)} end as error,
                   case when is_json then {contracts.key_sql(c)} end as base_key,
                   -- DuckDB's parser also takes trailing commas, NaN, Infinity and numbers beyond a double: a record
                   -- that might hold one is settled by Python's strict parser (a false alarm costs only that)
                   -- (separate tests: one alternation of them costs RE2 four times as much). A number beyond a
                   -- double (1e999) is JSON by RFC 8259's grammar: it lands, and a field rule that wants an integer
                   -- refuses it
                   is_json and (contains(text, 'NaN') or contains(text, 'Infinity')
                                or regexp_matches(text, ',[ \t\r\n]*[\\]}}]'))
                       as unusual
            from timed cross join (select ?::timestamptz as _landing_now)
        """, params=[INVALID_JSON, now]).to_arrow_table()
    finally:
        if "_bodies" in registered:
            con.execute("drop table if exists _array_rows")
        for name in registered:
            con.unregister(name)
    return _word_json_errors(checked)


def _word_json_errors(checked: pa.Table) -> pa.Table:
    """The records DuckDB found not to be JSON, or flagged as unusual, get Python's reason (in Arrow: only these
    few rows leave it, by a filter that works chunk by chunk; a take would join the chunks' text first); the
    `unusual` flag goes."""
    error = checked.column("error")
    flagged = pc.or_kleene(pc.equal(error, INVALID_JSON), checked.column("unusual")).fill_null(False)
    checked = checked.drop_columns(["unusual"])
    rows = np.flatnonzero(flagged.to_numpy(zero_copy_only=False))
    if not len(rows):
        return checked
    bad = checked.select(["text", "error"]).filter(flagged)  # in the order of `rows`
    fixes = {}
    for i, t, e in zip(rows, bad.column("text").to_pylist(), bad.column("error").to_pylist()):
        fix = json_error(t) if e == INVALID_JSON else strict_json_error(t)
        if fix is not None:
            fixes[int(i)] = fix
    if not fixes:
        return checked
    mask = np.zeros(checked.num_rows, dtype=bool)
    mask[list(fixes)] = True  # ascending, like the replacements below
    fixed = pc.replace_with_mask(error.combine_chunks(), pa.array(mask), pa.array([fixes[i] for i in sorted(fixes)],
                                                                                 error.type))
    return checked.set_column(checked.schema.get_field_index("error"), "error", fixed)


def _text_as_json(checked: pa.Table) -> pa.Table:
    """The batch with its records' text typed JSON (Arrow's json extension type, zero-copy), so that DuckDB inserts
    the valid ones as they are: a VARCHAR is parsed once more by the cast to JSON (2.5 of the 7.6 ms a 23k-record
    insert takes on one thread), although validate_batch let through only records DuckDB's parser took. The
    rejects' text is read only as text (quarantine, md5): DuckDB's JSON is a VARCHAR to every other function. With
    a pyarrow that has no json type, the text stays a string and the insert casts it."""
    if not hasattr(pa, "json_"):
        return checked
    i = checked.schema.get_field_index("text")
    text = checked.column(i)
    return checked.set_column(i, pa.field("text", pa.json_(text.type)), pa.chunked_array(
        [pa.ExtensionArray.from_storage(pa.json_(text.type), chunk) for chunk in text.chunks], pa.json_(text.type)))


def _land_batch(con, src: FileSource, batch: list[Prepared], checked: pa.Table, threshold: str) -> list[FileResult]:
    """The DuckDB writer: a validated batch (Arrow, from validate_batch) into the warehouse in one transaction —
    duplicates and conflicts decided against what is landed, rows, quarantine and manifest written, counts
    reconciled."""
    table, versioned = src.name, src.contract.versioned
    results = {p.file_id: FileResult(src.name, p.cand.rel, provider=p.provider) for p in batch}
    files = pa.table({"file_id": pa.array([p.file_id for p in batch], pa.int32()),
                      "file": [p.cand.rel for p in batch],
                      "provider": pa.array([p.provider for p in batch], pa.string())})
    con.execute("select 1").fetchall()  # DuckDB 2 refuses register() while an earlier result is unread
    con.register("_checked", _text_as_json(checked))
    con.register("_files", files)
    try:
        con.execute("begin transaction")
        try:
            changed = [p.cand.rel for p in batch if p.changed]
            if changed:  # a changed file replaces what it landed before
                con.execute(f"delete from raw.{table} where file in (select unnest(?::varchar[]))", [changed])
                con.execute("delete from raw.quarantine where source = ? and file in (select unnest(?::varchar[]))",
                            [table, changed])
            busy = _find_landed(con, table)
            if busy:
                con.execute(_fate_sql(table))
                _settle_formatting_conflicts(con, table)
                # a conflicting payload lands as a new version under key#hash where the source versions its records
                fates = "left join _fate f using (file_id, line)"
                key = "case when f.fate = 'conflict' then c.base_key || '#' || left(f.h, 12) else c.base_key end"
                lands = f"(f.fate is null or f.fate = 'landed' or (f.fate = 'conflict' and {versioned}))"
                hash_, dup, conflict = "f.h", "f.fate = 'duplicate'", "f.fate = 'conflict'"
            else:
                # every key is new and comes once (a first load, a new day's files): every valid record lands, and
                # the statements leave the fates out (a join with no fates cost 2 of a 23k-record insert's 7 ms)
                fates, key, lands, hash_, dup, conflict = "", "c.base_key", "true", "null", "false", "false"
            con.execute(f"""
                insert into raw.{table} (record_key, record, provider, file, line, payload_hash)
                select {key}, c.text::json, c.provider, fl.file, c.line, {hash_}
                from _checked c join _files fl using (file_id) {fates}
                where c.error is null and {lands}
            """)
            # quarantined: the records that fail their contract, and conflicts where the source keeps no versions
            conflicts_quarantined = busy and not versioned
            if checked.column("error").null_count < checked.num_rows or conflicts_quarantined:
                con.execute("""
                    insert into raw.quarantine (source, file, line, raw_text, error)
                    select ?, fl.file, c.line, left(c.text, 100000), c.error
                    from _checked c join _files fl using (file_id)
                    where c.error is not null
                """ + ("""
                    union all
                    select ?, fl.file, f.line, left(r.text, 100000),
                           'conflicting_duplicate: key ' || f.base_key || ' was delivered before with another payload'
                    from _fate f join _checked r using (file_id, line) join _files fl using (file_id)
                    where f.fate = 'conflict'
                """ if conflicts_quarantined else ""), [table, table] if conflicts_quarantined else [table])
            # each file's counts from the batch, beside the rows the table now holds for it (one statement)
            counts = con.execute(f"""
                with counted as (
                    select c.file_id, count(*) as n_read, count(c.error) as n_bad,
                           count(*) filter (where {dup}) as n_dup, count(*) filter (where {conflict}) as n_conflict
                    from _checked c {fates} group by c.file_id
                ),
                in_table as (
                    select file, count(*) as n from raw.{table} where file in (select file from _files) group by file
                )
                select fl.file_id, coalesce(n_read, 0), coalesce(n_bad, 0), coalesce(n_dup, 0),
                       coalesce(n_conflict, 0), coalesce(t.n, 0)
                from _files fl left join counted using (file_id) left join in_table t using (file)
            """).fetchall()
            for fid, read, bad, dup, conflict, in_table in counts:
                r = results[fid]
                r.read, r.duplicates, r.conflicting = read, dup, conflict
                r.quarantined = bad + (0 if versioned else conflict)
                r.landed = read - bad - dup - (0 if versioned else conflict)
                if r.landed != in_table or r.read != r.landed + r.quarantined + r.duplicates:
                    raise ReconciliationError(f"{r.path}: read {r.read}, landed {r.landed} (in the table: "
                                              f"{in_table}), quarantined {r.quarantined}, "
                                              f"duplicates {r.duplicates}: the counts do not reconcile")
            crash_point("REVOPS_FAULT_KILL_AT_BATCH")  # inside the transaction: rows inserted, nothing committed
            by_id = {p.file_id: p for p in batch}
            res = list(results.items())
            # one statement for the batch's manifest rows (executemany costs ~2 ms a row)
            con.register("_manifest", pa.table({
                "path": [r.path for _, r in res], "size_bytes": [by_id[f].size for f, _ in res],
                "sha256": [by_id[f].digest for f, _ in res], "rows_read": [r.read for _, r in res],
                "rows_landed": [r.landed for _, r in res], "rows_quarantined": [r.quarantined for _, r in res],
                "rows_duplicate": [r.duplicates for _, r in res], "rows_conflicting": [r.conflicting for _, r in res]}))
            con.execute("""
                insert or replace into raw.landing_manifest (path, source, size_bytes, sha256, rows_read, rows_landed,
                    rows_quarantined, rows_duplicate, rows_conflicting, status, landed_at)
                select path, ?, size_bytes, sha256, rows_read, rows_landed, rows_quarantined, rows_duplicate,
                       rows_conflicting, 'landed', now()
                from _manifest
            """, [table])
            _commit(con, threshold if sum(p.nbytes for p in batch) >= DIRECT_CHECKPOINT_BYTES else None)
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        for name in ("_checked", "_files", "_manifest"):
            try:
                con.unregister(name)
            except duckdb.Error:
                pass
        for temp in ("_fate", "_landed", "_landed_versions", "_busy_keys"):
            con.execute(f"drop table if exists {temp}")
    return [results[p.file_id] for p in batch]


def _commit(con, threshold: str | None) -> None:
    """Commit the open transaction; given the connection's `checkpoint_threshold`, as a checkpoint (no write-ahead
    log copy of its rows). DuckDB checkpoints at a commit when the log would pass `checkpoint_threshold`, a
    database-wide setting: it is 0 for this commit only, and `threshold` is back before this returns (also when the
    commit fails). A commit that cannot checkpoint (another transaction is open) writes the log as usual."""
    if threshold is None:
        con.execute("commit")
        return
    con.execute("set checkpoint_threshold = '0b'")
    try:
        con.execute("commit")
    finally:
        # SET takes no parameter: the value (read from current_setting) goes in as an escaped literal
        con.execute("set checkpoint_threshold = '" + threshold.replace("'", "''") + "'")


def _record_problem(con, src: FileSource, cand: Candidate, problem: str, status: str, size: int = 0,
                    digest: str = "", known: dict | None = None) -> None:
    """A file that could not be read, or was refused: one quarantine row naming it, and — for a file never landed
    — its manifest row, so that an unchanged broken file is not read again but is reported on every run while it
    stays. A file that landed before and is unreadable now keeps its landed rows and manifest row: a later
    corruption of the file does not delete what was read from it."""
    landed_before = bool(known and cand.rel in known and known[cand.rel][1] == STATUS_LANDED)
    con.execute("begin transaction")
    try:
        con.execute("delete from raw.quarantine where source = ? and file = ? and line is null", [src.name, cand.rel])
        con.execute("insert into raw.quarantine (source, file, line, raw_text, error) values (?, ?, null, null, ?)",
                    [src.name, cand.rel, f"{status} file: {problem}"])
        if not landed_before:
            con.execute(f"delete from raw.{src.name} where file = ?", [cand.rel])
            con.execute("""
                insert or replace into raw.landing_manifest (path, source, size_bytes, sha256, rows_read, rows_landed,
                    rows_quarantined, rows_duplicate, rows_conflicting, status, landed_at)
                values (?, ?, ?, ?, 0, 0, 0, 0, 0, ?, now())
            """, [cand.rel, src.name, size, digest, status])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


_VALIDATOR: duckdb.DuckDBPyConnection | None = None


def _validator() -> duckdb.DuckDBPyConnection:
    """The in-memory DuckDB that validates batches (never the warehouse), opened once a process (~10 ms)."""
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = duckdb.connect()
        # rows are identified by (file, line), never by their order: DuckDB may work on them in parallel
        _VALIDATOR.execute("set preserve_insertion_order = false")
    return _VALIDATOR


def land_source(con: duckdb.DuckDBPyConnection, src: FileSource, root: Path,
                on_file: Callable[[FileResult], None] | None = None,
                now: datetime | None = None) -> list[FileResult]:
    """Land every file of one source below `root`; returns one result per file (skipped, landed, or a problem)."""
    ensure_schema(con)
    now = now or datetime.now(timezone.utc)
    known = {p: (sha, status, err) for p, sha, status, err in con.execute("""
        select m.path, m.sha256, coalesce(m.status, 'landed'), q.error
        from raw.landing_manifest m
        left join (select file, any_value(error) as error from raw.quarantine
                   where source = ? and line is null group by file) q on q.file = m.path
        where m.source = ?""", [src.name, src.name]).fetchall()}
    out: list[FileResult] = []
    batch: list[Prepared] = []
    batch_bytes = 0

    def emit(r: FileResult) -> None:
        out.append(r)
        if on_file:
            on_file(r)

    def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            for r in _land_batch(con, src, batch, validate_batch(validator, src, batch, now), threshold):
                emit(r)
        batch, batch_bytes = [], 0

    cands = discover(src, root)
    validator = _validator()
    # the connection's settings that landing changes for a while (one query)
    order, threshold = con.execute("select current_setting('preserve_insertion_order'), "
                                   "current_setting('checkpoint_threshold')").fetchone()
    con.execute("set preserve_insertion_order = false")
    # the files are read, hashed and decompressed here, except while DuckDB lands a batch: then a thread reads the
    # next few (both release the GIL; a bounded look-ahead keeps memory to a batch and a few files). Handing every
    # file to the thread cost ~55 us a file for nothing while no batch lands (se_sequence_states: 116 -> 111 ms)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead: deque = deque()  # (candidate, its reading) of the files read while a batch lands
            pos = 0

            def read_ahead() -> None:
                nonlocal pos
                while pos < len(cands) and len(ahead) < PREFETCH_FILES:
                    cand = cands[pos]
                    ahead.append((cand, None if cand.problem else pool.submit(_prepare_or_why, src, root, cand, pos,
                                                                              known)))
                    pos += 1

            while ahead or pos < len(cands):
                if ahead:
                    cand, reading = ahead.popleft()
                    prep = reading.result() if reading is not None else None
                else:
                    cand = cands[pos]
                    prep = None if cand.problem else _prepare_or_why(src, root, cand, pos, known)
                    pos += 1
                if cand.problem is not None:
                    prev = known.get(cand.rel)
                    if not (prev and prev[1] == cand.status and prev[2] == f"{cand.status} file: {cand.problem}"):
                        _record_problem(con, src, cand, cand.problem, cand.status, known=known)
                    emit(FileResult(src.name, cand.rel, problem=f"{cand.status} file: {cand.problem}"))
                    continue
                if isinstance(prep, Unreadable):
                    size, digest = prep.args[1], prep.args[2]
                    prev = known.get(cand.rel)
                    if not (prev and prev[0] == digest):
                        _record_problem(con, src, cand, prep.args[0], STATUS_UNREADABLE, size, digest, known=known)
                    emit(FileResult(src.name, cand.rel, problem=f"{STATUS_UNREADABLE} file: {prep.args[0]}"))
                    continue
                if isinstance(prep, FileResult):
                    if prep.problem and not prep.skipped:
                        _record_problem(con, src, cand, prep.problem, STATUS_UNREADABLE, known=known)
                        prep.problem = f"{STATUS_UNREADABLE} file: {prep.problem}"
                    emit(prep)
                    continue
                batch.append(prep)
                batch_bytes += prep.nbytes
                if batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_FILES:
                    read_ahead()
                    flush()
        flush()
    finally:  # the caller's connection keeps its own setting, also when a batch fails
        con.execute(f"set preserve_insertion_order = {str(bool(order)).lower()}")
    return out
