"""Security rules of docs/sync.md and 10: the token only over https or to loopback (decided on the URL alone), never
printed; the dashboard bound to 127.0.0.1 from any directory with usage statistics off, and a password required
anywhere else; no SQL built by pasting a path into a string. Nothing here connects off loopback."""

import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from revops.hubspot import ALLOW_INSECURE_ENV, FatalError, HubSpotClient, check_transport, is_loopback

REPO = Path(__file__).resolve().parents[1]
REVOPS = str(Path(sys.executable).parent / "revops")

LOOPBACK_OR_HTTPS = ["http://127.0.0.1", "http://localhost", "http://[::1]", "http://127.5.5.5",
                     "http://127.0.0.1:8765/", "http://LOCALHOST:1", "https://api.hubapi.com",
                     "https://crm.example.com:8443/base"]
REFUSED = ["http://api.hubapi.com", "http://10.0.0.5", "http://localhost.evil.com", "http://127.0.0.1.nip.io",
           "http://0.0.0.0:8765", "http://[::ffff:10.0.0.5]", "http://192.168.1.10:8765"]


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to resolve or connect fails the test: the guard must decide on the URL alone."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network used: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv(ALLOW_INSECURE_ENV, raising=False)


@pytest.mark.parametrize("url", LOOPBACK_OR_HTTPS)
def test_https_or_loopback_is_allowed(url, no_network):
    assert check_transport(url) is None
    HubSpotClient(base_url=url, token="t0ps3cret").close()  # built, nothing sent


@pytest.mark.parametrize("url", REFUSED)
def test_plain_http_off_loopback_is_refused(url, no_network):
    host = httpx.URL(url).host
    with pytest.raises(FatalError, match=f"refusing to send the token over plain http to {re.escape(host)}") as e:
        HubSpotClient(base_url=url, token="t0ps3cret")
    assert "t0ps3cret" not in str(e.value) and ALLOW_INSECURE_ENV in str(e.value)


@pytest.mark.parametrize("url", ["api.hubapi.com", "ftp://api.hubapi.com", "http://"])
def test_a_base_url_that_is_not_http_is_refused(url, no_network):
    with pytest.raises(FatalError, match="HUBSPOT_BASE_URL"):
        check_transport(url)


def test_loopback_is_decided_on_the_name():
    assert all(is_loopback(h) for h in ["localhost", "LocalHost.", "127.0.0.1", "127.255.0.9", "::1", "[::1]"])
    assert not any(is_loopback(h) for h in ["localhost.evil.com", "127.0.0.1.nip.io", "10.0.0.5", "0.0.0.0", "",
                                            "evil-localhost", "::", "1.127.0.0"])


def test_the_override_is_explicit_and_loud(no_network, monkeypatch, capsys):
    monkeypatch.setenv(ALLOW_INSECURE_ENV, "1")
    client = HubSpotClient(base_url="http://10.0.0.5:8765", token="t0ps3cret")  # built, nothing sent
    client.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"warning: {ALLOW_INSECURE_ENV}=1") and "10.0.0.5" in err
    assert "t0ps3cret" not in err
    monkeypatch.setenv(ALLOW_INSECURE_ENV, "yes")  # only 1 lifts the refusal
    with pytest.raises(FatalError):
        HubSpotClient(base_url="http://10.0.0.5:8765", token="t0ps3cret")


def test_the_token_is_never_printed_even_when_the_crm_echoes_it(tmp_path):
    """A CRM (on 127.0.0.1) whose error messages repeat the Authorization header: `revops land` ends in one line,
    exit 1, and neither stdout nor stderr holds the token."""
    class Echo(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "error", "message": f"scope missing for {self.headers['Authorization']}"})
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        res = subprocess.run([REVOPS, "land", "--source", "crm", "--duckdb", str(tmp_path / "w.duckdb")],
                             capture_output=True, text=True, timeout=120, check=False,
                             env={**os.environ, "HUBSPOT_TOKEN": "s3cr3t-t0ken",
                                  "HUBSPOT_BASE_URL": f"http://127.0.0.1:{srv.server_port}"})
    finally:
        srv.shutdown()
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "HTTP 403" in res.stderr and "lacks a scope" in res.stderr
    assert "s3cr3t-t0ken" not in res.stdout + res.stderr and "<HUBSPOT_TOKEN>" in res.stderr


# ---------------------------------------------------------------- the dashboard

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> set[str]:
    """Local addresses listening on `port` (IPv4 and IPv6), from /proc/net/tcp*: no tool or package needed."""
    out = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(addr)
            if width == 8:
                out.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
            else:  # four 32-bit words, each in host (little-endian) order
                out.add(socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))))
    return out


