"""A write's transaction no longer sends NOTIFY: the change-number trigger only numbers the change.

Postgres serialises the commits of every transaction that notified, database-wide, holding one lock across the
commit's WAL flush (16 clients, one INSERT each: 12,900 commits/s without a NOTIFY, 3,450/s with one). Every write
of a user with a live stream notified, so the product's write ceiling was that lock's. Changes are now announced
after their commit, by the worker that made them, many users in one NOTIFY (taskapi/sync/announcer.py); a worker
that dies between its commit and its announcement is covered by each listening worker's look at its users' change
numbers every second (taskapi/sync/hub.py). The feed stays the truth.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from importlib import import_module

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Numbers reserved in blocks that double, as migration 0017 takes them; nothing else.
NEXT_CHANGE = """
CREATE OR REPLACE FUNCTION task_next_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  held text := current_setting('taskapi.change_numbers', true);
  next_number bigint;
  last_number bigint;
  size bigint := 1;
BEGIN
  IF held <> '' AND split_part(held, ' ', 1) = NEW.user_id THEN
    next_number := split_part(held, ' ', 2)::bigint;
    last_number := split_part(held, ' ', 3)::bigint;
    size := split_part(held, ' ', 4)::bigint;
  END IF;
  IF next_number IS NULL OR next_number > last_number THEN
    IF next_number IS NOT NULL THEN
      size := least(size * 2, 1024);
    END IF;
    INSERT INTO task_counts AS c (user_id, change_seq) VALUES (NEW.user_id, size)
    ON CONFLICT (user_id) DO UPDATE SET change_seq = c.change_seq + size
    RETURNING c.change_seq - size + 1, c.change_seq INTO next_number, last_number;
  END IF;
  NEW.change_seq := next_number;
  PERFORM set_config('taskapi.change_numbers',
                    concat_ws(' ', NEW.user_id, next_number + 1, last_number, size), true);
  RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.execute(NEXT_CHANGE)


def downgrade() -> None:
    previous = import_module("migrations.versions.0017_linear_bulk_writes")
    op.execute(previous._next_change(previous._IN_BLOCKS))
