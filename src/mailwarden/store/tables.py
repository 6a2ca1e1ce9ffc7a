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
    text,
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
# The few event types a response reads by type (the recipients to suppress after complaints
# or hard bounces): a partial index holds only them, so ingest barely pays for it, and a
# query that names the same IN list (see events_repo.events) finds a day of complaints
# without reading a day of deliveries and opens.
INDEXED_TYPES = ("bounced", "complained", "unsubscribed")
# Literal, as SQLite uses a partial index only for a query that repeats its WHERE term; ORs,
# not IN: SQLite builds an IN list's lookup table for every inserted row (inserts took twice
# as long), and tests a few equalities almost for free.
INDEXED_TYPES_SQL = "(" + " OR ".join(f"type = '{name}'" for name in INDEXED_TYPES) + ")"
_INDEXED = text(INDEXED_TYPES_SQL)
Index(
    "ix_events_rare_type",
    events.c.type,
    events.c.occurred_ms,
    sqlite_where=_INDEXED,
    postgresql_where=_INDEXED,
)

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
