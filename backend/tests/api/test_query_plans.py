"""The list query is served by indexes: no sequential scan, and no sort step for any sort order."""

import json
import uuid

import pytest
from sqlalchemy.dialects import postgresql

from taskapi.listing import TaskListing

BIG_LIST = 100_000


@pytest.fixture(scope="module")
def heavy_user(db) -> str:
    user_id = "heavy" + uuid.uuid4().hex
    db.execute(
        """
        INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, due_at,
                           created_at, updated_at)
        SELECT %(user)s, 'task ' || n || CASE WHEN n %% 100 = 0 THEN ' milk' ELSE '' END,
               'about ' || (n %% 37),
               n %% 2 = 0, CASE WHEN n %% 2 = 0 THEN now() END,
               (ARRAY['low', 'medium', 'high'])[1 + n %% 3],
               CASE WHEN n %% 4 > 0 THEN now() + n * interval '1 minute' END,
               now() - n * interval '1 second', now() - n * interval '1 second'
        FROM generate_series(1, %(count)s) AS n
        """,
        {"user": user_id, "count": BIG_LIST},
    )
    # Noise from other users, so the user_id prefix of every index matters.
    db.execute(
        "INSERT INTO tasks (user_id, title) SELECT 'other' || (n % 50), 'noise' FROM generate_series(1, 5000) AS n"
    )
    db.execute("ANALYZE tasks")
    return user_id


def _plan(db, listing: TaskListing, after=None) -> dict:
    statement, params = listing.statement(after)
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())
    (plan,) = db.execute("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.construct_params(params)).fetchone()
    return (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize("sort", ["-created", "created", "-updated", "updated", "title", "-title", "due", "-due"])
@pytest.mark.parametrize("filters", [{}, {"status": "pending"}, {"priority": "high"}], ids=["all", "pending", "high"])
def test_every_sort_walks_an_index_without_sorting(db, heavy_user, sort, filters):
    listing = TaskListing(heavy_user, sort=sort, **filters)
    for after in (None, ["2026-01-01T00:00:00+00:00" if "title" not in sort else "task 5", str(uuid.uuid4())]):
        node_types = [node["Node Type"] for node in _nodes(_plan(db, listing, after))]
        assert "Seq Scan" not in node_types and "Sort" not in node_types, node_types
        assert {"Index Scan", "Index Only Scan"} & set(node_types), node_types


def test_search_uses_the_text_index(db, heavy_user):
    nodes = list(_nodes(_plan(db, TaskListing(heavy_user, q="milk"))))
    assert "Seq Scan" not in [node["Node Type"] for node in nodes], json.dumps(nodes[-1])
    assert any(node.get("Index Name") in {"ix_tasks_search", "ix_tasks_user_id_created_at_id"} for node in nodes)
