"""Auth tables: users, sessions, API tokens, login failures and the append-only audit log.

Secrets are never stored: sessions and API tokens are kept as SHA-256 digests of their
random values, passwords as argon2 hashes.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, Table, Text

from mailwarden.store.tables import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("must_change_password", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("source_ip", Text),
    Column("user_agent", Text),
)
Index("ix_auth_sessions_user", auth_sessions.c.user_id)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("prefix", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger),
    Column("last_used_ms", BigInteger),
    Column("revoked_ms", BigInteger),
)
Index("ix_api_tokens_user", api_tokens.c.user_id)

# One row per failed sign-in, keyed by account name and by source address; pruned by age.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)
Index("ix_login_failures_key", login_failures.c.scope, login_failures.c.key, login_failures.c.at_ms)

# Append-only: the migration adds triggers that refuse UPDATE and DELETE.
audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("detail", Text, nullable=False),
    Column("source_ip", Text),
)
Index("ix_audit_log_at", audit_log.c.at_ms)
Index("ix_audit_log_action", audit_log.c.action, audit_log.c.id)
