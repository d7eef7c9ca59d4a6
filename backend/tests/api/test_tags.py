"""Tags: one normal form, filters that need every tag given, and the per-tag counts."""

import itertools

import pytest

from tests.api.test_listing import SORTS as BASE_SORTS


def _ids(tasks) -> list[str]:
    return [task["id"] for task in tasks]


def _listed(user, **params) -> list[str]:
    response = user.client.get(f"/{user.id}/tasks", params=params)
    assert response.status_code == 200, response.text
    return _ids(response.json()["items"])


def test_tags_are_trimmed_lower_cased_deduplicated_and_sorted(alice, db):
    task = alice.create("tagged", tags=["Work", "work ", "home", " HOME"])
    assert task["tags"] == ["home", "work"]
    (stored,) = db.execute("SELECT tags FROM tasks WHERE id = %s", (task["id"],)).fetchone()
    assert stored == ["home", "work"]
    assert alice.create("untagged")["tags"] == []


def test_put_replaces_tags_and_leaves_them_when_absent(alice):
    task = alice.create("tagged", tags=["a", "b"])
    path = f"/{alice.id}/tasks/{task['id']}"
    assert alice.client.put(path, json={"title": "renamed"}).json()["tags"] == ["a", "b"]
    assert alice.client.put(path, json={"tags": ["C", "a"]}).json()["tags"] == ["a", "c"]
    assert alice.client.put(path, json={"tags": []}).json()["tags"] == []


@pytest.mark.parametrize(
    ("tags", "field", "words"),
    [
        (["ok", "x" * 33], "tags.1", "1 to 32 characters"),
        (["a,b"], "tags.0", "commas"),
        (["tab\there"], "tags.0", "control characters"),
        (["   "], "tags.0", "visible character"),
        ([""], "tags.0", "must not be empty"),
        ([f"t{n}" for n in range(21)], "tags", "at most 20"),
        ("work", "tags", "type array"),
    ],
)
def test_bad_tags_are_refused_naming_the_tag(alice, tags, field, words):
    response = alice.client.post(f"/{alice.id}/tasks", json={"title": "t", "tags": tags})
    assert response.status_code == 400, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert {error["field"] for error in problem["errors"]} == {field}
    assert words in problem["detail"]


def test_tag_filter_needs_every_tag_and_normalises_the_query(alice, bob):
    both = alice.create("both", tags=["work", "urgent"])
    work = alice.create("work only", tags=["work"])
    alice.create("home", tags=["home"])
    bob.create("bob's work", tags=["work"])
    assert _listed(alice, tag="Work ") == [work["id"], both["id"]]
    assert _listed(alice, tag=["work", "URGENT"]) == [both["id"]]
    assert _listed(alice, tag=["work", "home"]) == []
    assert _listed(alice, tag="urgent,work") == [both["id"]], "tags cannot hold commas: a comma separates two"
    assert _listed(alice, tag="work", status="pending", sort="title") == [both["id"], work["id"]]


def test_a_bad_tag_filter_is_refused(alice):
    for bad in ("tab\there", "x" * 33):
        response = alice.client.get(f"/{alice.id}/tasks", params={"tag": ["ok", bad]})
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] == "tag"
    too_many = alice.client.get(f"/{alice.id}/tasks", params={"tag": [f"t{n}" for n in range(21)]})
    assert too_many.status_code == 400


SORTS = {**BASE_SORTS, "remind": lambda t: (t["remind_at"] or "9999", t["id"])}
# Tasks without a reminder come last in -remind order too.
DESCENDING = {**SORTS, "remind": lambda t: (t["remind_at"] or "0000", t["id"])}


@pytest.mark.parametrize("sort", [*SORTS, *(f"-{name}" for name in SORTS)])
def test_tag_filter_pages_every_sort_order(alice, sort):
    titles = ["delta", "alpha", "charlie", "alpha", "bravo", "echo", "alpha", "foxtrot"]
    dates = [None, "2026-12-03T00:00:00Z", "2026-12-01T00:00:00Z", None, "2026-12-01T00:00:00Z"] * 2
    tasks = [
        alice.create(title, due_at=date, remind_at=date, tags=["pick"] if n % 4 else ["pick", "other"])
        for n, (title, date) in enumerate(zip(titles, dates, strict=False))
    ]
    alice.create("not picked", tags=["other"])
    descending = sort.startswith("-")
    expected = sorted(tasks, key=(DESCENDING if descending else SORTS)[sort.lstrip("-")], reverse=descending)
    pages, params = [], {"tag": "pick", "sort": sort, "limit": 3}
    while True:
        body = alice.client.get(f"/{alice.id}/tasks", params=params).json()
        pages.append(body["items"])
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]
    assert _ids(itertools.chain(*pages)) == _ids(expected)


def test_a_cursor_belongs_to_its_tag_filter(alice):
    for n in range(3):
        alice.create(f"t{n}", tags=["a"])
    cursor = alice.client.get(f"/{alice.id}/tasks", params={"tag": "a", "limit": 1}).json()["next_cursor"]
    response = alice.client.get(f"/{alice.id}/tasks", params={"tag": "b", "limit": 1, "cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


def test_tag_counts(alice, bob):
    alice.create("1", tags=["home", "work"])
    alice.create("2", tags=["work"], completed=True)
    alice.create("3", tags=["Work"])
    alice.create("4")
    bob.create("bob's", tags=["work", "bob"])
    response = alice.client.get(f"/{alice.id}/tags")
    assert response.status_code == 200
    assert response.json() == {
        "items": [{"name": "home", "open": 1, "total": 1}, {"name": "work", "open": 2, "total": 3}]
    }
    assert bob.client.get(f"/{alice.id}/tags").status_code == 403
