"""Reading raw mail safely: line endings, headers, decoded text, parts, dates and addresses."""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.errors import HeaderParseError, MessageError
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value, parsedate_to_datetime
from typing import Final

from mailwarden.events.errors import PayloadError

MAX_BYTES: Final = 25 * 1024 * 1024
MAX_PARTS: Final = 500
MAX_DEPTH: Final = 20
_KNOWN_HEADERS: Final = frozenset(
    {
        "from",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "content-type",
        "mime-version",
        "received",
        "return-path",
        "sender",
        "reply-to",
        "delivered-to",
        "x-failed-recipients",
        "auto-submitted",
        "in-reply-to",
        "references",
    }
)
ATTACHED_TYPES: Final = frozenset(
    {
        "message/rfc822",
        "message/global",
        "text/rfc822-headers",
        "message/rfc822-headers",
        "message/global-headers",
        "message/partial",
    }
)
_FIRST_LINE: Final = re.compile(rb"^[!-9;-~]+:")
_FOLD: Final = re.compile(r"\r?\n[ \t]*")
_SPACES: Final = re.compile(r"\s+")
_ADDRESS: Final = re.compile(
    r"(?<![\w.+%=/-])([\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+)(?![\w-])"
)
_TAGS: Final = re.compile(r"<[^>]{0,2000}>")
_TYPE_PREFIX: Final = re.compile(r"^[\w.-]{1,20}\s*;\s*")
_RECEIVED_DATE: Final = re.compile(r";\s*([^;]+)$")


def load(body: bytes) -> Message:
    """Parse raw mail bytes (any line endings) into a Message, or raise PayloadError."""
    if not body or not body.strip():
        raise PayloadError("empty message")
    if len(body) > MAX_BYTES:
        raise PayloadError(f"message is larger than {MAX_BYTES} bytes")
    data = normalise_newlines(body).lstrip(b"\xef\xbb\xbf \t\n")
    if data.startswith(b"From "):
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    if not _FIRST_LINE.match(data):
        raise PayloadError("not an email message: it does not start with a header field")
    try:
        message = BytesParser(policy=compat32).parsebytes(data)
    except (MessageError, RecursionError, ValueError, LookupError) as exc:
        raise PayloadError(f"not a parseable email message: {exc}") from None
    names = {name.lower() for name in message}
    if not names & _KNOWN_HEADERS:
        raise PayloadError("not an email message: no From, To, Subject, Date or MIME headers")
    return message


