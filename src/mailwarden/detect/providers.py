"""Provider blocks and throttling: sender-level refusals (block bounces) or deferrals surging.

The counts are tested like every other rate (detect/shift.py). What this family adds is the
reading of *why*: the dominant reason and what the diagnostics cite (421 rate limits, 5.7.x
policy, Gmail's 5.7.26/27/30/32/40 authentication codes, Microsoft's 5.7.515, Spamhaus and
other blocklists), so the finding says "Gmail is refusing us for DMARC", not just "blocks up".
Which scope carries it (the provider, or one sending IP) is settled by attribution.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from mailwarden.detect.model import Finding
from mailwarden.detect.rates import ENOUGH, SHORT, RateRule, detect_rules
from mailwarden.detect.samples import Sample
from mailwarden.detect.shift import ShiftSpec
from mailwarden.detect.view import KeyView
from mailwarden.metrics.counters import ANY_RISE

PROVIDER_RULES: Final = (
    RateRule(
        "block_rate",
        "block",
        SHORT,
        ShiftSpec(3.0, 0.01, 8, critical_factor=10.0, critical_delta=0.1),
        enough=ENOUGH,
    ),
    RateRule(
        "deferral_rate",
        "deferral",
        SHORT,
        ShiftSpec(2.5, 0.03, 10, critical_factor=8.0, critical_delta=0.25),
        enough=ENOUGH,
    ),
)
# (label, pattern over "status diagnostic"), first match wins.
SIGNALS: Final = (
    ("gmail authentication", re.compile(r"5\.7\.(26|27|30|32|40)\b")),
    ("microsoft authentication", re.compile(r"5\.7\.515\b")),
    (
        "blocklist",
        re.compile(r"spamhaus|spamcop|barracuda|blocklist|blacklist|dnsbl|sorbs", re.I),
    ),
    (
        "rate limit",
        re.compile(r"^421\b|\b4\.7\.(0|28)\b|rate.?limit|too many|try again later", re.I),
    ),
    ("reputation", re.compile(r"reputation|5\.7\.1\b.*(spam|unsolicited)", re.I)),
    ("policy", re.compile(r"\b5\.7\.\d+\b")),
)


@lru_cache(maxsize=4096)
def signal_of(diagnostic: str | None) -> str | None:
    """Name what a refusal's diagnostic text cites (rate limit, blocklist, auth, policy)."""
    if not diagnostic:
        return None
    for label, pattern in SIGNALS:
        if pattern.search(diagnostic):
            return label
    return None


def reading(samples: Sequence[Sample]) -> dict[str, Any]:
    """What the refusals cite: counts by signal and the dominant one."""
    signals = Counter(signal_of(sample.diagnostic) or "unspecified" for sample in samples)
    if not signals:
        return {}
    top, _count = signals.most_common(1)[0]
    return {"by_signal": dict(signals.most_common(5)), "dominant_signal": top}


def detect_provider(view: KeyView, now: datetime, rising: int = ANY_RISE) -> list[Finding]:
    """Block and deferral surges on one key (those that can have risen: see RISES_WITH)."""
    return detect_rules(PROVIDER_RULES, view, now, rising)
