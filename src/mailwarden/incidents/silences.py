"""Silences: create, list, expire, and the reminders before and at expiry (via the outbox)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from mailwarden.clock import Clock
from mailwarden.events.model import format_time
from mailwarden.incidents.desk import BadInputError
from mailwarden.incidents.model import OPEN_STATES, SYSTEM_ACTOR, Actor, Incident
from mailwarden.incidents.noise import MUTED_RELATIONS
from mailwarden.incidents.ports import ConflictError, IncidentRepository
from mailwarden.incidents.records import Matcher, OutboxMessage, Silence

_RETRIES: Final = 3


class UnknownSilenceError(LookupError):
    """No silence has this id."""


class SilenceDesk:
    """Keeps silences and tells their owners before and when they run out."""

    def __init__(self, repo: IncidentRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def add(
        self,
        *,
        owner: str,
        reason: str,
        matcher: Matcher,
        duration: timedelta,
        actor: Actor,
        remind_before: timedelta = timedelta(hours=1),
        channel: str = "email",
    ) -> Silence:
        """Create a silence starting now; BadInputError when the input makes no sense."""
        if duration <= timedelta(0):
            raise BadInputError("a silence must last a positive time")
        if not owner.strip() or not reason.strip():
            raise BadInputError("a silence needs an owner and a reason")
        if remind_before < timedelta(0):
            raise BadInputError("remind_before cannot be negative")
        now = self._clock.now()
        silence = Silence(
            owner=owner.strip(),
            reason=reason.strip(),
            matcher=matcher,
            starts_at=now,
            expires_at=now + duration,
            created_by=actor.name,
            remind_before=remind_before,
            channel=channel,
        )
        self._repo.save([], silences=[silence])
        return silence

    def list_silences(self, *, include_expired: bool = False) -> list[Silence]:
        """Silences still in force (or all of them)."""
        return self._repo.silences(now=self._clock.now(), include_expired=include_expired)

    def get(self, ref: str) -> Silence:
        """One silence by SIL-n or n."""
        pk = parse_silence_id(ref)
        silence = self._repo.get_silence(pk) if pk is not None else None
        if silence is None:
            raise UnknownSilenceError(f"no silence {ref!r}")
        return silence

    def expire(self, ref: str, actor: Actor) -> Silence:
        """End a silence now and tell its owner."""
        silence = self.get(ref)
        now = self._clock.now()
        if silence.expires_at > now:
            silence.expires_at = now
            silence.expired_by = actor.name
        self.notify(now, [silence])
        return silence

    def notify(self, now: datetime, silences: list[Silence] | None = None) -> list[OutboxMessage]:
        """Queue reminders that are due (before expiry, and at expiry); return them."""
        pending = silences if silences is not None else self._repo.silences_to_notify()
        messages: list[OutboxMessage] = []
        changed: list[Silence] = []
        for silence in pending:
            message = _due_message(silence, now)
            if message is not None:
                messages.append(message)
                changed.append(silence)
        if not changed:
            return messages
        for attempt in range(1, _RETRIES + 1):  # an incident may change under us: reload
            noted = self._note_on_incidents(changed, messages, now)
            try:
                self._repo.save(noted, silences=changed, outbox=messages)
                break
            except ConflictError:
                if attempt == _RETRIES:
                    raise
        return messages

    def _note_on_incidents(
        self, silences: list[Silence], messages: list[OutboxMessage], now: datetime
    ) -> list[Incident]:
        """Put each reminder on the open incidents that keep findings the silence muted."""
        noted: list[Incident] = []
        for incident in self._repo.find(states=OPEN_STATES):
            for silence, message in zip(silences, messages, strict=True):
                muted = sorted(
                    f"{link.kind} on {link.scope}"
                    for link in incident.links.values()
                    if link.relation in MUTED_RELATIONS
                    and silence.matcher.matches(link.kind, link.scope, incident.type)
                )
                if not muted:
                    continue
                expired = silence.expiry_notified_at == now
                after = "; they count again from their next update" if expired else ""
                note = f"{message.subject} ({silence.owner}: {silence.reason}); it mutes "
                data = {
                    "rule": "silence",
                    "silence": silence.id,
                    "phase": "expired" if expired else "reminder",
                }
                kind = "silence_expired" if expired else "silence_reminder"
                incident.record(kind, SYSTEM_ACTOR, now, note + ", ".join(muted) + after, data)
                if not any(incident is known for known in noted):
                    noted.append(incident)
        return noted


def _due_message(silence: Silence, now: datetime) -> OutboxMessage | None:
    if silence.expiry_due(now):
        silence.expiry_notified_at = now
        subject = f"Silence {silence.id} has expired"
        lead = "has expired" + (f" (ended by {silence.expired_by})" if silence.expired_by else "")
    elif silence.reminder_due(now):
        silence.reminded_at = now
        minutes = max(1, int((silence.expires_at - now).total_seconds() // 60))
        subject = f"Silence {silence.id} expires in {minutes} min"
        lead = f"expires at {format_time(silence.expires_at)}"
    else:
        return None
    body = (
        f"Silence {silence.id} {lead}.\n"
        f"Matcher: {silence.matcher.describe()}\n"
        f"Reason: {silence.reason}\n"
        f"Muted {silence.matched_count} finding(s).\n"
        "Matching findings open incidents again once it has expired; add a new silence "
        "(`mailwarden silences add`) if the work is not finished.\n"
    )
    return OutboxMessage(
        channel=silence.channel,
        recipient=silence.owner,
        subject=subject,
        body=body,
        created_at=now,
        topic=f"silence:{silence.id}",
    )


def parse_silence_id(ref: str) -> int | None:
    """SIL-3, sil-3 or 3 → 3; None when it is not a silence id."""
    text = ref.strip().upper().removeprefix("SIL-")
    return int(text) if text.isdigit() else None