def test_the_dashboard_listens_on_loopback_only_from_another_directory(tmp_path):
    """`python -m dashboard` started in a directory without .streamlit/config.toml: 127.0.0.1 only, headless, usage
    statistics off (in the server's own command line and environment, and as Streamlit reads those flags)."""
    from dashboard.launch import streamlit_args

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "REVOPS_DASHBOARD_"))}
    env.update({"REVOPS_SNAPSHOT_DIR": str(tmp_path / "snaps"), "DASHBOARD_PORT": str(port)})
    with open(tmp_path / "dashboard.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dashboard"], cwd=tmp_path, env=env, stdout=log,
                                stderr=subprocess.STDOUT)  # the child has its own copy of the descriptor
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.time() < deadline, (tmp_path / "dashboard.log").read_text()
            time.sleep(0.3)
        assert _listening(port) == {"127.0.0.1"}
        # the process is the launcher's, replaced by Streamlit with every setting on its command line
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[:-1]
        assert [a.decode() for a in cmdline][1:] == streamlit_args("127.0.0.1", port)[1:]
        environ = dict(e.split(b"=", 1) for e in Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0") if e)
        assert environ[b"STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == b"false"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # what Streamlit makes of those flags, read in the same directory (no config file there)
    flags = streamlit_args("127.0.0.1", port)[5:]
    shown = subprocess.run([sys.executable, "-m", "streamlit", "config", "show", *flags], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120, env=env, check=False).stdout
    assert re.search(r"^gatherUsageStats = false$", shown, re.MULTILINE), shown[-3000:]
    assert re.search(r'^address = "127\.0\.0\.1"$', shown, re.MULTILINE)
    assert re.search(r"^headless = true$", shown, re.MULTILINE)


@pytest.mark.parametrize("cmd", [[sys.executable, "-m", "dashboard", "--address", "0.0.0.0"],
                                 [REVOPS, "dashboard", "--address", "10.0.0.5"],
                                 [REVOPS, "dashboard"]])  # with REVOPS_DASHBOARD_ADDRESS='' (every interface)
def test_the_dashboard_refuses_another_address_without_a_password(cmd, tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "REVOPS_DASHBOARD_PASSWORD"}
    env.update({"DASHBOARD_PORT": str(port), "REVOPS_DASHBOARD_ADDRESS": ""})
    res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "REVOPS_DASHBOARD_PASSWORD" in res.stderr
    assert _listening(port) == set()  # refused before anything started


def test_the_launch_check_itself():
    from dashboard.launch import LaunchRefused, check_address

    for address in ("127.0.0.1", "localhost", "::1"):
        check_address(address, None)
    for address in ("0.0.0.0", "", "10.0.0.5", "localhost.evil.com"):
        with pytest.raises(LaunchRefused):
            check_address(address, None)
        check_address(address, "a password")


def test_off_loopback_the_app_asks_for_the_password_before_anything(tmp_path, monkeypatch):
    """The app itself (Streamlit's AppTest): on another address it renders a refusal without a password set, and
    a password form, nothing else, until the right password is given."""
    from streamlit import config
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REVOPS_SNAPSHOT_DIR", str(tmp_path / "no-snapshots"))
    monkeypatch.delenv("REVOPS_DASHBOARD_PASSWORD", raising=False)
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        refused = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60).run()
        assert [e.value for e in refused.error] and "REVOPS_DASHBOARD_PASSWORD" in refused.error[0].value
        assert not refused.text_input and not refused.warning and not refused.sidebar.children

        monkeypatch.setenv("REVOPS_DASHBOARD_PASSWORD", "correct horse")
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60).run()
        assert len(at.text_input) == 1 and not at.warning  # the form only: no snapshot was even looked for
        at.text_input[0].input("wrong")
        at.button[0].click().run()
        assert at.error and at.error[0].value == "Wrong password." and not at.warning
        at.text_input[0].input("correct horse")
        at.button[0].click().run()
        assert not at.text_input and not at.error
        assert "No snapshot of the marts" in at.warning[0].value  # past the gate: the app itself
    finally:
        config.set_option("server.address", before)


# ---------------------------------------------------------------- SQL: paths are parameters

def test_snapshot_of_a_warehouse_whose_path_has_an_apostrophe_and_a_space(tmp_path):
    folder = tmp_path / "it's here"
    folder.mkdir()
    wh = folder / "o'brien warehouse.duckdb"
    con = duckdb.connect(str(wh))
    con.execute("create table dim_owner as select 'o1' as owner_id")
    con.execute("create schema crm_sync")
    con.execute("create table crm_sync.runs as select 'r1' as run_id")
    # a view that names the warehouse's catalog, as dbt-duckdb writes them
    con.execute('create view mart_sync_health as select run_id from "o\'brien warehouse".crm_sync.runs')
    con.close()
    out = folder / "snap's dir"
    res = subprocess.run([REVOPS, "snapshot", "--duckdb", str(wh), "--out", str(out)], capture_output=True,
                         text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    from revops import snapshot

    snap = snapshot.open_current(out)
    assert snap is not None
    _, con = snap
    try:
        assert con.execute("select owner_id from dim_owner").fetchall() == [("o1",)]
        assert con.execute("select run_id from mart_sync_health").fetchall() == [("r1",)]
        assert con.execute("select warehouse from snapshot_info").fetchall() == [(str(wh),)]
    finally:
        con.close()


def test_no_python_code_pastes_a_value_into_a_sql_string_literal():
    """A regression guard: no execute/sql/query call whose f-string puts `{...}` inside quotes ('{path}')."""
    pasted = re.compile(r"""(?:execute|\.sql|query)\(\s*f(?:"{1,3}|'{1,3})[^\n]*'\{""")
    hits = []
    for folder in ("revops", "reverse_etl", "dagster_project", "dashboard", "sandbox", "benchmarks"):
        for path in (REPO / folder).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if pasted.search(line):
                    hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert hits == []
