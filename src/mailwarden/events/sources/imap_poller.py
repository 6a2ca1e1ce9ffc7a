"""Poll an IMAP mailbox on a background thread, every interval, until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from mailwarden.events.sources.imap import (
    Handler,
    ImapError,
    ImapSettings,
    PollReport,
    poll_once,
    where,
)

logger = logging.getLogger(__name__)


class ImapPoller:
    """Run poll_once every interval seconds on a background thread until stop() is called."""

    def __init__(
        self,
        settings: ImapSettings,
        handle: Handler,
        *,
        interval: float = 60.0,
        on_report: Callable[[PollReport], None] | None = None,
        on_error: Callable[[ImapError], None] | None = None,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if interval < 0:
            raise ValueError(f"interval must not be negative, not {interval}")
        self._settings = settings
        self._handle = handle
        self._interval = interval
        self._on_report = on_report
        self._on_error = on_error
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        """Tell whether stop() has been called."""
        return self._stopping.is_set()

    def start(self) -> None:
        """Start polling on a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("poller already started")
        self._thread = threading.Thread(target=self.run, name="imap-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the poller to stop after the current message and wait for its thread."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def run(self) -> None:
        """Poll, then sleep, until stop() is called; blocks the calling thread."""
        while not self._stopping.is_set():
            try:
                self.poll()
            except Exception:
                logger.exception("IMAP poller callback or poll crashed; polling on")
            if self._stopping.is_set():
                break
            self._sleep(self._interval)

    def poll(self) -> PollReport | None:
        """Poll once, passing the report or the error to the callbacks; never raises ImapError."""
        try:
            report = poll_once(self._settings, self._handle, should_stop=self._stopping.is_set)
        except ImapError as exc:
            logger.warning("IMAP poll of %s failed: %s", where(self._settings), exc)
            if self._on_error is not None:
                self._on_error(exc)
            return None
        if self._on_report is not None:
            self._on_report(report)
        return report
