"""A fake SESv2 REST-JSON API for the calls moto (5.2) does not implement.

boto3 talks to it over HTTP exactly as to AWS: the sending switches of a configuration set
and of the account, and the account suppression list. Errors carry `x-amzn-ErrorType`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from tests.integration.actions.fakes.server import FakeServer, Reply, Request

CONFIG_SET = r"/v2/email/configuration-sets/(?P<name>[^/]+)"
ADDRESS = r"/v2/email/suppression/addresses/(?P<email>[^/]+)"


def aws_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"message": message}, {"x-amzn-ErrorType": code})


@dataclass
class SesState:
    config_sets: dict[str, bool] = field(default_factory=dict)
    account_sending: bool = True
    suppressed: dict[str, str] = field(default_factory=dict)
    puts: int = 0


class FakeSesV2:
    """State plus routes; an unknown access key id gets UnrecognizedClientException (403)."""

    def __init__(self, access_key_id: str) -> None:
        self.access_key_id = access_key_id
        self.state = SesState()
        self._lock = threading.Lock()
        self.server = FakeServer(self._auth)
        r = self.server.route
        r("GET", CONFIG_SET, self._get_set)
        r("PUT", f"{CONFIG_SET}/sending", self._put_set_sending)
        r("GET", "/v2/email/account", self._get_account)
        r("PUT", "/v2/email/account/sending", self._put_account_sending)
        r("PUT", "/v2/email/suppression/addresses", self._put_suppressed)
        r("GET", ADDRESS, self._get_suppressed)
        r("DELETE", ADDRESS, self._delete_suppressed)

    def reset(self) -> None:
        with self._lock:
            self.state = SesState()
        self.server.clear()

    def _auth(self, request: Request) -> Reply | None:
        if f"Credential={self.access_key_id}/" in request.headers.get("authorization", ""):
            return None
        return aws_error(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )

    def _get_set(self, request: Request) -> Reply:
        name = request.params["name"]
        with self._lock:
            if name not in self.state.config_sets:
                return aws_error(
                    404, "NotFoundException", f"Configuration set <{name}> does not exist."
                )
            enabled = self.state.config_sets[name]
        return Reply(
            200, {"ConfigurationSetName": name, "SendingOptions": {"SendingEnabled": enabled}}
        )

    def _put_set_sending(self, request: Request) -> Reply:
        name = request.params["name"]
        with self._lock:
            if name not in self.state.config_sets:
                return aws_error(
                    404, "NotFoundException", f"Configuration set <{name}> does not exist."
                )
            self.state.config_sets[name] = bool(request.json()["SendingEnabled"])
            self.state.puts += 1
        return Reply(200, {})

    def _get_account(self, _request: Request) -> Reply:
        with self._lock:
            enabled = self.state.account_sending
        body: dict[str, Any] = {
            "SendingEnabled": enabled,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": True,
            "DedicatedIpAutoWarmupEnabled": False,
            "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 0.0},
        }
        return Reply(200, body)

    def _put_account_sending(self, request: Request) -> Reply:
        with self._lock:
            self.state.account_sending = bool(request.json()["SendingEnabled"])
            self.state.puts += 1
        return Reply(200, {})

    def _put_suppressed(self, request: Request) -> Reply:
        body = request.json()
        with self._lock:
            self.state.suppressed[body["EmailAddress"]] = body["Reason"]
            self.state.puts += 1
        return Reply(200, {})

    def _get_suppressed(self, request: Request) -> Reply:
        email = request.params["email"]
        with self._lock:
            reason = self.state.suppressed.get(email)
        if reason is None:
            return aws_error(404, "NotFoundException", f"{email} is not on the suppression list")
        destination = {"EmailAddress": email, "Reason": reason, "LastUpdateTime": 1795766400}
        return Reply(200, {"SuppressedDestination": destination})

    def _delete_suppressed(self, request: Request) -> Reply:
        with self._lock:
            if self.state.suppressed.pop(request.params["email"], None) is None:
                return aws_error(404, "NotFoundException", "not on the suppression list")
        return Reply(200, {})
