"""The operator's view: health and readiness, request ids, one structured log line per request, metrics, CORS."""

import json
import logging
import time

import httpx
import pytest

from tests.support.issuer import METRICS_TOKEN, Issuer
from tests.support.live_server import LiveServer


def test_healthz_and_readyz_need_no_token(server):
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get("/api/healthz").json() == {"status": "ok"}
        ready = anonymous.get("/api/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "signing_keys": "ok"}}


def test_readyz_is_503_naming_what_is_missing(make_settings):
    dead_database = make_settings(database_url="postgresql://nobody@127.0.0.1:9/none")
    keys = Issuer()
    keys.down = True
    no_keys = make_settings(jwt_jwks_url=keys.url + "/api/auth/jwks", jwks_min_refetch_interval=0)
    try:
        for settings, missing in ((dead_database, "database unreachable"), (no_keys, "signing_keys unreachable")):
            with LiveServer(settings) as live, httpx.Client(base_url=live.url) as client:
                response = client.get("/api/readyz")
                assert response.status_code == 503 and response.headers["retry-after"]
                assert missing in response.json()["detail"]
                assert client.get("/api/healthz").status_code == 200, "alive even when not ready"
    finally:
        keys.close()


def test_request_id_is_echoed_or_made_and_is_in_every_problem(alice):
    mine = alice.client.get(f"/{alice.id}/tasks", headers={"X-Request-ID": "trace-abc.123"})
    assert mine.headers["x-request-id"] == "trace-abc.123"
    made = alice.client.get(f"/{alice.id}/tasks", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces" and len(made.headers["x-request-id"]) == 32
    problem = alice.client.post(f"/{alice.id}/tasks", json={})
    assert problem.json()["request_id"] == problem.headers["x-request-id"]


def test_one_log_line_per_request_without_secrets_or_content(alice, caplog):
    def logged() -> list:
        return [record for record in caplog.records if getattr(record, "fields", {}).get("request_id") == "log-check-1"]

    with caplog.at_level(logging.INFO, logger="taskapi.request"):
        alice.client.post(
            f"/{alice.id}/tasks",
            json={"title": "secret title", "description": "secret notes"},
            headers={"X-Request-ID": "log-check-1"},
        )
        # The line is written once the answer has gone out: the client may read the answer first.
        deadline = time.monotonic() + 5
        while not logged() and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = logged()
    assert len(lines) == 1
    fields = lines[0].fields
    assert fields["user_id"] == alice.id and fields["operation"] == "createTask" and fields["status"] == 201
    assert fields["latency_ms"] > 0 and fields["method"] == "POST"
    from taskapi.http.logs import JsonFormatter

    text = JsonFormatter().format(lines[0])
    assert json.loads(text)["request_id"] == "log-check-1"
    for secret in ("secret title", "secret notes", alice.token, alice.token.split(".")[1]):
        assert secret not in text


def test_metrics_count_requests_by_operation_and_status(alice, server):
    alice.client.get(f"/{alice.id}/tasks/5f0c3c3e-8a47-4d6f-9a0e-3b8f7c1d2e4a")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as client:
        exposition = client.get("/metrics")
    assert exposition.status_code == 200 and exposition.headers["content-type"].startswith("text/plain")
    text = exposition.text
    assert 'taskapi_requests_total{method="GET",operation="getTask",status="404"}' in text
    assert "taskapi_request_duration_seconds_bucket" in text
    assert 'taskapi_db_pool_connections{state="in_use"}' in text


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-of-enough-length", f"Basic {METRICS_TOKEN}"])
def test_metrics_answer_only_to_the_metrics_token(server, alice, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for credentials in (headers, {"Authorization": f"Bearer {alice.token}"}):
        with httpx.Client(base_url=server.url, headers=credentials) as client:
            refused = client.get("/metrics")
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["cache-control"] == "no-store"
        assert "taskapi_requests_total" not in refused.text


def test_metrics_are_off_without_a_token(make_settings):
    with LiveServer(make_settings(metrics_token=None)) as live, httpx.Client(base_url=live.url) as client:
        off = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert off.status_code == 404 and "METRICS_TOKEN" in off.json()["detail"]


def test_cors_allows_listed_origins_only(make_settings, issuer):
    settings = make_settings(cors_origins="https://app.example.com, http://localhost:3000")
    with LiveServer(settings) as live, httpx.Client(base_url=live.url + "/api") as client:
        for method, path, headers in (
            ("GET", "/u1/tasks", "authorization"),
            ("POST", "/u1/tasks", "authorization, content-type, idempotency-key"),
            ("PUT", "/u1/tasks/x", "authorization, content-type, if-match"),
            ("PATCH", "/u1/tasks/x/complete", "authorization, content-type, if-match"),
            ("DELETE", "/u1/tasks/x", "authorization, if-match"),
            ("POST", "/u1/trash/x/restore", "authorization"),
            ("GET", "/u1/changes", "authorization"),
            ("GET", "/u1/events", "authorization, last-event-id"),
        ):
            preflight = client.options(
                path,
                headers={
                    "Origin": "https://app.example.com",
                    "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": headers,
                },
            )
            assert preflight.status_code == 200, (method, preflight.text)
            assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
            assert method in preflight.headers["access-control-allow-methods"]
        token = {"Authorization": f"Bearer {issuer.token('u1')}"}
        allowed = client.get("/u1/tasks", headers={**token, "Origin": "http://localhost:3000"})
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert {"ETag", "RateLimit", "Retry-After"} <= set(allowed.headers["access-control-expose-headers"].split(", "))
        stranger = client.get("/u1/tasks", headers={**token, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers
        refused = client.options(
            "/u1/tasks", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in refused.headers


def test_answers_with_tasks_are_private_and_problems_are_not_stored(alice, bob):
    task = alice.create("private")
    base = f"/{alice.id}"
    answers = [
        alice.client.post(f"{base}/tasks", json={"title": "another"}),
        alice.client.get(f"{base}/tasks"),
        alice.client.get(f"{base}/tasks/{task['id']}"),
        alice.client.get(f"{base}/tasks/{task['id']}", headers={"If-None-Match": f'"{task["id"][:8]}-1"'}),
        alice.client.put(f"{base}/tasks/{task['id']}", json={"title": "renamed"}),
        alice.client.patch(f"{base}/tasks/{task['id']}/complete"),
        alice.client.get(f"{base}/summary"),
        alice.client.get(f"{base}/tags"),
    ]
    assert [answer.status_code for answer in answers] == [201, 200, 200, 304, 200, 200, 200, 200]
    for answer in answers:
        assert answer.headers["cache-control"] == "private, no-cache", answer.request.url
        assert "Authorization" in answer.headers["vary"], answer.request.url
    for problem in (
        bob.client.get(f"{base}/tasks"),
        alice.client.get(f"{base}/tasks/5f0c3c3e-8a47-4d6f-9a0e-3b8f7c1d2e4a"),
        alice.client.post(f"{base}/tasks", json={}),
    ):
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.headers["cache-control"] == "no-store"
