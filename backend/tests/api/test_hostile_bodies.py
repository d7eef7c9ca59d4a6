"""Bodies built to break the JSON parser: each is a 400 problem naming the body, never a 500 (issue 18, item 4)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MISSING = "5f0c3c3e-8a47-4d6f-9a0e-3b8f7c1d2e4a"


def _refused_as_bad_body(response) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["errors"][0]["in"] == "body", body
    return body["errors"][0]["message"]


def _post(user, content: bytes):
    return user.client.post(f"/{user.id}/tasks", content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"title": "x", "priority": 1' + b"2" * 5000 + b"}", "number"),
        (b"[" * 50_000 + b"]" * 50_000, "nested"),
        (b'{"title": "x", "tags": ' + b"[" * 2_000 + b"]" * 2_000 + b"}", "nested"),
        (b'{"title": NaN}', "NaN"),
        (b'{"title": "x", "due_at": Infinity}', "Infinity"),
        (b'{"title": -Infinity}', "Infinity"),
        (b'{"title": "x", "title": "y"}', "title"),
    ],
)
def test_bodies_the_parser_refuses_are_400_naming_the_body(alice, db, content, message):
    assert message in _refused_as_bad_body(_post(alice, content))
    assert db.execute("SELECT count(*) FROM tasks WHERE user_id = %s", (alice.id,)).fetchone() == (0,)


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**60), max_value=10**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def _hostile_json(value) -> bytes:
    return json.dumps(value).encode()


_HOSTILE_BODIES = st.one_of(
    st.binary(max_size=200),
    _JSON_VALUES.map(_hostile_json),
    # A valid body with one field made hostile.
    st.sampled_from(['{"title": %s}', '{"completed": %s}', '{"title": "x", "tags": %s}', '{"due_at": %s}']).flatmap(
        lambda shape: st.one_of(
            st.sampled_from(["NaN", "Infinity", "-Infinity", '"\\ud800"', '"\\udfff x"', "1" + "0" * 5000]),
            st.integers(min_value=1, max_value=20_000).map(lambda depth: "[" * depth + "]" * depth),
            _JSON_VALUES.map(json.dumps),
        ).map(lambda field: (shape % field).encode())
    ),
    st.sampled_from([b'{"title": "a", "title": "b"}', b'{"completed": true, "completed": false}']),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=_HOSTILE_BODIES, operation=st.sampled_from(["create", "update", "complete"]))
def test_no_body_makes_a_write_answer_5xx(alice, content, operation):
    paths = {
        "create": ("POST", f"/{alice.id}/tasks"),
        "update": ("PUT", f"/{alice.id}/tasks/{MISSING}"),
        "complete": ("PATCH", f"/{alice.id}/tasks/{MISSING}/complete"),
    }
    method, path = paths[operation]
    response = alice.client.request(method, path, content=content, headers={"content-type": "application/json"})
    # Some generated bodies are valid (a create with a string title): those succeed; nothing may be a 5xx.
    assert response.status_code < 500, (content[:200], response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
