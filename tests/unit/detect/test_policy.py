"""Policy thresholds: shipped with their sources, overridable per team, credibly crossed only."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.detect.factory import T0, row, view

from mailwarden.detect.policy import PolicyError, default_policy, detect_policy, load_policy
from mailwarden.metrics.counters import RISING_MASKS


class Exposed:
    """An exposure that equals the deliveries (no lag), for policy arithmetic."""

    def __init__(self, delivered: int) -> None:
        self.delivered = delivered

    def window(self, rate: str, minutes: int) -> float:
        return float(self.delivered)


def _day(delivered: int, complained: int, scope: tuple[str, str]) -> object:
    return view(
        {1440: row(delivered=delivered, complained=complained)},
        scope=scope,
        rates={"complaint": 0.0003},
        exposure=Exposed(delivered),
    )


def test_every_packaged_level_says_where_it_comes_from() -> None:
    policy = default_policy()
    assert {rule.name for rule in policy.rules} >= {"gmail_spam_rate", "ses_complaint_rate"}
    assert all(level.source for rule in policy.rules for level in rule.levels)
    gmail = next(rule for rule in policy.rules if rule.name == "gmail_spam_rate")
    assert [level.rate for level in gmail.levels] == [0.001, 0.003]


def test_a_spam_rate_past_the_gmail_line_fires_at_gmail() -> None:
    found = detect_policy(_day(50_000, 200, ("mailbox_provider", "gmail")), default_policy(), T0)
    assert found is not None
    assert found.kind == "policy_threshold"
    assert found.severity == "critical"  # 0.4 % is past 0.3 %
    assert "Gmail" in found.evidence["source"]


def test_a_policy_line_is_not_judged_again_without_a_new_event_of_its_rate() -> None:
    gmail = _day(50_000, 200, ("mailbox_provider", "gmail"))
    assert detect_policy(gmail, default_policy(), T0, RISING_MASKS["hard_bounce"]) is None
    assert detect_policy(gmail, default_policy(), T0, RISING_MASKS["complaint"]) is not None


def test_a_tiny_denominator_never_trips_a_policy_line() -> None:
    assert detect_policy(_day(400, 3, ("mailbox_provider", "gmail")), default_policy(), T0) is None


def test_a_rate_only_just_over_the_line_on_few_events_is_not_credible() -> None:
    assert detect_policy(_day(5000, 6, ("mailbox_provider", "gmail")), default_policy(), T0) is None


def test_a_team_file_replaces_a_rule_by_name(tmp_path: Path) -> None:
    team = tmp_path / "team.yaml"
    team.write_text(
        "rules:\n"
        "  - name: gmail_spam_rate\n"
        "    metric: complaint_rate\n"
        "    mailbox_provider: gmail\n"
        "    dimensions: [mailbox_provider]\n"
        "    levels:\n"
        "      - {rate: 0.0005, severity: warning, source: our own stricter line}\n"
    )
    policy = load_policy(team)
    gmail = next(rule for rule in policy.rules if rule.name == "gmail_spam_rate")
    assert gmail.levels[0].rate == 0.0005
    assert any(rule.name == "ses_complaint_rate" for rule in policy.rules)


def test_a_team_file_can_switch_a_rule_off(tmp_path: Path) -> None:
    team = tmp_path / "team.yaml"
    team.write_text(
        "rules:\n  - {name: bounce_rate, metric: hard_bounce_rate, dimensions: [overall],"
        " enabled: false, levels: [{rate: 0.02, severity: warning, source: x}]}\n"
    )
    assert all(rule.name != "bounce_rate" for rule in load_policy(team).active())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [{name: x}]", "rules.0.metric"),
        ("rules:\n  - {name: x, metric: complaint_rate, dimensions: [mars], levels: []}", "mars"),
        ("rules:\n  - {name: x, metric: complaint_rate, dimensions: [overall],"
         " levels: [{rate: 3, severity: warning, source: s}]}", "less than 1"),
        ("window_hours: 5", "window_hours"),
        ("- just a list", "expected a mapping"),
        ("rules: [", "not valid YAML"),
    ],
)  # fmt: skip
def test_a_bad_team_file_is_rejected_with_a_clear_error(
    tmp_path: Path, text: str, message: str
) -> None:
    team = tmp_path / "team.yaml"
    team.write_text(text)
    with pytest.raises(PolicyError, match=message) as error:
        load_policy(team)
    assert str(team) in str(error.value)


def test_a_missing_team_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")
