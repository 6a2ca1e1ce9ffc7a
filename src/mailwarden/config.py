"""Typed settings from the environment (MAILWARDEN_*) or a .env file; nothing is read at import."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Mailwarden can be told; secrets have no defaults and are never logged."""

    model_config = SettingsConfigDict(
        env_prefix="MAILWARDEN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///var/mailwarden.db",
        description="SQLAlchemy URL; sqlite:///path (embedded default) or postgresql+psycopg://...",
    )
    bus_url: str = Field(
        default="",
        description="Empty (or memory://): in-process bus; redis://host:port/db: Redis Streams",
    )
    bus_prefix: str = Field(default="mailwarden", description="Prefix of the bus's Redis keys")
    bus_partitions: int = Field(
        default=1, ge=1, description="Event streams, by sending domain; drain before changing"
    )
    bus_maxlen: int = Field(
        default=100_000, ge=1, description="Entries (batches) kept per stream, approximately"
    )
    bus_claim_idle_ms: int = Field(
        default=60_000, ge=0, description="Idle time after which a pending entry is reclaimed"
    )
    bus_max_deliveries: int = Field(
        default=5, ge=1, description="Deliveries before an entry goes to the dead-letter stream"
    )
    bus_leader_ttl_ms: int = Field(
        default=15_000,
        ge=100,
        description="Leader lease of the workers; renewed every ttl/3, a standby takes it on lapse",
    )
    sqlite_synchronous: str = Field(
        default="FULL", description="SQLite synchronous pragma; FULL keeps acknowledged data safe"
    )
    host: str = "127.0.0.1"
    port: int = 8025
    public_url: str | None = Field(default=None, description="How providers reach this server")

    webhook_max_body_bytes: int = 10 * 1024 * 1024
    webhook_max_age_seconds: int = 600

    sendgrid_webhook_public_key: SecretStr | None = None
    mailgun_webhook_signing_key: SecretStr | None = None
    postmark_webhook_username: SecretStr | None = None
    postmark_webhook_password: SecretStr | None = None
    ses_topic_arns: str = Field(default="", description="Comma-separated SNS topic ARNs to accept")

    # auth (console sign-in, sessions, API tokens)
    cookie_secure: bool | None = Field(
        default=None, description="Mark cookies Secure; unset: when the request came over https"
    )
    trust_proxy: bool = Field(
        default=False, description="Believe X-Forwarded-Proto/-For from the reverse proxy"
    )
    session_idle_minutes: int = Field(default=60, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)

    # actions (containment and recovery at the providers); API keys have no defaults
    sendgrid_api_key: SecretStr | None = None
    sendgrid_api_base: str = "https://api.sendgrid.com"
    mailgun_api_key: SecretStr | None = None
    mailgun_api_base: str = Field(
        default="https://api.mailgun.net", description="US; EU is https://api.eu.mailgun.net"
    )
    mailgun_domain: str | None = Field(default=None, description="Default domain for actions")
    postmark_server_token: SecretStr | None = None
    postmark_api_base: str = "https://api.postmarkapp.com"
    aws_region: str | None = Field(
        default=None, description="SES region; set it to enable SES actions (creds: boto3 chain)"
    )
    aws_endpoint_url: str | None = Field(default=None, description="AWS endpoint override (moto)")
    action_timeout_seconds: float = Field(default=10.0, gt=0)

    # detection
    detection_enabled: bool = Field(default=True, description="Roll up events and detect")
    detection_policy_file: str | None = Field(
        default=None, description="Team YAML overriding the packaged policy thresholds"
    )
    detection_tick_seconds: float = Field(
        default=15.0, gt=0, description="How often `serve` evaluates detection windows"
    )

    # team, playbooks and SLA clocks
    playbooks_dir: str | None = Field(
        default=None, description="Team playbooks; each file replaces the shipped one of its type"
    )
    sla_file: str | None = Field(default=None, description="Team YAML overriding the SLA targets")
    team_timezone: str = Field(
        default="UTC", description="Team time zone (working days, e.g. the SEV4 acknowledge-by)"
    )

    # containment and recovery: approvals, the sending gate, warm-up, reminders
    emergency_containment_enabled: bool = Field(
        default=False, description="Let the emergency rule run containment without approval"
    )
    emergency_rule_name: str = "severe_complaints_pause"
    emergency_severities: str = Field(default="SEV1", description="Comma-separated severities")
    emergency_finding_kinds: str = Field(
        default="complaint_rate,policy_threshold",
        description="Comma-separated finding kinds the rule acts on (empty: any)",
    )
    emergency_action: str = Field(
        default="mailwarden.pause_sending", description="The action the rule runs"
    )
    recovery_auto_warmup: bool = Field(
        default=True, description="On recovery, resume the incident's gate pauses via warm-up"
    )
    warmup_schedule: str = Field(
        default="10%,25%,50%,100%", description="Share of normal volume on day 1, 2, ..."
    )
    warmup_default_per_minute: float = Field(
        default=100.0, gt=0, description="Normal sends/minute when the rollups have no history"
    )
    gate_refresh_seconds: float = Field(
        default=5.0, gt=0, description="How often the gate checks its rules for outside changes"
    )
    gate_ttl_seconds: int = Field(
        default=5, ge=1, description="How long a sender may cache a gate answer"
    )
    reminder_forgotten_hours: float = Field(default=24.0, gt=0)
    reminder_expiry_notice_hours: float = Field(default=24.0, gt=0)
    reminder_delisting_hours: float = Field(default=48.0, gt=0)

    def topic_arns(self) -> list[str]:
        """Return the SNS topic allowlist as a list."""
        return [arn.strip() for arn in self.ses_topic_arns.split(",") if arn.strip()]

    def base_url(self) -> str:
        """Return the URL people and providers use to reach this server."""
        return self.public_url or f"http://{self.host}:{self.port}"
