"""The IMAP bounce-mailbox source against a real Dovecot."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import pytest

from mailwarden.events.sources import imap
from mailwarden.events.sources.imap import (
    ImapError,
    ImapSettings,
    PollReport,
    message_label,
    poll_once,
)
from mailwarden.events.sources.imap_poller import ImapPoller

if TYPE_CHECKING:
    from conftest import Mailbox

pytestmark = pytest.mark.imap


class Recorder:
    """A handler that remembers what it was given and can be told to fail."""

    def __init__(self, fail_on: frozenset[bytes] = frozenset()) -> None:
        self.calls: list[tuple[bytes, str]] = []
        self.fail_on = fail_on

    def __call__(self, raw: bytes, label: str) -> None:
        self.calls.append((raw, label))
        if any(marker in raw for marker in self.fail_on):
            raise RuntimeError("downstream store unavailable")

    @property
    def labels(self) -> list[str]:
        return [label for _, label in self.calls]

    @property
    def bodies(self) -> list[bytes]:
        return [raw for raw, _ in self.calls]


def make_message(index: int, tag: str = "bounce") -> bytes:
    """Build a small DSN-looking message whose Subject names its index."""
    lines = [
        "From: MAILER-DAEMON@mx.example.net",
        "To: bounces@example.com",
        f"Subject: Undelivered Mail Returned to Sender ({tag} {index})",
        f"Message-ID: <{tag}-{index}@mx.example.net>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        f"<rcpt{index}@example.org>: host mx.example.org said: 550 5.1.1 no such user",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unseen_messages_are_handed_over_and_marked_seen(mailbox: Mailbox) -> None:
    messages = [make_message(i) for i in range(3)]
    mailbox.deliver(messages)
    settings = mailbox.settings()
    handler = Recorder()

    report = poll_once(settings, handler)

    assert report == PollReport(fetched=3, handled=3, failed=0, errors=[])
    assert handler.bodies == messages
    assert handler.labels == [message_label(settings, uid) for uid in (1, 2, 3)]
    port = mailbox.server.port
    assert handler.labels[0] == f"imap://{settings.username}@127.0.0.1:{port}/INBOX;UID=1"
    assert mailbox.unseen() == set()


def test_a_second_poll_hands_over_nothing(mailbox: Mailbox) -> None:
    mailbox.deliver([make_message(i) for i in range(2)])
    settings = mailbox.settings()
    poll_once(settings, Recorder())
    handler = Recorder()

    report = poll_once(settings, handler)

    assert report == PollReport(fetched=0, handled=0, failed=0, errors=[])
    assert handler.calls == []


def test_a_message_whose_handler_raises_stays_unseen_and_is_handed_over_next_poll(
    mailbox: Mailbox,
) -> None:
    mailbox.deliver([make_message(0), make_message(1, tag="poison"), make_message(2)])
    settings = mailbox.settings()

    first = poll_once(settings, Recorder(fail_on=frozenset({b"poison"})))

    assert (first.fetched, first.handled, first.failed) == (3, 2, 1)
    assert len(first.errors) == 1
    assert first.errors[0].startswith(message_label(settings, 2))
    assert "RuntimeError: downstream store unavailable" in first.errors[0]
    assert mailbox.unseen() == {2}

    retry = Recorder()
    second = poll_once(settings, retry)

    assert (second.fetched, second.handled, second.failed) == (1, 1, 0)
    assert retry.labels == [message_label(settings, 2)]
    assert b"poison 1" in retry.bodies[0]
    assert mailbox.unseen() == set()


def test_processed_messages_are_moved_to_the_processed_mailbox(mailbox: Mailbox) -> None:
    messages = [make_message(i) for i in range(4)]
    mailbox.deliver(messages)
    settings = mailbox.settings(processed_mailbox="Processed Bounces")

    report = poll_once(settings, Recorder(fail_on=frozenset({b"bounce 3)"})))

    assert (report.handled, report.failed) == (3, 1)
    assert set(mailbox.flags("INBOX")) == {4}
    assert mailbox.unseen("INBOX") == {4}
    moved = mailbox.flags("Processed Bounces")
    assert len(moved) == 3
    assert all("\\Seen" in flags for flags in moved.values())
    assert mailbox.bodies("Processed Bounces") == messages[:3]


@pytest.mark.parametrize(
    "missing",
    [pytest.param({"MOVE"}, id="copy-uid-expunge"), pytest.param({"MOVE", "UIDPLUS"}, id="copy")],
)
def test_processed_messages_are_copied_and_expunged_when_the_server_cannot_move(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, missing: set[str]
) -> None:
    real = imap._server_capabilities
    monkeypatch.setattr(imap, "_server_capabilities", lambda conn: real(conn) - missing)
    messages = [make_message(i) for i in range(3)]
    mailbox.deliver(messages)
    settings = mailbox.settings(processed_mailbox="Done", batch_size=2)

    report = poll_once(settings, Recorder())

    assert (report.handled, report.failed, report.errors) == (3, 0, [])
    assert mailbox.flags("INBOX") == {}
    assert mailbox.bodies("Done") == messages
    copied = mailbox.flags("Done").values()
    assert all("\\Seen" in flags and "\\Deleted" not in flags for flags in copied)


def test_wrong_password_raises_imap_error_without_the_password(mailbox: Mailbox) -> None:
    wrong = "Wr0ng-" + mailbox.user.password
    settings = mailbox.settings(password=wrong)

    with pytest.raises(ImapError) as caught:
        poll_once(settings, Recorder())

    text = str(caught.value)
    assert "refused" in text
    assert "AUTHENTICATIONFAILED" in text
    assert mailbox.user.name in text
    for secret in (wrong, mailbox.user.password):
        assert secret not in text
        assert secret not in repr(caught.value)
        assert secret not in repr(settings)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_connection_to_a_closed_port_raises_imap_error_quickly() -> None:
    port = closed_port()
    settings = ImapSettings("127.0.0.1", port, "bounces", "pw", security="plain", timeout=10)
    started = time.monotonic()

    with pytest.raises(ImapError, match=rf"cannot connect to IMAP server 127\.0\.0\.1:{port}"):
        poll_once(settings, Recorder())

    assert time.monotonic() - started < 2


def test_starttls_to_a_server_without_tls_fails_before_sending_the_password(
    mailbox: Mailbox,
) -> None:
    settings = mailbox.settings(security="starttls")

    with pytest.raises(ImapError, match=r"\(starttls\): TLS not supported by server"):
        poll_once(settings, Recorder())

    assert f"user=<{mailbox.user.name}>" not in mailbox.server.log()


def test_implicit_tls_to_a_plaintext_port_raises_imap_error(mailbox: Mailbox) -> None:
    settings = mailbox.settings(security="ssl", timeout=5)

    with pytest.raises(ImapError, match=r"cannot connect to IMAP server .*\(ssl\)"):
        poll_once(settings, Recorder())


def test_a_large_batch_is_all_handled_exactly_once(mailbox: Mailbox) -> None:
    messages = [make_message(i) for i in range(250)]
    mailbox.deliver(messages)
    settings = mailbox.settings(batch_size=100)
    handler = Recorder()

    first = poll_once(settings, handler)
    second = poll_once(settings, handler)

    assert (first.fetched, first.handled, first.failed) == (250, 250, 0)
    assert (second.fetched, second.handled) == (0, 0)
    assert len(set(handler.labels)) == len(handler.labels) == 250
    assert sorted(handler.bodies) == sorted(messages)
    assert mailbox.unseen() == set()


def test_a_missing_mailbox_raises_imap_error(mailbox: Mailbox) -> None:
    settings = mailbox.settings(mailbox="No Such Folder")

    with pytest.raises(ImapError, match="cannot open mailbox 'No Such Folder'"):
        poll_once(settings, Recorder())


def test_the_poller_polls_until_stopped_without_waiting(mailbox: Mailbox) -> None:
    mailbox.deliver([make_message(0)])
    handler = Recorder()
    reports: list[PollReport] = []
    naps: list[float] = []
    poller: ImapPoller

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 1:
            mailbox.deliver([make_message(1)])
        else:
            poller.stop()

    poller = ImapPoller(
        mailbox.settings(), handler, interval=300, on_report=reports.append, sleep=sleep
    )
    poller.run()

    assert naps == [300, 300]
    assert [r.handled for r in reports] == [1, 1]
    assert [b"bounce 0" in body for body in handler.bodies] == [True, False]
    assert poller.stopping


def test_the_poller_thread_stops_promptly_mid_interval(mailbox: Mailbox) -> None:
    mailbox.deliver([make_message(0)])
    polled = threading.Event()
    poller = ImapPoller(
        mailbox.settings(), Recorder(), interval=3600, on_report=lambda _: polled.set()
    )

    poller.start()
    assert polled.wait(10)
    started = time.monotonic()
    poller.stop(timeout=5)

    assert time.monotonic() - started < 2
    assert mailbox.unseen() == set()


def test_the_poller_reports_connection_errors_and_keeps_going() -> None:
    settings = ImapSettings("127.0.0.1", closed_port(), "bounces", "pw", security="plain")
    errors: list[ImapError] = []
    poller: ImapPoller

    def sleep(_: float) -> None:
        if len(errors) == 2:
            poller.stop()

    poller = ImapPoller(settings, Recorder(), interval=1, on_error=errors.append, sleep=sleep)
    poller.run()

    assert len(errors) == 2


def test_plain_imap_is_refused_for_remote_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ImapSettings("imap.example.com", 143, "bounces", "pw", security="plain")
