"""Amazon SES (boto3 `sesv2`, plus IAM for SMTP credentials): stop, suppress, revoke.

Credentials come from the normal boto3 chain (environment, profile, instance role). boto3 is
imported and clients are created on first use, never at import. None of these calls take an
idempotency token; all of them set a state (enabled/disabled, present/absent), so execute
reads first and a repeated write is harmless. botocore retries throttling (standard mode).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from mailwarden.actions.errors import (
    ActionError,
    ActionTimeoutError,
    AuthError,
    ConfigurationError,
    ConnectionLostError,
    InvalidParamsError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    RejectedError,
)
from mailwarden.actions.params import Addresses
from mailwarden.actions.port import Action, BaseAction, Change, Plan, Result, Risk, Verification

PROVIDER: Final = "ses"
_AUTH_CODES: Final = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
_THROTTLE_CODES: Final = frozenset(
    {"TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceeded"}
)
_NOT_FOUND_CODES: Final = frozenset({"NotFoundException", "NoSuchEntity"})


class AwsClients:
    """boto3 clients made on first use: region and endpoint from settings, creds from the chain."""

    def __init__(
        self,
        region: str | None = None,
        endpoint_url: str | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_attempts: int = 3,
    ) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._config = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "retries": {"mode": "standard", "total_max_attempts": max_attempts},
        }
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        """Return the (cached) boto3 client for service."""
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._make(service)
            return self._clients[service]

    def _make(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        return call(
            f"create {service} client",
            lambda: boto3.session.Session().client(
                service,
                region_name=self._region,
                endpoint_url=self._endpoint_url,
                config=Config(**self._config),
            ),
        )


def call(operation: str, fn: Callable[[], Any]) -> Any:
    """Run a boto3 call and turn botocore's exceptions into typed ActionErrors."""
    from botocore import exceptions as bx

    try:
        return fn()
    except bx.ClientError as exc:
        raise _client_error(operation, exc.response) from None
    except (bx.ReadTimeoutError, bx.ConnectTimeoutError):
        raise ActionTimeoutError(
            f"ses: {operation} timed out; the change may or may not have been applied",
            provider=PROVIDER,
        ) from None
    except (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.HTTPClientError) as exc:
        raise ConnectionLostError(
            f"ses: {operation} failed ({type(exc).__name__}); the change may or may not have "
            "been applied",
            provider=PROVIDER,
        ) from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError, bx.NoRegionError) as exc:
        raise ConfigurationError(f"ses: {operation}: {exc}", provider=PROVIDER) from None
    except bx.ParamValidationError as exc:
        raise InvalidParamsError(f"ses: {operation}: {exc}", provider=PROVIDER) from None


def _client_error(operation: str, response: dict[str, Any]) -> ActionError:
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    message = " ".join(str(error.get("Message", "")).split())[:300]
    text = f"ses: {operation} → {code or status}: {message}".rstrip(": ")
    kwargs: dict[str, Any] = {"provider": PROVIDER, "status": status or None}
    if code in _AUTH_CODES or status in (401, 403):
        return AuthError(text, **kwargs)
    if code in _NOT_FOUND_CODES:
        return NotFoundError(text, **kwargs)
    if code in _THROTTLE_CODES or status == 429:
        return RateLimitedError(text, **kwargs)
    if status >= 500:
        return ProviderError(text, **kwargs)
    if status == 404:
        return NotFoundError(text, **kwargs)
    return RejectedError(text, **kwargs)


def _request_id(response: Any) -> str | None:
    meta = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
    request_id = meta.get("RequestId")
    return str(request_id) if request_id else None


def actions(clients: AwsClients, iam: AwsClients | None = None) -> list[Action[Any]]:
    """Every SES action; IAM calls may go through other clients (e.g. another endpoint)."""
    return [
        DisableConfigurationSetSending(clients),
        PauseAccountSending(clients),
        SuppressRecipients(clients),
        DeactivateAccessKey(iam or clients),
    ]


class _SesAction(BaseAction[Any]):
    provider = PROVIDER
    service = "sesv2"

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def _call(self, method: str, **kwargs: Any) -> Any:
        client = self._clients.client(self.service)
        return call(method, lambda: getattr(client, method)(**kwargs))


class ConfigurationSetParams(BaseModel):
    """The configuration set whose sending to stop."""

    configuration_set: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")


