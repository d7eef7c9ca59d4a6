"""A database of a test's own, in the test cluster, migrated: for tests whose background jobs (reminders, pushes,
the sweep) must not act on, or be disturbed by, the other tests' rows."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from taskapi.cli import migrate


@contextmanager
def fresh_database(direct_database_url: str, prefix: str, **settings: str) -> Iterator[str]:
    """Its URL; `settings` are the database's own (ALTER DATABASE … SET), applied to every later connection."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(direct_database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(direct_database_url).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    with psycopg.connect(direct_database_url, autocommit=True) as admin:
        for setting, value in settings.items():
            admin.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(name), sql.Identifier(setting), sql.Literal(value)
                )
            )
    try:
        yield url
    finally:
        with psycopg.connect(direct_database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
