"""The landing contracts and the staging models agree: every field a staging model casts, parses, tests not-null
or tests against a list of values has a landing rule of the matching kind, so a record that lands can never fail
the build (docs/landing.md). And the rules themselves, on hand-written records."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
import yaml

from revops.landing import contracts
from revops.landing.contracts import CONTRACTS, Kind

REPO = Path(__file__).resolve().parents[1]
STAGING = REPO / "dbt_project" / "models" / "staging"
NOW = datetime(2026, 11, 2, tzinfo=timezone.utc)

JSON_TEXT = re.compile(r"json_(?:text|fragment)\('record', '\$\.([^']+)'\)")
CASTS = {
    "iso_to_utc": {Kind.TIME, Kind.PROP_TIME},
    "unix_seconds_to_utc": {Kind.UNIX_SECONDS},
    "as integer": {Kind.INTEGER, Kind.PROP_INTEGER},
    "as bigint": {Kind.INTEGER},
    "as double": {Kind.PROP_NUMBER, Kind.PROP_INTEGER, Kind.INTEGER},
}


MACROS = (REPO / "dbt_project" / "macros" / "staging.sql").read_text()


def _expanded(text: str) -> tuple[str, str]:
    """(raw table, the model's text with the staging macro it calls written out): a model that calls one of
    macros/staging.sql's envelopes reads the envelope's fields too, and `hubspot_property('x')` is a read of
    `record.properties.x`."""
    call = re.search(r"\{%-?\s*call\s+(\w+)\(([^)]*)\)", text)
    if call:
        args = re.findall(r"'(\w+)'", call.group(2))
        table = next(a for a in args if a in CONTRACTS)
        body = re.search(r"\{%-?\s*macro\s+" + call.group(1) + r"\(.*?\{%-?\s*endmacro", MACROS, re.S).group(0)
        text = text + "\n" + body
    else:
        table = re.search(r"source\('\w+', '(\w+)'\)", text).group(1)
    text = re.sub(r"hubspot_property\('(\w+)'\)", r"json_text('record', '$.properties.\1')", text)
    return table, text


def _staging_models():
    """(model name, raw table, {path: [(cast, column)]}) for every staging model of a landed source."""
    for sql in sorted(STAGING.rglob("stg_*.sql")):
        if sql.parent.name in ("crm_sync", "ops"):
            continue  # the sync's state and the alerts: written by the warehouse itself, not landed
        table, text = _expanded(sql.read_text())
        reads: dict[str, list[tuple[str | None, str | None]]] = {}
        for line in text.splitlines():
            for path in JSON_TEXT.findall(line):
                alias = re.search(r"\bas (\w+),?\s*$", line)
                cast = next((c for c in CASTS if c in line.replace("unix_seconds_to_utc(\"cast(", "unix_seconds_to_utc(")
                             and (c != "as bigint" or "unix_seconds_to_utc" not in line)), None)
                reads.setdefault(path, []).append((cast, alias.group(1) if alias else None))
        yield sql.stem, table, reads


def _rule_for(table: str, path: str):
    top = re.split(r"\[", path)[0]  # '$.teams[0].name' is read from the list 'teams'
    return CONTRACTS[table].rule(path) or CONTRACTS[table].rule(top)


def test_every_field_a_staging_model_reads_has_a_landing_rule():
    missing = [(m, t, p) for m, t, reads in _staging_models() for p in reads if _rule_for(t, p) is None]
    assert missing == []


def test_every_cast_a_staging_model_makes_is_tried_at_landing():
    wrong = []
    for model, table, reads in _staging_models():
        for path, uses in reads.items():
            for cast, _ in uses:
                if cast and _rule_for(table, path).kind not in CASTS[cast]:
                    wrong.append((model, path, cast, _rule_for(table, path).kind))
    assert wrong == []
    # and the models do cast: the parse above finds them
    casts = {(t, p) for _, t, reads in _staging_models() for p, uses in reads.items() for c, _ in uses if c}
    assert ("esp_events", "timestamp") in casts and ("crm_companies", "properties.numberofemployees") in casts
    assert ("segment_events", "timestamp") in casts and ("se_mailings", "id") in casts


def _tests_of(model: str):
    for yml in STAGING.rglob("_*__models.yml"):
        for m in yaml.safe_load(yml.read_text()).get("models", []):
            if m["name"] == model:
                for col in m.get("columns", []):
                    yield col["name"], col.get("data_tests", [])


def test_not_null_and_value_tests_on_record_fields_are_landing_rules():
    """A not-null test on a column read from the record needs a required rule; an accepted_values test that can
    fail the build (severity error) needs an enum rule whose values it accepts."""
    problems = []
    for model, table, reads in _staging_models():
        column_path = {col: p for p, uses in reads.items() for _, col in uses if col}
        for col, tests in _tests_of(model):
            path = column_path.get(col)
            if path is None:
                continue  # not read from the record (record_key, provider, file...)
            rule = _rule_for(table, path)
            for t in tests:
                if t == "not_null" and not (rule.required or any(path in g for g in CONTRACTS[table].one_of)):
                    problems.append((model, col, "not_null without a required rule"))
                if isinstance(t, dict) and "accepted_values" in t:
                    spec = t["accepted_values"]
                    if (spec.get("config") or {}).get("severity") == "warn":
                        continue
                    if rule.kind != Kind.ENUM or not set(rule.values) <= set(spec["arguments"]["values"]):
                        problems.append((model, col, "accepted_values that landing does not enforce"))
    assert problems == []


# --- the rules on hand-written records --------------------------------------------------------------------------

def check(table: str, *records: str) -> list[tuple[str | None, str | None]]:
    return contracts.check_records(duckdb.connect(), CONTRACTS[table], list(records), NOW)


ESP = '{"sg_event_id":"e1","email":"ann@x.com","timestamp":%s,"event":"delivered"}'


@pytest.mark.parametrize("value, error", [
    ("1793000000", None),
    ("9999999999999", "field 'timestamp': out of range"),
    ("-5", "field 'timestamp': out of range"),
    ('"1793000000"', "field 'timestamp': should be an integer"),
    ("1793000000.5", "field 'timestamp': should be an integer"),
    ("null", "field 'timestamp': required"),
    ("99999999999999999999", "field 'timestamp': should be an integer"),
])
def test_esp_timestamps(value, error):
    (got, key), = check("esp_events", ESP % value)
    assert (got or "").startswith(error or "") and (got is None) == (error is None)
    assert key == "e1"


def test_times_beyond_the_landing_day_and_before_2000_are_refused():
    seg = '{"messageId":"m1","type":"track","userId":"u1","timestamp":"%s"}'
    assert check("segment_events", seg % "2026-11-02T23:00:00Z")[0][0] is None  # within landing + 1 day
    assert "out of range" in check("segment_events", seg % "2026-11-03T00:00:01Z")[0][0]
    assert "out of range" in check("segment_events", seg % "9999-12-31T00:00:00Z")[0][0]
    assert "out of range" in check("segment_events", seg % "1999-12-31T23:59:59Z")[0][0]
    assert "not a timestamp" in check("segment_events", seg % "yesterday")[0][0]
    # a deal's expected close date and a meeting's planned time may lie ahead, an event's creation may not
    deal = ('{"id":"1","updatedAt":"2026-10-01T00:00:00Z","properties":{"closedate":"%s",'
            '"createdate":"2026-10-01T00:00:00Z"}}')
    assert check("crm_deals", deal % "2027-06-30T00:00:00Z")[0][0] is None
    assert "out of range" in check("crm_deals", deal % "2046-06-30T00:00:00Z")[0][0]
    assert "out of range" in check("crm_deals", deal.replace('"createdate":"2026-10-01', '"createdate":"2027-10-01')
                                   % "2027-06-30T00:00:00Z")[0][0]


def test_segment_needs_an_anonymous_id_or_a_user_id():
    base = '{"messageId":"m1","type":"identify","timestamp":"2026-10-01T00:00:00Z"%s}'
    assert check("segment_events", base % ',"userId":"u1"')[0][0] is None
    assert check("segment_events", base % ',"anonymousId":"a1"')[0][0] is None
    assert check("segment_events", base % "")[0][0] == \
        "field 'anonymousId' or 'userId': one of them is required"
    assert check("segment_events", base % ',"userId":null,"anonymousId":null')[0][0].startswith("field 'anonymousId'")


def test_lengths_types_and_values():
    long_email = "a" * 10_000 + "@x.com"
    (err, _), = check("esp_events", ESP.replace("ann@x.com", long_email) % "1793000000")
    assert err == "field 'email': longer than 254 characters"
    (err, _), = check("esp_events", ESP.replace("delivered", "exploded") % "1793000000")
    assert err.startswith("field 'event': should be one of processed, delivered")
    enr = '{"domain":"x.com","employees":%s,"observed_at":"2026-10-01T00:00:00Z"}'
    assert check("enrichment_companies", enr % "329")[0][0] is None
    assert check("enrichment_companies", enr % '"about 329"')[0][0] == "field 'employees': should be an integer"
    assert "out of range" in check("enrichment_companies", enr % "-3")[0][0]
    comp = '{"id":"7","updatedAt":"2026-10-01T00:00:00Z","properties":{"numberofemployees":"%s"}}'
    assert check("crm_companies", comp % "329")[0][0] is None
    assert check("crm_companies", comp % "")[0][0] is None  # HubSpot's empty value
    assert check("crm_companies", comp % "about 329")[0][0] == \
        "field 'properties.numberofemployees': not an integer"
    pros = '{"id":5,"emails":%s,"updatedAt":"2026-10-01T00:00:00Z"}'
    assert check("se_prospects", pros % '["a@x.com"]')[0][0] is None
    assert "every element" in check("se_prospects", pros % '["a@x.com", 7]')[0][0]
    assert check("se_prospects", pros % '"a@x.com"')[0][0] == "field 'emails': should be a list of strings"
    # every problem of a record at once, not only the first
    (err, _), = check("esp_events", '{"sg_event_id":"e","email":7,"timestamp":"x","event":"open"}')
    assert err == "field 'email': should be a string; field 'timestamp': should be an integer"
    assert check("esp_events", "[1, 2]")[0][0] == "the record should be a JSON object"


def test_keys_normalize_times_to_utc():
    rec = '{"id":5,"emails":["a@x.com"],"updatedAt":"%s"}'
    keys = [k for _, k in check("se_prospects", rec % "2026-10-03T00:00:00+02:00", rec % "2026-10-02T22:00:00Z")]
    assert keys == ["5|2026-10-02T22:00:00.000Z"] * 2
