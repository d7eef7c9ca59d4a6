"""The list query is served by indexes: no sequential scan, and no sort step for any sort order."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import postgresql

from taskapi.sync import trash
from taskapi.tasks.listing import TaskListing

BIG_LIST = 100_000


@pytest.fixture(scope="module")
def heavy_user(db) -> str:
    user_id = "heavy" + uuid.uuid4().hex
    # Loading 100,000 rows may take longer than the service's statement_timeout (migration 0003). Triggers off:
    # numbering 100,000 changes of one user in one statement bumps one counter row 100,000 times (migration
    # 0008); the rows are numbered here instead (the counts do not matter to plans).
    db.execute("SET statement_timeout = 0")
    db.execute("SET session_replication_role = replica")
    # Half the tasks in a list, half in the Inbox; each task's position from the column's default.
    db.execute("INSERT INTO task_lists (user_id, name, position) VALUES (%s, 'Work', 'a0')", (user_id,))
    db.execute(
        """
        INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, due_at,
                           tags, remind_at, created_at, updated_at, change_seq, list_id)
        SELECT %(user)s, 'task ' || n || CASE WHEN n %% 100 = 0 THEN ' milk' ELSE '' END,
               'about ' || (n %% 37),
               n %% 2 = 0, CASE WHEN n %% 2 = 0 THEN now() END,
               (ARRAY['low', 'medium', 'high'])[1 + n %% 3],
               CASE WHEN n %% 4 > 0 THEN now() + n * interval '1 minute' END,
               CASE WHEN n %% 1000 = 0 THEN ARRAY['rare', 'work'] WHEN n %% 10 = 0 THEN ARRAY['work']
                    WHEN n %% 3 = 0 THEN ARRAY['home'] ELSE '{}' END,
               CASE WHEN n %% 5 = 0 THEN now() + n * interval '1 minute' END,
               now() - n * interval '1 second', now() - n * interval '1 second', n,
               CASE WHEN n %% 2 = 0 THEN (SELECT id FROM task_lists WHERE user_id = %(user)s::varchar) END
        FROM generate_series(1, %(count)s) AS n
        """,
        {"user": user_id, "count": BIG_LIST},
    )
    # A trash as large again, which must not slow the task list nor its own.
    db.execute(
        """
        INSERT INTO trashed_tasks (id, user_id, title, completed, priority, tags, version, created_at, updated_at,
                                   deleted_at, change_seq)
        SELECT gen_random_uuid(), %(user)s, 'deleted ' || n, false, 'medium', '{}', 1, now(), now(),
               now() - n * interval '1 second', %(count)s + n
        FROM generate_series(1, %(count)s) AS n
        """,
        {"user": user_id, "count": BIG_LIST},
    )
    db.execute("RESET session_replication_role")
    db.execute("RESET statement_timeout")
    # Noise from other users, so the user_id prefix of every index matters.
    db.execute(
        "INSERT INTO tasks (user_id, title) SELECT 'other' || (n % 50), 'noise' FROM generate_series(1, 5000) AS n"
    )
    db.execute("ANALYZE tasks")
    db.execute("ANALYZE trashed_tasks")
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


SORTS = [
    "-created",
    "created",
    "-updated",
    "updated",
    "title",
    "-title",
    "due",
    "-due",
    "remind",
    "-remind",
    "position",
]
_AFTER_KEYS = {"title": "task 5", "-title": "task 5", "position": "b0K"}


def _positions(sort: str):
    return (None, [_AFTER_KEYS.get(sort, "2026-01-01T00:00:00+00:00"), str(uuid.uuid4())])


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize(
    "filters",
    [{}, {"status": "pending"}, {"priority": "high"}, {"remind_after": "2026-01-01T00:00:00Z"}],
    ids=["all", "pending", "high", "reminders"],
)
def test_every_sort_walks_an_index_without_sorting(db, heavy_user, sort, filters):
    listing = TaskListing(heavy_user, sort=sort, **filters)
    for after in _positions(sort):
        node_types = [node["Node Type"] for node in _nodes(_plan(db, listing, after))]
        assert "Seq Scan" not in node_types and "Sort" not in node_types, node_types
        assert {"Index Scan", "Index Only Scan"} & set(node_types), node_types


@pytest.mark.parametrize("which", ["list", "inbox"])
@pytest.mark.parametrize("status", ["all", "pending"])
def test_a_lists_manual_order_is_one_range_of_an_index(db, heavy_user, which, status):
    """`sort=position` within a list or the Inbox (half of 100,000 tasks each): a page is one range scan."""
    list_id = db.execute("SELECT id FROM task_lists WHERE user_id = %s", (heavy_user,)).fetchone()[0]
    listing = TaskListing(
        heavy_user, sort="position", status=status, list_id=str(list_id) if which == "list" else "inbox"
    )
    for after in _positions("position"):
        nodes = list(_nodes(_plan(db, listing, after)))
        node_types = [node["Node Type"] for node in nodes]
        assert "Seq Scan" not in node_types and "Sort" not in node_types, node_types
        assert "Incremental Sort" not in node_types, node_types
        assert {"Index Scan", "Index Only Scan"} & set(node_types), node_types
        if status == "pending" and which == "list":
            # Every task of the list is completed here: only the index of open tasks skips them all.
            assert "ix_tasks_open_position" in {node.get("Index Name") for node in nodes}, node_types


def _sorts_only_tagged_rows(plan: dict) -> bool:
    """A Sort is fine over the rows the tag index found (a rare tag), never over the user's whole list."""
    if plan["Node Type"] == "Sort":
        return all(node.get("Index Name") == "ix_tasks_tag_keys" for node in _nodes(plan) if "Index Name" in node)
    return all(_sorts_only_tagged_rows(child) for child in plan.get("Plans", []))


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("tags", [("work",), ("home",), ("rare",), ("rare", "work")], ids="+".join)
def test_tag_filters_never_scan_or_sort_the_whole_list(db, heavy_user, sort, tags):
    listing = TaskListing(heavy_user, sort=sort, tags=tags)
    for after in _positions(sort):
        plan = _plan(db, listing, after)
        node_types = [node["Node Type"] for node in _nodes(plan)]
        assert "Seq Scan" not in node_types, node_types
        assert _sorts_only_tagged_rows(plan), json.dumps(plan)


def test_search_uses_the_text_index(db, heavy_user):
    nodes = list(_nodes(_plan(db, TaskListing(heavy_user, q="milk"))))
    assert "Seq Scan" not in [node["Node Type"] for node in nodes], json.dumps(nodes[-1])
    assert any(node.get("Index Name") in {"ix_tasks_search", "ix_tasks_user_id_created_at_id"} for node in nodes)


@pytest.mark.parametrize("owner", ["heavy", "light"])
@pytest.mark.parametrize("after", [False, True], ids=["first page", "next page"])
def test_the_trash_list_walks_an_index_without_sorting(db, heavy_user, after, owner):
    statement = trash._NEXT_PAGE if after else trash._FIRST_PAGE
    params = {
        "owner_id": heavy_user if owner == "heavy" else "other1",
        "page_size": 51,
        "after_at": datetime.now(UTC),
        "after_id": uuid.uuid4(),
    }
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())
    (plan,) = db.execute("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.construct_params(params)).fetchone()
    node_types = [
        node["Node Type"] for node in _nodes((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    ]
    assert "Seq Scan" not in node_types, node_types
    assert {"Index Scan", "Index Only Scan"} & set(node_types), node_types
    # A user with a large trash reads a page straight off the index; a small trash may well be sorted.
    assert owner == "light" or "Sort" not in node_types, node_types
