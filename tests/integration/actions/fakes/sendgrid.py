"""A fake SendGrid v3 API: the endpoints Mailwarden's actions call, with SendGrid's shapes."""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass, field

from tests.integration.actions.fakes.server import FakeServer, Reply, Request

EMAIL = r"(?P<email>[^/]+)"


def _errors(status: int, message: str, field_name: str | None = None) -> Reply:
    return Reply(status, {"errors": [{"field": field_name, "message": message}]})


@dataclass
class SendGridState:
    suppressed: set[str] = field(default_factory=set)
    api_keys: dict[str, str] = field(default_factory=dict)
    scheduled: dict[str, str] = field(default_factory=dict)
    rules: dict[int, str] = field(default_factory=dict)
    next_rule: int = 1
    suppress_posts: int = 0


class FakeSendGrid:
    """State plus routes; a wrong bearer key gets SendGrid's 401 (which echoes nothing)."""

    def __init__(self, api_key: str, echo_auth_in_errors: bool = False) -> None:
        self.api_key = api_key
        self.echo_auth = echo_auth_in_errors
        self.state = SendGridState()
        self._lock = threading.Lock()
        self.server = FakeServer(self._auth)
        r = self.server.route
        r("GET", f"/v3/asm/suppressions/global/{EMAIL}", self._get_suppression)
        r("POST", "/v3/asm/suppressions/global", self._add_suppressions)
        r("DELETE", f"/v3/asm/suppressions/global/{EMAIL}", self._delete_suppression)
        r("GET", r"/v3/api_keys/(?P<id>[^/]+)", self._get_key)
        r("DELETE", r"/v3/api_keys/(?P<id>[^/]+)", self._delete_key)
        r("GET", r"/v3/user/scheduled_sends/(?P<batch>[^/]+)", self._get_batch)
        r("POST", "/v3/user/scheduled_sends", self._create_batch_status)
        r("PATCH", r"/v3/user/scheduled_sends/(?P<batch>[^/]+)", self._update_batch)
        r("DELETE", r"/v3/user/scheduled_sends/(?P<batch>[^/]+)", self._delete_batch)
        r("GET", "/v3/access_settings/whitelist", self._list_rules)
        r("POST", "/v3/access_settings/whitelist", self._add_rules)
        r("DELETE", r"/v3/access_settings/whitelist/(?P<id>\d+)", self._delete_rule)

    def reset(self) -> None:
        with self._lock:
            self.state = SendGridState()
            self.echo_auth = False
        self.server.clear()

    def _auth(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") == f"Bearer {self.api_key}":
            return None
        if self.echo_auth:  # a careless provider that repeats what it was sent
            return _errors(401, f"bad credentials: {request.headers.get('authorization')}")
        return _errors(401, "authorization required")

    def _get_suppression(self, request: Request) -> Reply:
        email = request.params["email"]
        with self._lock:
            return Reply(200, {"recipient_email": email} if email in self.state.suppressed else {})

    def _add_suppressions(self, request: Request) -> Reply:
        emails = request.json()["recipient_emails"]
        with self._lock:
            self.state.suppressed.update(emails)
            self.state.suppress_posts += 1
        return Reply(201, {"recipient_emails": emails})

    def _delete_suppression(self, request: Request) -> Reply:
        with self._lock:
            self.state.suppressed.discard(request.params["email"])
        return Reply(204)

    def _get_key(self, request: Request) -> Reply:
        key_id = request.params["id"]
        with self._lock:
            if key_id not in self.state.api_keys:
                return _errors(404, "unable to find API Key")
            name = self.state.api_keys[key_id]
        return Reply(200, {"result": [{"api_key_id": key_id, "name": name, "scopes": []}]})

    def _delete_key(self, request: Request) -> Reply:
        with self._lock:
            if self.state.api_keys.pop(request.params["id"], None) is None:
                return _errors(404, "unable to find API Key")
        return Reply(204)

    def _get_batch(self, request: Request) -> Reply:
        batch = request.params["batch"]
        with self._lock:
            if batch not in self.state.scheduled:
                return _errors(404, "batch id not found")
            return Reply(200, [{"batch_id": batch, "status": self.state.scheduled[batch]}])

    def _create_batch_status(self, request: Request) -> Reply:
        body = request.json()
        with self._lock:
            if body["batch_id"] in self.state.scheduled:
                return _errors(400, "batch already has a status", "batch_id")
            self.state.scheduled[body["batch_id"]] = body["status"]
        return Reply(201, {"batch_id": body["batch_id"], "status": body["status"]})

    def _update_batch(self, request: Request) -> Reply:
        with self._lock:
            if request.params["batch"] not in self.state.scheduled:
                return _errors(404, "batch id not found")
            self.state.scheduled[request.params["batch"]] = request.json()["status"]
        return Reply(204)

    def _delete_batch(self, request: Request) -> Reply:
        with self._lock:
            if self.state.scheduled.pop(request.params["batch"], None) is None:
                return _errors(404, "batch id not found")
        return Reply(204)

    def _list_rules(self, _request: Request) -> Reply:
        with self._lock:
            return Reply(200, {"result": [self._rule(i, ip) for i, ip in self.state.rules.items()]})

    def _add_rules(self, request: Request) -> Reply:
        created = []
        with self._lock:
            for item in request.json()["ips"]:
                ip = str(ipaddress.ip_network(item["ip"], strict=False))
                rule_id = self.state.next_rule
                self.state.next_rule += 1
                self.state.rules[rule_id] = ip  # SendGrid happily adds duplicates
                created.append(self._rule(rule_id, ip))
        return Reply(201, {"result": created})

    def _delete_rule(self, request: Request) -> Reply:
        with self._lock:
            if self.state.rules.pop(int(request.params["id"]), None) is None:
                return _errors(404, "rule not found")
        return Reply(204)

    @staticmethod
    def _rule(rule_id: int, ip: str) -> dict[str, object]:
        return {"id": rule_id, "ip": ip, "created_at": 1795766400, "updated_at": 1795766400}
