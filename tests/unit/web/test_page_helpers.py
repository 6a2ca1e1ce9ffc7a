"""The console's pure helpers: action forms, masking, sparklines and health verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from mailwarden.actions.local import SuppressParams
from mailwarden.detect.model import Scope
from mailwarden.detect.policy import Policy
from mailwarden.incidents.model import Actor, Incident
from mailwarden.reports.health import judge, policy_lines
from mailwarden.web.pages.action_forms import fields_of, values_of
from mailwarden.web.pages.charts import SPARK_HEIGHT, spark_points
from mailwarden.web.pages.incident_view import moves, phase_bands
from mailwarden.web.pages.settings import mask_url, shown

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_an_actions_schema_becomes_fields_prefilled_from_the_incident() -> None:
    schema = SuppressParams.model_json_schema()
    fields = {f.name: f for f in fields_of(schema, {"source_incident": "INC-7"})}
    assert fields["addresses"].kind == "list" and fields["addresses"].required
    assert fields["reason"].kind == "text" and fields["reason"].required
    assert fields["source_incident"].value == "INC-7" and not fields["source_incident"].required
    assert "ISO 8601" in fields["expires_at"].hint


def test_posted_fields_become_parameters_the_action_accepts() -> None:
    schema = SuppressParams.model_json_schema()
    form = {
        "p.addresses": "a@example.com\n b@example.com, c@example.com\n",
        "p.reason": "spam trap",
    }
    params = values_of(schema, {**form, "p.expires_at": ""})
    assert params == {
        "addresses": ["a@example.com", "b@example.com", "c@example.com"],
        "reason": "spam trap",
    }
    assert SuppressParams.model_validate(params).addresses[2] == "c@example.com"


def test_numbers_booleans_and_json_fields_are_parsed_or_refused_by_name() -> None:
    schema = {
        "properties": {
            "rate": {"type": "number"},
            "dry": {"type": "boolean"},
            "extra": {"type": "object"},
        }
    }
    assert values_of(schema, {"p.rate": "0.5", "p.dry": "on", "p.extra": '{"a": 1}'}) == {
        "rate": 0.5,
        "dry": True,
        "extra": {"a": 1},
    }
    with pytest.raises(ValueError, match="rate: not a number"):
        values_of(schema, {"p.rate": "fast"})
    with pytest.raises(ValueError, match="extra: not valid JSON"):
        values_of(schema, {"p.extra": "{"})


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+psycopg://mw:hunter2@db:5432/mw", "postgresql+psycopg://mw:***@db:5432/mw"),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("sqlite:///var/mailwarden.db", "sqlite:///var/mailwarden.db"),
        ("https://api.sendgrid.com", "https://api.sendgrid.com"),
    ],
)
def test_a_urls_password_is_never_shown(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_secrets_show_only_whether_they_are_set() -> None:
    assert shown("mailgun_api_key", SecretStr("key-123")) == ("set", True)
    assert shown("postmark_webhook_username", None, secret=True) == ("not set", True)
    assert shown("gate_token", "abc") == ("set", True)
    assert shown("port", 8025) == ("8025", False)


def test_a_sparkline_skips_hours_without_enough_mail_and_keeps_its_scale() -> None:
    points = spark_points([0.0, None, 0.5, 1.0], top=1.0)
    assert [round(x) for x, _ in points] == [0, 67, 100]
    assert points[0][1] == SPARK_HEIGHT - 1 and points[-1][1] == 1
    assert spark_points([], top=1.0) == []


def test_policy_lines_and_verdicts_follow_the_policy_file() -> None:
    policy = Policy.model_validate(
        {
            "rules": [
                {
                    "name": "gmail_spam",
                    "metric": "complaint_rate",
                    "mailbox_provider": "gmail",
                    "dimensions": ["sending_domain:mailbox_provider"],
                    "min_volume": 5000,
                    "levels": [
                        {"rate": 0.001, "severity": "warning", "source": "Gmail"},
                        {"rate": 0.003, "severity": "critical", "source": "Gmail"},
                    ],
                },
                {
                    "name": "bounces",
                    "metric": "hard_bounce_rate",
                    "dimensions": ["sending_domain"],
                    "min_volume": 100,
                    "min_count": 10,
                    "levels": [{"rate": 0.02, "severity": "warning", "source": "M3AAWG"}],
                },
            ]
        }
    )
    lines = policy_lines(policy, "sending_domain:mailbox_provider", "gmail")
    assert "complaint" not in policy_lines(policy, "sending_domain:mailbox_provider", "yahoo")
    assert (lines["complaint"].warning, lines["complaint"].critical) == (0.001, 0.003)
    assert judge("hard_bounce", True, [(1 / 172, 172)], 0.0, lines["hard_bounce"]) == "ok"
    assert judge("complaint", True, [(0.004, 5000)], 0.0005, lines["complaint"]) == "critical"
    assert judge("complaint", True, [(0.0015, 5000)], 0.0005, lines["complaint"]) == "warning"
    assert judge("complaint", True, [(0.004, 10)], 0.0005, lines["complaint"]) == "quiet"
    assert judge("delivery", False, [(0.80, 5000)], 0.97, None) == "warning"
    assert judge("open", False, [(0.15, 5000)], 0.2, None) == "ok"


def test_the_incident_page_offers_people_the_tables_moves_and_shades_each_phase() -> None:
    incident = Incident("phishing", "SEV2", "Spoofing", Scope("overall", "*"), T0, T0)
    assert [m.target for m in moves(incident)] == [
        "acknowledged",
        "contained",
        "recovered",
        "false_positive",
    ]
    incident.transition("acknowledged", Actor("ann"), T0 + timedelta(minutes=10))
    incident.transition("contained", Actor("ann"), T0 + timedelta(minutes=30))
    bands = phase_bands(incident, T0 + timedelta(hours=1))
    assert [(b["name"], b["end"] - b["start"]) for b in bands] == [
        ("detected", 600.0),
        ("acknowledged", 1200.0),
        ("contained", 1800.0),
    ]
