"""SQLite persistence for the sandbox portal.

One connection, one lock: the server is a test double, so serialising database
access keeps it simple and makes every write request a single transaction that
either fully applies or not at all (the fault injector relies on that).

Records keep their properties as one JSON object; search filters and sorts use
``json_extract`` so SQLite does the scanning in C, and expression indexes on the
modified-date properties make the incremental-extraction cursor cheap.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .properties import PROPERTY_NAME, PropertyCatalog
from .schema import OBJECT_TYPES
from .timeutil import parse_instant

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    otype       TEXT    NOT NULL,
    id          INTEGER NOT NULL,
    archived    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    archived_at TEXT,
    uniq        TEXT,              -- lower-cased email of contacts: idProperty=email and uniqueness
    props       TEXT    NOT NULL   -- JSON object of string values (absent = no value)
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_objects_id ON objects (otype, id);
CREATE TABLE IF NOT EXISTS associations (
    from_type TEXT NOT NULL, from_id INTEGER NOT NULL,
    to_type   TEXT NOT NULL, to_id   INTEGER NOT NULL,
    type_name TEXT NOT NULL, type_id INTEGER NOT NULL,
    PRIMARY KEY (from_type, from_id, to_type, to_id, type_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS owners (
    id INTEGER PRIMARY KEY, user_id INTEGER, email TEXT, archived INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS property_defs (
    otype TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (otype, name)
);
-- every property value an API write changed (not the seeding): lets a test prove nothing was written twice
CREATE TABLE IF NOT EXISTS write_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, otype TEXT NOT NULL, id INTEGER NOT NULL, property TEXT NOT NULL,
    old_value TEXT, new_value TEXT, written_at TEXT NOT NULL
);
"""

# Built after seeding (bulk inserts are faster without them); IF NOT EXISTS makes it idempotent.
_INDEXES = """
CREATE INDEX IF NOT EXISTS ix_objects_uniq ON objects (otype, uniq);
CREATE INDEX IF NOT EXISTS ix_objects_lastmodifieddate
    ON objects (otype, archived, json_extract(props, '$.lastmodifieddate'), id);
CREATE INDEX IF NOT EXISTS ix_objects_hs_lastmodifieddate
    ON objects (otype, archived, json_extract(props, '$.hs_lastmodifieddate'), id);
CREATE INDEX IF NOT EXISTS ix_owners_email ON owners (email);
"""

_COLUMNS = "otype, id, archived, created_at, updated_at, archived_at, props"
_WORD = re.compile(r"[^0-9a-z]+")


@dataclass
class Record:
    otype: str
    id: int
    archived: bool
    created_at: str
    updated_at: str
    archived_at: str | None
    props: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Record:
        return cls(row[0], row[1], bool(row[2]), row[3], row[4], row[5], json.loads(row[6]))

    def uniq(self) -> str | None:
        if self.otype != "contacts":
            return None
        email = self.props.get("email")
        return email.strip().lower() if email else None


def prop_sql(name: str) -> str:
    """SQL expression for a property's stored value (names are validated, so embedding is safe)."""
    if name == "hs_object_id":
        return "CAST(id AS TEXT)"
    if not PROPERTY_NAME.match(name):
        raise ValueError(f"unsafe property name {name!r}")
    return f"json_extract(props, '$.{name}')"


@functools.lru_cache(maxsize=256)
def _token_matcher(token: str) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    """(literal pieces that must all occur, wildcard pattern or None) for a CONTAINS_TOKEN value."""
    token = token.lower().strip()
    if "*" not in token:
        return (token,), None
    pieces = tuple(p for p in token.split("*") if p)
    return pieces, re.compile("^" + ".*".join(re.escape(part) for part in token.split("*")) + "$")


def _contains_token(value: str | None, token: str | None) -> int:
    """HubSpot's CONTAINS_TOKEN: a whole word of the value matches; ``*`` is a wildcard."""
    if value is None or token is None:
        return 0
    pieces, pattern = _token_matcher(token)
    value = value.lower()
    if not all(p in value for p in pieces):  # cheap rejection of most rows before tokenising
        return 0
    words = {value, *value.split(), *(w for w in _WORD.split(value) if w)}
    if pattern is not None:
        return int(any(pattern.match(w) for w in words))
    return int(pieces[0] in words)


@functools.lru_cache(maxsize=256)
def _query_words(query: str) -> tuple[str, ...]:
    return tuple(q for q in _WORD.split(query.lower()) if q)


def _query_match(value: str | None, query: str | None) -> int:
    """The free-text ``query`` of a search: every query word prefixes some word of the value."""
    if value is None or not query:
        return 0
    value = value.lower()
    wanted = _query_words(query)
    if not all(q in value for q in wanted):  # cheap rejection first
        return 0
    words = [w for w in _WORD.split(value) if w]
    return int(all(any(w.startswith(q) for w in words) for q in wanted))