class DisableConfigurationSetSending(_SesAction):
    """Stop all mail sent through one configuration set; undo enables it again."""

    name = "ses.disable_configuration_set_sending"
    risk = Risk.MEDIUM
    description = "Disable sending for an SES configuration set (e.g. one campaign's traffic)."
    params_model = ConfigurationSetParams

    def plan(self, params: ConfigurationSetParams) -> Plan:
        """Show whether the set sends now."""
        enabled = self._enabled(params.configuration_set)
        if not enabled:
            return Plan(self.name, "sending is already disabled for this set")
        change = Change(params.configuration_set, "sending enabled", "sending disabled")
        return Plan(self.name, f"disable sending for {params.configuration_set}", (change,))

    def execute(self, params: ConfigurationSetParams, idempotency_key: str) -> Result:
        """Disable sending unless it is disabled already."""
        name = params.configuration_set
        if not self._enabled(name):
            return Result(None, (), (name,))
        response = self._call(
            "put_configuration_set_sending_options", ConfigurationSetName=name, SendingEnabled=False
        )
        return Result(_request_id(response), (name,), (), {"before": {name: "sending enabled"}})

    def verify(self, params: ConfigurationSetParams) -> Verification:
        """Sending is disabled for the set."""
        enabled = self._enabled(params.configuration_set)
        detail = "sending disabled" if not enabled else "sending still enabled"
        return Verification(not enabled, detail, {"SendingEnabled": enabled})

    def undo(self, params: ConfigurationSetParams, result: Result) -> Result:
        """Enable sending again if this run disabled it."""
        name = params.configuration_set
        if name not in result.applied:
            return Result()
        response = self._call(
            "put_configuration_set_sending_options", ConfigurationSetName=name, SendingEnabled=True
        )
        return Result(_request_id(response), (name,), ())

    def _enabled(self, name: str) -> bool:
        response = self._call("get_configuration_set", ConfigurationSetName=name)
        return bool(response.get("SendingOptions", {}).get("SendingEnabled", True))


class AccountParams(BaseModel):
    """Nothing to choose: the account in the configured region."""


class PauseAccountSending(_SesAction):
    """Pause all sending of the SES account in this region; undo resumes it."""

    name = "ses.pause_account_sending"
    risk = Risk.HIGH
    description = "Pause all SES sending for the account in the configured region."
    params_model = AccountParams

    def plan(self, params: AccountParams) -> Plan:
        """Show whether the account sends now."""
        notes = (
            "Stops every message from this account in this region, not just the incident's.",
            "If AWS itself paused the account, resuming needs AWS support, not undo.",
        )
        if not self._enabled():
            return Plan(self.name, "account sending is already paused", (), True, notes)
        change = Change("account", "sending enabled", "sending paused")
        return Plan(self.name, "pause all account sending", (change,), True, notes)

    def execute(self, params: AccountParams, idempotency_key: str) -> Result:
        """Pause sending unless it is paused already."""
        if not self._enabled():
            return Result(None, (), ("account",))
        response = self._call("put_account_sending_attributes", SendingEnabled=False)
        return Result(_request_id(response), ("account",), (), {"before": {"account": "enabled"}})

    def verify(self, params: AccountParams) -> Verification:
        """Account sending is paused."""
        enabled = self._enabled()
        detail = "sending paused" if not enabled else "sending still enabled"
        return Verification(not enabled, detail, {"SendingEnabled": enabled})

    def undo(self, params: AccountParams, result: Result) -> Result:
        """Resume sending if this run paused it."""
        if "account" not in result.applied:
            return Result()
        response = self._call("put_account_sending_attributes", SendingEnabled=True)
        return Result(_request_id(response), ("account",), ())

    def _enabled(self) -> bool:
        return bool(self._call("get_account").get("SendingEnabled", True))


class SuppressParams(BaseModel):
    """Recipients to put on the account-level suppression list, and why."""

    addresses: Addresses
    reason: Literal["BOUNCE", "COMPLAINT"] = "COMPLAINT"


