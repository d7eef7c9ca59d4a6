"""Deleted lists: listed most recent first with what restoring each brings back, someone else's never, and at most
MAX_LISTS_PER_USER kept (deleting one more destroys the oldest for good, its tasks staying in the trash)."""

import uuid

import pytest

from tests.support.live_server import LiveServer

MOST = 3


def _deleted(user, **params) -> dict:
    response = user.client.get(f"/{user.id}/deleted-lists", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _list(user, name: str) -> dict:
    response = user.client.post(f"/{user.id}/lists", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


def test_deleted_lists_are_listed_newest_first_with_what_restoring_brings_back(alice, bob):
    work, home = _list(alice, "Work"), _list(alice, "Home")
    alice.create("report", list_id=work["id"])
    alice.create("slides", list_id=work["id"], completed=True)
    for deleted in (work, home):
        assert alice.client.delete(f"/{alice.id}/lists/{deleted['id']}").status_code == 204
    page = _deleted(alice)
    assert [item["list"]["name"] for item in page["items"]] == ["Home", "Work"]
    assert (page["items"][1]["list"]["open"], page["items"][1]["list"]["total"]) == (1, 2)
    assert page["items"][0]["deleted_at"] >= page["items"][1]["deleted_at"]
    first = _deleted(alice, limit=1)
    assert [item["list"]["id"] for item in first["items"]] == [home["id"]]
    second = _deleted(alice, limit=1, cursor=first["next_cursor"])
    assert [item["list"]["id"] for item in second["items"]] == [work["id"]] and second["next_cursor"] is None

    assert _deleted(bob)["items"] == []
    assert alice.client.get(f"/{bob.id}/deleted-lists").status_code == 403
    assert alice.client.post(f"/{alice.id}/lists/{work['id']}/restore").status_code == 200
    assert [item["list"]["name"] for item in _deleted(alice)["items"]] == ["Home"]


@pytest.fixture(scope="module")
def few_lists(make_settings):
    with LiveServer(make_settings(max_lists_per_user=MOST)) as server:
        yield server


def test_deleting_more_lists_than_one_may_keep_destroys_the_oldest(few_lists, issuer, db):
    user_id = "u" + uuid.uuid4().hex
    with few_lists.client(issuer.token(user_id)) as client:
        made = []
        for n in range(MOST + 2):
            made.append(client.post(f"/{user_id}/lists", json={"name": f"list {n}"}).json())
            client.post(f"/{user_id}/tasks", json={"title": f"task {n}", "list_id": made[-1]["id"]})
            assert client.delete(f"/{user_id}/lists/{made[-1]['id']}").status_code == 204
        kept = client.get(f"/{user_id}/deleted-lists").json()["items"]
        assert [item["list"]["name"] for item in kept] == [f"list {n}" for n in range(MOST + 1, 1, -1)]
        (stored,) = db.execute("SELECT count(*) FROM trashed_lists WHERE user_id = %s", (user_id,)).fetchone()
        assert stored == MOST
        assert client.post(f"/{user_id}/lists/{made[0]['id']}/restore").status_code == 404
        # Its task is still in the trash, and comes back to the Inbox.
        first_task = next(
            i["task"] for i in client.get(f"/{user_id}/trash").json()["items"] if i["task"]["title"] == "task 0"
        )
        back = client.post(f"/{user_id}/trash/{first_task['id']}/restore").json()
        assert (back["title"], back["list_id"]) == ("task 0", None)
