"""Mutations of valid landing records, each with the fate the landing contract (docs/landing.md) predicts for it.

Used by tests/test_landing_properties.py. A *case* takes one valid record of a file source (sampled from the S
world), gives it a fresh delivery key and changes it: type swaps, out-of-range and unparseable values, invalid
UTF-8, lone surrogates, missing and extra fields, nulls, overlong strings, values outside an enum, or a second
delivery of the same key (exact, reformatted or with another payload). Every case yields one or more `Line`s
that say whether the record is valid and, if not, which error fragments its quarantine reason must contain.

The oracle here is written from the spec (docs/landing.md and the rules listed in revops/landing/contracts.py), not from
the landing code: which values are valid is decided per rule kind, the delivery key is computed in Python, and
`simulate` predicts landed / duplicate / conflict for the valid records in landing order.

Choices go through a small `Chooser` interface so the same generator is driven by hypothesis (the fast property,
which shrinks) and by a seeded `random.Random` (the slow build test, one large fixed batch).
"""

from __future__ import annotations

import copy
import dataclasses
import gzip
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from revops.landing import contracts
from revops.landing.contracts import Kind

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)  # the landing time every test passes to land_source
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
HORIZON = NOW + timedelta(days=contracts.EVENT_HORIZON_DAYS)
RANGE_MSG = "out of range (2000-01-01 to landing time + 1 day)"

FILE_SOURCES = list(contracts.FILE_CONTRACTS)
VERSIONED = {name for name, c in contracts.FILE_CONTRACTS.items() if c.versioned}
# where new files go: a day folder (or the provider's folder) of the S world's layout; names sort after its files
SOURCE_DIR = {
    "esp_events": "esp/events/2026/10/31",
    "segment_events": "segment/2026/10/31",
    "se_prospects": "sales_engagement/prospects/2026/10/31",
    "se_sequence_states": "sales_engagement/sequence_states/2026/10/31",
    "se_mailings": "sales_engagement/mailings/2026/10/31",
    "enrichment_companies": "enrichment/{provider}/companies",
    "enrichment_signals": "enrichment/{provider}/signals",
}
NEW_PROVIDER = "zz_pbt_provider"  # an enrichment provider missing from seeds/enrichment_precedence
FILE_PREFIX = "zz-pbt-"

DELETE = object()  # a mutation value: remove the field


# --- choices --------------------------------------------------------------------------------------------------

class Chooser:
    """What the generator needs from its source of randomness."""

    def pick(self, seq):  # one element of a non-empty sequence; earlier elements are "simpler"
        raise NotImplementedError

    def int(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def text(self, min_size: int, max_size: int) -> str:  # valid Unicode (no surrogates)
        raise NotImplementedError

    def bool(self) -> bool:
        return self.pick([False, True])


class RandomChooser(Chooser):
    _POOL = "abcXYZ09 _-.@+/'\"\\\t\n\x00\x7f\u00e9\u00fc\u4e2d\u0645\U0001F600\u200b\u2028\ufeff\u0301"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, seq):
        seq = list(seq)
        return seq[self.rng.randrange(len(seq))]

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def text(self, min_size: int, max_size: int) -> str:
        return "".join(self.rng.choice(self._POOL) for _ in range(self.rng.randint(min_size, max_size)))


class HypothesisChooser(Chooser):
    def __init__(self, data) -> None:
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def pick(self, seq):
        return self.data.draw(self.st.sampled_from(list(seq)))

    def int(self, lo: int, hi: int) -> int:
        return self.data.draw(self.st.integers(lo, hi))

    def text(self, min_size: int, max_size: int) -> str:
        return self.data.draw(self.st.text(self.st.characters(codec="utf-8"), min_size=min_size, max_size=max_size))


# --- samples of valid records ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    source: str
    record: dict
    text: str  # as delivered (one line; an ESP element as DuckDB minifies it is not needed here)
    provider: str | None


