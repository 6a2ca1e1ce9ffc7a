"""Raw payload bodies may be kept compressed; the encoding is stored next to the body.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add raw_payloads.body_encoding (NULL: the body is kept as received)."""
    with op.batch_alter_table("raw_payloads") as batch:
        batch.add_column(sa.Column("body_encoding", sa.Text(), nullable=True))


def downgrade() -> None:
    """Unpack compressed bodies, then drop raw_payloads.body_encoding."""
    from mailwarden.store.raw_body import unpack

    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, body, body_encoding FROM raw_payloads WHERE body_encoding IS NOT NULL")
    )
    for raw_id, body, encoding in rows.fetchall():
        conn.execute(
            sa.text("UPDATE raw_payloads SET body = :body WHERE id = :id"),
            {"body": unpack(bytes(body), encoding), "id": raw_id},
        )
    with op.batch_alter_table("raw_payloads") as batch:
        batch.drop_column("body_encoding")
