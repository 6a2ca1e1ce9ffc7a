"""A throwaway Dovecot IMAP server on 127.0.0.1 for the IMAP source tests.

One server per test session; every test gets a fresh user (and so an empty mailbox).
Targets Dovecot 2.3 (Debian bookworm: apt-get install dovecot-imapd).
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mailwarden.events.sources.imap import ImapSettings

HOST = "127.0.0.1"
USER_POOL = 48
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class MailUser:
    """One passwd-file user of the test server."""

    name: str
    password: str


@dataclass(frozen=True)
class Accounts:
    """The OS users Dovecot runs as and stores mail as."""

    internal: str
    internal_group: str
    login: str
    mail_uid: int
    mail_gid: int


@dataclass
class DovecotServer:
    """A running Dovecot child process and the users it knows."""

    port: int
    root: Path
    process: subprocess.Popen[bytes]
    users: list[MailUser]
    _next: Iterator[int] = field(default_factory=itertools.count)

    def take_user(self) -> MailUser:
        """Hand out a user no other test has used."""
        index = next(self._next)
        if index >= len(self.users):
            raise RuntimeError(f"test user pool of {len(self.users)} exhausted; raise USER_POOL")
        return self.users[index]

    def log(self) -> str:
        """Return what Dovecot has logged so far."""
        parts = [p.read_text(errors="replace") for p in self._log_files() if p.exists()]
        return "\n".join(parts)

    def _log_files(self) -> list[Path]:
        return [self.root / "dovecot.log", self.root / "dovecot.stderr"]


@dataclass
class Mailbox:
    """A fresh user's mail on the test server, with helpers to deliver and inspect it."""

    server: DovecotServer
    user: MailUser

    def settings(self, **overrides: Any) -> ImapSettings:
        """Return ImapSettings for this user over plain IMAP on loopback."""
        values: dict[str, Any] = {
            "host": HOST,
            "port": self.server.port,
            "username": self.user.name,
            "password": self.user.password,
            "security": "plain",
            "timeout": 10.0,
        }
        values.update(overrides)
        return ImapSettings(**values)

    def deliver(self, messages: Sequence[bytes], mailbox: str = "INBOX") -> None:
        """APPEND each message, unseen, to mailbox."""
        with self._session() as conn:
            for raw in messages:
                typ, data = conn.append(_quote(mailbox), "", None, raw)
                assert typ == "OK", f"APPEND failed: {data}"

    def flags(self, mailbox: str = "INBOX") -> dict[int, set[str]]:
        """Return each message's flags by UID, read without changing them."""
        with self._session() as conn:
            typ, data = conn.select(_quote(mailbox), readonly=True)
            assert typ == "OK", f"SELECT {mailbox} failed: {data}"
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            assert typ == "OK", f"FETCH failed: {data}"
        return dict(_parse_flags(item) for item in data if isinstance(item, bytes))

    def unseen(self, mailbox: str = "INBOX") -> set[int]:
        """Return the UIDs of messages without \\Seen."""
        return {uid for uid, flags in self.flags(mailbox).items() if "\\Seen" not in flags}

    def bodies(self, mailbox: str = "INBOX") -> list[bytes]:
        """Return every message's raw bytes, in UID order, without marking them seen."""
        with self._session() as conn:
            conn.select(_quote(mailbox), readonly=True)
            typ, data = conn.uid("FETCH", "1:*", "(BODY.PEEK[])")
            assert typ == "OK", f"FETCH failed: {data}"
        return [item[1] for item in data if isinstance(item, tuple)]

    def _session(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(HOST, self.server.port, timeout=10)
        conn.login(self.user.name, self.user.password)
        return conn


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


_FLAGS_RE = re.compile(rb"UID (\d+).*FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\).*UID (\d+)")


def _parse_flags(line: bytes) -> tuple[int, set[str]]:
    match = _FLAGS_RE.search(line)
    assert match is not None, f"unparsable FETCH line {line!r}"
    uid = match.group(1) or match.group(4)
    flags = match.group(2) if match.group(1) else match.group(3)
    return int(uid), set(flags.decode().split())


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """Start one Dovecot for the session on a free loopback port; stop it at the end."""
    binary = shutil.which("dovecot") or _sbin("dovecot")
    if binary is None:
        pytest.skip("dovecot binary not found; install the Debian package dovecot-imapd")
    _require_dovecot_23(binary)
    root = Path(tempfile.mkdtemp(prefix="mw-dovecot-"))
    root.chmod(0o755)
    try:
        server = _start(binary, root)
        try:
            yield server
        finally:
            _stop(server.process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> Mailbox:
    """Give the test a user of its own, with an empty INBOX."""
    return Mailbox(dovecot, dovecot.take_user())


def _sbin(name: str) -> str | None:
    for folder in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _require_dovecot_23(binary: str) -> None:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    version = out.stdout.strip()
    if not version.startswith("2.3."):
        pytest.fail(f"these tests generate Dovecot 2.3 config; found dovecot {version!r}")


def _accounts() -> Accounts:
    """Pick OS users: Dovecot's own when running as root, else the current user throughout."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(me.pw_gid).gr_name
        return Accounts(me.pw_name, group, me.pw_name, me.pw_uid, me.pw_gid)
    internal = _first_user("dovecot", "nobody")
    login = _first_user("dovenull", "nobody")
    mail = pwd.getpwnam(internal)
    group = grp.getgrgid(mail.pw_gid).gr_name
    return Accounts(internal, group, login, mail.pw_uid, mail.pw_gid)


def _first_user(*names: str) -> str:
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError(f"none of the users {names} exist")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _start(binary: str, root: Path) -> DovecotServer:
    accounts = _accounts()
    users = [MailUser(f"bounces{i:02d}", secrets.token_urlsafe(12)) for i in range(USER_POOL)]
    mail_root = root / "mail"
    mail_root.mkdir()
    os.chown(mail_root, accounts.mail_uid, accounts.mail_gid)
    _write_passwd(root / "passwd", users, accounts, mail_root)
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, accounts))
    with (root / "dovecot.stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DovecotServer(port=port, root=root, process=process, users=users)
    try:
        _wait_ready(server)
    except BaseException:
        _stop(process)
        raise
    return server


def _write_passwd(path: Path, users: list[MailUser], who: Accounts, mail_root: Path) -> None:
    lines = [
        f"{u.name}:{{PLAIN}}{u.password}:{who.mail_uid}:{who.mail_gid}::{mail_root / u.name}::"
        for u in users
    ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o644)


def _config(root: Path, port: int, who: Accounts) -> str:
    """Render a self-contained Dovecot 2.3 config: no includes, nothing outside root.

    No chroot, so the same config runs as root or as an ordinary user; the penalty
    listener is disabled so the wrong-password test cannot slow later logins.
    """
    return f"""\
instance_name = mailwarden-test-{port}
protocols = imap
listen = {HOST}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {who.internal}
default_internal_group = {who.internal_group}
default_login_user = {who.login}
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _wait_ready(server: DovecotServer) -> None:
    """Wait for the IMAP greeting, failing with Dovecot's log if it dies or stalls."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {server.process.returncode}:\n{server.log()}")
        if _greets(server.port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"dovecot did not greet within {START_TIMEOUT}s:\n{server.log()}")


def _greets(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the Dovecot master and the children in its process group."""
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    _signal_group(process.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
