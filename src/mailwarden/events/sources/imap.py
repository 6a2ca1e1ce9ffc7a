"""Poll an IMAP mailbox of bounce and complaint mail, handing each new message over once."""

from __future__ import annotations

import imaplib
import ipaddress
import logging
import re
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args
from urllib.parse import quote

logger = logging.getLogger(__name__)

Security = Literal["ssl", "starttls", "plain"]
Handler = Callable[[bytes, str], None]
"""Receives a message's raw bytes and its label; raising leaves the message unseen."""

DEFAULT_PORTS: Final[dict[str, int]] = {"ssl": 993, "starttls": 143, "plain": 143}
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_UID_RE: Final = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_IMAP_FAILURES: Final = (imaplib.IMAP4.error, OSError)


class ImapError(Exception):
    """The IMAP server could not be reached, refused the login, or failed a command."""


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """Where the bounce mailbox lives and how to reach it; the password never appears in repr."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    security: Security = "ssl"
    processed_mailbox: str | None = None
    batch_size: int = 100
    timeout: float = 30.0

    def __post_init__(self) -> None:
        _check_transport(self)
        _check_identity(self)

    @property
    def address(self) -> str:
        """Return host:port as written in messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll did: messages fetched, handled, failed, and why they failed."""

    fetched: int = 0
    handled: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Tally:
    fetched: int = 0
    handled: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def report(self) -> PollReport:
        return PollReport(self.fetched, self.handled, self.failed, list(self.errors))


def is_loopback(host: str) -> bool:
    """Tell whether host names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def message_label(settings: ImapSettings, uid: int) -> str:
    """Return the imap:// URL naming one message, e.g. imap://user@host/INBOX;UID=42."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    port = "" if settings.port == DEFAULT_PORTS[settings.security] else f":{settings.port}"
    user = quote(settings.username, safe="")
    box = quote(settings.mailbox, safe="/")
    return f"imap://{user}@{host}{port}/{box};UID={uid}"


def poll_once(
    settings: ImapSettings,
    handle: Handler,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> PollReport:
    """Hand every unseen message to handle, marking (and moving) only those it accepted."""
    conn = _open(settings)
    tally = _Tally()
    try:
        _drain(conn, settings, handle, should_stop or _never, tally)
    except _IMAP_FAILURES as exc:
        logger.warning("IMAP session %s broke after %s handled", where(settings), tally.handled)
        raise ImapError(f"IMAP session with {settings.address} failed: {_reason(exc)}") from exc
    finally:
        _logout(conn)
    report = tally.report()
    logger.info(
        "IMAP poll %s: fetched=%d handled=%d failed=%d",
        where(settings),
        report.fetched,
        report.handled,
        report.failed,
    )
    return report


def _never() -> bool:
    return False


def _is_clean_ascii(text: str) -> bool:
    return bool(text) and text.isascii() and text.isprintable()


def _check_text(name: str, value: str) -> None:
    if not _is_clean_ascii(value):
        raise ValueError(f"{name} must be non-empty printable ASCII, not {value!r}")


def _check_transport(settings: ImapSettings) -> None:
    if settings.security not in get_args(Security):
        choices = ", ".join(get_args(Security))
        raise ValueError(f"security must be one of {choices}, not {settings.security!r}")
    if settings.security == "plain" and not is_loopback(settings.host):
        raise ValueError(f"security='plain' is only for loopback hosts, not {settings.host!r}")
    if not 0 < settings.port < 65536:
        raise ValueError(f"port must be 1-65535, not {settings.port}")
    if settings.batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {settings.batch_size}")
    if settings.timeout <= 0:
        raise ValueError(f"timeout must be positive, not {settings.timeout}")


def _check_identity(settings: ImapSettings) -> None:
    _check_text("username", settings.username)
    if not _is_clean_ascii(settings.password):
        raise ValueError("password must be non-empty printable ASCII (IMAP LOGIN)")
    _check_text("mailbox", settings.mailbox)
    if settings.processed_mailbox is not None:
        _check_text("processed_mailbox", settings.processed_mailbox)
        if settings.processed_mailbox == settings.mailbox:
            raise ValueError("processed_mailbox must differ from mailbox")


def where(settings: ImapSettings) -> str:
    """Describe the mailbox for logs: user@host:port/mailbox, never the password."""
    return f"{settings.username}@{settings.address}/{settings.mailbox}"


def _reason(exc: BaseException) -> str:
    """Describe an imaplib or socket error in one line."""
    if exc.args and isinstance(exc.args[0], bytes):
        text = exc.args[0].decode("utf-8", "replace")
    else:
        text = str(exc)
    return text.strip() or type(exc).__name__


def _quote(mailbox: str) -> str:
    """Quote a mailbox name as an IMAP string (imaplib sends arguments verbatim)."""
    escaped = mailbox.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _text(data: Sequence[Any]) -> str:
    parts = [item for item in data if isinstance(item, bytes)]
    return b" ".join(parts).decode("utf-8", "replace").strip() or "no reason given"


def _expect_ok(result: tuple[str, list[Any]], what: str) -> list[Any]:
    typ, data = result
    if typ != "OK":
        raise ImapError(f"{what} failed: {typ} {_text(data)}")
    return data


def _open(settings: ImapSettings) -> imaplib.IMAP4:
    """Connect, log in and select the mailbox, or raise ImapError."""
    conn = _connect(settings)
    try:
        _login(conn, settings)
        _prepare(conn, settings)
    except _IMAP_FAILURES as exc:
        _logout(conn)
        raise ImapError(f"IMAP session with {settings.address} failed: {_reason(exc)}") from exc
    except ImapError:
        _logout(conn)
        raise
    return conn


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    try:
        if settings.security == "ssl":
            context = ssl.create_default_context()
            return imaplib.IMAP4_SSL(
                settings.host, settings.port, ssl_context=context, timeout=settings.timeout
            )
        conn = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
    except _IMAP_FAILURES as exc:
        raise _connect_error(settings, exc) from exc
    if settings.security == "starttls":
        try:
            conn.starttls(ssl_context=ssl.create_default_context())
        except _IMAP_FAILURES as exc:
            _logout(conn)
            raise _connect_error(settings, exc) from exc
    return conn


def _connect_error(settings: ImapSettings, exc: BaseException) -> ImapError:
    how = settings.security
    return ImapError(f"cannot connect to IMAP server {settings.address} ({how}): {_reason(exc)}")


def _login(conn: imaplib.IMAP4, settings: ImapSettings) -> None:
    try:
        conn.login(settings.username, settings.password)
    except imaplib.IMAP4.abort as exc:
        reason = _reason(exc).replace(settings.password, "***")
        raise ImapError(f"connection to {settings.address} lost during login: {reason}") from None
    except imaplib.IMAP4.error as exc:
        reason = _reason(exc).replace(settings.password, "***")
        message = f"login as {settings.username!r} at {settings.address} refused: {reason}"
        raise ImapError(message) from None


def _prepare(conn: imaplib.IMAP4, settings: ImapSettings) -> None:
    """Create the processed mailbox if it is missing, then select the source mailbox."""
    if settings.processed_mailbox is not None:
        _ensure_mailbox(conn, settings.processed_mailbox)
    typ, data = conn.select(_quote(settings.mailbox))
    if typ != "OK":
        raise ImapError(f"cannot open mailbox {settings.mailbox!r}: {_text(data)}")


def _ensure_mailbox(conn: imaplib.IMAP4, name: str) -> None:
    typ, _ = conn.status(_quote(name), "(MESSAGES)")
    if typ == "OK":
        return
    logger.info("creating IMAP mailbox %r", name)
    typ, data = conn.create(_quote(name))
    if typ != "OK":
        raise ImapError(f"cannot create mailbox {name!r}: {_text(data)}")


def _logout(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except _IMAP_FAILURES:
        logger.debug("IMAP logout failed; connection already gone", exc_info=True)


def _server_capabilities(conn: imaplib.IMAP4) -> frozenset[str]:
    """Ask again after login: servers often advertise MOVE and UIDPLUS only then."""
    data = _expect_ok(conn.capability(), "CAPABILITY")
    return frozenset(_text(data).upper().split())


def _drain(
    conn: imaplib.IMAP4,
    settings: ImapSettings,
    handle: Handler,
    should_stop: Callable[[], bool],
    tally: _Tally,
) -> None:
    """Process every message that was unseen when the poll began, batch by batch."""
    capabilities = _server_capabilities(conn)
    for chunk in _chunks(_unseen_uids(conn), settings.batch_size):
        if should_stop():
            return
        bodies = _fetch(conn, chunk)
        done = _process(conn, settings, handle, chunk, bodies, capabilities, should_stop, tally)
        if done and settings.processed_mailbox is not None and "MOVE" not in capabilities:
            _expunge(conn, done, capabilities)


def _unseen_uids(conn: imaplib.IMAP4) -> list[int]:
    data = _expect_ok(conn.uid("SEARCH", "UNSEEN"), "UID SEARCH UNSEEN")
    words = b" ".join(item for item in data if isinstance(item, bytes)).split()
    return sorted({int(word) for word in words if word.isdigit()})


def _chunks(uids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(uids), size):
        yield list(uids[start : start + size])


def _uid_set(uids: Sequence[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _fetch(conn: imaplib.IMAP4, uids: Sequence[int]) -> dict[int, bytes]:
    """Fetch raw messages without setting \\Seen, keyed by UID."""
    data = _expect_ok(conn.uid("FETCH", _uid_set(uids), "(UID BODY.PEEK[])"), "UID FETCH")
    return _parse_fetch(data)


def _parse_fetch(data: Sequence[Any]) -> dict[int, bytes]:
    """Pair each BODY[] literal with its UID, which may come before or after the literal."""
    bodies: dict[int, bytes] = {}
    for index, item in enumerate(data):
        if not isinstance(item, tuple) or b"BODY[]" not in item[0].upper():
            continue
        match = _UID_RE.search(item[0])
        after = data[index + 1] if index + 1 < len(data) else None
        if match is None and isinstance(after, bytes):
            match = _UID_RE.search(after)
        if match is not None:
            bodies[int(match.group(1))] = item[1]
    return bodies


def _process(
    conn: imaplib.IMAP4,
    settings: ImapSettings,
    handle: Handler,
    uids: Sequence[int],
    bodies: dict[int, bytes],
    capabilities: frozenset[str],
    should_stop: Callable[[], bool],
    tally: _Tally,
) -> list[int]:
    """Hand over each fetched message; return the UIDs marked \\Deleted awaiting expunge."""
    deleted: list[int] = []
    for uid in uids:
        raw = bodies.get(uid)
        if raw is None:
            logger.debug("UID %d vanished before it could be fetched", uid)
            continue
        if should_stop():
            break
        tally.fetched += 1
        label = message_label(settings, uid)
        if not _hand_over(handle, raw, label, tally):
            continue
        try:
            if _finish(conn, settings, uid, capabilities):
                deleted.append(uid)
        except ImapError as exc:
            tally.errors.append(f"{label}: handled but not marked done: {exc}")
            logger.warning("%s handled but not marked done: %s", label, exc)
    return deleted


def _hand_over(handle: Handler, raw: bytes, label: str, tally: _Tally) -> bool:
    """Call handle, counting the outcome; True if it returned normally."""
    try:
        handle(raw, label)
    except Exception as exc:
        tally.failed += 1
        tally.errors.append(f"{label}: {type(exc).__name__}: {exc}")
        logger.warning("handler failed for %s; left unseen", label, exc_info=True)
        return False
    tally.handled += 1
    return True


def _finish(
    conn: imaplib.IMAP4, settings: ImapSettings, uid: int, capabilities: frozenset[str]
) -> bool:
    """Mark a handled message \\Seen and file it; True if it still needs an expunge."""
    _expect_ok(conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)"), "UID STORE \\Seen")
    target = settings.processed_mailbox
    if target is None:
        return False
    if "MOVE" in capabilities:
        _expect_ok(conn.uid("MOVE", str(uid), _quote(target)), f"UID MOVE to {target!r}")
        return False
    _expect_ok(conn.uid("COPY", str(uid), _quote(target)), f"UID COPY to {target!r}")
    _expect_ok(conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "UID STORE \\Deleted")
    return True


def _expunge(conn: imaplib.IMAP4, uids: Sequence[int], capabilities: frozenset[str]) -> None:
    """Remove copied messages, touching only ours when the server has UIDPLUS."""
    if "UIDPLUS" in capabilities:
        _expect_ok(conn.uid("EXPUNGE", _uid_set(uids)), "UID EXPUNGE")
    else:
        _expect_ok(conn.expunge(), "EXPUNGE")
