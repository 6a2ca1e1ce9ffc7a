"""Long-running commands tune the garbage collector for per-event allocations."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import gc
from mailwarden.runtime import YOUNG_THRESHOLD, tune_gc
before = gc.get_freeze_count()
tune_gc()
assert gc.get_threshold()[0] == YOUNG_THRESHOLD, gc.get_threshold()
assert gc.get_freeze_count() > before
print("ok")
"""


def test_tune_gc_freezes_the_start_up_heap_and_raises_the_young_threshold() -> None:
    # In a child process: freezing is process-wide and must not leak into the test run.
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_importing_the_runtime_module_changes_nothing() -> None:
    check = "import gc; t = gc.get_threshold(); import mailwarden.runtime; "
    check += "assert gc.get_threshold() == t and gc.get_freeze_count() == 0"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
