"""Landing on hand-broken files (docs/landing.md: nothing dropped silently): conflicting duplicates kept and counted,
unreadable files reported while the rest lands, symlinks out of the landing folder refused, invalid UTF-8
quarantined, a second writer named in one line."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from revops.landing.files import SOURCES, ensure_schema, land_source

REVOPS = str(Path(sys.executable).parent / "revops")
NOW = datetime(2026, 11, 2, tzinfo=timezone.utc)


def esp(i: int, event: str = "delivered", **kw) -> dict:
    return {"sg_event_id": f"ev{i}", "email": f"p{i}@x.com", "timestamp": 1793000000 + i, "event": event,
            "sending_domain": "mail.x.com", **kw}


def seg(i: int, **kw) -> dict:
    return {"messageId": f"m{i}", "type": "track", "event": "Signed Up", "userId": f"u{i}",
            "timestamp": "2026-10-20T10:00:00Z", **kw}


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def jsonl(records: list) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def land(db: Path, root: Path, name: str):
    con = duckdb.connect(str(db))
    ensure_schema(con)
    res = land_source(con, SOURCES[name], root, now=NOW)
    return con, res


def test_conflicting_duplicates_are_kept_and_counted(tmp_path):
    root = tmp_path / "landing"
    write(root / "esp/events/2026/10/20/a.json", json.dumps([esp(1), esp(2)]))
    # a redelivery of ev1 (same payload, other formatting), and ev2 again as a bounce: a conflict, not a duplicate
    write(root / "esp/events/2026/10/21/b.json",
          "[\n" + json.dumps(esp(1), indent=2, sort_keys=True) + ",\n" + json.dumps(esp(2, "bounce", type="bounce"))
          + "]")
    con, res = land(tmp_path / "w.duckdb", root, "esp_events")
    b = res[1]
    assert (b.read, b.landed, b.duplicates, b.quarantined, b.conflicting) == (2, 0, 1, 1, 1)
    err, line = con.execute("select error, line from raw.quarantine where file like '%b.json'").fetchone()
    assert err.startswith("conflicting_duplicate: key ev2") and line == 2
    assert con.execute("select rows_conflicting from raw.landing_manifest where path like '%b.json'").fetchone() == (1,)
    assert con.execute("select count(*) from raw.esp_events").fetchone() == (2,)


def test_a_versioned_source_lands_a_conflicting_version_and_the_later_one_wins(tmp_path):
    root = tmp_path / "landing"
    st = {"id": 7, "prospectId": 1, "sequenceId": 2, "state": "active", "updatedAt": "2026-10-20T10:00:00Z"}
    write(root / "sales_engagement/sequence_states/2026/10/20/a.jsonl", jsonl([st]))
    write(root / "sales_engagement/sequence_states/2026/10/21/b.jsonl", jsonl([{**st, "state": "finished"}, st]))
    con, res = land(tmp_path / "w.duckdb", root, "se_sequence_states")
    assert [(r.read, r.landed, r.duplicates, r.conflicting) for r in res] == [(1, 1, 0, 0), (2, 1, 1, 1)]
    keys = sorted(r[0] for r in con.execute("select record_key from raw.se_sequence_states").fetchall())
    assert keys[0] == "7|2026-10-20T10:00:00.000Z" and keys[1].startswith("7|2026-10-20T10:00:00.000Z#")
    # landing again changes nothing
    _, again = land(tmp_path / "w.duckdb", root, "se_sequence_states")
    assert all(r.skipped for r in again)


def test_unreadable_files_are_reported_and_everything_else_lands(tmp_path):
    root = tmp_path / "landing"
    good = jsonl([seg(1), seg(2)])
    write(root / "segment/2026/10/20/a-truncated.jsonl.gz", gzip.compress(good.encode())[:-10])
    write(root / "segment/2026/10/20/b-empty.jsonl.gz", b"")
    write(root / "segment/2026/10/20/c-not-gzip.jsonl.gz", b"plain text, not gzip")
    write(root / "segment/2026/10/21/d.jsonl.gz", gzip.compress(jsonl([seg(3)]).encode()))
    write(root / "segment/2026/10/21/e.jsonl", jsonl([seg(4)]))
    write(root / "segment/2026/10/21/f-empty.jsonl", b"")
    db = tmp_path / "w.duckdb"
    con, res = land(db, root, "segment_events")
    problems = {Path(r.path).name: r.problem for r in res if r.problem}
    assert set(problems) == {"a-truncated.jsonl.gz", "b-empty.jsonl.gz", "c-not-gzip.jsonl.gz"}
    assert "truncated gzip" in problems["a-truncated.jsonl.gz"] and "empty file" in problems["b-empty.jsonl.gz"]
    assert con.execute("select count(*) from raw.segment_events").fetchone() == (2,)  # d and e
    q = con.execute("select file, line, error from raw.quarantine order by file").fetchall()
    assert [(Path(f).name, ln) for f, ln, _ in q] == [("a-truncated.jsonl.gz", None), ("b-empty.jsonl.gz", None),
                                                      ("c-not-gzip.jsonl.gz", None)]
    assert all(e.startswith("unreadable file: ") for _, _, e in q)
    con.close()
    # the command lands the rest, lists the files it could not read and ends with exit code 3 — on every run
    # while they stay; nothing is written twice
    cmd = [REVOPS, "land", "--landing-dir", str(root), "--duckdb", str(db), "--source", "segment_events",
           "--source", "esp_events"]
    for _ in range(2):
        out = subprocess.run(cmd, capture_output=True, text=True)
        assert out.returncode == 3, out.stderr
        assert "3 file(s) could not be landed" in out.stderr and "a-truncated.jsonl.gz" in out.stderr
        assert "Traceback" not in out.stderr + out.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.quarantine").fetchone() == (3,)
    # the file is fixed: it lands and its quarantine row goes
    con.close()
    write(root / "segment/2026/10/20/a-truncated.jsonl.gz", gzip.compress(good.encode()))
    con, res = land(db, root, "segment_events")
    assert con.execute("select count(*) from raw.segment_events").fetchone() == (4,)
    assert con.execute("select count(*) from raw.quarantine").fetchone() == (2,)


def test_symlinks_out_of_the_landing_folder_are_refused(tmp_path):
    root = tmp_path / "landing"
    outside = write(tmp_path / "elsewhere" / "secret.jsonl", jsonl([seg(9)]))
    inside = write(root / "segment/2026/10/20/a.jsonl", jsonl([seg(1)]))
    day = root / "segment/2026/10/21"
    day.mkdir(parents=True)
    (day / "out.jsonl").symlink_to(outside)
    (day / "in.jsonl").symlink_to(inside)  # a link inside the folder is read (its records are duplicates)
    (day / "loop.jsonl").symlink_to(day / "loop.jsonl")
    (root / "segment/2026/10/22").symlink_to(tmp_path / "elsewhere")  # a linked folder out of the landing folder
    con, res = land(tmp_path / "w.duckdb", root, "segment_events")
    by = {Path(r.path).name: r for r in res}
    assert by["out.jsonl"].problem.startswith("refused file: a symlink to")
    assert by["loop.jsonl"].problem == "unreadable file: symlink loop"
    assert by["22"].problem.startswith("refused file: a symlink to")
    assert by["in.jsonl"].duplicates == 1 and by["a.jsonl"].landed == 1
    assert con.execute("select count(*) from raw.segment_events").fetchone() == (1,)
    assert con.execute("select count(*) from raw.quarantine where line is null").fetchone() == (3,)


def test_invalid_utf8_and_lone_surrogates_are_quarantined_never_replaced(tmp_path):
    root = tmp_path / "landing"
    lines = [json.dumps(seg(1)).encode(),
             json.dumps(seg(2, properties={"email": "PLACEHOLDER"})).encode().replace(b"PLACEHOLDER", b"caf\xe9@x.com"),
             json.dumps(seg(3)).replace('"u3"', '"caf\\udc80"').encode(),
             json.dumps(seg(4)).replace('"u4"', '"\\ud83d\\ude00"').encode()]  # a valid pair: an emoji
    write(root / "segment/2026/10/20/a.jsonl", b"\n".join(lines) + b"\n")
    con, res = land(tmp_path / "w.duckdb", root, "segment_events")
    assert (res[0].read, res[0].landed, res[0].quarantined) == (4, 2, 2)
    q = dict(con.execute("select line, error from raw.quarantine").fetchall())
    assert q[2].startswith("invalid UTF-8: byte 0xe9") and q[3].startswith("invalid UTF-8: a \\u escape")
    assert con.execute("select count(*) from raw.segment_events where record::varchar like '%\ufffd%'"
                       ).fetchone() == (0,)
    # an ESP body (a JSON array) with one bad element keeps its good elements
    body = json.dumps([esp(1), esp(2)]).replace('"p2@x.com"', '"p2\\udc80@x.com"')
    write(root / "esp/events/2026/10/20/a.json", body)
    _, res = land(tmp_path / "w.duckdb", root, "esp_events")
    assert (res[0].read, res[0].landed, res[0].quarantined) == (2, 1, 1)


def test_small_files_stay_cheap(tmp_path):
    root = tmp_path / "landing"
    for i in range(300):
        write(root / f"enrichment/prov{i % 3}/signals/s-{i:04d}.jsonl",
              json.dumps({"signal_id": f"s{i}", "domain": "x.com", "signal_type": "job_posting",
                          "observed_at": "2026-10-20T00:00:00Z"}) + "\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    land_source(con, SOURCES["enrichment_signals"], root, now=NOW)  # warm-up: imports, first batch
    for p in root.rglob("*.jsonl"):
        p.write_text(p.read_text().replace("job_posting", "exec_hire"))  # every file changed
    t0 = time.perf_counter()
    res = land_source(con, SOURCES["enrichment_signals"], root, now=NOW)
    per_file_ms = (time.perf_counter() - t0) / len(res) * 1000
    assert sum(r.landed for r in res) == 300
    # issue 13: <= 2 ms fixed cost a file (0.11-0.2 ms measured on this machine)
    assert per_file_ms < 2, per_file_ms


def test_a_second_writer_gets_one_line_naming_the_process(tmp_path):
    db = tmp_path / "w.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(db)!r}); "
                               "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        out = subprocess.run([REVOPS, "land", "--landing-dir", str(tmp_path), "--duckdb", str(db),
                              "--source", "esp_events"], capture_output=True, text=True)
    finally:
        holder.kill()
    assert out.returncode == 4
    assert out.stderr.strip() == (f"error: another process (pid {holder.pid}) is writing {db}; wait for it to "
                                  "finish or use another file (--duckdb or REVOPS_DUCKDB_PATH)")


def test_segment_parquet_files_land_through_the_same_contract(tmp_path):
    root = tmp_path / "landing"
    (root / "segment/2026/10/20").mkdir(parents=True)
    src = write(tmp_path / "events.jsonl", jsonl([seg(1), seg(2, timestamp="9999-01-01T00:00:00Z"), seg(3)]))
    duckdb.connect().execute(f"copy (select * from read_json('{src}')) to "
                             f"'{root / 'segment/2026/10/20/events.parquet'}' (format parquet)")
    write(root / "segment/2026/10/20/broken.parquet", b"PAR1 not really")
    con, res = land(tmp_path / "w.duckdb", root, "segment_events")
    by = {Path(r.path).name: r for r in res}
    assert (by["events.parquet"].read, by["events.parquet"].landed, by["events.parquet"].quarantined) == (3, 2, 1)
    assert "out of range" in con.execute("select error from raw.quarantine where line = 2").fetchone()[0]
    assert by["broken.parquet"].problem.startswith("unreadable file: not a readable Parquet file")


def test_crm_errors_are_one_line_and_the_token_never_crosses_plain_http(tmp_path):
    import http.server
    import threading

    class Unauthorized(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            body = json.dumps({"status": "error", "message": "Authentication credentials not found.",
                               "category": "INVALID_AUTHENTICATION"}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Unauthorized)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = {**os.environ, "HUBSPOT_TOKEN": "t0ps3cret"}
    try:
        out = subprocess.run([REVOPS, "land", "--duckdb", str(tmp_path / "w.duckdb"), "--source", "crm"],
                             capture_output=True, text=True, timeout=120,
                             env={**env, "HUBSPOT_BASE_URL": f"http://127.0.0.1:{srv.server_port}"})
    finally:
        srv.shutdown()
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == ("error: CRM: GET /crm/v3/owners: HTTP 401: Authentication credentials not found.; "
                                  "check HUBSPOT_TOKEN")
    # the client refuses before it opens anything: no test connects off loopback, even when this guard breaks
    from revops.hubspot import FatalError, HubSpotClient

    with pytest.raises(FatalError, match="refusing to send the token over plain http to crm.example.com") as e:
        HubSpotClient(base_url="http://crm.example.com", token="t0ps3cret")
    assert "t0ps3cret" not in str(e.value)
    HubSpotClient(base_url="https://crm.example.com", token="t0ps3cret").close()  # https: allowed, nothing sent
