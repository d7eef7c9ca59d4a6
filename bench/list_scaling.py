"""Does a page of the list cost the same at 100 tasks and at 100,000? Prints both, and the ratio, per query.

Seeds one user with 100 tasks and another with 100,000 (same mix: a third per priority, half completed,
three quarters dated, one in ten mentions "milk", half tagged "work" whatever their state, one in five with a
reminder, half in a list and half in the Inbox), each with as many again in the trash, then times sequential requests for a page of 50 over
loopback, first pages and deep pages (reached with the cursor) alike, of the task list and of the trash.
"""

import json
import statistics
import time

import httpx
import psycopg

import list_bulk
from harness import RESULTS, fresh_database, percentile, service, token

SIZES = (100, 100_000)
REQUESTS = 300
QUERIES = {
    "newest first": {},
    "oldest first": {"sort": "created"},
    "by title": {"sort": "title"},
    "recently updated": {"sort": "-updated"},
    "by due date": {"sort": "due"},
    "pending": {"status": "pending"},
    "completed, by due": {"status": "completed", "sort": "due"},
    "high priority": {"priority": "high"},
    "due this month": {
        "due_after": "2026-11-01T00:00:00Z",
        "due_before": "2026-12-01T00:00:00Z",
        "sort": "due",
    },
    "search 'milk'": {"q": "milk"},
    "tagged 'work'": {"tag": "work"},
    "tagged 'work', pending, by due": {
        "tag": "work",
        "status": "pending",
        "sort": "due",
    },
    "by reminder": {"sort": "remind"},
    # Manual order (API 1.4): half the tasks are in the user's list "Work", half in the Inbox.
    "manual order, all lists": {"sort": "position"},
    "list 'Work', manual order": {"sort": "position", "list_id": "WORK"},
    "Inbox, manual order": {"sort": "position", "list_id": "inbox"},
    "list 'Work', pending, manual order": {
        "sort": "position",
        "list_id": "WORK",
        "status": "pending",
    },
}
# Stands for the user's own list's id in a query.
WORK = "WORK"
# What the trash list is asked: its one order, most recently deleted first.
TRASH_QUERIES = {"trash": {}}
SEED = """
INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, due_at, tags, remind_at,
                   created_at, updated_at, change_seq, list_id)
SELECT %(user)s,
       'Task ' || n || CASE WHEN n %% 10 = 0 THEN ' buy milk' ELSE '' END,
       'details of task ' || n,
       n %% 2 = 0, CASE WHEN n %% 2 = 0 THEN now() END,
       (ARRAY['low', 'medium', 'high'])[1 + n %% 3],
       CASE WHEN n %% 4 > 0 THEN timestamptz '2026-11-01' + (n %% 90) * interval '1 day' END,
       CASE WHEN (n / 2) %% 2 = 0 THEN ARRAY['errands', 'work'] WHEN n %% 3 = 0 THEN ARRAY['home'] ELSE '{}' END,
       CASE WHEN n %% 5 = 0 THEN timestamptz '2026-11-01' + (n %% 90) * interval '1 hour' END,
       now() - n * interval '1 second', now() - n * interval '1 second', n,
       CASE WHEN n %% 2 = 0 THEN %(list)s::uuid END
FROM generate_series(1, %(count)s) AS n
"""
SEED_TRASH = """
INSERT INTO trashed_tasks (id, user_id, title, completed, priority, tags, version, created_at, updated_at, deleted_at,
                           change_seq)
SELECT gen_random_uuid(), %(user)s, 'Deleted ' || n, false, 'medium', '{}', 1, now() - n * interval '1 second',
       now() - n * interval '1 second', now() - n * interval '1 second', %(count)s + n
FROM generate_series(1, %(count)s) AS n
"""


def seed(database_url: str) -> tuple[dict[int, str], dict[str, str]]:
    """The user of each size, and each user's list "Work"; every task's position comes from the column's
    default (migration 0012), as for any bulk load."""
    users = {size: f"bench{size}" for size in SIZES}
    lists = {}
    url = database_url.replace("postgresql://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "SET statement_timeout = 0"
        )  # the role's 5 s limit is for the service
        # Triggers off: one user's 100,000 changes numbered in one statement would bump one counter row 100,000
        # times (migration 0008); the rows are numbered here instead, and lists do not read the counts.
        connection.execute("SET session_replication_role = replica")
        for size, user in users.items():
            lists[user] = str(
                connection.execute(
                    "INSERT INTO task_lists (user_id, name, position) VALUES (%s, 'Work', 'a0') RETURNING id",
                    (user,),
                ).fetchone()[0]
            )
            connection.execute(SEED, {"user": user, "count": size, "list": lists[user]})
            connection.execute(SEED_TRASH, {"user": user, "count": size})
        connection.execute("VACUUM ANALYZE tasks")
        connection.execute("VACUUM ANALYZE trashed_tasks")
    return users, lists


def time_query(
    client: httpx.Client, path: str, params: dict, deep: bool
) -> list[float]:
    query = {"limit": 50, **params}
    if deep:  # twenty pages in: the cursor, not an offset, takes us there
        for _ in range(20):
            cursor = client.get(path, params=query).json()["next_cursor"]
            if not cursor:
                break
            query["cursor"] = cursor
    for _ in range(20):
        client.get(path, params=query)  # warm-up
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path, params=query)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return timings


def main() -> None:
    database_url = fresh_database()
    users, lists = seed(database_url)
    rows = []
    with service(database_url) as running:
        base = running.base
        queries = [("tasks", label, params) for label, params in QUERIES.items()]
        queries += [("trash", label, params) for label, params in TRASH_QUERIES.items()]
        for resource, label, params in queries:
            for deep in (False, True):
                if deep and "q" in params:
                    continue
                result = {
                    "query": label + (", page 21" if deep else ""),
                    "params": params,
                }
                for size, user in users.items():
                    own = {
                        name: lists[user] if value == WORK else value
                        for name, value in params.items()
                    }
                    with httpx.Client(
                        base_url=base,
                        headers={"Authorization": f"Bearer {token(user)}"},
                    ) as client:
                        timings = time_query(
                            client, f"/api/{user}/{resource}", own, deep and size > 1000
                        )
                    result[size] = {
                        "median_ms": statistics.median(timings),
                        "p95_ms": percentile(timings, 0.95),
                    }
                result["ratio"] = (
                    result[SIZES[1]]["median_ms"] / result[SIZES[0]]["median_ms"]
                )
                rows.append(result)
    lines = [
        "| Query (page of 50) | 100 tasks: median / p95 ms | 100,000 tasks: median / p95 ms | ratio of medians |",
        "|---|---|---|---|",
    ]
    for row in rows:
        small, large = row[SIZES[0]], row[SIZES[1]]
        lines.append(
            f"| {row['query']} | {small['median_ms']:.2f} / {small['p95_ms']:.2f} "
            f"| {large['median_ms']:.2f} / {large['p95_ms']:.2f} | {row['ratio']:.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    worst = max(rows, key=lambda row: row["ratio"])
    print(f"\nworst ratio: {worst['ratio']:.2f} ({worst['query']}); target ≤ 1.5")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "list-scaling.json").write_text(json.dumps(rows, indent=2))
    (RESULTS / "list-scaling.md").write_text(table + "\n")
    with service(database_url, **list_bulk.SETTINGS) as running:
        bulk = list_bulk.measure(running.base, database_url)
    print("\n" + list_bulk.table(bulk))
    list_bulk.write(bulk)


if __name__ == "__main__":
    main()
