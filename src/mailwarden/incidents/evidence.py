"""Read what a finding's evidence says, tolerantly: detectors name things in a few ways."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

BLOCKLIST_WORDS: Final = (
    "spamhaus",
    "blocklist",
    "blacklist",
    "dnsbl",
    "spamcop",
    "barracuda",
    "sorbs",
    "uceprotect",
)
CONCENTRATION_SHARE: Final = 0.8
_MAX_DEPTH: Final = 4


def strings(value: Any, depth: int = 0) -> Iterator[str]:
    """Yield every string (keys and values) in a nested evidence structure, lower-cased."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        yield value.lower()
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            yield str(key).lower()
            yield from strings(inner, depth + 1)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from strings(inner, depth + 1)


def cites_blocklist(evidence: Mapping[str, Any]) -> bool:
    """True when the evidence names a blocklist (Spamhaus, a DNSBL, ...)."""
    return any(word in text for text in strings(evidence) for word in BLOCKLIST_WORDS)


def dominant(evidence: Mapping[str, Any], field: str) -> str | None:
    """The value of field that dominates the evidence (>= 80% share), if it says so.

    Looks at `dominant_<field>` / `top_<field>`, a plain `<field>` string, and count tables
    (`<field>s`, `by_<field>`, `breakdown[<field>]`) mapping values to counts.
    """
    for name in (f"dominant_{field}", f"top_{field}", field):
        value = evidence.get(name)
        if isinstance(value, str) and value:
            return value
    for table in _count_tables(evidence, field):
        winner = _dominant_share(table)
        if winner is not None:
            return winner
    return None


def _count_tables(evidence: Mapping[str, Any], field: str) -> Iterator[Mapping[str, Any]]:
    for name in (f"{field}s", f"by_{field}", f"{field}_counts"):
        value = evidence.get(name)
        if isinstance(value, Mapping):
            yield value
    breakdown = evidence.get("breakdown")
    if isinstance(breakdown, Mapping) and isinstance(breakdown.get(field), Mapping):
        yield breakdown[field]


def _dominant_share(table: Mapping[str, Any]) -> str | None:
    counts = {str(key): float(value) for key, value in table.items() if _is_number(value)}
    total = sum(counts.values())
    if total <= 0:
        return None
    key, top = max(counts.items(), key=lambda item: item[1])
    return key if top / total >= CONCENTRATION_SHARE else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def count(evidence: Mapping[str, Any], *names: str) -> int | None:
    """The first non-negative integer count found under one of names."""
    for name in names:
        value = evidence.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return int(value)
    return None


def names_in(evidence: Mapping[str, Any], *fields: str) -> set[str]:
    """Values listed (as a list, or as keys of a count table) under any of fields."""
    found: set[str] = set()
    for name in fields:
        value = evidence.get(name)
        if isinstance(value, str) and value:
            found.add(value)
        elif isinstance(value, list | tuple):
            found.update(str(item) for item in value if isinstance(item, str | int))
        elif isinstance(value, Mapping):
            found.update(str(key) for key in value)
    return found
