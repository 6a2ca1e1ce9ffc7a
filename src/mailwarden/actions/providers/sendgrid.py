"""SendGrid (v3 API, bearer key): global suppressions, API keys, scheduled sends, IP access.

SendGrid offers no idempotency keys on these endpoints, so every execute reads before it
writes. Its bounce list cannot be added to through the API (only read and deleted), so
"suppress" means the global suppression list, which blocks all mail to an address.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field

from mailwarden.actions.errors import NotFoundError
from mailwarden.actions.http import HttpClient, HttpResponse
from mailwarden.actions.params import Addresses, Networks
from mailwarden.actions.port import Action, BaseAction, Change, Plan, Result, Risk, Verification

PROVIDER = "sendgrid"
DEFAULT_BASE = "https://api.sendgrid.com"


def make_client(api_key: str, base_url: str = DEFAULT_BASE, **options: Any) -> HttpClient:
    """An HTTP client that authenticates with the API key (and never prints it)."""
    return HttpClient(
        PROVIDER,
        base_url,
        headers={"authorization": f"Bearer {api_key}"},
        secrets=(api_key,),
        **options,
    )


def actions(client: HttpClient) -> list[Action[Any]]:
    """Every SendGrid action, sharing one client."""
    return [
        SuppressGlobal(client),
        DeleteApiKey(client),
        StopScheduledSend(client),
        AllowApiAccessFrom(client),
    ]


class _SendGridAction(BaseAction[Any]):
    provider = PROVIDER

    def __init__(self, client: HttpClient) -> None:
        self._http = client


class SuppressParams(BaseModel):
    """Recipients to add to the global suppression list."""

    addresses: Addresses


class SuppressGlobal(_SendGridAction):
    """Add recipients to the global suppression list (no mail of any kind reaches them)."""

    name = "sendgrid.suppress_global"
    risk = Risk.LOW
    description = (
        "Add recipients to SendGrid's global suppression list. (SendGrid's API cannot add to "
        "the bounce list; global suppression is the documented way to stop all mail to them.)"
    )
    params_model = SuppressParams

    def plan(self, params: SuppressParams) -> Plan:
        """Say which recipients are not yet globally suppressed."""
        absent = self._absent(params.addresses)
        changes = tuple(Change(a, "not suppressed", "globally suppressed") for a in absent)
        summary = f"globally suppress {len(absent)} of {len(params.addresses)} recipient(s)"
        return Plan(self.name, summary, changes)

    def execute(self, params: SuppressParams, idempotency_key: str) -> Result:
        """Add the recipients that are not suppressed yet."""
        absent = self._absent(params.addresses)
        unchanged = tuple(a for a in params.addresses if a not in absent)
        if not absent:
            return Result(None, (), unchanged)
        response = self._http.request(
            "POST", "/v3/asm/suppressions/global", json={"recipient_emails": absent}
        )
        before = dict.fromkeys(absent, "not suppressed")
        return Result(response.request_id, tuple(absent), unchanged, {"before": before})

    def verify(self, params: SuppressParams) -> Verification:
        """Every recipient is on the global suppression list."""
        missing = self._absent(params.addresses)
        detail = "all suppressed" if not missing else f"not suppressed: {', '.join(missing)}"
        return Verification(not missing, detail, {"missing": missing})

    def undo(self, params: SuppressParams, result: Result) -> Result:
        """Take the recipients this run added off the list."""
        removed, gone = [], []
        for address in result.applied:
            try:
                self._http.request("DELETE", f"/v3/asm/suppressions/global/{_q(address)}")
                removed.append(address)
            except NotFoundError:
                gone.append(address)
        return Result(None, tuple(removed), tuple(gone))

    def _absent(self, addresses: list[str]) -> list[str]:
        return [a for a in addresses if not self._suppressed(a)]

    def _suppressed(self, address: str) -> bool:
        try:
            response = self._http.request("GET", f"/v3/asm/suppressions/global/{_q(address)}")
        except NotFoundError:
            return False
        body = response.json()
        return isinstance(body, dict) and bool(body.get("recipient_email"))


class ApiKeyParams(BaseModel):
    """The id of the API key to delete (not the key itself)."""

    api_key_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-.]+$")


class DeleteApiKey(_SendGridAction):
    """Delete (revoke) an API key; SendGrid cannot restore it."""

    name = "sendgrid.delete_api_key"
    risk = Risk.HIGH
    reversible = False
    description = "Delete a SendGrid API key (revoke it). Cannot be undone: issue a new key."
    params_model = ApiKeyParams

    def plan(self, params: ApiKeyParams) -> Plan:
        """Name the key that would be deleted, and say that it cannot come back."""
        key = self._key(params.api_key_id)
        notes = ("Irreversible: a deleted key cannot be restored; create and deploy a new one.",)
        if key is None:
            return Plan(self.name, "the key is already gone", (), False, notes)
        label = f"{params.api_key_id} ({key.get('name', 'unnamed')})"
        return Plan(
            self.name,
            f"delete API key {label}",
            (Change(label, "active", "deleted"),),
            False,
            notes,
        )

    def execute(self, params: ApiKeyParams, idempotency_key: str) -> Result:
        """Delete the key; a key already gone counts as done."""
        try:
            response = self._http.request("DELETE", f"/v3/api_keys/{_q(params.api_key_id)}")
        except NotFoundError:
            return Result(None, (), (params.api_key_id,))
        return Result(response.request_id, (params.api_key_id,), ())

    def verify(self, params: ApiKeyParams) -> Verification:
        """The key no longer exists."""
        gone = self._key(params.api_key_id) is None
        return Verification(gone, "key deleted" if gone else "key still exists")

    def _key(self, api_key_id: str) -> dict[str, Any] | None:
        try:
            response = self._http.request("GET", f"/v3/api_keys/{_q(api_key_id)}")
        except NotFoundError:
            return None
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("result"), list) and body["result"]:
            body = body["result"][0]
        return body if isinstance(body, dict) else {}


class ScheduledSendParams(BaseModel):
    """The batch of scheduled sends to pause or cancel."""

    batch_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")
    status: Literal["pause", "cancel"] = "pause"


class StopScheduledSend(_SendGridAction):
    """Pause or cancel a scheduled batch; undo restores the batch's previous status."""

    name = "sendgrid.stop_scheduled_send"
    risk = Risk.MEDIUM
    description = (
        "Pause or cancel a scheduled send batch. Paused mail waits (discarded after 72 h); "
        "cancelled mail is discarded at its send time. Undo removes the status again."
    )
    params_model = ScheduledSendParams

    def plan(self, params: ScheduledSendParams) -> Plan:
        """Say what the batch's status is and would become."""
        current = self._status(params.batch_id)
        notes = ("SendGrid only guarantees changes made 10+ minutes before the send time.",)
        if current == params.status:
            return Plan(self.name, f"batch is already {current}", (), True, notes)
        change = Change(params.batch_id, current, params.status)
        return Plan(self.name, f"{params.status} batch {params.batch_id}", (change,), True, notes)

    def execute(self, params: ScheduledSendParams, idempotency_key: str) -> Result:
        """Set the status: create it if the batch has none, update it otherwise."""
        current = self._status(params.batch_id)
        if current == params.status:
            return Result(None, (), (params.batch_id,))
        if current == "none":
            body = {"batch_id": params.batch_id, "status": params.status}
            response = self._http.request("POST", "/v3/user/scheduled_sends", json=body)
        else:
            response = self._update(params.batch_id, params.status)
        answer = response.json()
        response_id = answer.get("batch_id") if isinstance(answer, dict) else None
        details = {"before": {params.batch_id: current}}
        return Result(response_id or response.request_id, (params.batch_id,), (), details)

    def verify(self, params: ScheduledSendParams) -> Verification:
        """The batch has the wanted status."""
        current = self._status(params.batch_id)
        return Verification(current == params.status, f"batch is {current}", {"status": current})

    def undo(self, params: ScheduledSendParams, result: Result) -> Result:
        """Put the batch's status back as it was before the run."""
        if params.batch_id not in result.applied:
            return Result()
        before = str(result.details.get("before", {}).get(params.batch_id, "none"))
        current = self._status(params.batch_id)
        if current == before:
            return Result(None, (), (params.batch_id,))
        if before == "none":
            path = f"/v3/user/scheduled_sends/{_q(params.batch_id)}"
            response = self._http.request("DELETE", path)
        else:
            response = self._update(params.batch_id, before)
        return Result(response.request_id, (params.batch_id,), ())

    def _update(self, batch_id: str, status: str) -> HttpResponse:
        path = f"/v3/user/scheduled_sends/{_q(batch_id)}"
        return self._http.request("PATCH", path, json={"status": status})

    def _status(self, batch_id: str) -> str:
        try:
            response = self._http.request("GET", f"/v3/user/scheduled_sends/{_q(batch_id)}")
        except NotFoundError:
            return "none"
        body = response.json()
        items = body if isinstance(body, list) else [body]
        for item in items:
            if isinstance(item, dict) and item.get("batch_id") == batch_id:
                return str(item.get("status") or "none")
        return "none"


