"""Web Push for reminders (taskapi/push): each user's push subscriptions (at most 20, one per endpoint), and the
pushes still to send.

A push is queued by the very statement that fires its reminder (taskapi/sync/reminders.py), so that a fired
reminder always has its pushes and an unfired one none; a worker then sends it, and deletes it once the push
service took it (or refused it for good). A subscription deleted takes its pending pushes along.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Uuid(), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("p256dh", sa.Text(), nullable=False),
        sa.Column("auth", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("user_id", "endpoint", name="uq_push_subscriptions_user_id_endpoint"),
    )
    op.create_table(
        "reminder_pushes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "subscription_id",
            sa.Uuid(),
            sa.ForeignKey("push_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("payload", sa.Text(), nullable=False),
        # The push service replaces an undelivered push of the same topic: a retry never shows twice.
        sa.Column("topic", sa.Text(), nullable=False),
        # Past this, the reminder is no use any more: the push is dropped.
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        # Due now; later after a failure (backoff), or while a worker is sending it (its lease).
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_reminder_pushes_next_attempt_at", "reminder_pushes", ["next_attempt_at"])
    op.create_index("ix_reminder_pushes_subscription_id", "reminder_pushes", ["subscription_id"])


def downgrade() -> None:
    op.drop_table("reminder_pushes")
    op.drop_table("push_subscriptions")
