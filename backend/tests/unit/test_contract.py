"""The contract is valid OpenAPI 3.0 and complete enough for clients and reviewers."""

import importlib
import inspect
import types

import pytest
import yaml
from openapi_spec_validator import validate

from taskapi.contract import HTTP_METHODS, SPEC_PATH, SnakeCaseResolver

SPEC = yaml.safe_load(SPEC_PATH.read_text())
OPERATIONS = [
    (path, method, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in HTTP_METHODS
]
IDS = [f"{method.upper()} {path}" for path, method, _ in OPERATIONS]


def test_contract_is_valid_openapi_3_0():
    assert SPEC["openapi"].startswith("3.0.")
    validate(SPEC)


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_is_documented(path, method, operation):
    for field in ("operationId", "summary", "description", "tags", "responses"):
        assert operation.get(field), f"{method.upper()} {path} has no {field}"
    success = [code for code in operation["responses"] if code.startswith("2")]
    assert success
    for code in success:
        content = operation["responses"][code].get("content")
        if content:
            assert all("example" in media or "examples" in media for media in content.values())
    if "requestBody" in operation:
        assert all("examples" in media for media in operation["requestBody"]["content"].values())


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_error_is_a_problem(path, method, operation):
    responses = SPEC["components"]["responses"]
    for code, response in operation["responses"].items():
        if code.startswith(("4", "5")):
            resolved = responses[response["$ref"].rsplit("/", 1)[-1]]
            assert list(resolved["content"]) == ["application/problem+json"], code


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_id_resolves_to_a_handler(path, method, operation):
    name = SnakeCaseResolver.handler_name(operation["x-openapi-router-controller"], operation["operationId"])
    module_name, function_name = name.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module_name), function_name))


def test_create_links_to_every_operation_on_the_task():
    links = SPEC["paths"]["/{user_id}/tasks"]["post"]["responses"]["201"]["links"]
    wanted = {"getTask", "updateTask", "completeTask", "deleteTask", "moveTask"}
    assert {link["operationId"] for link in links.values()} == wanted


def test_every_handler_is_in_the_contract():
    resolved = {
        SnakeCaseResolver.handler_name(operation["x-openapi-router-controller"], operation["operationId"])
        for _, _, operation in OPERATIONS
    }
    for module_name in {name.rsplit(".", 1)[0] for name in resolved}:
        module = importlib.import_module(module_name)
        handlers = {
            f"{module_name}.{name}"
            for name, function in vars(module).items()
            # type() rather than isinstance: a module may hold Connexion's request proxy, which must not be touched.
            if type(function) is types.FunctionType
            and inspect.iscoroutinefunction(function)
            and not name.startswith("_")
            and function.__module__ == module_name
        }
        assert handlers <= resolved, f"handlers with no operation in the contract: {handlers - resolved}"
