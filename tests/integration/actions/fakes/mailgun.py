"""A fake Mailgun API: suppression lists (form-encoded) and subaccounts, basic auth api:KEY."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field

from tests.integration.actions.fakes.server import FakeServer, Reply, Request

LIST = r"/v3/(?P<domain>[^/]+)/(?P<kind>bounces|unsubscribes|complaints)"


@dataclass
class MailgunState:
    lists: dict[tuple[str, str], dict[str, dict[str, str]]] = field(default_factory=dict)
    subaccounts: dict[str, str] = field(default_factory=dict)
    adds: int = 0


class FakeMailgun:
    """State plus routes; a wrong key gets Mailgun's plain-text 401 "Forbidden"."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.state = MailgunState()
        self._lock = threading.Lock()
        self.server = FakeServer(self._auth)
        r = self.server.route
        r("GET", f"{LIST}/(?P<address>[^/]+)", self._get)
        r("POST", LIST, self._add)
        r("DELETE", f"{LIST}/(?P<address>[^/]+)", self._delete)
        r("GET", r"/v5/accounts/subaccounts/(?P<id>[^/]+)", self._get_sub)
        r("POST", r"/v5/accounts/subaccounts/(?P<id>[^/]+)/disable", self._disable)
        r("POST", r"/v5/accounts/subaccounts/(?P<id>[^/]+)/enable", self._enable)

    def reset(self) -> None:
        with self._lock:
            self.state = MailgunState()
        self.server.clear()

    def listed(self, domain: str, kind: str) -> set[str]:
        with self._lock:
            return set(self.state.lists.get((domain, kind), {}))

    def _auth(self, request: Request) -> Reply | None:
        expected = "Basic " + base64.b64encode(f"api:{self.api_key}".encode()).decode()
        if request.headers.get("authorization") == expected:
            return None
        return Reply(401, "Forbidden")

    def _table(self, request: Request) -> dict[str, dict[str, str]]:
        key = (request.params["domain"], request.params["kind"])
        return self.state.lists.setdefault(key, {})

    def _get(self, request: Request) -> Reply:
        with self._lock:
            record = self._table(request).get(request.params["address"])
        if record is None:
            return Reply(404, {"message": f"Address not found in {request.params['kind']} table"})
        return Reply(200, record)

    def _add(self, request: Request) -> Reply:
        form = request.form()
        if "address" not in form:
            return Reply(400, {"message": "'address' parameter is missing"})
        with self._lock:
            self._table(request)[form["address"]] = {**form, "created_at": "Fri, 27 Nov 2026"}
            self.state.adds += 1
        kind = request.params["kind"]
        return Reply(
            200,
            {"message": f"Address has been added to the {kind} table", "address": form["address"]},
        )

    def _delete(self, request: Request) -> Reply:
        with self._lock:
            if self._table(request).pop(request.params["address"], None) is None:
                return Reply(404, {"message": "Address not found"})
        return Reply(
            200, {"message": "Address has been removed", "address": request.params["address"]}
        )

    def _get_sub(self, request: Request) -> Reply:
        with self._lock:
            status = self.state.subaccounts.get(request.params["id"])
        if status is None:
            return Reply(404, {"message": "Not Found"})
        return Reply(200, self._sub(request.params["id"], status))

    def _disable(self, request: Request) -> Reply:
        with self._lock:
            status = self.state.subaccounts.get(request.params["id"])
            if status is None:
                return Reply(404, {"message": "Not Found"})
            if status == "disabled":
                return Reply(400, {"message": "subaccount is already disabled"})
            self.state.subaccounts[request.params["id"]] = "disabled"
        return Reply(200, self._sub(request.params["id"], "disabled"))

    def _enable(self, request: Request) -> Reply:
        with self._lock:
            if request.params["id"] not in self.state.subaccounts:
                return Reply(404, {"message": "Not Found"})
            self.state.subaccounts[request.params["id"]] = "open"
        return Reply(200, self._sub(request.params["id"], "open"))

    @staticmethod
    def _sub(sub_id: str, status: str) -> dict[str, object]:
        return {"subaccount": {"id": sub_id, "name": f"sub {sub_id}", "status": status}}
