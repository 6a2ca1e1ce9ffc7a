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
    bus_url: str = Field(default="memory://", description="memory:// or redis://host:port/db")
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

    def topic_arns(self) -> list[str]:
        """Return the SNS topic allowlist as a list."""
        return [arn.strip() for arn in self.ses_topic_arns.split(",") if arn.strip()]

    def base_url(self) -> str:
        """Return the URL people and providers use to reach this server."""
        return self.public_url or f"http://{self.host}:{self.port}"
