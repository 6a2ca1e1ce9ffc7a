"""Mailgun (basic auth api:KEY, form-encoded): suppressions, and disabling a subaccount.

Mailgun documents no endpoint to pause one domain's sending: a domain's `disabled` state and
its sending queues' `is_disabled` flags are set by Mailgun and read-only to customers. The
closest documented, reversible control is disabling the subaccount that owns the domain
(`/v5/accounts/subaccounts/{id}/disable`, undone by `/enable`); it stops every domain in that
subaccount, and the plan says so. No idempotency keys exist here: execute reads first.
"""

from __future__ import annotations

import base64
from typing import Any, Final
from urllib.parse import quote

from pydantic import BaseModel, Field

from mailwarden.actions.errors import InvalidParamsError, NotFoundError, RejectedError
from mailwarden.actions.http import HttpClient
from mailwarden.actions.params import Addresses
from mailwarden.actions.port import Action, BaseAction, Change, Plan, Result, Risk, Verification

PROVIDER: Final = "mailgun"
US_BASE: Final = "https://api.mailgun.net"
EU_BASE: Final = "https://api.eu.mailgun.net"
LISTS: Final = ("bounces", "unsubscribes", "complaints")
_DOMAIN = r"^[A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,}$"


def make_client(api_key: str, base_url: str = US_BASE, **options: Any) -> HttpClient:
    """An HTTP client with basic auth api:KEY (the key and its encoding are never printed)."""
    encoded = base64.b64encode(f"api:{api_key}".encode()).decode()
    return HttpClient(
        PROVIDER, base_url, basic_auth=("api", api_key), secrets=(api_key, encoded), **options
    )


def actions(client: HttpClient, default_domain: str | None = None) -> list[Action[Any]]:
    """Every Mailgun action, sharing one client."""
    suppress: list[Action[Any]] = [AddSuppressions(client, kind, default_domain) for kind in LISTS]
    return [*suppress, DisableSubaccount(client)]


class SuppressParams(BaseModel):
    """Recipients to add to one of a domain's suppression lists."""

    addresses: Addresses
    domain: str | None = Field(default=None, pattern=_DOMAIN)
    tag: str = Field(default="*", max_length=100, description="unsubscribes only")


class AddSuppressions(BaseAction[Any]):
    """Add recipients to a domain's bounces, unsubscribes or complaints list."""

    provider = PROVIDER
    risk = Risk.LOW
    params_model = SuppressParams

    def __init__(self, client: HttpClient, kind: str, default_domain: str | None) -> None:
        if kind not in LISTS:
            raise ValueError(f"unknown Mailgun suppression list {kind!r}")
        self._http = client
        self._kind = kind
        self._default_domain = default_domain
        self.name = f"mailgun.add_{kind}"
        self.description = f"Add recipients to the Mailgun domain's {kind} list."

    def plan(self, params: SuppressParams) -> Plan:
        """Say which recipients are not on the list yet."""
        domain = self._domain(params)
        absent = self._absent(domain, params.addresses)
        changes = tuple(Change(a, "not listed", f"on {self._kind}") for a in absent)
        summary = f"add {len(absent)} of {len(params.addresses)} to {domain} {self._kind}"
        return Plan(self.name, summary, changes)

    def execute(self, params: SuppressParams, idempotency_key: str) -> Result:
        """Add each recipient not yet listed."""
        domain = self._domain(params)
        absent = self._absent(domain, params.addresses)
        for address in absent:
            self._http.request(
                "POST", f"/v3/{_q(domain)}/{self._kind}", data=self._form(address, params)
            )
        unchanged = tuple(a for a in params.addresses if a not in absent)
        details = {"domain": domain, "before": dict.fromkeys(absent, "not listed")}
        return Result(None, tuple(absent), unchanged, details)

    def verify(self, params: SuppressParams) -> Verification:
        """Every recipient is on the list."""
        missing = self._absent(self._domain(params), params.addresses)
        detail = "all listed" if not missing else f"not listed: {', '.join(missing)}"
        return Verification(not missing, detail, {"missing": missing})

    def undo(self, params: SuppressParams, result: Result) -> Result:
        """Remove the recipients this run added."""
        domain = str(result.details.get("domain") or self._domain(params))
        removed, gone = [], []
        for address in result.applied:
            try:
                self._http.request("DELETE", f"/v3/{_q(domain)}/{self._kind}/{_q(address)}")
                removed.append(address)
            except NotFoundError:
                gone.append(address)
        return Result(None, tuple(removed), tuple(gone))

    def _form(self, address: str, params: SuppressParams) -> dict[str, str]:
        if self._kind == "bounces":
            return {"address": address, "code": "550", "error": "Suppressed by Mailwarden"}
        if self._kind == "unsubscribes":
            return {"address": address, "tag": params.tag}
        return {"address": address}

    def _domain(self, params: SuppressParams) -> str:
        domain = params.domain or self._default_domain
        if not domain:
            raise InvalidParamsError(
                f"{self.name}: no domain given and MAILWARDEN_MAILGUN_DOMAIN is not set",
                provider=PROVIDER,
            )
        return domain

    def _absent(self, domain: str, addresses: list[str]) -> list[str]:
        return [a for a in addresses if not self._listed(domain, a)]

    def _listed(self, domain: str, address: str) -> bool:
        try:
            self._http.request("GET", f"/v3/{_q(domain)}/{self._kind}/{_q(address)}")
        except NotFoundError:
            return False
        return True


