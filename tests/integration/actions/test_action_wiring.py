"""The composition root registers Mailwarden's own actions always, provider ones when configured."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from mailwarden.app import build
from mailwarden.clock import FakeClock
from mailwarden.config import Settings


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'mw.db'}", **extra)  # type: ignore[arg-type]


def test_without_provider_credentials_only_mailwardens_own_actions_exist(
    tmp_path: Path, clock: FakeClock
) -> None:
    services = build(_settings(tmp_path), clock=clock)
    try:
        assert services.actions is not None
        assert services.actions.registry.names() == [
            "mailwarden.pause_sending",
            "mailwarden.quarantine_segment",
            "mailwarden.suppress",
        ]
    finally:
        services.close()


def test_configured_providers_register_their_actions_and_stay_offline(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = _settings(
        tmp_path,
        sendgrid_api_key=SecretStr("SG.k"),
        mailgun_api_key=SecretStr("mg-k"),
        mailgun_domain="news.example.org",
        postmark_server_token=SecretStr("pm-t"),
        aws_region="eu-west-1",
    )
    services = build(settings, clock=clock)
    try:
        assert services.actions is not None
        names = services.actions.registry.names()
        assert {
            "sendgrid.suppress_global",
            "mailgun.add_complaints",
            "postmark.archive_stream",
            "ses.pause_account_sending",
            "mailwarden.suppress",
        } <= set(names)
        assert len(names) == 17
        risks = {i.name: i.risk for i in services.actions.registry.describe()}
        assert risks["mailwarden.suppress"] == "low" and risks["sendgrid.delete_api_key"] == "high"
    finally:
        services.close()


def test_the_local_suppress_action_runs_end_to_end_through_the_app(
    tmp_path: Path, clock: FakeClock
) -> None:
    services = build(_settings(tmp_path), clock=clock)
    try:
        assert services.actions is not None
        run = services.actions.run(
            "mailwarden.suppress",
            {"addresses": ["Alex@Example.com"], "reason": "complained", "source_incident": "inc-1"},
            key="inc-1:suppress",
            executed_by="system:auto-contain",
        )
        assert run.state == "succeeded" and run.params["addresses"] == ["alex@example.com"]
        assert [s.step for s in services.actions.steps("inc-1:suppress")] == ["plan", "execute"]
    finally:
        services.close()
