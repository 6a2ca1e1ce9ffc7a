"""Postmark (X-Postmark-Server-Token): stream suppressions, and archiving a message stream.

Postmark has no "pause stream" endpoint. The documented control that stops a stream is
archiving it (`POST /message-streams/{stream}/archive`): an archived stream refuses new mail
and is purged 45 days later unless unarchived (`.../unarchive`), which is the undo. The
default streams (outbound, inbound) cannot be archived. No idempotency keys: execute reads first.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote

from pydantic import BaseModel, Field

from mailwarden.actions.errors import RejectedError
from mailwarden.actions.http import HttpClient
from mailwarden.actions.params import Addresses
from mailwarden.actions.port import Action, BaseAction, Change, Plan, Result, Risk, Verification

PROVIDER: Final = "postmark"
DEFAULT_BASE: Final = "https://api.postmarkapp.com"
DEFAULT_STREAMS: Final = frozenset({"outbound", "inbound"})
_STREAM = r"^[a-z0-9][a-z0-9\-_]*$"


def make_client(server_token: str, base_url: str = DEFAULT_BASE, **options: Any) -> HttpClient:
    """An HTTP client that sends the server token header (and never prints it)."""
    return HttpClient(
        PROVIDER,
        base_url,
        headers={"x-postmark-server-token": server_token},
        secrets=(server_token,),
        **options,
    )


def actions(client: HttpClient) -> list[Action[Any]]:
    """Every Postmark action, sharing one client."""
    return [SuppressOnStream(client), ArchiveStream(client)]


class SuppressParams(BaseModel):
    """Recipients to suppress on one message stream."""

    addresses: Addresses
    stream: str = Field(default="outbound", max_length=100, pattern=_STREAM)


class SuppressOnStream(BaseAction[Any]):
    """Suppress recipients on a message stream (manual suppressions, reactivatable)."""

    name = "postmark.suppress"
    provider = PROVIDER
    risk = Risk.LOW
    description = "Suppress recipients on a Postmark message stream; undo deletes them again."
    params_model = SuppressParams

    def __init__(self, client: HttpClient) -> None:
        self._http = client

    def plan(self, params: SuppressParams) -> Plan:
        """Say which recipients are not suppressed on the stream yet."""
        absent = self._absent(params)
        changes = tuple(Change(a, "active", "suppressed") for a in absent)
        summary = f"suppress {len(absent)} of {len(params.addresses)} on {params.stream}"
        return Plan(self.name, summary, changes)

    def execute(self, params: SuppressParams, idempotency_key: str) -> Result:
        """Suppress the recipients not yet suppressed; a per-address failure is an error."""
        absent = self._absent(params)
        unchanged = tuple(a for a in params.addresses if a not in absent)
        if not absent:
            return Result(None, (), unchanged)
        body = {"Suppressions": [{"EmailAddress": a} for a in absent]}
        response = self._http.request("POST", self._path(params, ""), json=body)
        applied = _outcome(response.json(), "Suppressed", absent)
        return Result(
            response.request_id, applied, unchanged, {"before": dict.fromkeys(absent, "active")}
        )

    def verify(self, params: SuppressParams) -> Verification:
        """Every recipient is suppressed on the stream."""
        missing = self._absent(params)
        detail = "all suppressed" if not missing else f"not suppressed: {', '.join(missing)}"
        return Verification(not missing, detail, {"missing": missing})

    def undo(self, params: SuppressParams, result: Result) -> Result:
        """Delete the suppressions this run added."""
        still = set(result.applied) - set(self._absent_of(params, list(result.applied)))
        targets = [a for a in result.applied if a in still]
        gone = tuple(a for a in result.applied if a not in still)
        if not targets:
            return Result(None, (), gone)
        body = {"Suppressions": [{"EmailAddress": a} for a in targets]}
        response = self._http.request("POST", self._path(params, "/delete"), json=body)
        return Result(response.request_id, _outcome(response.json(), "Deleted", targets), gone)

    def _absent(self, params: SuppressParams) -> list[str]:
        return self._absent_of(params, params.addresses)

    def _absent_of(self, params: SuppressParams, addresses: list[str]) -> list[str]:
        return [a for a in addresses if not self._suppressed(params.stream, a)]

    def _suppressed(self, stream: str, address: str) -> bool:
        path = f"/message-streams/{_q(stream)}/suppressions/dump"
        body = self._http.request("GET", path, params={"EmailAddress": address}).json()
        items = body.get("Suppressions", []) if isinstance(body, dict) else []
        return any(
            isinstance(i, dict) and str(i.get("EmailAddress", "")).lower() == address for i in items
        )

    def _path(self, params: SuppressParams, suffix: str) -> str:
        return f"/message-streams/{_q(params.stream)}/suppressions{suffix}"


def _outcome(body: Any, wanted: str, addresses: list[str]) -> tuple[str, ...]:
    """The addresses Postmark reports with the wanted status; a refusal is a RejectedError."""
    items = body.get("Suppressions", []) if isinstance(body, dict) else []
    status = {
        str(i.get("EmailAddress", "")).lower(): (str(i.get("Status")), i.get("Message"))
        for i in items
        if isinstance(i, dict)
    }
    refused = [
        f"{a}: {status[a][1] or status[a][0]}"
        for a in addresses
        if a in status and status[a][0] != wanted
    ]
    if refused:
        raise RejectedError(f"postmark refused: {'; '.join(refused)}", provider=PROVIDER)
    return tuple(a for a in addresses if status.get(a, (wanted, None))[0] == wanted)


class StreamParams(BaseModel):
    """The message stream to archive."""

    stream: str = Field(max_length=100, pattern=_STREAM)


class ArchiveStream(BaseAction[Any]):
    """Archive a message stream so it refuses new mail; undo unarchives it (within 45 days)."""

    name = "postmark.archive_stream"
    provider = PROVIDER
    risk = Risk.HIGH
    description = (
        "Archive a Postmark message stream: it refuses new mail at once. Postmark has no "
        "'pause stream'; archiving is the documented stop. Undo unarchives it; archived "
        "streams are purged after 45 days."
    )
    params_model = StreamParams

    def __init__(self, client: HttpClient) -> None:
        self._http = client

    def plan(self, params: StreamParams) -> Plan:
        """Show the stream's state and what archiving means."""
        stream = self._stream(params.stream)
        notes = (
            "Archived streams reject new messages and are deleted 45 days after archiving "
            "unless unarchived. Default streams (outbound, inbound) cannot be archived.",
        )
        if params.stream in DEFAULT_STREAMS:
            return Plan(self.name, "a default stream cannot be archived", (), True, notes)
        if stream.get("ArchivedAt"):
            return Plan(self.name, "the stream is already archived", (), True, notes)
        label = f"{params.stream} ({stream.get('MessageStreamType', '?')})"
        change = Change(params.stream, "active", "archived")
        return Plan(self.name, f"archive stream {label}", (change,), True, notes)

    def execute(self, params: StreamParams, idempotency_key: str) -> Result:
        """Archive the stream unless it is archived already."""
        if params.stream in DEFAULT_STREAMS:
            raise RejectedError(
                f"postmark: the default stream {params.stream!r} cannot be archived",
                provider=PROVIDER,
            )
        if self._stream(params.stream).get("ArchivedAt"):
            return Result(None, (), (params.stream,))
        response = self._http.request("POST", f"/message-streams/{_q(params.stream)}/archive")
        answer = response.json()
        body = answer if isinstance(answer, dict) else {}
        details = {"before": {params.stream: "active"}, "purge": body.get("ExpectedPurgeDate")}
        return Result(str(body.get("ID") or params.stream), (params.stream,), (), details)

    def verify(self, params: StreamParams) -> Verification:
        """The stream is archived."""
        stream = self._stream(params.stream)
        archived = bool(stream.get("ArchivedAt"))
        detail = f"archived, purge {stream.get('ExpectedPurgeDate')}" if archived else "active"
        return Verification(archived, detail, {"ArchivedAt": stream.get("ArchivedAt")})

    def undo(self, params: StreamParams, result: Result) -> Result:
        """Unarchive the stream if this run archived it."""
        if params.stream not in result.applied:
            return Result()
        if not self._stream(params.stream).get("ArchivedAt"):
            return Result(None, (), (params.stream,))
        response = self._http.request("POST", f"/message-streams/{_q(params.stream)}/unarchive")
        body = response.json()
        response_id = str(body.get("ID")) if isinstance(body, dict) and body.get("ID") else None
        return Result(response_id, (params.stream,), ())

    def _stream(self, stream: str) -> dict[str, Any]:
        body = self._http.request("GET", f"/message-streams/{_q(stream)}").json()
        return body if isinstance(body, dict) else {}


def _q(segment: str) -> str:
    return quote(segment, safe="")
