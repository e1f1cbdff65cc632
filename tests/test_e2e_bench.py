"""The end-to-end benchmark's own arithmetic (revops/e2e_bench.py, `make bench-l`): which files make the last
day, that holding it back leaves the world as it was, the rate-limit ceiling of a request mix, and reading what
`revops land` printed. The benchmark itself runs for an hour on L and is not a test."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from revops.e2e_bench import file_day, mirror_landing, move_in, parse_access, parse_land


def test_a_file_belongs_to_the_day_in_its_folders_or_its_name():
    assert file_day("esp/events/2026/10/31/webhook-b000-0000.json") == date(2026, 10, 31)
    assert file_day("segment/2026/08/03/events-b001-0002.jsonl.gz") == date(2026, 8, 3)
    assert file_day("enrichment/firmograph/companies/companies-2026-10-30-0000.jsonl") == date(2026, 10, 30)
    assert file_day("enrichment/firmograph/companies/companies.jsonl") is None
    assert file_day("segment/2026/13/40/events.jsonl") is None


def test_the_last_day_is_held_back_and_the_world_is_left_as_it_was(tmp_path):
    world = tmp_path / "world"
    files = ["esp/events/2026/10/30/a.json", "esp/events/2026/10/31/a.json", "segment/2026/10/31/e.jsonl",
             "enrichment/p/companies/companies-2026-10-31-0000.jsonl", "enrichment/p/signals/signals.jsonl"]
    for f in files:
        (world / f).parent.mkdir(parents=True, exist_ok=True)
        (world / f).write_text(f)
    landing, held = tmp_path / "landing", tmp_path / "held"
    last, mirrored, held_back = mirror_landing(world, landing, held)
    assert (last, mirrored, held_back) == (date(2026, 10, 31), 2, 3)
    assert sorted(p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()) == [
        "enrichment/p/signals/signals.jsonl", "esp/events/2026/10/30/a.json"]
    assert move_in(held, landing) == 3
    assert sorted(p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()) == sorted(files)
    assert all((world / f).read_text() == f for f in files)  # moving the links changed nothing in the world


def test_the_ceiling_of_a_request_mix(tmp_path):
    log = tmp_path / "access.log"
    lines = ["2026-12-04T02:00:00.000Z GET /health 200 0.1ms"]
    # 10 searches and 10 association reads in 2 s, one search refused (429): the searches (5/s) bound it at 2 s
    for i in range(10):
        lines.append(f"2026-12-04T02:00:0{i // 5}.{(i % 5) * 2}00Z POST /crm/v3/objects/contacts/search 200 5.0ms")
        lines.append(f"2026-12-04T02:00:0{i // 5}.{(i % 5) * 2}50Z POST /crm/v4/associations/contacts/companies/"
                     "batch/read 207 1.0ms")
    lines.append("2026-12-04T02:00:02.000Z POST /crm/v3/objects/contacts/search 429 0.1ms")
    log.write_text("\n".join(lines) + "\n")
    out = parse_access(log, 0)
    assert (out["requests"], out["search"], out["other"], out["rate_limited_429"]) == (20, 10, 10, 1)
    assert out["active_seconds"] == 2.0 and out["ceiling_per_s"] == 10.0 and out["share_of_ceiling"] == 1.0
    assert out["server_ms_per_search"] == 5.0
    since = len(log.read_bytes())
    with log.open("a") as f:
        f.write("2026-12-04T02:01:00.000Z GET /crm/v3/owners 200 1.0ms\n"
                "2026-12-04T02:01:10.000Z GET /crm/v3/owners 200 1.0ms\n")
    later = parse_access(log, since)  # only what came after `since`: 2 others in 10 s, 5 % of the 10/s ceiling
    assert (later["requests"], later["share_of_ceiling"]) == (2, 0.02)


def test_what_revops_land_printed_is_read_back(tmp_path):
    log = tmp_path / "land.log"
    log.write_text("""landing into x.duckdb
  crm contacts   read   39,314  landed   39,300  unchanged      14  quarantined    0  pages  197  windows 3  archived 0
  segment_events            80 files,    700,000 records (5.0 s)

source                  files  skipped       read     landed  quarantined  duplicates  conflicting  seconds
esp_events                 89        0    736,000    730,000        5,000       1,000            0      5.2
segment_events             90       10    810,000    800,000           10       9,990            0      5.6
""")
    out = parse_land(Path(log), 0)
    assert out["crm"] == {"contacts": {"read": 39314, "landed": 39300}}
    assert out["files"]["esp_events"]["read"] == 736000 and out["files"]["segment_events"]["skipped"] == 10
    assert out["files"]["segment_events"]["seconds"] == 5.6


def test_a_stopped_build_is_read_from_dbt_s_lines():
    from revops.e2e_bench import nodes_from_log

    text = ("149 of 374 OK created sql incremental model main.stg_segment__events ...... [\x1b[32mOK\x1b[0m in 314.30s]\n"
            "186 of 374 PASS unique_stg_segment__events_message_id ................. [PASS in 14.36s]\n"
            "232 of 374 PASS int_persons_profiled::a_persons_profile ................ [PASS in 0.42s]\n"
            "240 of 374 ERROR creating sql table model main.dim_person ............... [ERROR in 0.02s]\n"
            "289 of 374 START sql table model main.mart_speed_to_lead_cube ........... [RUN]\n")
    assert nodes_from_log(text) == [
        {"node": "stg_segment__events", "type": "model", "status": "success", "seconds": 314.3},
        {"node": "unique_stg_segment__events_message_id", "type": "test", "status": "success", "seconds": 14.36},
        {"node": "int_persons_profiled::a_persons_profile", "type": "unit_test", "status": "success", "seconds": 0.42},
        {"node": "dim_person", "type": "model", "status": "error", "seconds": 0.02}]
