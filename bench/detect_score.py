"""Scoring for the detection benchmark: match findings to injected incidents, sum up figures.

A finding matches an incident when its kind is one of the incident's kinds, its scope one
of the incident's scopes, and it was first seen within [start, end + 1 h]. Only
"incident-worthy" findings (severity warning or critical) count, as matches and as false
alarms; info findings may exist but are not alarms.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mailwarden.detect.model import Finding
from mailwarden.events.model import parse_time

GRACE = timedelta(hours=1)
WORTHY = frozenset({"warning", "critical"})
# The step changes the delay target names: bad list, blocks, throttling, surges,
# silence. The truth's `step` flag also marks complaint spikes and engagement collapse,
# whose signal trails the step by nature (complaints come hours after delivery; engagement
# is judged on delivery cohorts an hour old): both medians are printed.
TARGET_STEPS = frozenset(
    {
        "bad_list_import",
        "gmail_auth_block",
        "microsoft_auth_block",
        "ip_blocklisted",
        "microsoft_throttling",
        "night_volume_surge",
        "webhook_silence",
    }
)


@dataclass
class Incident:
    """One injected incident of a truth file."""

    scenario: str
    seed: int
    name: str
    kinds: frozenset[str]
    scopes: frozenset[tuple[str, str]]
    start: datetime
    end: datetime
    step: bool
    crosses: dict[str, datetime | None] = field(default_factory=dict)

    def matches(self, finding: Finding) -> bool:
        """True when the finding is about this incident."""
        return (
            finding.kind in self.kinds
            and (finding.scope.dimension, finding.scope.key) in self.scopes
            and self.start <= finding.first_seen <= self.end + GRACE
        )


def incidents_of(truth: dict[str, Any]) -> list[Incident]:
    """The incidents of a truth document."""
    found = []
    for item in truth["incidents"]:
        crosses = {
            label: parse_time(at) if at else None
            for label, at in (item.get("crosses") or {}).items()
        }
        found.append(
            Incident(
                scenario=truth["scenario"],
                seed=int(truth["seed"]),
                name=item["name"],
                kinds=frozenset(item["kinds"]),
                scopes=frozenset((s["dimension"], s["key"]) for s in item["scopes"]),
                start=parse_time(item["start"]),
                end=parse_time(item["end"]),
                step=bool(item.get("step", True)),
                crosses=crosses,
            )
        )
    return found


@dataclass
class RunScore:
    """One scenario run: which incidents were caught when, and which findings were false."""

    scenario: str
    seed: int
    weeks: float
    active_keys: int
    caught: list[tuple[Incident, Finding | None]]
    false: list[Finding]
    worthy: list[Finding]


def score_run(truth: dict[str, Any], findings: list[Finding], active_keys: int) -> RunScore:
    """Match one run's findings against its truth."""
    incidents = incidents_of(truth)
    worthy = [f for f in findings if f.severity in WORTHY]
    caught = []
    for incident in incidents:
        hits = sorted((f for f in worthy if incident.matches(f)), key=lambda f: f.first_seen)
        caught.append((incident, hits[0] if hits else None))
    false = [f for f in worthy if not any(i.matches(f) for i in incidents)]
    span = parse_time(truth["end"]) - parse_time(truth["start"])
    return RunScore(
        scenario=truth["scenario"],
        seed=int(truth["seed"]),
        weeks=span / timedelta(days=7),
        active_keys=active_keys,
        caught=caught,
        false=false,
        worthy=worthy,
    )


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60.0, 1)


def summarise(runs: list[RunScore]) -> dict[str, Any]:
    """The benchmark's figures over every run."""
    pairs = [pair for run in runs for pair in run.caught]
    detected = [(i, f) for i, f in pairs if f is not None]
    step_delays = [_minutes(f.first_seen - i.start) for i, f in detected if i.step]
    target_delays = [
        _minutes(f.first_seen - i.start) for i, f in detected if i.step and i.name in TARGET_STEPS
    ]
    quiet = [run for run in runs if run.scenario == "quiet_week"]
    quiet_false = sum(len(run.false) for run in quiet)
    quiet_weeks = sum(run.weeks for run in quiet) or 1.0
    quiet_keys = statistics.mean(run.active_keys for run in quiet) if quiet else 0
    all_false = sum(len(run.false) for run in runs)
    all_weeks = sum(run.weeks for run in runs) or 1.0
    mean_keys = statistics.mean(run.active_keys for run in runs) if runs else 1
    worthy = sum(len(run.worthy) for run in runs)
    creep = [(i, f) for i, f in pairs if i.crosses]
    creep_ok = [
        f is not None and ((line := i.crosses.get("0.3%")) is None or f.first_seen < line)
        for i, f in creep
    ]
    return {
        "bench": "detect",
        "runs": len(runs),
        "incidents": len(pairs),
        "recall": round(len(detected) / len(pairs), 3) if pairs else None,
        "precision": round((worthy - all_false) / worthy, 3) if worthy else None,
        "false_per_week_quiet": round(quiet_false / quiet_weeks, 2),
        "false_per_week_per_100_keys_quiet": round(
            quiet_false / quiet_weeks / max(quiet_keys, 1) * 100, 3
        ),
        "false_per_week_per_100_keys_all": round(
            all_false / all_weeks / max(mean_keys, 1) * 100, 3
        ),
        "median_delay_min_step": _quantile(step_delays, 0.5),
        "p90_delay_min_step": _quantile(step_delays, 0.9),
        "median_delay_min_target_steps": _quantile(target_delays, 0.5),
        "p90_delay_min_target_steps": _quantile(target_delays, 0.9),
        "creep_caught_before_0.3pct": all(creep_ok) if creep_ok else None,
    }


def per_incident(runs: list[RunScore]) -> dict[str, dict[str, Any]]:
    """Recall and delays per incident type."""
    groups: dict[str, list[tuple[Incident, Finding | None]]] = defaultdict(list)
    for run in runs:
        for incident, hit in run.caught:
            groups[incident.name].append((incident, hit))
    out = {}
    for name, pairs in sorted(groups.items()):
        delays = [_minutes(f.first_seen - i.start) for i, f in pairs if f is not None]
        out[name] = {
            "recall": round(sum(f is not None for _, f in pairs) / len(pairs), 3),
            "n": len(pairs),
            "median_delay_min": _quantile(delays, 0.5),
            "p90_delay_min": _quantile(delays, 0.9),
            "first_kinds": dict(Counter(f.kind for _, f in pairs if f is not None)),
        }
    return out


def per_kind(runs: list[RunScore]) -> dict[str, dict[str, Any]]:
    """Per finding kind: recall (of incidents listing the kind, caught by a finding of that
    kind) and precision (incident-worthy findings of the kind that match an incident)."""
    totals: Counter[str] = Counter()
    false: Counter[str] = Counter()
    listed: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    for run in runs:
        totals.update(f.kind for f in run.worthy)
        false.update(f.kind for f in run.false)
        for incident, _first in run.caught:
            for kind in incident.kinds:
                listed[kind] += 1
                if any(f.kind == kind and incident.matches(f) for f in run.worthy):
                    hit[kind] += 1
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted(set(totals) | set(listed)):
        out[kind] = {
            "recall": round(hit[kind] / listed[kind], 3) if listed[kind] else None,
            "findings": totals[kind],
            "false": false[kind],
            "precision": (
                round((totals[kind] - false[kind]) / totals[kind], 3) if totals[kind] else None
            ),
        }
    return out
