"""Fake provider servers on 127.0.0.1 (one per module) and a runner harness around them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.integration.actions.fakes.mailgun import FakeMailgun
from tests.integration.actions.fakes.postmark import FakePostmark
from tests.integration.actions.fakes.sendgrid import FakeSendGrid

from mailwarden.actions.port import Action, ActionRegistry
from mailwarden.actions.records import MemoryLedger, MemoryRecorder
from mailwarden.actions.runner import ActionRunner
from mailwarden.clock import FakeClock

SENDGRID_KEY = "SG.test-key-0123456789abcdef"
MAILGUN_KEY = "key-mailgun-0123456789abcdef"
POSTMARK_TOKEN = "pm-server-token-0123456789"
CLIENT_TIMEOUT = 0.5


@dataclass
class Harness:
    """A runner over an in-memory ledger and recorder, on a fake clock, with recorded sleeps."""

    clock: FakeClock
    sleeps: list[float] = field(default_factory=list)
    ledger: MemoryLedger = field(default_factory=MemoryLedger)
    recorder: MemoryRecorder = field(default_factory=MemoryRecorder)
    runner: ActionRunner | None = None

    def http_options(self) -> dict[str, Any]:
        """Client options for tests: short timeout, no real sleeping."""
        return {"timeout": CLIENT_TIMEOUT, "sleep": self.sleeps.append, "clock": self.clock}

    def use(self, actions: Sequence[Action[Any]], secrets: Sequence[str] = ()) -> ActionRunner:
        """Build the runner over these actions."""
        self.runner = ActionRunner(
            ActionRegistry(actions),
            self.ledger,
            self.clock,
            recorder=self.recorder,
            secrets=secrets,
        )
        return self.runner

    def steps(self) -> list[tuple[str, str]]:
        """(step, outcome) of every recorded entry, in order."""
        return [(entry.step, entry.outcome) for entry in self.recorder.entries]


@pytest.fixture
def harness() -> Harness:
    return Harness(FakeClock(datetime(2026, 11, 27, 8, 0, tzinfo=UTC)))


@pytest.fixture(scope="module")
def sendgrid_server() -> Iterator[FakeSendGrid]:
    fake = FakeSendGrid(SENDGRID_KEY)
    fake.server.start()
    yield fake
    fake.server.stop()


@pytest.fixture
def sendgrid(sendgrid_server: FakeSendGrid) -> FakeSendGrid:
    sendgrid_server.reset()
    return sendgrid_server


@pytest.fixture(scope="module")
def mailgun_server() -> Iterator[FakeMailgun]:
    fake = FakeMailgun(MAILGUN_KEY)
    fake.server.start()
    yield fake
    fake.server.stop()


@pytest.fixture
def mailgun(mailgun_server: FakeMailgun) -> FakeMailgun:
    mailgun_server.reset()
    return mailgun_server


@pytest.fixture(scope="module")
def postmark_server() -> Iterator[FakePostmark]:
    fake = FakePostmark(POSTMARK_TOKEN)
    fake.server.start()
    yield fake
    fake.server.stop()


@pytest.fixture
def postmark(postmark_server: FakePostmark) -> FakePostmark:
    postmark_server.reset()
    return postmark_server
