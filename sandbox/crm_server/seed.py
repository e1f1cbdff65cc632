"""Seeding the portal from a world folder's ``crm/<object>.jsonl`` files.

Runs once, into an empty database, in one transaction with ``executemany`` in chunks,
so an M world (~40k contacts, a few hundred thousand engagements) loads in seconds
and a failed seed leaves nothing behind.

Lenient where the seed contract is loose (non-string scalar property values are
stringified, missing create/modify dates are filled from ``createdAt``/``updatedAt``
and vice versa), strict where it is broken (invalid JSON or a non-numeric id fails
with file and line).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .properties import PROPERTY_NAME, seed_definition
from .schema import OBJECT_TYPES, OWNERS, association_type, lookup_object_type
from .store import Store
from .timeutil import canonical_datetime

log = logging.getLogger(__name__)
_CHUNK = 5000


class SeedError(ValueError):
    pass


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise SeedError(f"{path}:{lineno}: invalid JSON: {e}") from None
            if not isinstance(obj, dict):
                raise SeedError(f"{path}:{lineno}: expected a JSON object")
            yield lineno, obj


def _as_id(value: Any, where: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise SeedError(f"{where}: id {value!r} is not numeric") from None


def _ts(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return canonical_datetime(str(value)) or str(value)


def seed_world(store: Store, world_dir: Path, now_iso: str) -> dict[str, int]:
    """Load ``<world_dir>/crm/*.jsonl``; returns records loaded per file (owners included)."""
    crm_dir = Path(world_dir) / "crm"
    if not crm_dir.is_dir():
        raise SeedError(f"{crm_dir} is not a directory (a world folder has crm/<object>.jsonl files)")
    counts = {name: 0 for name in (*OBJECT_TYPES, OWNERS)}
    unknown_props: dict[str, set[str]] = {t: set() for t in OBJECT_TYPES}
    with store.transaction() as conn:
        for otype in OBJECT_TYPES:
            path = crm_dir / f"{otype}.jsonl"
            if path.exists():
                counts[otype] = _seed_objects(store, conn, otype, path, now_iso, unknown_props[otype])
        owners_path = crm_dir / f"{OWNERS}.jsonl"
        if owners_path.exists():
            counts[OWNERS] = _seed_owners(conn, owners_path, now_iso)
        # A property on the world's records exists in that portal; register it (as a string) so it
        # can be read, searched and written. revops_* stay undefined: the warehouse creates them.
        for otype, names in unknown_props.items():
            for name in sorted(names):
                if PROPERTY_NAME.match(name) and not name.startswith("revops_"):
                    definition = seed_definition(name, now_iso)
                    store.insert_property_def(otype, definition)
                    store.catalog.add(otype, definition)
    return counts


def _seed_objects(store: Store, conn: Any, otype: str, path: Path, now_iso: str, unknown: set[str]) -> int:
    ot = OBJECT_TYPES[otype]
    catalog = store.catalog
    datetime_props = {d["name"] for d in catalog.all(otype) if d["type"] == "datetime"}
    known = {d["name"] for d in catalog.all(otype)}
    rows: list[tuple[Any, ...]] = []
    assoc_rows: list[tuple[Any, ...]] = []
    n = 0

    def flush() -> None:
        conn.executemany(
            "INSERT INTO objects (otype, id, archived, created_at, updated_at, archived_at, uniq, props) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT OR IGNORE INTO associations VALUES (?, ?, ?, ?, ?, ?)", assoc_rows)
        rows.clear()
        assoc_rows.clear()

    for lineno, obj in _read_jsonl(path):
        where = f"{path}:{lineno}"
        object_id = _as_id(obj.get("id"), where)
        raw = obj.get("properties") or {}
        if not isinstance(raw, dict):
            raise SeedError(f"{where}: 'properties' must be an object")
        props: dict[str, str] = {}
        for name, value in raw.items():
            if value is None or name == "hs_object_id":  # hs_object_id is always derived from the id
                continue
            if not isinstance(value, str):
                value = json.dumps(value) if isinstance(value, bool) else str(value)
            if name in datetime_props:
                value = canonical_datetime(value) or value
            elif name not in known:
                unknown.add(name)
            props[name] = value
        created = _ts(obj.get("createdAt")) or props.get(ot.created_prop) or now_iso
        updated = _ts(obj.get("updatedAt")) or props.get(ot.modified_prop) or created
        props.setdefault(ot.created_prop, created)
        props.setdefault(ot.modified_prop, updated)
        archived = bool(obj.get("archived", False))
        archived_at = (_ts(obj.get("archivedAt")) or updated) if archived else None
        email = props.get("email") if otype == "contacts" else None
        rows.append((otype, object_id, int(archived), created, updated, archived_at,
                     email.strip().lower() if email else None, json.dumps(props, separators=(",", ":"))))

        for key, block in (obj.get("associations") or {}).items():
            to = lookup_object_type(key)
            if to is None:
                log.warning("%s: unknown association target type %r ignored", where, key)
                continue
            # Accept {"results": [...]}, a bare list, or null (no associations of that type).
            results = block.get("results") if isinstance(block, dict) else block
            for item in results or []:
                to_id = _as_id(item.get("id"), where)
                seed_name = item.get("type")
                fwd = association_type(otype, to.name, seed_name)
                rev_seed = None
                if seed_name and "_to_" in seed_name:
                    a, b = seed_name.split("_to_", 1)
                    rev_seed = f"{b}_to_{a}"
                rev = association_type(to.name, otype, rev_seed)
                assoc_rows.append((otype, object_id, to.name, to_id, *fwd))
                assoc_rows.append((to.name, to_id, otype, object_id, *rev))
        n += 1
        if len(rows) >= _CHUNK:
            flush()
    flush()
    return n


def _seed_owners(conn: Any, path: Path, now_iso: str) -> int:
    rows = []
    for lineno, obj in _read_jsonl(path):
        owner_id = _as_id(obj.get("id"), f"{path}:{lineno}")
        body = dict(obj)
        body["id"] = str(owner_id)
        body.setdefault("type", "PERSON")  # required by HubSpot's PublicOwner; seeds are people
        body.setdefault("archived", False)
        body["createdAt"] = _ts(body.get("createdAt")) or now_iso
        body["updatedAt"] = _ts(body.get("updatedAt")) or body["createdAt"]
        body.setdefault("teams", [])
        user_id = body.get("userId")
        email = body.get("email")
        rows.append((owner_id, int(user_id) if isinstance(user_id, (int, str)) and str(user_id).isdigit() else None,
                     email.strip().lower() if isinstance(email, str) else None, int(bool(body["archived"])),
                     json.dumps(body, separators=(",", ":"))))
    conn.executemany("INSERT OR REPLACE INTO owners (id, user_id, email, archived, body) VALUES (?, ?, ?, ?, ?)",
                     rows)
    return len(rows)
