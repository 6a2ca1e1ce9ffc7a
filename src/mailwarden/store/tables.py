"""The schema, as SQLAlchemy Core tables; Alembic migrations create the same shape."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData()

raw_payloads = Table(
    "raw_payloads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("headers", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("body_encoding", Text),  # None: as received; see store/raw_body.py
    Column("verified", Boolean, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text),
    Column("event_count", Integer, nullable=False, default=0),
    Column("updated_ms", BigInteger, nullable=False),
)
Index("ix_raw_payloads_status", raw_payloads.c.status, raw_payloads.c.id)

# Events are appended in arrival order (seq); dedup is on (occurred_ms, id): a provider
# re-delivers an event with its original time, and a time-leading key keeps inserts
# nearly sequential, several times faster than a random-id index on a large table.
events = Table(
    "events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("occurred_ms", BigInteger, nullable=False),
    Column("provider", Text, nullable=False),
    Column("recipient", Text),
    Column("mailbox_provider", Text, nullable=False),
    Column("sending_domain", Text),
    Column("sending_ip", Text),
    Column("campaign", Text),
    Column("bounce_class", Text),
    Column("bounce_reason", Text),
    Column("raw_id", Integer),
    Column("detail", Text, nullable=False),
)
Index("ux_events_occurred_id", events.c.occurred_ms, events.c.id, unique=True)

webhook_tokens = Table(
    "webhook_tokens",
    metadata,
    Column("provider", Text, nullable=False),
    Column("token", Text, nullable=False),
    Column("seen_ms", BigInteger, nullable=False),
    # sha256 of the body the token first signed; a retry must carry the very same body.
    Column("fingerprint", Text),
    PrimaryKeyConstraint("provider", "token"),
)
Index("ix_webhook_tokens_seen", webhook_tokens.c.seen_ms)
