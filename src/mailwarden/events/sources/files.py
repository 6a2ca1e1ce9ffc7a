"""Split files and directories into payload units: whole JSON files, NDJSON lines, mail messages."""

from __future__ import annotations

import mailbox
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

JSON_SUFFIXES: Final = frozenset({".json"})
LINE_SUFFIXES: Final = frozenset({".ndjson", ".jsonl"})
MAIL_SUFFIXES: Final = frozenset({".eml", ".msg", ".txt", ".mail", ""})
MBOX_SUFFIXES: Final = frozenset({".mbox", ".mbx"})


@dataclass(frozen=True, slots=True)
class Unit:
    """One payload read from disk, labelled file:line or file#message for error reports."""

    label: str
    body: bytes


@dataclass(frozen=True, slots=True)
class UnitError:
    """A file that could not be read at all."""

    label: str
    reason: str


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield the files named, recursing into directories in sorted order, skipping dot-files."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden:
                    yield child
        else:
            yield path


def iter_json_units(paths: Iterable[Path]) -> Iterator[Unit | UnitError]:
    """Yield one unit per .json file and one per non-blank line of .ndjson/.jsonl files."""
    for path in iter_files(paths):
        suffix = path.suffix.lower()
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield UnitError(str(path), f"cannot read: {exc.strerror or exc}")
            continue
        if suffix in LINE_SUFFIXES:
            yield from _lines(path, data)
        elif suffix in JSON_SUFFIXES:
            yield Unit(str(path), data)
        else:
            yield UnitError(
                str(path), f"unsupported file type {suffix or '(none)'}; want .json or .ndjson"
            )


def iter_mail_units(paths: Iterable[Path]) -> Iterator[Unit | UnitError]:
    """Yield one unit per mail message: .eml files whole, mbox files split by message."""
    for path in iter_files(paths):
        try:
            head = path.open("rb").read(5)
        except OSError as exc:
            yield UnitError(str(path), f"cannot read: {exc.strerror or exc}")
            continue
        if path.suffix.lower() in MBOX_SUFFIXES or head == b"From ":
            yield from _mbox_messages(path)
        else:
            try:
                yield Unit(str(path), path.read_bytes())
            except OSError as exc:
                yield UnitError(str(path), f"cannot read: {exc.strerror or exc}")


def _lines(path: Path, data: bytes) -> Iterator[Unit]:
    for number, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            yield Unit(f"{path}:{number}", line)


def _mbox_messages(path: Path) -> Iterator[Unit | UnitError]:
    try:
        box = mailbox.mbox(path, create=False)
        keys = list(box.keys())
    except (OSError, mailbox.Error) as exc:
        yield UnitError(str(path), f"not a readable mbox: {exc}")
        return
    try:
        for index, key in enumerate(keys, start=1):
            yield Unit(f"{path}#{index}", box.get_bytes(key))
    finally:
        box.close()