class SubaccountParams(BaseModel):
    """The subaccount (owning the domain to stop) and why."""

    subaccount_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")
    reason: str = Field(default="Mailwarden containment", max_length=200)


class DisableSubaccount(BaseAction[Any]):
    """Disable a Mailgun subaccount: the documented way to stop a domain's sending."""

    name = "mailgun.disable_subaccount"
    provider = PROVIDER
    risk = Risk.HIGH
    description = (
        "Disable the Mailgun subaccount that owns the domain. Mailgun has no documented "
        "'pause one domain' endpoint; this stops every domain in the subaccount. Undo enables it."
    )
    params_model = SubaccountParams

    def __init__(self, client: HttpClient) -> None:
        self._http = client

    def plan(self, params: SubaccountParams) -> Plan:
        """Show the subaccount's status and what disabling it stops."""
        status = self._status(params.subaccount_id)
        notes = (
            "Mailgun documents no endpoint to pause a single domain; this disables the whole "
            "subaccount, so every domain in it stops sending. Undo re-enables it.",
        )
        if status == "disabled":
            return Plan(self.name, "the subaccount is already disabled", (), True, notes)
        change = Change(params.subaccount_id, status, "disabled")
        summary = f"disable subaccount {params.subaccount_id}"
        return Plan(self.name, summary, (change,), True, notes)

    def execute(self, params: SubaccountParams, idempotency_key: str) -> Result:
        """Disable the subaccount unless it is disabled already."""
        status = self._status(params.subaccount_id)
        if status == "disabled":
            return Result(None, (), (params.subaccount_id,))
        path = f"/v5/accounts/subaccounts/{_q(params.subaccount_id)}/disable"
        query = {"reason": params.reason, "note": f"mailwarden run {idempotency_key}"}
        try:
            response = self._http.request("POST", path, params=query)
        except RejectedError as exc:
            if "already disabled" in exc.message:
                return Result(None, (), (params.subaccount_id,))
            raise
        details = {"before": {params.subaccount_id: status}}
        return Result(response.request_id, (params.subaccount_id,), (), details)

    def verify(self, params: SubaccountParams) -> Verification:
        """The subaccount is disabled."""
        status = self._status(params.subaccount_id)
        return Verification(status == "disabled", f"subaccount is {status}", {"status": status})

    def undo(self, params: SubaccountParams, result: Result) -> Result:
        """Enable the subaccount again if this run disabled it."""
        if params.subaccount_id not in result.applied:
            return Result()
        if self._status(params.subaccount_id) != "disabled":
            return Result(None, (), (params.subaccount_id,))
        path = f"/v5/accounts/subaccounts/{_q(params.subaccount_id)}/enable"
        response = self._http.request("POST", path)
        return Result(response.request_id, (params.subaccount_id,), ())

    def _status(self, subaccount_id: str) -> str:
        body = self._http.request("GET", f"/v5/accounts/subaccounts/{_q(subaccount_id)}").json()
        sub = body.get("subaccount") if isinstance(body, dict) else None
        return str(sub.get("status", "unknown")) if isinstance(sub, dict) else "unknown"


def _q(segment: str) -> str:
    return quote(segment, safe="@")
