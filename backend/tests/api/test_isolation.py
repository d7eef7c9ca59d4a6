"""FR-002 / FR-008 / SC-004: nobody reaches another user's tasks, whatever they try."""

import asyncio

import httpx

SNAPSHOT = "SELECT id, title, description, completed, updated_at FROM tasks WHERE user_id = %s ORDER BY id"


def _forbidden(response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:taskapi:problem:forbidden"


def test_my_token_on_your_path_is_403_for_every_method(alice, bob, db):
    task = bob.create("Bob's secret", description="do not read")
    before = db.execute(SNAPSHOT, (bob.id,)).fetchall()
    on_bob = f"/{bob.id}/tasks"
    for response in (
        alice.client.get(on_bob),
        alice.client.post(on_bob, json={"title": "planted by alice"}),
        alice.client.get(f"{on_bob}/{task['id']}"),
        alice.client.put(f"{on_bob}/{task['id']}", json={"title": "hijacked"}),
        alice.client.patch(f"{on_bob}/{task['id']}/complete"),
        alice.client.delete(f"{on_bob}/{task['id']}"),
    ):
        _forbidden(response)
        assert "Bob's secret" not in response.text
    assert db.execute(SNAPSHOT, (bob.id,)).fetchall() == before


def test_your_task_under_my_path_is_403_and_unchanged(alice, bob, db):
    task = bob.create("Bob's", description="private")
    before = db.execute(SNAPSHOT, (bob.id,)).fetchall()
    under_alice = f"/{alice.id}/tasks/{task['id']}"
    for response in (
        alice.client.get(under_alice),
        alice.client.put(under_alice, json={"completed": True}),
        alice.client.patch(under_alice + "/complete", json={"completed": True}),
        alice.client.delete(under_alice),
    ):
        _forbidden(response)
        assert "private" not in response.text
    assert db.execute(SNAPSHOT, (bob.id,)).fetchall() == before
    assert alice.client.get(f"/{alice.id}/tasks").json()["items"] == []


def test_twenty_users_creating_concurrently_each_see_only_their_own(new_user, db):
    users = [new_user() for _ in range(20)]
    per_user = 5

    async def create_all(user) -> list[str]:
        async with httpx.AsyncClient(base_url=str(user.client.base_url), headers=dict(user.client.headers)) as c:
            responses = await asyncio.gather(
                *(c.post(f"/{user.id}/tasks", json={"title": f"{user.id} #{n}"}) for n in range(per_user))
            )
        assert all(response.status_code == 201 for response in responses)
        return [response.json()["id"] for response in responses]

    async def run() -> list[list[str]]:
        return await asyncio.gather(*(create_all(user) for user in users))

    created = asyncio.run(run())
    for user, ids in zip(users, created, strict=True):
        listed = user.client.get(f"/{user.id}/tasks").json()["items"]
        assert sorted(task["id"] for task in listed) == sorted(ids)
        assert all(task["user_id"] == user.id and task["title"].startswith(user.id) for task in listed)
        assert db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (user.id,)).fetchone() == (per_user,)