def load_samples(landing: Path, per_source: int = 40) -> dict[str, list[Sample]]:
    """Up to `per_source` records of each file source that pass its contract, read from a few files spread over
    the source (first, middle, last)."""
    import duckdb

    from revops.landing import files

    con = duckdb.connect()
    out: dict[str, list[Sample]] = {}
    for name, src in files.SOURCES.items():
        paths = files.source_files(src, landing)
        picked = sorted({paths[0], paths[len(paths) // 2], paths[-1]}) if paths else []
        cands: list[Sample] = []
        for p in picked:
            provider = p.relative_to(landing).parts[1] if src.provider_from_folder else None
            raw = p.read_bytes()
            if p.suffix == ".gz":
                raw = gzip.decompress(raw)
            text = raw.decode("utf-8")
            lines = [ln.rstrip("\r").rstrip(",") for ln in text.split("\n")]
            lines = [ln for ln in lines if ln.strip() not in ("", "[", "]")]
            for ln in lines[:per_source]:
                try:
                    rec = json.loads(ln)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict):
                    cands.append(Sample(name, rec, ln, provider))
        verdicts = contracts.check_records(con, src.contract, [c.text for c in cands], NOW)
        good = [c for c, (err, _key) in zip(cands, verdicts) if err is None]
        out[name] = good[:per_source]
        assert out[name], f"no valid record of {name} in {landing}"
    con.close()
    return out


# --- lines and their expected fate ----------------------------------------------------------------------------

@dataclass
class Line:
    source: str
    provider: str | None
    body: bytes                      # the record as written (no newline)
    label: str                       # what was done to it
    errors: tuple[str, ...] = ()     # invalid: fragments its quarantine reason must contain
    fields: frozenset[str] = frozenset()  # fields its reason may name (those mutated)
    key: str | None = None           # valid: its delivery key
    canon: str | None = None         # valid: its payload, canonical (key order and formatting do not matter)
    # filled in by layout() and simulate()
    file: str = ""
    line: int = 0
    fate: str = ""                   # landed | duplicate | conflict | quarantined

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="backslashreplace")


def dumps(rec: Any, **kw) -> str:
    kw.setdefault("separators", (",", ":"))
    kw.setdefault("ensure_ascii", False)
    return json.dumps(rec, allow_nan=False, **kw)


def canonical(rec: Any) -> str:
    """Equal for the same JSON value: key order, spacing and escapes do not matter; true, 1 and 1.0 differ."""
    return json.dumps(rec, sort_keys=True, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def norm_time(s: str) -> str:
    """A delivery key's time: UTC, milliseconds (docs/landing.md: the same instant with another offset is one key)."""
    t = datetime.fromisoformat(s).astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def key_text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def delivery_key(source: str, rec: dict) -> str:
    c = contracts.FILE_CONTRACTS[source]
    parts = []
    for p in c.key:
        rule = c.rule(p)
        parts.append(norm_time(rec[p]) if rule.kind == Kind.TIME else key_text(rec[p]))
    return "|".join(parts)


def fresh_key(source: str, rec: dict, n: int) -> None:
    """A delivery key no other record has (in the S world or in this batch)."""
    if source == "esp_events":
        rec["sg_event_id"] = f"sgev_pbt_{n}"
    elif source == "segment_events":
        rec["messageId"] = f"ajs-pbt-{n}"
    elif source.startswith("se_"):
        rec["id"] = 900_000_000 + n
    elif source == "enrichment_companies":
        rec["domain"] = f"pbt-{n}.example.com"
    elif source == "enrichment_signals":
        rec["signal_id"] = f"pbt_sig_{n}"


# --- paths in a record ----------------------------------------------------------------------------------------

def get_path(rec: dict, path: str) -> tuple[bool, Any]:
    cur: Any = rec
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return False, None
        cur = cur[part]
    return True, cur


def set_path(rec: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    cur = rec
    for part in parts[:-1]:
        if not isinstance(cur.get(part), dict):
            cur[part] = {}
        cur = cur[part]
    if value is DELETE:
        cur.pop(parts[-1], None)
    else:
        cur[parts[-1]] = value


def absent(rec: dict, path: str) -> bool:
    present, v = get_path(rec, path)
    return not present or v is None


# --- field mutations ------------------------------------------------------------------------------------------

STRING_KINDS = (Kind.STRING, Kind.EMAIL, Kind.ENUM, Kind.TIME)
NOT_A_STRING = [7, -3, 1.5, True, False, ["x"], {"x": 1}, [], {}]
NOT_AN_ID = [1.5, True, ["x"], {"x": 1}, [], {}, 2**64, -(2**63) - 1, 1.0]
NOT_AN_INTEGER = ["7", "", 1.5, 1.0, 1000.0, True, [1], {"x": 1}, 2**63, 2**64, -(2**63) - 1]
NOT_AN_OBJECT = ["x", 7, [1], True, [], ""]
NOT_A_LIST = ["a@b.com", 7, {"x": 1}, True, ""]
BAD_LIST = [[1], [None], ["x" * (contracts.EMAIL_MAX + 1)], ["a@b.com", 5], [["a@b.com"]]]
UNPARSEABLE = ["not a date", "", " ", "2026-02-30T00:00:00Z", "1793430695", "20261031T000000Z",
               "2026-10-31T25:00:00Z", "Oct 31 2026", "now", "today", "2026-10-31T00:00:00Zjunk",
               "+10000-01-01T00:00:00Z", "2026-10", "T"]
OUT_OF_RANGE_TIMES = ["9999-12-31T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
                      "1999-12-31T23:59:59.999Z", "infinity", "-infinity", "epoch", "0001-01-01T00:00:00Z",
                      (HORIZON + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      (HORIZON + timedelta(milliseconds=1)).isoformat(timespec="milliseconds"),
                      "2999-01-01T00:00:00+00:00", "2000-01-01T00:30:00+01:00"]
OUT_OF_RANGE_UNIX = [-5, 0, -1, int(EARLIEST.timestamp()) - 1, int(HORIZON.timestamp()) + 1, 9999999999999,
                     2**63 - 1, -(2**63)]
TYPE_MSG = {Kind.STRING: "should be a string", Kind.EMAIL: "should be a string", Kind.ENUM: "should be a string",
            Kind.TIME: "should be a string", Kind.ID: "should be a string or an integer",
            Kind.INTEGER: "should be an integer", Kind.UNIX_SECONDS: "should be an integer",
            Kind.OBJECT: "should be an object", Kind.STRING_LIST: "should be a list of strings"}
TYPE_VALUES = {Kind.STRING: NOT_A_STRING, Kind.EMAIL: NOT_A_STRING, Kind.ENUM: NOT_A_STRING,
               Kind.TIME: NOT_A_STRING, Kind.ID: NOT_AN_ID, Kind.INTEGER: NOT_AN_INTEGER,
               Kind.UNIX_SECONDS: NOT_AN_INTEGER, Kind.OBJECT: NOT_AN_OBJECT, Kind.STRING_LIST: NOT_A_LIST}
LONG_CHARS = ["a", "\u00e9", "\U0001F600", "\u4e2d"]


def overlong(ch: Chooser, rule) -> str:
    if rule.kind == Kind.EMAIL and ch.bool():
        return "a" * 10_000 + "@example.com"  # an email of 10 kB
    n = rule.max_len + ch.int(1, 40)
    if rule.kind == Kind.EMAIL:
        return ch.pick(LONG_CHARS) * (n - len("@example.com")) + "@example.com"
    return ch.pick(LONG_CHARS) * n


def time_variant(ch: Chooser, t: datetime) -> str:
    """The instant t written in one of the forms ISO 8601 allows (and Python and DuckDB both read)."""
    t = t.astimezone(timezone.utc)
    form = ch.pick(["ms_z", "s_z", "offset0", "offset_pos", "offset_neg", "micro", "space"])
    if form == "ms_z":
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    if form == "s_z":
        return t.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == "offset0":
        return t.isoformat(timespec="milliseconds")
    if form == "offset_pos":
        return t.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat(timespec="milliseconds")
    if form == "offset_neg":
        return t.astimezone(timezone(timedelta(hours=-8))).isoformat(timespec="seconds")
    if form == "micro":
        return t.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return t.isoformat(sep=" ", timespec="milliseconds")


def valid_instant(ch: Chooser, current: Any) -> datetime:
    opt = ch.pick(["same", "earliest", "horizon", "inside"])
    if opt == "same" and isinstance(current, str):
        try:
            return datetime.fromisoformat(current)
        except ValueError:
            pass
    if opt == "earliest":
        return EARLIEST
    if opt == "horizon":
        return HORIZON
    span = int((HORIZON - EARLIEST).total_seconds())
    return EARLIEST + timedelta(seconds=ch.int(0, span), milliseconds=ch.int(0, 999))


@dataclass
class FieldMut:
    path: str
    value: Any
    label: str
    error: str | None = None  # None: the change keeps the record valid


def invalid_options(rule) -> list[str]:
    k = rule.kind
    opts = []
    if rule.required:
        opts += ["missing", "null"]
    if k in TYPE_MSG:
        opts.append("type")
    if rule.max_len and k in (Kind.STRING, Kind.EMAIL):
        opts.append("overlong")
    if k == Kind.ENUM:
        opts.append("enum")
    if k == Kind.ID or rule.nonempty:
        opts.append("empty_id")
    if k == Kind.INTEGER and rule.min_value is not None:
        opts.append("int_range")
    if k == Kind.UNIX_SECONDS:
        opts.append("unix_range")
    if k == Kind.TIME:
        opts += ["unparseable", "time_range"]
    if k == Kind.STRING_LIST:
        opts.append("bad_element")
    if rule.path == "mailboxAddress":
        opts.append("no_domain")
    return opts


def invalid_mut(ch: Chooser, rule) -> FieldMut:
    p, k = rule.path, rule.kind
    opt = ch.pick(invalid_options(rule))
    f = f"field '{p}': "
    if opt == "missing":
        return FieldMut(p, DELETE, "missing required", f + "required")
    if opt == "null":
        return FieldMut(p, None, "null required", f + "required")
    if opt == "type":
        v = ch.pick(TYPE_VALUES[k])
        return FieldMut(p, v, f"type swap to {type(v).__name__}", f + TYPE_MSG[k])
    if opt == "overlong":
        v = overlong(ch, rule)
        return FieldMut(p, v, f"{len(v)} characters", f + f"longer than {rule.max_len} characters")
    if opt == "enum":
        v = ch.pick(["", "unknown", rule.values[0].upper(), rule.values[0] + " ", " " + rule.values[-1],
                     rule.values[0].capitalize() + "s"])
        return FieldMut(p, v, f"enum {v!r}", f + "should be one of")
    if opt == "empty_id":
        return FieldMut(p, "", "empty id", f + "is empty")
    if opt == "int_range":
        v = ch.pick([rule.min_value - 1, rule.max_value + 1, -(2**63), 2**63 - 1])
        return FieldMut(p, v, f"integer {v}", f + f"out of range ({rule.min_value} to {rule.max_value})")
    if opt == "unix_range":
        v = ch.pick(OUT_OF_RANGE_UNIX)
        return FieldMut(p, v, f"unix seconds {v}", f + RANGE_MSG)
    if opt == "unparseable":
        v = ch.pick(UNPARSEABLE)
        return FieldMut(p, v, f"time {v!r}", f + "not a timestamp")
    if opt == "time_range":
        v = ch.pick(OUT_OF_RANGE_TIMES)
        return FieldMut(p, v, f"time {v!r}", f + RANGE_MSG)
    if opt == "bad_element":
        v = ch.pick(BAD_LIST)
        return FieldMut(p, v, "bad list element",
                        f + f"every element should be a string of at most {rule.max_len} characters")
    if opt == "no_domain":
        v = ch.pick(["freya.moore", "freya.moore@", "", "@"])
        return FieldMut(p, v, f"mailbox {v!r}", f + "should be an address with a domain")
    raise AssertionError(opt)


def valid_mut(ch: Chooser, rule, rec: dict, n: int) -> FieldMut:
    p, k = rule.path, rule.kind
    opts = []
    if not rule.required:
        opts += ["missing", "null"]
    opts.append("value")
    opt = ch.pick(opts)
    if opt == "missing":
        return FieldMut(p, DELETE, "optional missing")
    if opt == "null":
        return FieldMut(p, None, "optional null")
    cur = get_path(rec, p)[1]
    if k in (Kind.STRING, Kind.EMAIL):
        if k == Kind.EMAIL:
            opts = ["upper", "tag", "unicode", "exact_max", "not_an_email", "text"]
            if rule.path != "mailboxAddress":
                opts.append("empty")
        else:
            # a key string (ESP sg_event_id) must not be empty: that is an invalid mutation
            opts = ["text", "exact_max", "nul", "padded"] + ([] if rule.nonempty else ["empty"])
        o = ch.pick(opts)
        if o == "upper":
            v = f"Pbt.User{n}@Example.COM"
        elif o == "tag":
            v = f"pbt.user{n}+tag@example.com"
        elif o == "unicode":
            v = f"\u00fcn\u00efc\u00f6d\u00e9{n}@ex\u00e4mple.com"
        elif o == "exact_max":
            if k == Kind.EMAIL:
                v = "a" * (rule.max_len - len("@example.com")) + "@example.com"
            else:
                v = ch.pick(LONG_CHARS) * rule.max_len
        elif o == "not_an_email":
            v = f"not-an-email-{n}@nodomain" if rule.path == "mailboxAddress" else f"not an email {n}"
        elif o == "empty":
            v = ""
        elif o == "nul":
            v = f"a\x00b{n}"
        elif o == "padded":
            v = f"  Pbt {n}  "
        else:
            v = ch.text(1, 20)
            if rule.path == "mailboxAddress":
                v = v.replace("@", "") + "@example.com"
        return FieldMut(p, v, f"string {o}")
    if k == Kind.ENUM:
        v = ch.pick(rule.values)
        return FieldMut(p, v, f"enum {v}")
    if k == Kind.TIME:
        v = time_variant(ch, valid_instant(ch, cur))
        return FieldMut(p, v, f"time {v}")
    if k == Kind.UNIX_SECONDS:
        v = ch.pick([int(EARLIEST.timestamp()), int(HORIZON.timestamp()),
                     ch.int(int(EARLIEST.timestamp()), int(HORIZON.timestamp()))])
        return FieldMut(p, v, f"unix seconds {v}")
    if k == Kind.INTEGER:
        if rule.min_value is not None:
            v = ch.pick([rule.min_value, rule.max_value, ch.int(rule.min_value, rule.max_value)])
        else:
            v = ch.pick([0, -1, 1, 2**63 - 1, -(2**63), ch.int(-(2**31), 2**31)])
        return FieldMut(p, v, f"integer {v}")
    if k == Kind.ID:
        v = ch.pick([70000002, 2**64 - 1, -1, 0, f"owner-{n}", "o" * contracts.ID_MAX])
        return FieldMut(p, v, f"id {str(v)[:20]}")
    if k == Kind.OBJECT:
        v = ch.pick([{}, {"nested": {"a": [1, None, "x"]}}, {"\u00fcn\u00ef": "c\u00f6d\u00e9"}])
        return FieldMut(p, v, "object")
    if k == Kind.STRING_LIST:
        v = ch.pick([[], [f"pbt{n}@example.com"], [f"pbt{n}@example.com", f"PBT{n}@Example.org"],
                     ["x" * (contracts.EMAIL_MAX - len("@e.io")) + "@e.io"]])
        return FieldMut(p, v, f"list of {len(v)}")
    v = ch.pick([None, 1, "x", ["a", "b"], {"k": [1, {"z": None}]}, [], -2.5])
    return FieldMut(p, v, "any")


EXTRA_KEYS = ["pbt_extra", "", "a.b", "$", "\u00fcn\u00efc\u00f6d\u00e9", "timestamp ", "Email", "__proto__"]
EXTRA_VALUES = [None, 0, "x", [1, "two", None], {"deep": {"er": [{}]}}, True, -1.25, "\u2028\x00"]


def extra_mut(ch: Chooser, rec: dict) -> FieldMut | None:
    keys = [k for k in EXTRA_KEYS if k not in rec]
    if not keys:
        return None
    k = ch.pick(keys)
    return FieldMut(k, ch.pick(EXTRA_VALUES), f"extra field {k!r}")


def overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


# --- cases ----------------------------------------------------------------------------------------------------

FIELD_CASES = ["field"]
WHOLE_CASES = ["invalid_json", "not_object", "invalid_utf8", "lone_surrogate"]
KEY_CASES = ["duplicate", "reformatted_duplicate", "conflict", "conflict_redelivered", "broken_redelivered",
             "same_instant"]
BAD_BYTES = [b"\xff", b"\xfe", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xed\xa0\x80", b"\xc0\xaf",
             b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]


class Generator:
    """Draws cases against the samples; numbers its fresh keys from `start`."""

    def __init__(self, samples: dict[str, list[Sample]], start: int = 0) -> None:
        self.samples, self.n = samples, start

    def next_n(self) -> int:
        self.n += 1
        return self.n

    def base(self, ch: Chooser, source: str) -> tuple[dict, str | None, int]:
        s = ch.pick(self.samples[source])
        rec = copy.deepcopy(s.record)
        n = self.next_n()
        fresh_key(source, rec, n)
        provider = s.provider
        if provider is not None and ch.pick([False, False, False, True]):
            provider = NEW_PROVIDER
        return rec, provider, n

    def valid_line(self, source: str, provider, rec: dict, label: str, body: str | None = None,
                   fields: frozenset = frozenset()) -> Line:
        return Line(source, provider, (body if body is not None else dumps(rec)).encode("utf-8"), label,
                    fields=fields, key=delivery_key(source, rec), canon=canonical(rec))

    def case(self, ch: Chooser, kinds: list[str], source: str | None = None) -> list[Line]:
        source = source or ch.pick(FILE_SOURCES)
        kind = ch.pick(kinds)
        if kind == "field":
            return [self.field_case(ch, source, valid_only=False)]
        if kind == "valid_field":
            return [self.field_case(ch, source, valid_only=True)]
        if kind == "invalid_field":
            return [self.field_case(ch, source, invalid_only=True)]
        if kind in WHOLE_CASES:
            return [self.whole_case(ch, source, kind)]
        return self.key_case(ch, source, kind)

    def field_case(self, ch: Chooser, source: str, valid_only: bool = False, invalid_only: bool = False) -> Line:
        c = contracts.FILE_CONTRACTS[source]
        rec, provider, n = self.base(ch, source)
        muts: list[FieldMut] = []
        count = ch.int(1, 3)
        for i in range(count):
            mode = ch.pick(["invalid", "valid", "extra", "identity"])
            if valid_only and mode == "invalid":
                mode = "valid"
            if invalid_only and i == 0:
                mode = "invalid"
            if mode == "identity" and not c.one_of:
                mode = "valid"
            taken = [m.path for m in muts]
            if mode == "identity":
                if any(overlaps(t, p) for t in taken for p in ("anonymousId", "userId")):
                    continue
                opt = ch.pick(["only_user", "only_anonymous", "neither"] if not valid_only
                              else ["only_user", "only_anonymous"])
                gone = [DELETE, None]
                if opt == "only_user":
                    muts += [FieldMut("anonymousId", ch.pick(gone), "no anonymousId"),
                             FieldMut("userId", f"user-pbt-{n}", "only userId")]
                elif opt == "only_anonymous":
                    muts += [FieldMut("userId", ch.pick(gone), "no userId"),
                             FieldMut("anonymousId", f"anon-pbt-{n}", "only anonymousId")]
                else:
                    muts += [FieldMut("anonymousId", ch.pick(gone), "no anonymousId"),
                             FieldMut("userId", ch.pick(gone), "no userId")]
                continue
            if mode == "extra":
                m = extra_mut(ch, rec)
                if m is not None and not any(overlaps(t, m.path) for t in taken):
                    muts.append(m)
                continue
            rules = [r for r in c.rules if not any(overlaps(t, r.path) for t in taken)]
            if mode == "invalid":
                rules = [r for r in rules if invalid_options(r)]
            if not rules:
                continue
            rule = ch.pick(rules)
            muts.append(invalid_mut(ch, rule) if mode == "invalid" else valid_mut(ch, rule, rec, n))
        for m in muts:
            set_path(rec, m.path, m.value)
        errors = [m.error for m in muts if m.error]
        paths = {m.path for m in muts}
        for group in c.one_of:
            if all(absent(rec, p) for p in group):
                errors.append(f"field {' or '.join(repr(p) for p in group)}: one of them is required")
                paths.add(" or ".join(group))
        label = f"{source}: " + ", ".join(f"{m.path}={m.label}" for m in muts)
        if errors:
            return Line(source, provider, dumps(rec).encode("utf-8"), label, tuple(errors), frozenset(paths))
        return self.valid_line(source, provider, rec, label, fields=frozenset(paths))

    def whole_case(self, ch: Chooser, source: str, kind: str) -> Line:
        rec, provider, n = self.base(ch, source)
        text = dumps(rec)
        if kind == "invalid_json":
            opt = ch.pick(["truncated", "single_quotes", "unquoted_key", "trailing_text", "raw_tab",
                           "two_records"])
            if opt == "truncated":
                body = text[: ch.int(1, len(text) - 1)]
            elif opt == "single_quotes":
                body = text.replace('"', "'")
            elif opt == "unquoted_key":
                body = "{pbt:1," + text[1:]
            elif opt == "trailing_text":
                body = text + " x"
            elif opt == "raw_tab":
                body = text[:-1] + ',"pbt":"a\tb"}'
            else:
                body = text + text
            return Line(source, provider, body.encode("utf-8"), f"{source}: invalid JSON ({opt})", ("Invalid JSON",))
        if kind == "not_object":
            body = ch.pick(["[" + text + "]", "42", '"a string"', "null", "true", "[]"])
            return Line(source, provider, body.encode("utf-8"), f"{source}: not an object {body[:10]!r}",
                        ("the record should be a JSON object",))
        # a string somewhere in the record (a field the contract reads, or an extra one) gets a bad character
        strings = [k for k, v in rec.items() if isinstance(v, str) and k]
        target = ch.pick(strings + ["pbt_note"])
        old = rec.get(target, "note") if target != "pbt_note" else "note"
        if kind == "lone_surrogate":
            rec[target] = old + ch.pick(["\udc80", "\ud800", "\udfff"])
            body = json.dumps(rec, separators=(",", ":"))  # ensure_ascii: written as a \\u escape
            return Line(source, provider, body.encode("ascii"), f"{source}: lone surrogate in {target}",
                        ("invalid UTF-8",))
        rec[target] = old + "PBT_BAD_BYTES"
        bad = ch.pick(BAD_BYTES)
        body = dumps(rec).encode("utf-8").replace(b"PBT_BAD_BYTES", b"ab" + bad + b"cd")
        return Line(source, provider, body, f"{source}: invalid UTF-8 {bad!r} in {target}", ("invalid UTF-8",))

    def key_case(self, ch: Chooser, source: str, kind: str) -> list[Line]:
        if kind == "broken_redelivered":  # a reject delivered twice is quarantined twice: rejects have no key
            line = self.whole_case(ch, source, ch.pick(WHOLE_CASES))
            return [line, dataclasses.replace(line, label=line.label + " (redelivered)")]
        rec, provider, n = self.base(ch, source)
        first = self.valid_line(source, provider, rec, f"{source}: first delivery")
        if kind == "duplicate":
            return [first, self.valid_line(source, provider, rec, f"{source}: exact redelivery")]
        if kind == "reformatted_duplicate":
            body = json.dumps(rec, separators=(", ", ": "), sort_keys=True, ensure_ascii=True)
            return [first, self.valid_line(source, provider, rec, f"{source}: reformatted redelivery", body)]
        other = copy.deepcopy(rec)
        c = contracts.FILE_CONTRACTS[source]
        times = [p for p in c.key if c.rule(p).kind == Kind.TIME]
        if kind == "same_instant" and times:
            # the key's time written with another offset: the same key (docs/landing.md), but another payload text
            t = datetime.fromisoformat(rec[times[0]])
            other[times[0]] = t.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="milliseconds")
            return [first, self.valid_line(source, provider, other, f"{source}: same instant, offset +02:00")]
        changeable = [r for r in c.rules if r.path not in c.key and r.kind in (Kind.STRING, Kind.EMAIL)
                      and r.path != "mailboxAddress" and get_path(other, r.path)[0]]
        if changeable and ch.bool():
            r = ch.pick(changeable)
            set_path(other, r.path, f"changed {n}")
            what = r.path
        else:
            other["pbt_conflict"] = f"another payload {n}"
            what = "pbt_conflict"
        second = self.valid_line(source, provider, other, f"{source}: same key, another {what}")
        out = [first, second]
        if kind == "conflict_redelivered":
            out.append(self.valid_line(source, provider, other, f"{source}: the conflicting payload again"))
        return out


# --- files ----------------------------------------------------------------------------------------------------

@dataclass
class Layout:
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> content
    lines: list[Line] = field(default_factory=list)


def layout(ch: Chooser, lines: list[Line], start: int = 0) -> Layout:
    """Lines grouped by source and provider, in order, cut into one to three files of the source's layout (ESP:
    a JSON array per file; Segment: sometimes gzip; JSON Lines: LF or CRLF, sometimes blank lines)."""
    out = Layout(lines=lines)
    groups: dict[tuple[str, str | None], list[Line]] = {}
    for ln in lines:
        groups.setdefault((ln.source, ln.provider), []).append(ln)
    k = start
    for (source, provider), group in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        nfiles = min(len(group), ch.int(1, 3))
        cuts = sorted({ch.int(1, len(group) - 1) for _ in range(nfiles - 1)}) if len(group) > 1 else []
        chunks = [group[a:b] for a, b in zip([0, *cuts], [*cuts, len(group)])]
        folder = SOURCE_DIR[source].format(provider=provider)
        for chunk in chunks:
            k += 1
            eol = ch.pick([b"\n", b"\r\n"])
            if source == "esp_events":
                rel = f"{folder}/{FILE_PREFIX}{k:04d}.json"
                for i, ln in enumerate(chunk, start=1):
                    ln.file, ln.line = rel, i
                out.files[rel] = b"[" + eol + (b"," + eol).join(ln.body for ln in chunk) + eol + b"]" + eol
                continue
            gz = source == "segment_events" and ch.pick([False, True])
            rel = f"{folder}/{FILE_PREFIX}{k:04d}.jsonl" + (".gz" if gz else "")
            physical: list[bytes] = []
            for ln in chunk:
                if ch.pick([False, False, False, True]):
                    physical.append(b"")  # a blank line is no record
                physical.append(ln.body)
                ln.file, ln.line = rel, len(physical)
            data = eol.join(physical) + (eol if ch.pick([True, False]) else b"")
            out.files[rel] = gzip.compress(data, mtime=0) if gz else data
    return out


def write(lay: Layout, root: Path) -> None:
    for rel, data in lay.files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


# --- the oracle: fates of the valid lines, in landing order ---------------------------------------------------

def simulate(lines: list[Line], seen: dict[tuple[str, str | None, str], set[str]] | None = None) -> None:
    """Set each line's fate. Files land in path order, lines in file order. A valid record whose key is new lands;
    one whose payload was delivered under its key before is a duplicate; another payload under a taken key is a
    conflict (quarantined, or a new version where the source versions records). `seen`: payloads per key already
    landed (the S world), by (source, provider, key)."""
    seen = {k: set(v) for k, v in (seen or {}).items()}
    for ln in sorted(lines, key=lambda x: (x.source, x.file, x.line)):
        if not ln.valid:
            ln.fate = "quarantined"
            continue
        k = (ln.source, ln.provider, ln.key)
        if k not in seen:
            seen[k] = {ln.canon}
            ln.fate = "landed"
        elif ln.canon in seen[k]:
            ln.fate = "duplicate"
        else:
            seen[k].add(ln.canon)
            ln.fate = "conflict"


def version_key(ln: Line) -> str:
    body = ln.body.rstrip(b"\r\n")
    return ln.key + "#" + hashlib.md5(body).hexdigest()[:12]


FIELD_RE = re.compile(r"field '([^']*)'(?: or '([^']*)')?: ")


def named_fields(error: str) -> set[str]:
    out = set()
    for part in error.split("; "):
        m = FIELD_RE.match(part)
        if m:
            out.add(m.group(1) + (f" or {m.group(2)}" if m.group(2) else ""))
    return out


def check_landing(con, lines: list[Line], results: dict, versioned=VERSIONED) -> list[str]:
    """Every expectation about `lines` checked against the warehouse and the landing results; the problems."""
    problems: list[str] = []
    files_ = sorted({ln.file for ln in lines})
    by_file: dict[str, list[Line]] = {}
    for ln in lines:
        by_file.setdefault(ln.file, []).append(ln)
    manifest = {r[0]: r[1:] for r in con.execute(
        "select path, rows_read, rows_landed, rows_quarantined, rows_duplicate, rows_conflicting, status "
        "from raw.landing_manifest where path in (select unnest(?::varchar[]))", [files_]).fetchall()}
    quarantine: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
    for src, f, line, raw_text, err in con.execute(
            "select source, file, line, raw_text, error from raw.quarantine "
            "where file in (select unnest(?::varchar[]))", [files_]).fetchall():
        quarantine.setdefault((f, line), []).append((src, raw_text, err))
    landed: dict[tuple[str, int], list[tuple[str, str, str | None]]] = {}
    for source in sorted({ln.source for ln in lines}):
        for f, line, key, provider, rec in con.execute(
                f"select file, line, record_key, provider, record::varchar from raw.{source} "
                "where file in (select unnest(?::varchar[]))", [files_]).fetchall():
            landed.setdefault((f, line), []).append((source, key, provider))

    for f, group in by_file.items():
        r = results.get(f)
        if r is None:
            problems.append(f"{f}: landing returned no result for it")
            continue
        exp = dict(read=len(group),
                   landed=sum(ln.fate == "landed" or (ln.fate == "conflict" and ln.source in versioned)
                              for ln in group),
                   quarantined=sum(ln.fate == "quarantined" or (ln.fate == "conflict" and ln.source not in versioned)
                                   for ln in group),
                   duplicates=sum(ln.fate == "duplicate" for ln in group),
                   conflicting=sum(ln.fate == "conflict" for ln in group))
        got = dict(read=r.read, landed=r.landed, quarantined=r.quarantined, duplicates=r.duplicates,
                   conflicting=r.conflicting)
        if r.problem or r.skipped:
            problems.append(f"{f}: problem={r.problem!r} skipped={r.skipped}")
        if got != exp:
            problems.append(f"{f}: FileResult {got}, expected {exp}")
        if r.read != r.landed + r.quarantined + r.duplicates:
            problems.append(f"{f}: read {r.read} != landed + quarantined + duplicates ({got})")
        m = manifest.get(f)
        if m is None:
            problems.append(f"{f}: no manifest row")
        elif m[:5] != (r.read, r.landed, r.quarantined, r.duplicates, r.conflicting) or m[5] != "landed":
            problems.append(f"{f}: manifest {m} != FileResult {got}")
        elif m[0] != m[1] + m[2] + m[3]:
            problems.append(f"{f}: manifest rows_read != landed + quarantined + duplicate: {m}")

    for ln in lines:
        where = f"{ln.file}:{ln.line} [{ln.label}]"
        q = quarantine.pop((ln.file, ln.line), [])
        lnd = landed.pop((ln.file, ln.line), [])
        if ln.fate == "quarantined":
            if len(q) != 1 or lnd:
                problems.append(f"{where}: expected quarantined with {ln.errors}; quarantine {q}, landed {lnd}")
                continue
            src, raw_text, err = q[0]
            missing = [e for e in ln.errors if e not in err]
            if missing or src != ln.source:
                problems.append(f"{where}: quarantine reason {err!r} lacks {missing}")
            stray = named_fields(err) - set(ln.fields)
            if stray:
                problems.append(f"{where}: reason {err!r} names fields that were not touched: {stray}")
            if not raw_text:
                problems.append(f"{where}: raw text not kept")
        elif ln.fate == "landed":
            if q or lnd != [(ln.source, ln.key, ln.provider)]:
                problems.append(f"{where}: expected landed under {ln.key!r}; landed {lnd}, quarantine {q}")
        elif ln.fate == "duplicate":
            if q or lnd:
                problems.append(f"{where}: expected a duplicate (not stored); landed {lnd}, quarantine {q}")
        elif ln.fate == "conflict" and ln.source in versioned:
            if q or lnd != [(ln.source, version_key(ln), ln.provider)]:
                problems.append(f"{where}: expected a new version {version_key(ln)!r}; landed {lnd}, quarantine {q}")
        elif ln.fate == "conflict":
            want = f"conflicting_duplicate: key {ln.key} was delivered before with another payload"
            if lnd or [e for _s, _r, e in q] != [want]:
                problems.append(f"{where}: expected quarantined as {want!r}; landed {lnd}, quarantine {q}")
    for (f, line), q in quarantine.items():
        problems.append(f"{f}:{line}: unexpected quarantine row {q}")
    for (f, line), lnd in landed.items():
        problems.append(f"{f}:{line}: unexpected landed row {lnd}")
    return problems


def describe(lines: list[Line]) -> str:
    return "\n".join(f"  {ln.file}:{ln.line} {ln.fate:11} {ln.label} :: {ln.body[:200]!r}" for ln in lines)
