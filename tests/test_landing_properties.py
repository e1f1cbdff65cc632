"""Property-based tests of file landing (docs/landing.md): valid records of every file source, sampled from the S world,
are mutated (tests/mutations.py) and written into new files of the landing layout; landing must reconcile every
file (read = landed + quarantined + duplicates, in its result and in raw.landing_manifest), quarantine every
invalid record at its file and line with a reason naming the field, land every valid one (or count it as a
duplicate or a conflict), and never raise.

- `test_mutated_records_land_or_quarantine_as_the_contract_says`: hypothesis, ~50 small examples, each landed
  into a fresh DuckDB file (only the mutated files).
- the slow tests land the S world (CRM from the sandbox server, like conftest's two_day_build) with one large
  seeded batch of mutations and run `dbt build`: with only invalid records and exact redeliveries the marts equal
  the clean world's; with a mixed batch (valid but unusual records too) the build stays green.
- the remaining tests pin single records that landing got wrong (see their docstrings).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revops.landing.files import SOURCES, ensure_schema, land_source

from mutations import (
    FIELD_CASES,
    KEY_CASES,
    NOW,
    VERSIONED,
    WHOLE_CASES,
    Generator,
    HypothesisChooser,
    Line,
    RandomChooser,
    canonical,
    check_landing,
    delivery_key,
    describe,
    layout,
    load_samples,
    simulate,
    write,
)

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")

# field mutations are the bulk; each whole-record and key case is drawn about as often as one field case
KINDS = FIELD_CASES * 4 + WHOLE_CASES + KEY_CASES


@pytest.fixture(scope="module")
def samples(world_s):
    return load_samples(world_s / "landing")


def land_everything(db: Path, landing: Path) -> dict:
    con = duckdb.connect(str(db))
    try:
        ensure_schema(con)
        return {r.path: r for src in SOURCES.values() for r in land_source(con, src, landing, now=NOW)}
    finally:
        con.close()


def table_state(db: Path) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        state = {name: con.execute(f"select record_key, provider, file, line, record::varchar from raw.{name} "
                                   "order by all").fetchall() for name in SOURCES}
        state["quarantine"] = con.execute("select source, file, line, raw_text, error from raw.quarantine "
                                          "order by all").fetchall()
        state["manifest"] = con.execute("select path, sha256, rows_read, rows_landed, rows_quarantined, "
                                        "rows_duplicate, rows_conflicting, status from raw.landing_manifest "
                                        "order by path").fetchall()
        return state
    finally:
        con.close()


def report(problems: list[str], lines: list[Line]) -> str:
    return "\n".join(problems[:40]) + f"\n({len(problems)} problems)\nlines:\n" + describe(lines)


# --- the fast property ----------------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_records_land_or_quarantine_as_the_contract_says(samples, tmp_path_factory, data):
    ch = HypothesisChooser(data)
    gen = Generator(samples)
    lines: list[Line] = []
    for _ in range(ch.int(1, 12)):
        lines += gen.case(ch, KINDS)
    lay = layout(ch, lines)
    simulate(lines)
    root = tmp_path_factory.mktemp("pbt")
    try:
        write(lay, root / "landing")
        try:
            results = land_everything(root / "warehouse.duckdb", root / "landing")
        except Exception as e:  # nothing raises
            raise AssertionError(f"landing raised {type(e).__name__}: {e}\nlines:\n{describe(lines)}") from e
        con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
        try:
            problems = check_landing(con, lines, results)
        finally:
            con.close()
        # landing the same files again changes nothing (docs/landing.md): every file skipped, every table as it was
        before = table_state(root / "warehouse.duckdb")
        again = land_everything(root / "warehouse.duckdb", root / "landing")
        problems += [f"{r.path}: landed again ({r})" for r in again.values() if not r.skipped]
        after = table_state(root / "warehouse.duckdb")
        problems += [f"re-landing changed raw.{t}" for t in before if before[t] != after[t]]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert not problems, report(problems, lines)


# --- single records landing got wrong -------------------------------------------------------------------------

ESP = {"sg_event_id": "e1", "email": "a@x.com", "timestamp": 1793430695, "event": "open"}
SIGNAL = {"signal_id": "s1", "domain": "x.com", "signal_type": "exec_hire", "detail": {"openings": 1},
          "observed_at": "2026-10-02T04:07:34.494Z"}


def land_one(tmp_path: Path, source: str, rel: str, data: bytes):
    (tmp_path / "landing" / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "landing" / rel).write_bytes(data)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        ensure_schema(con)
        res = land_source(con, SOURCES[source], tmp_path / "landing", now=NOW)
        rows = con.execute(f"select line, record_key, record::varchar from raw.{source} order by line").fetchall()
        q = con.execute("select line, error from raw.quarantine order by line").fetchall()
        return res, rows, q
    finally:
        con.close()


def test_esp_file_with_nan_and_a_broken_element_does_not_raise(tmp_path):
    """A webhook body whose elements go down the Python path (one has an invalid UTF-8 byte) and another carries
    NaN: landing must not raise (it did: json.dumps(allow_nan=False) in split_array_python); the NaN element is
    not JSON (RFC 8259) and belongs in quarantine, the bad byte too."""
    body = (b"[\n" + json.dumps(dict(ESP, sg_event_id="nan", pbt=float("nan"))).encode() + b",\n"
            + json.dumps(dict(ESP, sg_event_id="bad", email="a@x.com")).encode().replace(b"a@x", b"a\xff@x")
            + b"\n]\n")
    res, rows, q = land_one(tmp_path, "esp_events", "esp/events/2026/10/31/a.json", body)
    assert [(r.read, r.landed + r.quarantined + r.duplicates) for r in res] == [(2, 2)]
    assert [ln for ln, _e in q] == [1, 2], (rows, q)


@pytest.mark.parametrize("text", [
    '{"signal_id":"s1","domain":"x.com","signal_type":"exec_hire","observed_at":"2026-10-02T04:07:34.494Z",}',
    '{"signal_id":"s1","domain":"x.com","signal_type":"exec_hire","observed_at":"2026-10-02T04:07:34.494Z","x":NaN}',
    '{"signal_id":"s1","domain":"x.com","signal_type":"exec_hire","observed_at":"2026-10-02T04:07:34.494Z","x":[1,]}',
], ids=["trailing_comma", "nan", "trailing_comma_in_list"])
def test_records_that_are_not_json_are_quarantined(tmp_path, text):
    """DuckDB's reader accepts trailing commas, NaN and Infinity; JSON (RFC 8259) does not, and neither do the
    readers downstream of raw (Python's json with trailing commas, most warehouses): such a record is "Invalid
    JSON", not a landed row with that text in raw.record. (A number beyond a double, 1e999, is JSON by the RFC's
    grammar: it lands, and a field rule that wants an integer refuses it.)"""
    res, rows, q = land_one(tmp_path, "enrichment_signals", "enrichment/p/signals/a.jsonl", text.encode() + b"\n")
    assert not rows, rows
    assert len(q) == 1 and q[0][1].startswith("Invalid JSON"), q


def test_a_conflict_is_not_taken_for_a_duplicate_when_true_equals_1(tmp_path):
    """The same key with detail {"openings": 1} then {"openings": true} is another payload (docs/landing.md: a conflict,
    kept and counted), but landing settles 'formatting' conflicts with Python's ==, where True == 1 and 0 ==
    False: the second delivery is counted a duplicate and dropped silently."""
    first = json.dumps(SIGNAL)
    second = json.dumps(dict(SIGNAL, detail={"openings": True}))
    res, rows, q = land_one(tmp_path, "enrichment_signals", "enrichment/p/signals/a.jsonl",
                            (first + "\n" + second + "\n").encode())
    assert [(r.read, r.landed, r.quarantined, r.duplicates, r.conflicting) for r in res] == [(2, 1, 1, 0, 1)], q
    assert q and q[0][1].startswith("conflicting_duplicate"), q


def test_a_whitespace_line_is_no_record_whatever_else_is_in_the_file(tmp_path):
    """A line of only spaces is no record — it was counted (and quarantined as Invalid JSON) when it was longer
    than 4 characters and the file was valid UTF-8, but skipped when another line of the file had an invalid
    byte: the same line read two ways."""
    good = json.dumps(SIGNAL).encode()
    res, _rows, q = land_one(tmp_path, "enrichment_signals", "enrichment/p/signals/a.jsonl",
                             good + b"\n" + b" " * 8 + b"\n")
    assert [r.read for r in res] == [1], q


def test_a_lone_surrogate_deep_inside_a_record_does_not_make_landing_raise(tmp_path):
    """JSON nested ~600 deep is valid (DuckDB reads it), but the Python helper that looks for lone surrogates
    recurses once per level (two frames: the function and its any() generator): a record whose lone surrogate
    sits 600 levels down made landing raise RecursionError (json_error -> _has_lone_surrogate)."""
    deep = "[" * 600 + '"\\udc80"' + "]" * 600
    text = json.dumps(SIGNAL)[:-1] + ',"x":' + deep + "}"
    res, rows, q = land_one(tmp_path, "enrichment_signals", "enrichment/p/signals/a.jsonl", text.encode() + b"\n")
    assert [(r.read, r.quarantined) for r in res] == [(1, 1)] and q[0][1].startswith("invalid UTF-8"), q


def test_a_deep_event_in_a_webhook_body_on_the_python_path_does_not_make_landing_raise(tmp_path):
    """A webhook body goes down the Python path when one element has an invalid byte; another element nested
    600 deep (valid JSON) then made landing raise RecursionError (split_array_python -> _has_lone_surrogate)."""
    deep_el = json.dumps(ESP)[:-1] + ',"x":' + "[" * 600 + "1" + "]" * 600 + "}"
    bad = json.dumps(dict(ESP, sg_event_id="bad")).encode().replace(b"a@x", b"a\xff@x")
    res, rows, q = land_one(tmp_path, "esp_events", "esp/events/2026/10/31/a.json",
                            b"[\n" + deep_el.encode() + b",\n" + bad + b"\n]\n")
    assert [(r.read, r.landed, r.quarantined) for r in res] == [(2, 1, 1)], q


def test_a_cut_off_compact_webhook_body_keeps_its_complete_events(tmp_path):
    """SendGrid POSTs a compact body (the whole array on one line). Cut off inside its last event, the Python
    fallback splits it by lines — one line — so the three complete events are lost into a single quarantine row
    and the file counts 1 record read instead of 4 (the fallback promises "its good records are not lost")."""
    events = [dict(ESP, sg_event_id=f"e{i}") for i in range(3)] + [dict(ESP, sg_event_id="cut")]
    body = json.dumps(events, separators=(",", ":"))[:-20]
    res, rows, q = land_one(tmp_path, "esp_events", "esp/events/2026/10/31/a.json", body.encode())
    assert [(r.read, r.landed) for r in res] == [(4, 3)], (rows, q)


# --- the slow test: the S world with one large batch, built by dbt ----------------------------------------------

SEED = 20261031
MART = re.compile(r"^(mart|fct|dim)_")


def dbt_build(db: Path, target: Path) -> tuple[list[str], float]:
    """`dbt build` on the warehouse (its own target folder, so it leaves the project's alone): the failing nodes
    with their messages, [] when green; and the seconds it took."""
    t0 = time.monotonic()
    res = subprocess.run([DBT, "build", "--profiles-dir", ".", "--target-path", str(target),
                          "--log-path", str(target / "logs")],
                         cwd=REPO / "dbt_project", capture_output=True, text=True,
                         env={**os.environ, "REVOPS_DUCKDB_PATH": str(db)})
    failures = []
    rr = target / "run_results.json"
    if rr.exists():
        for r in json.loads(rr.read_text())["results"]:
            if r["status"] in ("error", "fail", "runtime error"):
                failures.append(f"{r['unique_id']}: {r['status']}: {r.get('message')} "
                                f"(failures: {r.get('failures')})")
    if res.returncode != 0 and not failures:
        failures.append(res.stdout[-4000:] + res.stderr[-2000:])
    return failures, time.monotonic() - t0


def mart_tables(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [t for (t,) in con.execute("select table_name from information_schema.tables "
                                          "where table_schema = 'main' order by 1").fetchall() if MART.match(t)]
    finally:
        con.close()


def mart_differences(a: Path, b: Path) -> list[str]:
    """Each mart_/fct_/dim_ model of main that differs between the two warehouses (EXCEPT ALL both ways, doubles
    rounded to 9 places)."""
    ta, tb = mart_tables(a), mart_tables(b)
    out = [f"models only in one warehouse: {sorted(set(ta) ^ set(tb))}"] if ta != tb else []
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        for t in sorted(set(ta) & set(tb)):
            cols = con.execute("select column_name, data_type from information_schema.columns where "
                               "table_catalog = 'a' and table_schema = 'main' and table_name = ? "
                               "order by ordinal_position", [t]).fetchall()
            sel = ", ".join(f'round("{c}", 9) as "{c}"' if d in ("DOUBLE", "FLOAT") else f'"{c}"' for c, d in cols)
            only_a = con.execute(f"select count(*) from (select {sel} from a.main.{t} except all "
                                 f"select {sel} from b.main.{t})").fetchone()[0]
            only_b = con.execute(f"select count(*) from (select {sel} from b.main.{t} except all "
                                 f"select {sel} from a.main.{t})").fetchone()[0]
            if only_a or only_b:
                out.append(f"{t}: {only_a} rows only in the clean build, {only_b} only in the mutated one")
    finally:
        con.close()
    return out


def link_tree(src: Path, dst: Path) -> None:
    """A copy of the landing folder made of hard links (landing refuses symlinks out of the folder)."""
    for p in src.rglob("*"):
        if p.is_file():
            (dst / p.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(p, dst / p.relative_to(src))
            except OSError:
                shutil.copy2(p, dst / p.relative_to(src))


@pytest.fixture(scope="module")
def s_clean(world_s, tmp_path_factory):
    """The S world landed (CRM through the sandbox server on 127.0.0.1, then every file) and built: the CRM-only
    warehouse to copy, the clean build's failures, the payloads landed per key (for the oracle) and a few landed
    records of each source to redeliver."""
    from revops.hubspot import HubSpotClient
    from revops.landing import crm
    from sandbox.crm_server import CRMServer, ServerConfig

    tmp = tmp_path_factory.mktemp("pbt_slow")
    crm_db = tmp / "crm_only.duckdb"
    srv = CRMServer(ServerConfig(db_path=tmp / "crm.sqlite", world_dir=world_s, token="pbt-test",
                                 host="127.0.0.1")).start()
    try:
        con = duckdb.connect(str(crm_db))
        ensure_schema(con)
        with HubSpotClient(base_url=srv.url, token="pbt-test") as client:
            crm.extract_all(con, client)
        con.close()
    finally:
        srv.stop()
    clean = tmp / "clean.duckdb"
    shutil.copy(crm_db, clean)
    results = land_everything(clean, world_s / "landing")
    failures, secs = dbt_build(clean, tmp / "target_clean")
    seen: dict[tuple, set[str]] = {}
    redeliver: list[Line] = []
    con = duckdb.connect(str(clean), read_only=True)
    try:
        for name in SOURCES:
            rows = con.execute(f"select record_key, provider, record::varchar from raw.{name}").fetchall()
            for key, provider, text in rows:
                if name in VERSIONED:
                    key = re.sub(r"#[0-9a-f]{12}$", "", key)
                seen.setdefault((name, provider, key), set()).add(canonical(json.loads(text)))
            # exact redeliveries: the text as landed (JSON Lines: the line as delivered)
            for key, provider, text in con.execute(
                    f"select record_key, provider, record::varchar from raw.{name} "
                    f"where not contains(record_key, '#') order by hash(record_key) limit 5").fetchall():
                rec = json.loads(text)
                redeliver.append(Line(name, provider, text.encode("utf-8"), f"{name}: exact redelivery of {key}",
                                      key=delivery_key(name, rec), canon=canonical(rec)))
    finally:
        con.close()
    return SimpleNamespace(tmp=tmp, crm_db=crm_db, clean=clean, results=results, failures=failures,
                           build_seconds=secs, seen=seen, redeliver=redeliver)


def land_batch(s_clean, world_s, samples, name: str, kinds: list[str], cases: int, seed: int):
    """The S world plus one seeded batch of `cases` mutations (and the redeliveries), landed into a copy of the
    CRM-only warehouse and checked record by record; returns the warehouse."""
    ch = RandomChooser(seed)
    gen = Generator(samples, start=100_000)
    lines: list[Line] = []
    for _ in range(cases):
        lines += gen.case(ch, kinds)
    lines += [Line(r.source, r.provider, r.body, r.label, key=r.key, canon=r.canon) for r in s_clean.redeliver]
    lay = layout(ch, lines)
    simulate(lines, s_clean.seen)
    landing = s_clean.tmp / f"landing_{name}"
    link_tree(world_s / "landing", landing)
    write(lay, landing)
    s_paths = {p.relative_to(world_s / "landing").as_posix() for p in (world_s / "landing").rglob("*")}
    for rel in lay.files:  # the batch's files land after the S world's (delivery order decides conflicts)
        assert rel not in s_paths
        sibling = [p for p in s_paths if p.rsplit("/", 1)[0] == rel.rsplit("/", 1)[0]]
        assert all(p < rel for p in sibling), rel
    db = s_clean.tmp / f"{name}.duckdb"
    shutil.copy(s_clean.crm_db, db)
    results = land_everything(db, landing)
    con = duckdb.connect(str(db), read_only=True)
    try:
        problems = check_landing(con, lines, results)
        bad = con.execute("select path, rows_read, rows_landed, rows_quarantined, rows_duplicate "
                          "from raw.landing_manifest where rows_read <> rows_landed + rows_quarantined + rows_duplicate"
                          ).fetchall()
    finally:
        con.close()
    problems += [f"manifest does not reconcile: {b}" for b in bad]
    problems += [f"{r.path}: {r.problem}" for r in results.values() if r.problem]
    return db, lines, problems


@pytest.mark.slow
def test_invalid_records_and_redeliveries_leave_every_mart_unchanged(s_clean, world_s, samples):
    """~100 invalid records (every kind) plus exact redeliveries of landed S records: all quarantined or counted
    as duplicates, and every mart_/fct_/dim_ model equals the clean S world's."""
    assert not s_clean.failures, "the clean S world does not build:\n" + "\n".join(s_clean.failures)
    kinds = ["invalid_field"] * 4 + WHOLE_CASES + ["broken_redelivered"]
    db, lines, problems = land_batch(s_clean, world_s, samples, "invalid_only", kinds, 100, SEED)
    assert {ln.fate for ln in lines} == {"quarantined", "duplicate"}
    assert not problems, report(problems, lines)
    failures, _secs = dbt_build(db, s_clean.tmp / "target_invalid_only")
    assert not failures, "dbt build failed:\n" + "\n".join(failures)
    diffs = mart_differences(s_clean.clean, db)
    assert not diffs, "\n".join(diffs)


@pytest.mark.slow
def test_a_mixed_batch_of_valid_and_invalid_records_builds_green(s_clean, world_s, samples):
    """~100 mutations of every kind — valid but unusual records (boundary times, offsets, extreme integers, empty
    strings, NUL characters, unknown fields and providers, userId-only calls, new versions) among the invalid
    ones, duplicates and conflicts — land as the contract says, and `dbt build` stays green: a record that passes
    landing never fails a model or a test."""
    assert not s_clean.failures, "the clean S world does not build:\n" + "\n".join(s_clean.failures)
    kinds = FIELD_CASES * 2 + ["valid_field"] * 4 + WHOLE_CASES + KEY_CASES
    db, lines, problems = land_batch(s_clean, world_s, samples, "mixed", kinds, 100, SEED + 1)
    assert not problems, report(problems, lines)
    failures, _secs = dbt_build(db, s_clean.tmp / "target_mixed")
    valid = [ln for ln in lines if ln.fate in ("landed", "conflict")]
    assert not failures, ("dbt build failed on records that passed landing:\n" + "\n".join(failures)
                          + "\nvalid records of the batch:\n" + describe(valid))
