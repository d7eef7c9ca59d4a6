"""Time limits for the role the service connects as, so that a stuck query cannot pin a worker.

Set on the role rather than per connection: Neon's pooled endpoint (PgBouncer, transaction mode) accepts
no startup options and does not keep a session's SET, but every server session starts from the role's
defaults. Migrations lift the limit for their own session (migrations/env.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER ROLE CURRENT_USER SET statement_timeout = '5s'")
    op.execute("ALTER ROLE CURRENT_USER SET idle_in_transaction_session_timeout = '10s'")


def downgrade() -> None:
    op.execute("ALTER ROLE CURRENT_USER RESET idle_in_transaction_session_timeout")
    op.execute("ALTER ROLE CURRENT_USER RESET statement_timeout")