class AccessParams(BaseModel):
    """IP addresses or CIDR ranges that may use the account (API and UI)."""

    ips: Networks


class AllowApiAccessFrom(_SendGridAction):
    """Add IP Access Management rules; once any rule exists, every other IP is refused."""

    name = "sendgrid.allow_api_access_from"
    risk = Risk.HIGH
    description = (
        "Add IP Access Management allowlist rules. With the first rule, SendGrid refuses the "
        "API and UI to every other IP, a leaked key included. Undo deletes the added rules."
    )
    params_model = AccessParams

    def plan(self, params: AccessParams) -> Plan:
        """Say which IPs would be added, and warn when this turns the allowlist on."""
        rules = self._rules()
        missing = [ip for ip in params.ips if ip not in rules]
        changes = tuple(Change(ip, "not allowed", "allowed") for ip in missing)
        notes: tuple[str, ...] = ()
        if not rules and missing:
            notes = (
                "The allowlist is empty now: after this, requests from every IP not "
                "listed (Mailwarden's own included) are refused.",
            )
        summary = f"allow {len(missing)} new IP rule(s); {len(rules)} exist"
        return Plan(self.name, summary, changes, True, notes)

    def execute(self, params: AccessParams, idempotency_key: str) -> Result:
        """Add the rules that are missing; keep every rule id for undo."""
        rules = self._rules()
        missing = [ip for ip in params.ips if ip not in rules]
        response_id = None
        if missing:
            body = {"ips": [{"ip": ip} for ip in missing]}
            response = self._http.request("POST", "/v3/access_settings/whitelist", json=body)
            rules.update(_rule_ids(response.json()))
            response_id = ",".join(str(rules[ip]) for ip in missing if ip in rules) or None
        ids = {ip: rules[ip] for ip in params.ips if ip in rules}
        unchanged = tuple(ip for ip in params.ips if ip not in missing)
        before = dict.fromkeys(missing, "not allowed")
        return Result(response_id, tuple(missing), unchanged, {"rule_ids": ids, "before": before})

    def verify(self, params: AccessParams) -> Verification:
        """Every IP has a rule."""
        rules = self._rules()
        missing = [ip for ip in params.ips if ip not in rules]
        detail = "all allowed" if not missing else f"no rule for: {', '.join(missing)}"
        return Verification(not missing, detail, {"missing": missing})

    def undo(self, params: AccessParams, result: Result) -> Result:
        """Delete the rules this run added."""
        rules = self._rules()
        removed, gone = [], []
        for ip in result.applied:
            if ip not in rules:
                gone.append(ip)
                continue
            try:
                self._http.request("DELETE", f"/v3/access_settings/whitelist/{rules[ip]}")
                removed.append(ip)
            except NotFoundError:
                gone.append(ip)
        return Result(None, tuple(removed), tuple(gone))

    def _rules(self) -> dict[str, int]:
        return _rule_ids(self._http.request("GET", "/v3/access_settings/whitelist").json())


def _rule_ids(body: Any) -> dict[str, int]:
    """Map each rule's normalised network to its id."""
    rules: dict[str, int] = {}
    items = body.get("result", []) if isinstance(body, dict) else []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "ip" in item and "id" in item:
            try:
                rules[str(ipaddress.ip_network(str(item["ip"]), strict=False))] = int(item["id"])
            except ValueError:
                continue
    return rules


def _q(segment: str) -> str:
    return quote(segment, safe="@")
