"""FR-009 / FR-010 / SC-005: every bad request is a 4xx problem that says what to fix; nothing is stored."""

import pytest

MISSING = "5f0c3c3e-8a47-4d6f-9a0e-3b8f7c1d2e4a"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["type"].startswith("urn:taskapi:problem:") and body["detail"]
    return body


def _post_raw(user, content, content_type: str = "application/json"):
    return user.client.post(f"/{user.id}/tasks", content=content, headers={"content-type": content_type})


def _field_errors(response) -> dict[str, str]:
    body = _problem(response, 400)
    messages: dict[str, str] = {}
    for error in body["errors"]:
        messages[error["field"]] = "; ".join(filter(None, [messages.get(error["field"]), error["message"]]))
    return messages


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"title": ""}, "title", "must not be empty"),
        ({"title": "   "}, "title", "visible character"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"title": "nul\u0000byte"}, "title", "control characters"),
        ({"title": "line\nbreak"}, "title", "control characters"),
        ({"title": "ok", "description": "x" * 1001}, "description", "at most 1000"),
        ({"title": "ok", "description": "bad\u0000"}, "description", "control characters"),
        ({"title": 42}, "title", "of type string"),
        ({"title": "ok", "completed": "yes"}, "completed", "of type boolean"),
        ({"title": "ok", "user_id": "someone-else"}, "user_id", "not a field"),
        ({"title": "ok", "id": MISSING}, "id", "not a field"),
        ({"title": "ok", "created_at": "2020-01-01T00:00:00Z"}, "created_at", "not a field"),
        ({}, "title", "is required"),
    ],
)
def test_bad_create_bodies_are_400_naming_the_field(alice, db, body, field, message):
    response = alice.client.post(f"/{alice.id}/tasks", json=body)
    errors = _field_errors(response)
    assert message in errors[field], errors
    assert field in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (alice.id,)).fetchone() == (0,)


def test_every_bad_field_is_reported_at_once(alice):
    errors = _field_errors(alice.client.post(f"/{alice.id}/tasks", json={"title": "", "completed": 1, "x": 1}))
    assert set(errors) == {"title", "completed", "x"}


def test_title_of_exactly_200_characters_is_accepted(alice):
    assert alice.create("x" * 200)["title"] == "x" * 200


def test_non_object_body_is_400(alice):
    assert "of type object" in _field_errors(alice.client.post(f"/{alice.id}/tasks", json=["title"]))[""]


def test_malformed_json_is_400(alice):
    response = _post_raw(alice, b'{"title": ')
    assert "not valid JSON" in _field_errors(response)[""]


def test_invalid_utf8_is_400(alice):
    response = _post_raw(alice, b'{"title": "\xff\xfe"}')
    assert "not valid UTF-8" in _field_errors(response)[""]


def test_lone_surrogate_is_400_not_500(alice):
    response = _post_raw(alice, b'{"title": "a\\ud800b"}')
    assert "surrogate" in _field_errors(response)[""]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type_is_415(alice, content_type):
    response = _post_raw(alice, b'{"title": "x"}', content_type)
    assert "application/json" in _problem(response, 415)["detail"]


def test_non_utf8_charset_is_415(alice):
    response = alice.client.post(
        f"/{alice.id}/tasks",
        content='{"title": "x"}'.encode("utf-16"),
        headers={"content-type": "application/json; charset=utf-16"},
    )
    assert "UTF-8" in _problem(response, 415)["detail"]


def test_body_over_one_mebibyte_is_413(alice):
    huge = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
    assert "1048576" in _problem(_post_raw(alice, huge), 413)["detail"]


def test_streamed_body_over_the_limit_is_413(alice):
    def chunks():
        yield b'{"title": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = _post_raw(alice, chunks())
    _problem(response, 413)


def test_empty_update_is_400(alice):
    task = alice.create()
    errors = _field_errors(alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={}))
    assert "at least one field" in errors[""]


def test_update_without_body_is_400(alice):
    task = alice.create()
    errors = _field_errors(alice.client.put(f"/{alice.id}/tasks/{task['id']}"))
    assert "is required" in errors[""]


def test_update_cannot_smuggle_owner(alice, db):
    task = alice.create()
    errors = _field_errors(alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"user_id": "bob"}))
    assert "user_id" in errors
    assert db.execute("SELECT user_id FROM tasks WHERE id = %s", (task["id"],)).fetchone() == (alice.id,)


def test_complete_with_wrong_type_is_400(alice):
    task = alice.create()
    assert "completed" in _field_errors(
        alice.client.patch(f"/{alice.id}/tasks/{task['id']}/complete", json={"completed": "true"})
    )


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "5f0c3c3e-8a47-4d6f-9a0e-3b8f7c1d2e4", "' OR 1=1 --"])
def test_malformed_task_ids_are_400(alice, bad_id):
    errors = _field_errors(alice.client.get(f"/{alice.id}/tasks/{bad_id}"))
    assert "UUID" in errors["id"]


def test_malformed_user_id_is_400(alice):
    assert "user id" in _field_errors(alice.client.get("/al!ce/tasks"))["user_id"]


def test_unknown_query_parameter_is_400(alice):
    assert "remove it" in _field_errors(alice.client.get(f"/{alice.id}/tasks", params={"owner": "bob"}))["owner"]


def test_method_not_allowed_lists_every_allowed_method(alice):
    response = alice.client.patch(f"/{alice.id}/tasks")
    _problem(response, 405)
    assert response.headers["allow"] == "GET, POST"
    response = alice.client.post(f"/{alice.id}/tasks/{MISSING}")
    _problem(response, 405)
    assert response.headers["allow"] == "DELETE, GET, PUT"


def test_unknown_path_is_404_problem(alice):
    _problem(alice.client.get("/nowhere"), 404)


def test_headers_over_16_kib_are_refused_with_431_before_anything_reads_them(alice):
    padding = {"X-Padding": "a" * (16 * 1024)}
    refused = alice.client.get(f"/{alice.id}/tasks", headers=padding)
    assert refused.status_code == 431, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:taskapi:problem:request-headers-too-large"
    assert alice.client.get(f"/{alice.id}/tasks", headers={"X-Padding": "a" * 8 * 1024}).status_code == 200
