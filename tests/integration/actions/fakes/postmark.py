"""A fake Postmark API: message streams (archive/unarchive) and stream suppressions."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from tests.integration.actions.fakes.server import FakeServer, Reply, Request

STREAM = r"/message-streams/(?P<stream>[^/]+)"


def _error(status: int, code: int, message: str) -> Reply:
    return Reply(status, {"ErrorCode": code, "Message": message})


@dataclass
class PostmarkState:
    streams: dict[str, dict[str, Any]] = field(default_factory=dict)
    suppressions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    suppress_posts: int = 0


class FakePostmark:
    """State plus routes; a wrong token gets Postmark's 401 ErrorCode 10."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.state = PostmarkState()
        self._lock = threading.Lock()
        self.server = FakeServer(self._auth)
        r = self.server.route
        r("GET", STREAM, self._get_stream)
        r("POST", f"{STREAM}/archive", self._archive)
        r("POST", f"{STREAM}/unarchive", self._unarchive)
        r("GET", f"{STREAM}/suppressions/dump", self._dump)
        r("POST", f"{STREAM}/suppressions", self._suppress)
        r("POST", f"{STREAM}/suppressions/delete", self._unsuppress)

    def reset(self) -> None:
        with self._lock:
            self.state = PostmarkState()
        self.server.clear()

    def add_stream(self, stream_id: str, kind: str = "Broadcasts") -> None:
        with self._lock:
            self.state.streams[stream_id] = {
                "ID": stream_id,
                "ServerID": 123456,
                "Name": stream_id,
                "MessageStreamType": kind,
                "ArchivedAt": None,
                "ExpectedPurgeDate": None,
            }

    def suppressed(self, stream: str) -> set[str]:
        with self._lock:
            return set(self.state.suppressions.get(stream, {}))

    def _auth(self, request: Request) -> Reply | None:
        if request.headers.get("x-postmark-server-token") == self.token:
            return None
        return _error(401, 10, "Request does not contain a valid Server token.")

    def _stream(self, request: Request) -> dict[str, Any] | None:
        return self.state.streams.get(request.params["stream"])

    def _get_stream(self, request: Request) -> Reply:
        with self._lock:
            stream = self._stream(request)
            if stream is None:
                return _error(422, 1226, "The message stream for the provided 'ID' was not found.")
            return Reply(200, dict(stream))

    def _archive(self, request: Request) -> Reply:
        with self._lock:
            stream = self._stream(request)
            if stream is None:
                return _error(422, 1226, "The message stream for the provided 'ID' was not found.")
            if stream["ID"] in ("outbound", "inbound"):
                return _error(422, 1227, "Default message streams cannot be archived.")
            stream["ArchivedAt"] = "2026-11-27T08:00:00Z"
            stream["ExpectedPurgeDate"] = "2027-01-11T08:00:00Z"
            return Reply(
                200,
                {
                    "ID": stream["ID"],
                    "ServerID": 123456,
                    "ExpectedPurgeDate": stream["ExpectedPurgeDate"],
                },
            )

    def _unarchive(self, request: Request) -> Reply:
        with self._lock:
            stream = self._stream(request)
            if stream is None:
                return _error(422, 1226, "The message stream for the provided 'ID' was not found.")
            stream["ArchivedAt"] = None
            stream["ExpectedPurgeDate"] = None
            return Reply(200, dict(stream))

    def _dump(self, request: Request) -> Reply:
        wanted = request.query.get("EmailAddress")
        with self._lock:
            entries = self.state.suppressions.get(request.params["stream"], {})
            items = [e for a, e in entries.items() if wanted in (None, a)]
        return Reply(200, {"Suppressions": items})

    def _suppress(self, request: Request) -> Reply:
        out = []
        with self._lock:
            self.state.suppress_posts += 1
            entries = self.state.suppressions.setdefault(request.params["stream"], {})
            for item in request.json()["Suppressions"]:
                address = item["EmailAddress"]
                entries[address] = {
                    "EmailAddress": address,
                    "SuppressionReason": "ManualSuppression",
                    "Origin": "Customer",
                    "CreatedAt": "2026-11-27T08:00:00Z",
                }
                out.append({"EmailAddress": address, "Status": "Suppressed", "Message": None})
        return Reply(200, {"Suppressions": out})

    def _unsuppress(self, request: Request) -> Reply:
        out = []
        with self._lock:
            entries = self.state.suppressions.setdefault(request.params["stream"], {})
            for item in request.json()["Suppressions"]:
                entries.pop(item["EmailAddress"], None)
                out.append(
                    {"EmailAddress": item["EmailAddress"], "Status": "Deleted", "Message": None}
                )
        return Reply(200, {"Suppressions": out})
