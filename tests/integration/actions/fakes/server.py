"""A tiny threaded HTTP server for fake provider APIs, with faults a test can inject.

Faults match a method and a path regex and apply to the next `times` requests:
a status reply (429 with Retry-After, 5xx, ...), a delay longer than the client timeout
(the request is still applied afterwards), or applying the request and then dropping the
connection without an answer (the classic half-success).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson


@dataclass
class Request:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    """What the fake answers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", "application/json"
        if isinstance(self.body, bytes | str):
            data = self.body.encode() if isinstance(self.body, str) else self.body
            return data, "text/plain; charset=utf-8"
        return orjson.dumps(self.body), "application/json"


@dataclass
class Fault:
    """A misbehaviour for matching requests."""

    reply: Reply | None = None
    delay: float = 0.0
    drop_after_apply: bool = False


Handler = Callable[[Request], Reply]


@dataclass
class _Armed:
    method: str
    pattern: re.Pattern[str]
    fault: Fault
    remaining: int


class FakeServer:
    """Routes requests to handlers after an auth check; keeps a log; injects faults."""

    def __init__(self, auth: Callable[[Request], Reply | None]) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._auth = auth
        self._faults: list[_Armed] = []
        self._lock = threading.Lock()
        self._busy = 0
        self.log: list[tuple[str, str]] = []
        self.applied: list[tuple[str, str]] = []
        self._httpd: ThreadingHTTPServer | None = None

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve method + path regex (named groups become request.params)."""
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def inject(self, method: str, pattern: str, fault: Fault, times: int = 1) -> None:
        """Apply fault to the next `times` requests matching method and path regex."""
        with self._lock:
            self._faults.append(_Armed(method, re.compile(f"^{pattern}$"), fault, times))

    def clear(self) -> None:
        """Forget faults and the request log."""
        with self._lock:
            self._faults.clear()
            self.log.clear()
            self.applied.clear()

    def effects(self, method: str, pattern: str) -> int:
        """How many matching writes reached a handler and succeeded (dropped answers count)."""
        regex = re.compile(f"^{pattern}$")
        with self._lock:
            return sum(1 for m, p in self.applied if m == method and regex.match(p))

    def writes(self) -> list[tuple[str, str]]:
        """Logged requests that were not GETs."""
        return [entry for entry in self.log if entry[0] != "GET"]

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until no request is being handled (a delayed one has finished applying)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._busy == 0:
                    return
            time.sleep(0.01)
        raise TimeoutError("fake server still busy")

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms stalls

            def log_message(self, *_args: Any) -> None:
                pass

            def _any(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        serve = lambda: self._httpd.serve_forever(poll_interval=0.05)  # noqa: E731
        threading.Thread(target=serve, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._busy += 1
        try:
            self._serve_one(handler)
        finally:
            with self._lock:
                self._busy -= 1

    def _serve_one(self, handler: BaseHTTPRequestHandler) -> None:
        request = _read(handler)
        with self._lock:
            self.log.append((request.method, request.path))
        denied = self._auth(request)
        if denied is not None:
            return _write(handler, denied)
        fault = self._take_fault(request)
        if fault is not None and fault.reply is not None:
            return _write(handler, fault.reply)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        reply = self._dispatch(request)
        if request.method != "GET" and 200 <= reply.status < 300:
            with self._lock:
                self.applied.append((request.method, request.path))
        if fault is not None and fault.drop_after_apply:
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return None
        with contextlib.suppress(OSError):  # the client gave up (timeout) before we answered
            _write(handler, reply)
        return None

    def _take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for armed in self._faults:
                if armed.method == request.method and armed.pattern.match(request.path):
                    armed.remaining -= 1
                    if armed.remaining <= 0:
                        self._faults.remove(armed)
                    return armed.fault
        return None

    def _dispatch(self, request: Request) -> Reply:
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if method == request.method and match:
                request.params = {k: unquote(v) for k, v in match.groupdict().items()}
                return handler(request)
        return Reply(404, {"message": f"no route for {request.method} {request.path}"})


def _read(handler: BaseHTTPRequestHandler) -> Request:
    split = urlsplit(handler.path)
    length = int(handler.headers.get("content-length") or 0)
    body = handler.rfile.read(length) if length else b""
    query = {k: v[0] for k, v in parse_qs(split.query).items()}
    headers = {k.lower(): v for k, v in handler.headers.items()}
    return Request(handler.command, split.path, query, headers, body)


def _write(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    data, content_type = reply.encode()
    handler.send_response(reply.status)
    handler.send_header("content-type", reply.headers.get("content-type", content_type))
    for name, value in reply.headers.items():
        if name.lower() != "content-type":
            handler.send_header(name, value)
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
