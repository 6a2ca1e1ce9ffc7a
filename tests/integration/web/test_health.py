"""Sending health for the overview: rates from rollups, verdicts, baselines, and the hour cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from tests.integration.auth.helpers import session_headers

from mailwarden.app import Services
from mailwarden.auth.roles import Role
from mailwarden.detect.policy import Policy
from mailwarden.incidents.model import Actor
from mailwarden.reports.health import HealthBoard, HealthReport, ScopeHealth
from mailwarden.reports.hourly import HourlyRollups
from mailwarden.store.health_repo import RollupReader
from mailwarden.store.rollups_repo import RollupStore

NOW = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
NOW_MINUTE = int(NOW.timestamp()) // 60
DOMAIN, PROVIDER = "news.example.org", "gmail"


def add_hour(
    engine: Engine, hours_ago: int, *, delivered: int, hard: int = 0, complained: int = 0
) -> None:
    """One hour's traffic of the domain at gmail, spread over its first minute, in every scope."""
    minute = (NOW_MINUTE // 60 - hours_ago) * 60
    counts = {
        "delivered": delivered,
        "bounced": hard,
        "bounced.hard": hard,
        "complained": complained,
    }
    rows: dict[tuple[int, str, str, str], int] = {}
    for dimension, key in (
        ("overall", "*"),
        ("sending_domain", DOMAIN),
        ("sending_domain:mailbox_provider", f"{DOMAIN}:{PROVIDER}"),
    ):
        for metric, count in counts.items():
            if count:
                rows[(minute, dimension, key, metric)] = count
    RollupStore(engine).add(rows)


POLICY = Policy.model_validate(
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
                "dimensions": ["overall", "sending_domain"],
                "min_volume": 1000,
                "min_count": 10,
                "levels": [
                    {"rate": 0.02, "severity": "warning", "source": "M3AAWG"},
                    {"rate": 0.05, "severity": "critical", "source": "SES"},
                ],
            },
        ]
    }
)


def board(engine: Engine) -> HealthBoard:
    return HealthBoard(HourlyRollups(RollupReader(engine)), POLICY)


def gmail_of(report: HealthReport) -> ScopeHealth:
    (domain,) = report.domains
    (gmail,) = domain.providers
    assert (domain.total.key, gmail.provider) == (DOMAIN, PROVIDER)
    return gmail


def cell(scope: ScopeHealth, name: str) -> Any:
    return next(c for c in scope.cells if c.name == name)


def test_the_day_and_the_last_hour_are_read_from_the_rollups(engine: Engine) -> None:
    for hours_ago in range(24):
        add_hour(engine, hours_ago, delivered=990, hard=10)
    gmail = gmail_of(board(engine).report(NOW))
    hard = cell(gmail, "hard_bounce")
    assert gmail.sent_day == 24 * 1000
    assert abs(hard.day - 0.01) < 1e-9
    assert abs(hard.hour - 0.01) < 1e-9
    assert hard.status == "ok" and hard.warning == 0.02  # the domain's bounce line applies
    assert len(hard.spark) == 24 and hard.spark[-1] is not None


def test_a_complaint_rate_above_the_critical_line_is_critical(engine: Engine) -> None:
    add_hour(engine, 0, delivered=10_000, complained=40)  # 0.4 %: above Gmail's 0.3 %
    complaints = cell(gmail_of(board(engine).report(NOW)), "complaint")
    assert complaints.status == "critical"
    assert (complaints.warning, complaints.critical) == (0.001, 0.003)


def test_the_baseline_is_the_median_day_so_one_bad_day_does_not_move_it(engine: Engine) -> None:
    for day in range(1, 8):
        hard = 300 if day == 3 else 10  # one day of a bad list import
        add_hour(engine, day * 24, delivered=1000 - hard, hard=hard)
    add_hour(engine, 0, delivered=700, hard=300)
    hard = cell(gmail_of(board(engine).report(NOW)), "hard_bounce")
    assert abs(hard.baseline - 0.01) < 1e-9
    assert hard.status == "critical"


def test_settled_hours_are_read_once_and_stragglers_into_empty_hours_are_picked_up(
    engine: Engine,
) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    add_hour(engine, 5, delivered=1000)
    health = board(engine)
    health.report(NOW)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        statements.clear()
        health.report(NOW + timedelta(minutes=1))
        scans = [s for s in statements if "rollup_counts.queued" in s]  # reads of counters
        assert len(scans) == 1, scans  # only the newest minutes; the settled hours are cached
        add_hour(engine, 3, delivered=500)  # late data into an hour cached as empty
        gmail = gmail_of(health.report(NOW + timedelta(minutes=2)))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert gmail.sent_day == 1500


def test_the_overview_reads_rollups_and_never_the_events_table(
    client: TestClient, services: Services
) -> None:
    add_hour(services.engine, 1, delivered=990, hard=10)
    assert services.incidents is not None
    services.incidents.open_manual(incident_type="other", title="Something odd", actor=Actor("pat"))
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lower())

    headers = {**session_headers(services, "viewer", Role.VIEWER), "accept": "text/html"}
    event.listen(services.engine, "before_cursor_execute", seen)
    try:
        page = client.get("/", headers=headers)
    finally:
        event.remove(services.engine, "before_cursor_execute", seen)
    assert page.status_code == 200 and "Sending health" in page.text
    assert any("from rollup_counts" in s for s in statements)
    assert not [s for s in statements if " events" in s.split("from", 1)[-1].split("where")[0]]
