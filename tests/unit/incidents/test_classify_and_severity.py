"""Finding kind → incident type and severity, as data: the tables and the YAML rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.unit.incidents.builders import finding

from mailwarden.detect.model import FINDING_KINDS, Finding, Scope
from mailwarden.incidents.classify import TYPE_RULES, incident_type
from mailwarden.incidents.grouping import OVERALL, finding_roots
from mailwarden.incidents.model import INCIDENT_TYPES
from mailwarden.incidents.severity import (
    SeverityConfigError,
    load_severity_rules,
    parse_severity_rules,
)

SPAMHAUS = ["554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org"]


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (finding("hard_bounce_rate", "campaign", "bf"), "delivery_failure"),
        (finding("deferral_rate", "mailbox_provider", "yahoo"), "delivery_failure"),
        (finding("delivery_drop", "overall", "*"), "delivery_failure"),
        (finding("engagement_drop", "mailbox_provider", "gmail"), "delivery_failure"),
        (finding("block_rate", "mailbox_provider", "gmail"), "delivery_failure"),
        (
            finding("block_rate", "mailbox_provider", "gmail", sample_diagnostics=SPAMHAUS),
            "blocklisting",
        ),
        (finding("block_rate", "sending_ip", "203.0.113.5"), "blocklisting"),
        (
            finding("block_rate", "sending_ip", "203.0.113.5", dominant_reason="authfailure"),
            "dns_auth",
        ),
        (finding("complaint_rate", "campaign", "bf"), "spam_complaints"),
        (finding("unsubscribe_rate", "overall", "*"), "spam_complaints"),
        (
            finding("policy_threshold", "mailbox_provider", "gmail", metric="complaint"),
            "spam_complaints",
        ),
        (finding("policy_threshold", "overall", "*", metric="hard_bounce"), "delivery_failure"),
        (
            finding("volume_surge", "campaign", "acct-1f", possible_compromise=True),
            "unauthorized_access",
        ),
        (finding("volume_surge", "campaign", "black-friday"), "other"),
        (finding("event_silence", "overall", "*"), "pipeline_outage"),
        (finding("volume_drop", "sending_domain", "news.example.org"), "pipeline_outage"),
    ],
)
def test_each_finding_kind_maps_to_its_incident_type(found: Finding, expected: str) -> None:
    assert incident_type(found)[0] == expected


def test_every_finding_kind_has_a_rule_and_every_rule_a_known_type() -> None:
    assert {rule.kind for rule in TYPE_RULES} == FINDING_KINDS
    assert {rule.type for rule in TYPE_RULES} <= set(INCIDENT_TYPES)


def test_a_campaign_finding_is_rooted_where_its_evidence_concentrates() -> None:
    found = finding(
        "hard_bounce_rate",
        "campaign",
        "bf",
        dominant_sending_ip="203.0.113.5",
        by_mailbox_provider={"gmail": 9, "yahoo": 1},
    )
    assert finding_roots(found) == {
        Scope("campaign", "bf"),
        Scope("sending_ip", "203.0.113.5"),
        Scope("mailbox_provider", "gmail"),
    }
    assert finding_roots(finding("delivery_drop", "overall", "*")) == {OVERALL}


@pytest.mark.parametrize(
    ("found", "level", "rule"),
    [
        (
            finding("policy_threshold", "overall", "*", severity="critical", metric="complaint"),
            "SEV1",
            "mailbox-provider policy limit breached across all mail",
        ),
        (
            finding("block_rate", "mailbox_provider", "gmail"),
            "SEV2",
            "block at a major mailbox provider",
        ),
        (
            finding("block_rate", "sending_domain:mailbox_provider", "news.example.org:gmail"),
            "SEV2",
            "block at a major mailbox provider for one sending domain",
        ),
        (
            finding("complaint_rate", "campaign", "bf", observed=0.002, expected=0.001),
            "SEV3",
            "complaint or unsubscribe spike on one campaign",
        ),
        (
            finding("deferral_rate", "mailbox_provider", "apple", observed=0.02, expected=0.01),
            "SEV4",
            "default",
        ),
        (
            finding("deferral_rate", "mailbox_provider", "apple", observed=0.2, expected=0.01),
            "SEV3",
            "ten times the expected rate",
        ),
    ],
)
def test_the_packaged_rules_grade_findings(found: Finding, level: str, rule: str) -> None:
    rules = load_severity_rules()
    assert rules.assess(found, incident_type(found)[0]) == (level, rule)


def test_rules_can_come_from_another_file(tmp_path: Path) -> None:
    path = tmp_path / "severity.yaml"
    path.write_text(
        "default: SEV3\nrules:\n  - {name: all, severity: SEV1, match: {kinds: [block_rate]}}\n"
    )
    rules = load_severity_rules(path)
    assert rules.assess(finding("block_rate", "overall", "*"), "delivery_failure") == (
        "SEV1",
        "all",
    )
    assert rules.for_manual("phishing") == "SEV3"


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ([1, 2], "expected a mapping"),
        ({"default": "SEV9"}, "default: 'SEV9' is not one of"),
        (
            {"rules": [{"name": "x", "severity": "SEV1", "match": {"colour": ["red"]}}]},
            "rule 1 (x): unknown criteria ['colour']",
        ),
        (
            {"rules": [{"name": "x", "severity": "SEV1", "match": {"types": ["outage"]}}]},
            "rule 1 (x): types: 'outage'",
        ),
        (
            {"rules": [{"name": "x", "severity": "SEV1", "match": {"min_ratio": "big"}}]},
            "min_ratio: expected a number",
        ),
        ({"manual": {"phishing": "high"}}, "manual.phishing"),
    ],
)
def test_bad_rules_say_where_and_why(document: object, complaint: str) -> None:
    with pytest.raises(SeverityConfigError, match=re.escape(complaint)):
        parse_severity_rules(document, "test.yaml")
