"""Webhook tokens remember the body they first signed, so a provider's retry is not a replay.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add webhook_tokens.fingerprint."""
    with op.batch_alter_table("webhook_tokens") as batch:
        batch.add_column(sa.Column("fingerprint", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop webhook_tokens.fingerprint."""
    with op.batch_alter_table("webhook_tokens") as batch:
        batch.drop_column("fingerprint")
