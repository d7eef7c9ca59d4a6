"""Alembic runs against the URL it is given (taskapi.cli.migrate), else DATABASE_URL_DIRECT (Neon's
non-pooled endpoint), else DATABASE_URL."""

import os

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

# Every table, registered on SQLModel.metadata.
import taskapi.tables  # noqa: F401
from taskapi.db.session import sqlalchemy_url

url = (
    context.config.attributes.get("database_url")
    or os.environ.get("DATABASE_URL_DIRECT")
    or os.environ.get("DATABASE_URL")
)
if not url:
    raise SystemExit("Set DATABASE_URL (or DATABASE_URL_DIRECT, Neon's direct endpoint) to migrate.")

engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
with engine.connect() as connection:
    # Building an index on a large table may take longer than the service's own statement_timeout.
    connection.exec_driver_sql("SET statement_timeout = 0")
    connection.commit()
    context.configure(connection=connection, target_metadata=SQLModel.metadata)
    with context.begin_transaction():
        context.run_migrations()
