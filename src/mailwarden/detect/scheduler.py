"""A background thread that ticks the detection engine every few seconds (embedded mode)."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

log = logging.getLogger(__name__)


class Tickable(Protocol):
    """Anything with a tick() that evaluates what is due."""

    def tick(self) -> object:
        """Evaluate what is due now."""
        ...


class TickScheduler:
    """Calls target.tick() every `seconds` until stopped; a failing tick is logged, not fatal."""

    def __init__(self, target: Tickable, seconds: float) -> None:
        self._target = target
        self._seconds = seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="detection-tick", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop, wait for it, and tick once more (nothing left unwritten)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
            self._target.tick()

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                self._target.tick()
            except Exception:
                log.exception("detection tick failed")
