"""The contract (openapi/openapi.yaml): where it is, how its operationIds name handlers, and its request schemas
with $refs resolved, for whatever checks a body outside Connexion's own validation (a batch's operations, MCP's
tools). Below the application: anything may import it, and it imports nothing of the service."""

import functools
import re
from pathlib import Path

import yaml
from connexion.json_schema import resolve_refs
from connexion.resolver import Resolver

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def spec() -> dict:
    """The contract as written, a copy of its own for each caller (Connexion resolves its $refs in place)."""
    return yaml.safe_load(SPEC_PATH.read_text())


@functools.cache
def _resolved() -> dict:
    """The contract with every $ref resolved: read on first use, not at every worker's start."""
    return resolve_refs(yaml.safe_load(SPEC_PATH.read_text()))


def schemas() -> dict:
    """components.schemas, $refs resolved."""
    return _resolved()["components"]["schemas"]


def query_parameters(operation_id: str) -> dict[str, dict]:
    """The query parameters of an operation: name → its schema with its description, $refs resolved."""
    for item in _resolved()["paths"].values():
        for method, operation in item.items():
            if method in HTTP_METHODS and operation["operationId"] == operation_id:
                return {
                    parameter["name"]: {**parameter["schema"], "description": parameter.get("description", "")}
                    for parameter in operation.get("parameters", [])
                    if parameter["in"] == "query"
                }
    raise KeyError(operation_id)


class SnakeCaseResolver(Resolver):
    """operationId `createTask` under x-openapi-router-controller `taskapi.tasks.handlers`
    → taskapi.tasks.handlers.create_task."""

    @staticmethod
    def handler_name(controller: str, operation_id: str) -> str:
        return f"{controller}.{re.sub(r'(?<!^)(?=[A-Z])', '_', operation_id).lower()}"

    def resolve_operation_id(self, operation) -> str:
        return self.handler_name(operation.router_controller, operation.operation_id)


def operations(contract: dict):
    """Every operation object of the contract."""
    for item in contract["paths"].values():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield operation


def _pattern(path: str) -> str:
    """A contract path as a regular expression: each `{parameter}` one segment, a trailing slash allowed."""
    literal_parts = re.split(r"\{[^}/]+\}", path)
    return "[^/]+".join(re.escape(part) for part in literal_parts) + "/?$"


def allowed_methods(contract: dict):
    """The methods each path of the contract accepts, for 405's Allow header."""
    base = contract["servers"][0]["url"].rstrip("/")
    paths = list(contract["paths"].items())
    # One expression for every path, tried in the contract's order (the first alternative that matches wins, as a
    # scan would): one match per request instead of one per path.
    any_path = re.compile("|".join(f"(?P<p{number}>{_pattern(base + path)})" for number, (path, _) in enumerate(paths)))
    methods = [sorted(method.upper() for method in item if method in HTTP_METHODS) for _path, item in paths]

    def allowed(path: str) -> list[str]:
        found = any_path.match(path)
        return methods[int(found.lastgroup[1:])] if found else []

    return allowed