class Store:
    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so a request is exactly one transaction.
        self.conn = sqlite3.connect(str(self.db_path), check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: committed writes survive a crash
        self.conn.execute("PRAGMA cache_size=-65536")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.create_function("crm_contains_token", 2, _contains_token, deterministic=True)
        self.conn.create_function("crm_query_match", 2, _query_match, deterministic=True)
        self.conn.executescript(_SCHEMA)
        self.catalog = PropertyCatalog()
        self._load_property_defs()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # --- lifecycle -----------------------------------------------------------------------------

    def _load_property_defs(self) -> None:
        for otype, body in self.conn.execute("SELECT otype, body FROM property_defs ORDER BY rowid"):
            if otype in OBJECT_TYPES:
                self.catalog.add(otype, json.loads(body))

    def wipe(self) -> None:
        """Drop all data, including custom properties: a reseed starts a fresh portal."""
        with self.lock:
            self.conn.executescript(
                "DROP TABLE IF EXISTS objects; DROP TABLE IF EXISTS associations; DROP TABLE IF EXISTS owners;"
                "DROP TABLE IF EXISTS property_defs; DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS write_log;"
                + _SCHEMA
            )
            self.catalog = PropertyCatalog()

    def ensure_indexes(self) -> None:
        with self.lock:
            self.conn.executescript(_INDEXES)
            self.conn.execute("ANALYZE")

    def get_meta(self, key: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def is_empty(self) -> bool:
        with self.lock:
            return not (self.conn.execute("SELECT 1 FROM objects LIMIT 1").fetchone()
                        or self.conn.execute("SELECT 1 FROM owners LIMIT 1").fetchone())

    def max_id(self) -> int:
        with self.lock:
            return self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM objects").fetchone()[0]

    def max_timestamp_ms(self) -> int:
        with self.lock:
            row = self.conn.execute(
                "SELECT MAX(updated_at), MAX(created_at), MAX(archived_at) FROM objects").fetchone()
        return max((parse_instant(v) or 0) for v in (*row, "0") if v)

    def counts(self) -> dict[str, int]:
        with self.lock:
            out = {t: 0 for t in (*OBJECT_TYPES, "owners")}
            for otype, n in self.conn.execute("SELECT otype, COUNT(*) FROM objects GROUP BY otype"):
                out[otype] = n
            out["owners"] = self.conn.execute("SELECT COUNT(*) FROM owners").fetchone()[0]
        return out

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back on any exception so nothing half-applies."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # --- objects: reads ------------------------------------------------------------------------

    def get(self, otype: str, object_id: int, archived: bool | None = False) -> Record | None:
        """A record by id; ``archived=None`` returns it whatever its archived state."""
        sql = f"SELECT {_COLUMNS} FROM objects WHERE otype = ? AND id = ?"
        params: list[Any] = [otype, object_id]
        if archived is not None:
            sql += " AND archived = ?"
            params.append(int(archived))
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
        return Record.from_row(row) if row else None

    def get_many(self, otype: str, ids: Sequence[int], archived: bool | None = False) -> dict[int, Record]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = f"SELECT {_COLUMNS} FROM objects WHERE otype = ? AND id IN ({marks})"
        params: list[Any] = [otype, *ids]
        if archived is not None:
            sql += " AND archived = ?"
            params.append(int(archived))
        with self.lock:
            rows = self.conn.execute(sql, params).fetchall()
        return {r.id: r for r in map(Record.from_row, rows)}

    def find_by_unique(self, otype: str, prop: str, values: Sequence[str],
                       archived: bool = False) -> dict[str, Record]:
        """Records by a unique property (case-insensitive), keyed by the lower-cased value.

        Should a seeded world hold the same value twice, the oldest (lowest id) record wins.
        """
        if not values:
            return {}
        keys = sorted({v.strip().lower() for v in values})
        marks = ",".join("?" * len(keys))
        if prop == "hs_object_id":
            ids = [int(k) for k in keys if k.isdigit()]
            return {str(i): r for i, r in self.get_many(otype, ids, archived).items()}
        expr = "uniq" if (otype == "contacts" and prop == "email") else f"lower({prop_sql(prop)})"
        sql = (f"SELECT {_COLUMNS}, {expr} FROM objects WHERE otype = ? AND archived = ? AND {expr} IN ({marks})"
               " ORDER BY id DESC")
        with self.lock:
            rows = self.conn.execute(sql, [otype, int(archived), *keys]).fetchall()
        return {row[7]: Record.from_row(row) for row in rows}  # DESC + dict: the lowest id wins

    def list_page(self, otype: str, after_id: int, limit: int, archived: bool) -> list[Record]:
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM objects WHERE otype = ? AND archived = ? AND id > ? ORDER BY id LIMIT ?",
                (otype, int(archived), after_id, limit),
            ).fetchall()
        return [Record.from_row(r) for r in rows]

    def search(self, otype: str, where: str, params: Sequence[Any], order_by: str,
               limit: int, offset: int) -> tuple[list[Record], int]:
        """Non-archived records matching ``where``: one page and the total count."""
        base = f"FROM objects WHERE otype = ? AND archived = 0 AND ({where})"
        with self.lock:
            total = self.conn.execute(f"SELECT COUNT(*) {base}", (otype, *params)).fetchone()[0]
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} {base} ORDER BY {order_by} LIMIT ? OFFSET ?",
                (otype, *params, limit, offset),
            ).fetchall() if limit > 0 else []
        return [Record.from_row(r) for r in rows], total

    def associations(self, from_type: str, ids: Sequence[int], to_type: str) -> dict[int, list[tuple[int, str, int]]]:
        """``{from id: [(to id, type name, type id), ...]}``, skipping archived or missing targets.

        HubSpot does not return associations to records that are archived (deleted or merged away).
        """
        out: dict[int, list[tuple[int, str, int]]] = {}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        sql = (
            "SELECT a.from_id, a.to_id, a.type_name, a.type_id FROM associations a "
            "JOIN objects o ON o.otype = a.to_type AND o.id = a.to_id AND o.archived = 0 "
            f"WHERE a.from_type = ? AND a.to_type = ? AND a.from_id IN ({marks}) ORDER BY a.from_id, a.to_id, a.type_id"
        )
        with self.lock:
            for from_id, to_id, name, type_id in self.conn.execute(sql, (from_type, to_type, *ids)):
                out.setdefault(from_id, []).append((to_id, name, type_id))
        return out

    # --- objects: writes (call inside ``transaction()``) ---------------------------------------

    def insert(self, rec: Record) -> None:
        self.conn.execute(
            "INSERT INTO objects (otype, id, archived, created_at, updated_at, archived_at, uniq, props) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.otype, rec.id, int(rec.archived), rec.created_at, rec.updated_at, rec.archived_at, rec.uniq(),
             json.dumps(rec.props, separators=(",", ":"))),
        )

    def log_changes(self, rec: Record, before: dict[str, Any]) -> None:
        """Record each property whose value an API write changed (call inside ``transaction()``)."""
        changed = [(k, before.get(k), rec.props.get(k)) for k in sorted(set(before) | set(rec.props))
                   if before.get(k) != rec.props.get(k)]
        self.conn.executemany(
            "INSERT INTO write_log (otype, id, property, old_value, new_value, written_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(rec.otype, rec.id, k, old, new, rec.updated_at) for k, old, new in changed])

    def props_of(self, otype: str, object_id: int) -> dict[str, Any]:
        row = self.conn.execute("SELECT props FROM objects WHERE otype = ? AND id = ?", (otype, object_id)).fetchone()
        return json.loads(row[0]) if row else {}

    def write_log(self, otype: str | None = None) -> list[tuple]:
        """(otype, id, property, old_value, new_value, written_at) in write order."""
        with self.lock:
            sql = "SELECT otype, id, property, old_value, new_value, written_at FROM write_log"
            rows = self.conn.execute(sql + (" WHERE otype = ? ORDER BY seq" if otype else " ORDER BY seq"),
                                     (otype,) if otype else ()).fetchall()
        return [tuple(r) for r in rows]

    def save(self, rec: Record) -> None:
        self.conn.execute(
            "UPDATE objects SET archived = ?, updated_at = ?, archived_at = ?, uniq = ?, props = ? "
            "WHERE otype = ? AND id = ?",
            (int(rec.archived), rec.updated_at, rec.archived_at, rec.uniq(),
             json.dumps(rec.props, separators=(",", ":")), rec.otype, rec.id),
        )

    def add_association(self, from_type: str, from_id: int, to_type: str, to_id: int,
                        forward: tuple[str, int], reverse: tuple[str, int]) -> None:
        """Store an association in both directions so either side can read it."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO associations VALUES (?, ?, ?, ?, ?, ?)",
            [(from_type, from_id, to_type, to_id, *forward), (to_type, to_id, from_type, from_id, *reverse)],
        )

    def insert_property_def(self, otype: str, definition: dict[str, Any]) -> None:
        self.conn.execute("INSERT INTO property_defs (otype, name, body) VALUES (?, ?, ?)",
                          (otype, definition["name"], json.dumps(definition)))

    # --- owners --------------------------------------------------------------------------------

    def owners_page(self, after_id: int, limit: int, email: str | None, archived: bool) -> list[dict[str, Any]]:
        sql = "SELECT body FROM owners WHERE archived = ? AND id > ?"
        params: list[Any] = [int(archived), after_id]
        if email:
            sql += " AND email = ?"
            params.append(email.strip().lower())
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        with self.lock:
            return [json.loads(b) for (b,) in self.conn.execute(sql, params)]

    def owner(self, key: int, by_user_id: bool, archived: bool) -> dict[str, Any] | None:
        column = "user_id" if by_user_id else "id"
        with self.lock:
            row = self.conn.execute(
                f"SELECT body FROM owners WHERE {column} = ? AND archived = ? ORDER BY id LIMIT 1",
                (key, int(archived))).fetchone()
        return json.loads(row[0]) if row else None