class SuppressRecipients(_SesAction):
    """Put recipients on the account suppression list; undo removes the ones added."""

    name = "ses.suppress_recipients"
    risk = Risk.LOW
    description = "Add recipients to the SES account-level suppression list."
    params_model = SuppressParams

    def plan(self, params: SuppressParams) -> Plan:
        """Say which recipients are not suppressed yet."""
        absent = self._absent(params.addresses)
        changes = tuple(
            Change(a, "not suppressed", f"suppressed ({params.reason})") for a in absent
        )
        return Plan(self.name, f"suppress {len(absent)} of {len(params.addresses)}", changes)

    def execute(self, params: SuppressParams, idempotency_key: str) -> Result:
        """Suppress each recipient not yet suppressed."""
        absent = self._absent(params.addresses)
        request_ids = [
            _request_id(
                self._call("put_suppressed_destination", EmailAddress=a, Reason=params.reason)
            )
            for a in absent
        ]
        unchanged = tuple(a for a in params.addresses if a not in absent)
        response_id = ",".join(r for r in request_ids if r) or None
        before = dict.fromkeys(absent, "not suppressed")
        return Result(response_id, tuple(absent), unchanged, {"before": before})

    def verify(self, params: SuppressParams) -> Verification:
        """Every recipient is suppressed."""
        missing = self._absent(params.addresses)
        detail = "all suppressed" if not missing else f"not suppressed: {', '.join(missing)}"
        return Verification(not missing, detail, {"missing": missing})

    def undo(self, params: SuppressParams, result: Result) -> Result:
        """Remove the recipients this run added."""
        removed, gone = [], []
        for address in result.applied:
            try:
                self._call("delete_suppressed_destination", EmailAddress=address)
                removed.append(address)
            except NotFoundError:
                gone.append(address)
        return Result(None, tuple(removed), tuple(gone))

    def _absent(self, addresses: list[str]) -> list[str]:
        return [a for a in addresses if not self._suppressed(a)]

    def _suppressed(self, address: str) -> bool:
        try:
            self._call("get_suppressed_destination", EmailAddress=address)
        except NotFoundError:
            return False
        return True


class AccessKeyParams(BaseModel):
    """The IAM user and access key (id, not secret) used for SES SMTP."""

    user_name: str = Field(min_length=1, max_length=64, pattern=r"^[\w+=,.@\-]+$")
    access_key_id: str = Field(pattern=r"^[A-Z0-9]{16,128}$")


class DeactivateAccessKey(_SesAction):
    """Deactivate an IAM access key (SMTP credentials); undo activates it again."""

    name = "ses.deactivate_access_key"
    service = "iam"
    risk = Risk.MEDIUM
    description = "Deactivate the IAM access key behind SES SMTP credentials (reversible)."
    params_model = AccessKeyParams

    def plan(self, params: AccessKeyParams) -> Plan:
        """Show the key's status."""
        status = self._status(params)
        notes = ("Everything sending with this key (SMTP or API) fails until it is reactivated.",)
        if status == "Inactive":
            return Plan(self.name, "the key is already inactive", (), True, notes)
        change = Change(params.access_key_id, status, "Inactive")
        return Plan(self.name, f"deactivate key {params.access_key_id}", (change,), True, notes)

    def execute(self, params: AccessKeyParams, idempotency_key: str) -> Result:
        """Deactivate the key unless it is inactive already."""
        key = params.access_key_id
        if self._status(params) == "Inactive":
            return Result(None, (), (key,))
        response = self._set(params, "Inactive")
        return Result(_request_id(response), (key,), (), {"before": {key: "Active"}})

    def verify(self, params: AccessKeyParams) -> Verification:
        """The key is inactive."""
        status = self._status(params)
        return Verification(status == "Inactive", f"key is {status}", {"Status": status})

    def undo(self, params: AccessKeyParams, result: Result) -> Result:
        """Activate the key again if this run deactivated it."""
        if params.access_key_id not in result.applied:
            return Result()
        return Result(_request_id(self._set(params, "Active")), (params.access_key_id,), ())

    def _set(self, params: AccessKeyParams, status: str) -> Any:
        return self._call(
            "update_access_key",
            UserName=params.user_name,
            AccessKeyId=params.access_key_id,
            Status=status,
        )

    def _status(self, params: AccessKeyParams) -> str:
        response = self._call("list_access_keys", UserName=params.user_name)
        for key in response.get("AccessKeyMetadata", []):
            if key.get("AccessKeyId") == params.access_key_id:
                return str(key.get("Status"))
        raise NotFoundError(
            f"ses: access key {params.access_key_id} not found for user {params.user_name}",
            provider=PROVIDER,
        )
