"""Mock catalogue servers on 127.0.0.1 (OS-chosen ports), built from recorded responses.

A server can bind another loopback address (127.0.0.2, ``::1``): Linux routes all of
127.0.0.0/8 to the loopback interface.
"""

from __future__ import annotations

import json
import random
import re
import socket
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "catalog-samples"


def sample(rel: str) -> Path:
    """Path of a recorded response (tests skip when the shared kit is missing)."""
    import pytest

    path = SAMPLES / rel
    if not path.exists():
        pytest.skip(f"shared catalogue samples missing: {path}")
    return path


@dataclass
class Fault:
    """One injected failure: ``kind`` is status, timeout, cut, html, malformed, corrupt, empty,
    latency (``headers["delay"]`` seconds, then the normal answer), short (a truncated body
    whose ``Content-Length`` matches it: a complete-looking answer) or expire (every access
    token revoked, then the normal answer: 401 where a token is needed).
    """

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class _QuietHTTPServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client killed or gone
            super().handle_error(request, client_address)


class _ThreadingHTTPServer6(_QuietHTTPServer):
    address_family = socket.AF_INET6


class MockServer:
    """A ThreadingHTTPServer with a request log and per-route fault queues."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> None:
        self.host = host
        server = _ThreadingHTTPServer6 if ":" in host else _QuietHTTPServer
        self.httpd = server((host, 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.mock = self  # type: ignore[attr-defined]
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.chaos: dict[str, tuple[random.Random, float, list[Fault]]] = {}
        self.throttle = 0.0
        """Download bodies are sent at this many bytes per second (0: as fast as possible)."""
        self.body_bytes = 0
        """Download body bytes sent, all requests together."""
        self.injected: Counter[str] = Counter()
        """Faults drawn at random (`inject_randomly`), by kind."""
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def inject(self, route: str, *faults: Fault) -> None:
        with self.lock:
            self.faults[route].extend(faults)

    def inject_randomly(self, route: str, rate: float, faults: list[Fault], seed: int) -> None:
        """Once the queue of `route` is empty, each request draws a fault with `rate`."""
        with self.lock:
            self.chaos[route] = (random.Random(seed), rate, faults)

    def take(self, route: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(route)
            if queue:
                return queue.pop(0)
            if route in self.chaos:
                rng, rate, faults = self.chaos[route]
                if rng.random() < rate:
                    fault = rng.choice(faults)
                    self.injected[fault.kind] += 1
                    return fault
            return None

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Handler(BaseHTTPRequestHandler):
    """Base handler: logging to the mock, JSON replies, fault application."""

    protocol_version = "HTTP/1.1"
    server_version = "mock"

    @property
    def mock(self) -> MockServer:
        return self.server.mock  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def record(self, body: bytes = b"") -> None:
        with self.mock.lock:
            self.mock.log.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": body.decode("latin-1"),
                }
            )

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(
        self,
        status: int,
        body: bytes | str | Any,
        ctype: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def serve_download(
        self,
        data: bytes,
        fault: Fault | bool | None,
        ctype: str = "application/zip",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve a product body with HTTP Range (206), and the `corrupt` / `cut` faults."""
        if isinstance(fault, Fault) and fault.kind == "corrupt":
            data = data[:-10] + b"x" * 10
        start = 0
        requested = self.headers.get("Range")
        if requested and (m := re.fullmatch(r"bytes=(\d+)-", requested)):
            start = int(m.group(1))
            if start >= len(data):
                self.reply(416, b"", headers={"Content-Range": f"bytes */{len(data)}"})
                return
        chunk = data[start:]
        short = isinstance(fault, Fault) and fault.kind == "short"
        if short:
            chunk = chunk[: len(chunk) // 2]
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(chunk)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if isinstance(fault, Fault) and fault.kind == "cut":
            self._send_body(chunk[: len(chunk) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send_body(chunk)

    def _send_body(self, data: bytes, piece: int = 1 << 16) -> None:
        """Write `data` (at the mock's ``throttle``), counting the bytes that left."""
        for at in range(0, len(data), piece):
            part = data[at : at + piece]
            self.wfile.write(part)
            with self.mock.lock:
                self.mock.body_bytes += len(part)
            if self.mock.throttle:
                time.sleep(len(part) / self.mock.throttle)

    def apply_fault(self, route: str) -> Fault | bool | None:
        """Serve an injected fault (True); return it when the handler must act (cut, corrupt,
        empty); None when there is none.
        """
        fault = self.mock.take(route)
        if fault is None:
            return None
        if fault.kind == "status":
            body = fault.body or json.dumps({"detail": f"injected {fault.status}"}).encode()
            self.reply(fault.status, body, headers=fault.headers)
        elif fault.kind == "timeout":
            time.sleep(float(fault.headers.get("delay", "3")))
            self.close_connection = True
        elif fault.kind == "html":
            html = sample("dhus-sentinelsat/server_maintenance.html").read_bytes()
            self.reply(fault.status, html, "text/html")
        elif fault.kind == "malformed":
            self.reply(200, b'{"value": [{"Id": ', "application/json")
        elif fault.kind == "latency":
            time.sleep(float(fault.headers.get("delay", "0.2")))
            return None
        else:
            return fault
        return True
