"""Listing: filters, every sort order, keyset pages that stay consistent, and cursors that cannot be forged."""

import itertools

import pytest


def _all_pages(user, limit: int, **params) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = user.client.get(f"/{user.id}/tasks", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def _ids(tasks) -> list[str]:
    return [task["id"] for task in tasks]


def test_pages_cover_everything_once_newest_first(alice):
    created = [alice.create(f"task {n}") for n in range(7)]
    pages = _all_pages(alice, limit=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert _ids(itertools.chain(*pages)) == _ids(reversed(created))


def test_default_page_is_fifty(alice, db):
    db.execute(
        "INSERT INTO tasks (user_id, title) SELECT %s, 'bulk ' || n FROM generate_series(1, 60) AS n", (alice.id,)
    )
    body = alice.client.get(f"/{alice.id}/tasks").json()
    assert len(body["items"]) == 50 and body["next_cursor"]


def test_pages_stay_correct_while_tasks_come_and_go(alice):
    originals = [alice.create(f"original {n}") for n in range(10)]
    first = alice.client.get(f"/{alice.id}/tasks", params={"limit": 4}).json()
    # Between pages: new tasks arrive and a task not yet seen is deleted.
    newcomers = [alice.create(f"newcomer {n}") for n in range(3)]
    unseen = originals[2]
    assert alice.client.delete(f"/{alice.id}/tasks/{unseen['id']}").status_code == 204
    rest, cursor = [], first["next_cursor"]
    while cursor:
        body = alice.client.get(f"/{alice.id}/tasks", params={"limit": 4, "cursor": cursor}).json()
        rest += body["items"]
        cursor = body["next_cursor"]
    seen = _ids(first["items"]) + _ids(rest)
    assert len(seen) == len(set(seen)), "no task is repeated"
    expected = [task["id"] for task in reversed(originals) if task is not unseen]
    assert seen == expected, "no surviving task is skipped, and the order holds"
    assert not set(_ids(newcomers)) & set(seen)


SORTS = {
    "created": lambda t: (t["created_at"], t["id"]),
    "updated": lambda t: (t["updated_at"], t["id"]),
    "title": lambda t: (t["title"], t["id"]),
    "due": lambda t: (t["due_at"] or "9999", t["id"]),
}


@pytest.mark.parametrize("sort", [*SORTS, *(f"-{name}" for name in SORTS)])
def test_every_sort_order_pages_totally(alice, sort):
    titles = ["delta", "alpha", "charlie", "alpha", "bravo", "echo", "alpha"]
    dues = [
        "2026-12-03T00:00:00Z",
        None,
        "2026-12-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
        None,
        "2026-12-02T00:00:00Z",
        None,
    ]
    tasks = [alice.create(title, due_at=due) for title, due in zip(titles, dues, strict=True)]
    alice.client.put(f"/{alice.id}/tasks/{tasks[0]['id']}", json={"description": "touched last"})
    tasks = [alice.client.get(f"/{alice.id}/tasks/{task['id']}").json() for task in tasks]
    key = SORTS[sort.lstrip("-")]
    expected = sorted(tasks, key=key, reverse=sort.startswith("-"))
    pages = _all_pages(alice, limit=2, sort=sort)
    assert _ids(itertools.chain(*pages)) == _ids(expected)


def test_status_priority_and_due_filters(alice):
    done = alice.create("done", completed=True, priority="high", due_at="2026-12-01T10:00:00Z")
    open_high = alice.create("open high", priority="high", due_at="2026-12-05T10:00:00Z")
    open_low = alice.create("open low", priority="low")

    def listed(**params):
        return set(_ids(alice.client.get(f"/{alice.id}/tasks", params=params).json()["items"]))

    assert listed(status="completed") == {done["id"]}
    assert listed(status="pending") == {open_high["id"], open_low["id"]}
    assert listed(status="all") == {done["id"], open_high["id"], open_low["id"]}
    assert listed(priority="high") == {done["id"], open_high["id"]}
    assert listed(due_before="2026-12-03T00:00:00Z") == {done["id"]}
    assert listed(due_after="2026-12-03T00:00:00+00:00") == {open_high["id"]}
    assert listed(status="pending", priority="high", due_after="2026-11-01T00:00:00Z") == {open_high["id"]}


def test_search_finds_words_in_title_or_description(alice, bob):
    milk = alice.create("Buy milk", description="semi-skimmed")
    report = alice.create("Write report", description="include the milk budget")
    alice.create("Walk the dog")
    bob.create("Buy milk too")

    def found(q):
        return set(_ids(alice.client.get(f"/{alice.id}/tasks", params={"q": q}).json()["items"]))

    assert found("milk") == {milk["id"], report["id"]}
    assert found("MILK budget") == {report["id"]}
    assert found('"buy milk"') == {milk["id"]}
    assert found("milk -report") == {milk["id"]}
    assert found("nothing-like-this") == set()
    assert found("!!!") == set()


def _cursor_for(user, **params) -> str:
    cursor = user.client.get(f"/{user.id}/tasks", params={"limit": 1, **params}).json()["next_cursor"]
    assert cursor
    return cursor


def _bad_cursor(response, words: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "cursor" and words in error["message"]


def test_edited_cursor_is_400(alice):
    alice.create("one"), alice.create("two")
    cursor = _cursor_for(alice)
    body, kid, signature = cursor.split(".")
    for forged in (
        body[:-1] + ("A" if body[-1] != "A" else "B") + f".{kid}.{signature}",
        f"{body}.{kid}.{signature[::-1]}",
    ):
        _bad_cursor(alice.client.get(f"/{alice.id}/tasks", params={"cursor": forged}), "not a cursor this API made")


def test_cursor_from_another_sort_or_filter_is_400(alice):
    alice.create("one"), alice.create("two")
    cursor = _cursor_for(alice, sort="title")
    for params in ({"sort": "-title"}, {"sort": "title", "status": "pending"}, {"sort": "title", "q": "one"}):
        response = alice.client.get(f"/{alice.id}/tasks", params={**params, "cursor": cursor})
        _bad_cursor(response, "another listing")


def test_cursor_from_another_user_is_400_and_leaks_nothing(alice, bob):
    alice.create("alice's one"), alice.create("alice's two")
    bob.create("bob's")
    response = bob.client.get(f"/{bob.id}/tasks", params={"cursor": _cursor_for(alice)})
    _bad_cursor(response, "another listing")
    assert "alice" not in response.text


def test_page_size_limits(alice):
    for limit in (0, 101, -1):
        response = alice.client.get(f"/{alice.id}/tasks", params={"limit": limit})
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "limit"
    assert alice.client.get(f"/{alice.id}/tasks", params={"limit": 100}).status_code == 200


def test_bad_filter_values_are_400(alice):
    for params, field in (
        ({"status": "done"}, "status"),
        ({"sort": "priority"}, "sort"),
        ({"priority": "urgent"}, "priority"),
        ({"due_before": "tomorrow"}, "due_before"),
        ({"q": ""}, "q"),
    ):
        response = alice.client.get(f"/{alice.id}/tasks", params=params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["field"] == field


def test_extreme_due_filters_do_not_break(alice):
    task = alice.create("dated", due_at="2026-12-01T00:00:00Z")
    far = {"due_before": "9999-12-31T23:59:59-23:59", "due_after": "0001-01-01T00:00:00+23:59"}
    assert _ids(alice.client.get(f"/{alice.id}/tasks", params=far).json()["items"]) == [task["id"]]


def test_richer_tasks_default_and_normalise(alice):
    plain = alice.create("plain")
    assert plain["priority"] == "medium" and plain["due_at"] is None
    dated = alice.create("dated", priority="high", due_at="2026-12-01T10:00:00+02:00")
    assert dated["priority"] == "high" and dated["due_at"] == "2026-12-01T08:00:00Z"
    cleared = alice.client.put(f"/{alice.id}/tasks/{dated['id']}", json={"due_at": None, "priority": "low"}).json()
    assert cleared["due_at"] is None and cleared["priority"] == "low"


@pytest.mark.parametrize("due_at", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-01:00"])
def test_due_dates_outside_utc_years_are_422(alice, db, due_at):
    response = alice.client.post(f"/{alice.id}/tasks", json={"title": "far", "due_at": due_at})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "due_at"
    assert db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (alice.id,)).fetchone() == (0,)


@pytest.mark.parametrize("due_at", ["2026-13-01T00:00:00Z", "tomorrow", "2026-12-01"])
def test_malformed_due_dates_are_400(alice, due_at):
    response = alice.client.post(f"/{alice.id}/tasks", json={"title": "when?", "due_at": due_at})
    assert response.status_code == 400
    assert "RFC 3339" in response.json()["errors"][0]["message"]
