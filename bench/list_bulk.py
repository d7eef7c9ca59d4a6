"""What one request that moves a whole list costs: deleting a list of 10,000 tasks (they go to the trash with it),
restoring it (they come back), and a move that makes its 10,000 tasks rebalance to short keys. Each is one
statement over every row, so each row's triggers (its change number, its list's counts) decide the time.

Run alone (`python bench/list_bulk.py`) or as part of `make bench-list`; prints a table and writes
bench/results/list-bulk.{json,md}.
"""

import json
import statistics
import time

import httpx
import psycopg
from fractional_indexing import generate_key_between

from harness import RESULTS, fresh_database, service, token

SIZE = 10_000
ROUNDS = 3
# Room for the list and its tasks within the quota, and time for the slowest statement.
SETTINGS = {"MAX_TASKS_PER_USER": 2 * SIZE}
SEED = """
INSERT INTO tasks (user_id, title, list_id, position, change_seq)
SELECT %(user)s, 'Task ' || n, %(list)s::uuid, position_key(n + 2), n FROM generate_series(1, %(count)s) AS n
"""


def _crowded_pair() -> tuple[str, str]:
    """Two neighbouring keys with no key of 64 characters or fewer between them: a move there rebalances."""
    low, high = "a1", "a2"
    while len(generate_key_between(low, high)) <= 64:
        high = generate_key_between(low, high)
    return low, high


def seed(database_url: str, user: str) -> tuple[str, str]:
    """The user's list of SIZE tasks (triggers off while loading, numbered here), and the task to move."""
    low, high = _crowded_pair()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SET statement_timeout = 0")
        connection.execute("SET session_replication_role = replica")
        list_id = str(
            connection.execute(
                "INSERT INTO task_lists (user_id, name, position, total, open) VALUES (%s, 'Big', 'a0', %s, %s) "
                "RETURNING id",
                (user, SIZE + 2, SIZE + 2),
            ).fetchone()[0]
        )
        connection.execute(SEED, {"user": user, "count": SIZE, "list": list_id})
        for title, position in (("low", low), ("high", high)):
            connection.execute(
                "INSERT INTO tasks (user_id, title, list_id, position) VALUES (%s, %s, %s, %s)",
                (user, title, list_id, position),
            )
        connection.execute(
            "INSERT INTO task_counts (user_id, live, change_seq) VALUES (%s, %s, %s)",
            (user, SIZE + 2, SIZE + 2),
        )
        connection.execute("VACUUM ANALYZE tasks")
    return list_id, low


def _timed(request) -> float:
    started = time.perf_counter()
    response = request()
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code in (200, 204), response.text
    return elapsed


def measure(base: str, database_url: str) -> list[dict]:
    user = "bulk" + str(int(time.time()))
    list_id, _ = seed(database_url, user)
    timings: dict[str, list[float]] = {
        "delete the list": [],
        "restore the list": [],
        "rebalance (a move)": [],
    }
    headers = {"Authorization": f"Bearer {token(user)}"}
    with httpx.Client(
        base_url=f"{base}/api/{user}", headers=headers, timeout=120
    ) as client:
        ids = {
            task["title"]: task["id"]
            for task in _titled(client, list_id, ("low", "Task 1"))
        }
        for _ in range(ROUNDS):
            timings["delete the list"].append(
                _timed(lambda: client.delete(f"/lists/{list_id}"))
            )
            timings["restore the list"].append(
                _timed(lambda: client.post(f"/lists/{list_id}/restore"))
            )
        move = {"after": ids["low"]}
        timings["rebalance (a move)"].append(
            _timed(lambda: client.post(f"/tasks/{ids['Task 1']}/move", json=move))
        )
    return [
        {"operation": name, "tasks": SIZE + 2, "median_ms": statistics.median(ms)}
        for name, ms in timings.items()
    ]


def _titled(client: httpx.Client, list_id: str, titles: tuple[str, ...]) -> list[dict]:
    found = []
    for title in titles:
        items = client.get(
            "/tasks", params={"list_id": list_id, "q": title, "limit": 100}
        ).json()["items"]
        found += [item for item in items if item["title"] == title]
    return found


def table(rows: list[dict]) -> str:
    lines = ["| One request on a list of 10,002 tasks | median ms |", "|---|---|"]
    lines += [f"| {row['operation']} | {row['median_ms']:.0f} |" for row in rows]
    return "\n".join(lines)


def write(rows: list[dict]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "list-bulk.json").write_text(json.dumps(rows, indent=2))
    (RESULTS / "list-bulk.md").write_text(table(rows) + "\n")


def main() -> None:
    database_url = fresh_database()
    with service(database_url, **SETTINGS) as running:
        rows = measure(running.base, database_url)
    print(table(rows))
    write(rows)


if __name__ == "__main__":
    main()
