"""Connexion's per-operation set-up is done once (taskapi/http/connexion_once.py), and stays so across upgrades."""

import inspect

from connexion.decorators import parameter
from connexion.uri_parsing import OpenAPIURIParser

from taskapi.http import connexion_once, validation


def test_a_request_reads_no_signature_and_rebuilds_no_decorator(alice, monkeypatch):
    task = alice.create("warm-up")
    read, built, named = [], [], []
    signature, decorator_init, pythonic = inspect.signature, connexion_once._DecoratedOnce.__init__, parameter.pythonic
    monkeypatch.setattr(inspect, "signature", lambda *args, **kwargs: read.append(args) or signature(*args, **kwargs))
    monkeypatch.setattr(
        connexion_once._DecoratedOnce,
        "__init__",
        lambda self, *args, **kwargs: built.append(args) or decorator_init(self, *args, **kwargs),
    )
    monkeypatch.setattr(parameter, "pythonic", lambda name: named.append(name) or pythonic(name))
    parsers, validators, resolved = [], [], []
    parser_init, validator_init, resolve = (
        OpenAPIURIParser.__init__,
        validation.ParametersValidator.__init__,
        OpenAPIURIParser.resolve_query,
    )
    monkeypatch.setattr(
        OpenAPIURIParser, "__init__", lambda self, *args: parsers.append(args) or parser_init(self, *args)
    )
    monkeypatch.setattr(
        validation.ParametersValidator,
        "__init__",
        lambda self, *args, **kwargs: validators.append(args) or validator_init(self, *args, **kwargs),
    )
    monkeypatch.setattr(
        OpenAPIURIParser, "resolve_query", lambda self, query: resolved.append(query) or resolve(self, query)
    )

    answers = [
        alice.client.post(f"/{alice.id}/tasks", json={"title": "one more"}).status_code,
        alice.client.get(f"/{alice.id}/tasks", params={"limit": 5, "sort": "title"}).status_code,
        alice.client.get(f"/{alice.id}/tasks/{task['id']}").status_code,
        alice.client.put(f"/{alice.id}/tasks/{task['id']}", json={"title": "renamed"}).status_code,
        alice.client.patch(f"/{alice.id}/tasks/{task['id']}/complete").status_code,
        alice.client.delete(f"/{alice.id}/tasks/{task['id']}").status_code,
    ]

    assert answers == [201, 200, 200, 200, 200, 204]
    assert read == [], "a request read a function's signature: Connexion re-decorates per request again"
    assert built == [], "a request built a decorator"
    assert named == [], "a parameter name was converted again instead of taken from the cache"
    assert parsers == [], "a request built a URI parser"
    assert validators == [], "a request built a parameter validator"
    assert len(resolved) == len(answers), "a request's query parameters were resolved more than once"
