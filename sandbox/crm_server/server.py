"""HTTP transport and lifecycle: ``CRMServer(config).start()`` / ``.stop()`` / ``.serve_forever()``.

Standard library only (``ThreadingHTTPServer``), so the server owns its sockets: a
dropped connection is a real ``shutdown()`` of the client's socket without a response.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .app import CrmApp
from .config import TOKEN_ENV, ServerConfig
from .seed import seed_world
from .store import Store
from .timeutil import MonotonicClock, format_ms, now_ms

log = logging.getLogger(__name__)
_JSON = "application/json;charset=utf-8"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients (the SDK's urllib3, httpx) expect
    server: _HTTPServer

    def version_string(self) -> str:
        return "crm-sandbox/1.0"

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout_s  # idle keep-alive connections do not pin threads forever
        super().setup()
        # Small request/response pairs on keep-alive connections otherwise stall ~40 ms each
        # (Nagle's algorithm meeting the client's delayed ACK).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, method: str) -> None:
        started = time.monotonic()
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "Malformed request body")
            return
        base_url = f"http://{self.headers.get('Host') or '%s:%d' % self.server.server_address[:2]}"
        response = self.server.app.handle(method, self.path, self.headers, body, base_url)
        if response is None:  # injected fault: close without a response
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.server.access(method, self.path, "DROP", started)
            return
        data = b"" if response.body is None else json.dumps(response.body, separators=(",", ":")).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            if response.body is not None:
                self.send_header("Content-Type", _JSON)
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD" and data:
            self.wfile.write(data)
        self.wfile.flush()
        self.server.access(method, self.path, str(response.status), started)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass  # our own access log (without query strings or headers) is written in _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: CrmApp, idle_timeout_s: float,
                 access_log: Path | None) -> None:
        self.app = app
        self.idle_timeout_s = idle_timeout_s
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._access_file = access_log.open("a", encoding="utf-8") if access_log else None
        self._access_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close kept-alive client connections so their threads end with the server."""
        with self._connections_lock:
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def access(self, method: str, target: str, status: str, started: float) -> None:
        if self._access_file is None:
            return
        path = target.split("?", 1)[0]  # no query strings: they can carry emails and other PII
        line = f"{format_ms(now_ms())} {method} {path} {status} {(time.monotonic() - started) * 1000:.1f}ms\n"
        with self._access_lock:
            self._access_file.write(line)
            self._access_file.flush()

    def server_close(self) -> None:
        super().server_close()
        if self._access_file:
            self._access_file.close()


def open_store(config: ServerConfig) -> tuple[Store, dict[str, int] | None]:
    """Open (creating if new) the database and seed it when it is new, or when ``reseed`` is set.

    Returns the store and the seed counts if this call seeded, else None. A database that was
    seeded before, or that holds any record, is never seeded again: a restart keeps every write.
    """
    store = Store(config.db_path)
    try:
        if config.reseed:
            if config.world_dir is None:
                raise ValueError("reseed needs a world directory to seed from")
            store.wipe()
        counts = None
        if config.world_dir is not None and store.get_meta("seeded_at") is None and store.is_empty():
            started = time.monotonic()
            now_iso = format_ms(now_ms())
            counts = seed_world(store, config.world_dir, now_iso)
            store.set_meta("seeded_at", now_iso)
            store.set_meta("seed_world", str(config.world_dir))
            store.set_meta("seed_counts", json.dumps(counts))
            store.set_meta("seed_runs", str(int(store.get_meta("seed_runs") or 0) + 1))
            log.info("seeded %s from %s in %.1fs", counts, config.world_dir, time.monotonic() - started)
        store.ensure_indexes()
    except BaseException:
        store.close()
        raise
    return store, counts


def seed_counts(db_path: Path | str) -> dict[str, int]:
    """Records per object type currently in a sandbox database (archived included; owners too)."""
    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        from .schema import SEED_FILES

        out = {name: 0 for name in SEED_FILES}
        for otype, n in conn.execute("SELECT otype, COUNT(*) FROM objects GROUP BY otype"):
            out[otype] = n
        out["owners"] = conn.execute("SELECT COUNT(*) FROM owners").fetchone()[0]
        return out
    finally:
        conn.close()


class CRMServer:
    """The sandbox HubSpot CRM: ``start()`` in a background thread or ``serve_forever()`` in the foreground."""

    def __init__(self, config: ServerConfig | None = None, **kwargs: Any) -> None:
        self.config = config if config is not None else ServerConfig(**kwargs)
        self.store: Store | None = None
        self.seeded: dict[str, int] | None = None  # seed counts when this start seeded the database
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> CRMServer:
        """Open (and seed if needed) the database and bind the socket, without serving yet.

        ``start()`` and ``serve_forever()`` call it when needed; call it first to learn ``url``
        before serving in the foreground.
        """
        if self._httpd is not None:
            return self
        token = self.config.resolved_token()
        if not token:
            raise RuntimeError(f"no API token: set {TOKEN_ENV} or pass ServerConfig(token=...)")
        self.store, self.seeded = open_store(self.config)
        try:
            clock = MonotonicClock(self.store.max_timestamp_ms())
            app = CrmApp(self.config, self.store, clock, token)
            self._httpd = _HTTPServer((self.config.host, self.config.port), app, self.config.idle_timeout_s,
                                      self.config.access_log)
        except BaseException:
            self.store.close()
            self.store = None
            raise
        return self

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> CRMServer:
        """Seed if needed, bind, serve in a daemon thread; returns once requests are accepted."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        self.bind()
        assert self._httpd is not None
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"crm-sandbox-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        if self._thread is not None:
            httpd.shutdown()  # stops serve_forever (only valid while it runs)
            self._thread.join(timeout=10)
            self._thread = None
        httpd.close_connections()
        httpd.server_close()
        if self.store is not None:
            self.store.close()  # waits for the store lock, so no request is mid-transaction
            self.store = None

    def serve_forever(self) -> None:
        """Serve in the foreground until Ctrl-C (or SIGTERM when run in the main thread)."""
        self.bind()
        assert self._httpd is not None
        previous = None
        if threading.current_thread() is threading.main_thread():
            def _terminate(signum: int, frame: Any) -> None:
                raise KeyboardInterrupt
            previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            httpd, self._httpd = self._httpd, None
            if httpd is not None:
                httpd.close_connections()
                httpd.server_close()
            if self.store is not None:
                self.store.close()
                self.store = None

    def __enter__(self) -> CRMServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