def normalise_newlines(data: bytes) -> bytes:
    """Turn CRLF and bare CR line endings into LF."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def parse_headers(text: str) -> Message:
    """Parse a block of header lines (text/rfc822-headers) into a Message."""
    return HeaderParser(policy=compat32).parsestr(text.lstrip("\n"), headersonly=True)


def decode_value(raw: str) -> str:
    """Decode one raw header value: 8-bit bytes, RFC 2047 words, folding and extra spaces."""
    text = _unescape(raw)
    try:
        chunks = decode_header(text)
    except (HeaderParseError, ValueError, LookupError):
        chunks = [(text, None)]
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None:
            out.append(chunk.decode("raw-unicode-escape", "replace"))
        else:
            out.append(_decode_bytes(chunk, charset))
    return _SPACES.sub(" ", _FOLD.sub(" ", "".join(out))).strip()


def header(message: Message, name: str) -> str | None:
    """Return the first value of a header, decoded and unfolded, or None when absent or empty."""
    values = headers(message, name)
    return values[0] if values else None


def headers(message: Message, name: str) -> list[str]:
    """Return every non-empty value of a header, decoded and unfolded, in order."""
    wanted = name.lower()
    found = [decode_value(str(v)) for k, v in message.raw_items() if k.lower() == wanted]
    return [value for value in found if value]


def part_text(part: Message) -> str:
    """Return the decoded text of a leaf part (transfer encoding and charset undone)."""
    try:
        payload = part.get_payload(decode=True)
    except (MessageError, ValueError, LookupError, TypeError):
        return ""
    if not isinstance(payload, bytes):
        return ""
    text = _decode_bytes(payload, _charset(part))
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return normalise_text(text)


def normalise_text(text: str) -> str:
    """Make line endings LF, whatever mix the text came with."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def html_to_text(html: str) -> str:
    """Reduce HTML to rough text: tags become line breaks or nothing, entities stay rare."""
    text = re.sub(r"(?i)<br\s*/?>|</(?:p|div|tr|li|h\d)>", "\n", html)
    text = _TAGS.sub("", text)
    for entity, char in (("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


def iter_parts(message: Message, *, into_attached: bool = False) -> Iterator[Message]:
    """Yield the message and its parts depth first; attached messages are entered only if asked."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part
        if depth >= MAX_DEPTH:
            continue
        if part.get_content_type() in ATTACHED_TYPES and not into_attached and part is not message:
            continue
        stack.extend((child, depth + 1) for child in reversed(children(part)))


def body_text(part: Message) -> str:
    """Return the text inside a message/* part (report fields), whichever way it was parsed."""
    if part.is_multipart():
        text = "\n\n".join(_flatten(child) for child in children(part))
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding in {"base64", "quoted-printable"}:
            return normalise_text(_undo_encoding(text, encoding))
        return normalise_text(text)
    return part_text(part)


def attached_message(part: Message) -> Message | None:
    """Return the message carried by a message/rfc822 or text/rfc822-headers part."""
    if part.get_content_type() in {"text/rfc822-headers", "message/rfc822-headers"}:
        return parse_headers(part_text(part))
    if part.get_content_type() == "message/global-headers":
        return parse_headers(body_text(part))
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if part.is_multipart() and encoding not in {"base64", "quoted-printable"}:
        return next(iter(children(part)), None)
    text = body_text(part)
    if not text.strip():
        return None
    try:
        return BytesParser(policy=compat32).parsebytes(text.encode("utf-8", "surrogateescape"))
    except (MessageError, RecursionError, ValueError, LookupError):
        return None


def children(part: Message) -> list[Message]:
    """Return the sub-parts of a multipart or message/* part (none for a leaf)."""
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    if not isinstance(payload, list):
        return []
    return [child for child in payload if isinstance(child, Message)]


def param(message: Message, name: str) -> str:
    """Return a Content-Type parameter, lower-cased, or "" when absent or unreadable."""
    try:
        value = message.get_param(name, "")
    except (ValueError, LookupError, TypeError, IndexError):
        return ""
    if isinstance(value, tuple):
        value = collapse_rfc2231_value(value)
    return str(value or "").strip().lower()


def parse_date(text: str | None) -> datetime | None:
    """Parse an RFC 5322 (or ISO 8601) date into an aware UTC datetime, or None."""
    if not text:
        return None
    value = text.strip()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def received_date(message: Message) -> datetime | None:
    """Return the date of the topmost Received header that has one."""
    for value in headers(message, "Received"):
        found = _RECEIVED_DATE.search(value)
        when = parse_date(found.group(1)) if found else None
        if when is not None:
            return when
    return None


def find_addresses(text: str | None) -> list[str]:
    """Return the email addresses in a text, in order, without duplicates (case-insensitive)."""
    if not text:
        return []
    seen: dict[str, str] = {}
    for match in _ADDRESS.finditer(text):
        address = clean_address(match.group(1))
        if address and address.lower() not in seen:
            seen[address.lower()] = address
    return list(seen.values())


def clean_address(value: str | None) -> str | None:
    """Strip an address of its type prefix, brackets, quotes and dots; lower-case the domain."""
    if not value:
        return None
    text = _TYPE_PREFIX.sub("", value.strip(), count=1)
    found = _ADDRESS.search(text)
    if found is None:
        text = text.strip(" \t<>\"'")
        return text or None
    local, _, domain = found.group(1).rstrip(".").rpartition("@")
    return f"{local}@{domain.lower()}"


def domain_of(address: str | None) -> str | None:
    """Return the lower-cased domain of an address, or None."""
    found = clean_address(address)
    if not found or "@" not in found:
        return None
    return found.rpartition("@")[2] or None


def _flatten(child: Message) -> str:
    lines = [f"{name}: {value}" for name, value in child.raw_items()]
    text = "\n".join(lines)
    if not child.is_multipart():
        payload = child.get_payload(decode=True)
        if isinstance(payload, bytes) and payload.strip():
            text = _unescape(text) + "\n\n" + _decode_bytes(payload, None)
            return text
    return _unescape(text)


def _undo_encoding(text: str, encoding: str) -> str:
    data = text.strip().encode("ascii", "ignore")
    try:
        raw = base64.b64decode(data) if encoding == "base64" else quopri.decodestring(data)
    except (binascii.Error, ValueError):
        return text
    return _decode_bytes(raw, None)


def _charset(part: Message) -> str | None:
    try:
        charset = part.get_content_charset()
    except (LookupError, ValueError, TypeError):
        return None
    return charset if isinstance(charset, str) else None


def _unescape(raw: str) -> str:
    """Turn surrogate-escaped 8-bit bytes back into text (UTF-8, else Latin-1)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in raw):
        return raw
    return _decode_bytes(raw.encode("utf-8", "surrogateescape"), None)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("cp1252", "replace")
