"""Schemathesis attacks the live service with the contract, in-process: every check, every phase, stateful too."""

import os
import uuid
from pathlib import Path

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from tests.support.live_server import LiveServer

FUZZ_USER = "fuzz" + uuid.uuid4().hex
CONFIG = Path(__file__).with_name("schemathesis.toml")


def load_config(token: str, user_id: str) -> schemathesis.Config:
    os.environ["FUZZ_TOKEN"], os.environ["FUZZ_USER"] = token, user_id
    try:
        return schemathesis.Config.from_path(str(CONFIG))
    finally:
        del os.environ["FUZZ_TOKEN"], os.environ["FUZZ_USER"]


def _describe(event) -> list[str]:
    if isinstance(event, events.ScenarioFinished) and event.status in (Status.FAILURE, Status.ERROR):
        return [
            f"{event.phase} {event.label}: {check.name}: {check.failure_info.failure.title}\n"
            f"{check.failure_info.code_sample}"
            for checks in event.recorder.checks.values()
            for check in checks
            if check.failure_info
        ] or [f"{event.label}: {event.status}"]
    if isinstance(event, events.NonFatalError):
        return [f"{event.label}: {event.info.title}: {event.info.message}"]
    if isinstance(event, events.FatalError):
        return [f"fatal: {event.exception!r}"]
    return []


@pytest.fixture(scope="module")
def fuzzed(make_settings):
    # Event streams last a fifth of a second here: Schemathesis reads every answer to its end.
    with LiveServer(make_settings(event_stream_max_seconds=0.2)) as server:
        yield server


def test_schemathesis_finds_nothing(fuzzed, issuer):
    config = load_config(issuer.token(FUZZ_USER), FUZZ_USER)
    schema = schemathesis.openapi.from_url(fuzzed.url + "/api/openapi.json", config=config)
    phases_run, problems = set(), []
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseFinished):
            phases_run.add(event.phase.name)  # a StrEnum: "examples", "coverage", "fuzzing", "stateful", …
        problems.extend(_describe(event))
    assert not problems, "\n\n".join(problems)
    assert {"examples", "coverage", "fuzzing", "stateful"} <= {str(name) for name in phases_run}
