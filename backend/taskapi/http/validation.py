"""Request validation against the contract, reporting every bad field instead of the first."""

import functools
import json
import re
import typing as t

import jsonschema_rs
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionRequest
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskapi.http import strict_json
from taskapi.http.problems import Problem, field_error, invalid, too_large

# A Better Auth token is about 1 KB; browsers send a few more headers. Proxies commonly allow 8 to 32 KB.
MAX_HEADER_BYTES = 16 * 1024
RFC3339_MESSAGE = "must be an RFC 3339 date-time such as 2026-12-01T09:00:00Z"


def _errors(location: str, error: ValidationError) -> list[dict]:
    """One entry per bad field, worded so a client developer can act on it without echoing huge values."""
    field = ".".join(str(part) for part in error.path)
    keyword, expected = error.validator, error.validator_value
    if keyword == "additionalProperties":
        allowed = ", ".join(error.schema.get("properties", {}))
        prefix = field + "." if field else ""
        return [
            field_error(location, prefix + name, f"is not a field of this request: remove it (allowed: {allowed})")
            for name in sorted(set(error.instance) - set(error.schema.get("properties", {})))
        ]
    if keyword == "required":
        return [field_error(location, error.message.split("'")[1], "is required")]
    if keyword == "pattern":
        message = error.schema.get("x-error-message", f"does not match the pattern {expected}")
    elif keyword == "maxLength":
        message = f"must be at most {expected} characters"
    elif keyword == "minLength":
        message = "must not be empty" if expected == 1 else f"must be at least {expected} characters"
    elif keyword == "maxItems":
        message = f"must have at most {expected} items"
    elif keyword == "minProperties":
        message = "must name at least one field to change"
    elif keyword == "type":
        message = f"must be {'null or ' if error.schema.get('nullable') else ''}of type {expected}"
    elif keyword == "format" and expected == "date-time":
        message = RFC3339_MESSAGE
    elif keyword in ("minimum", "maximum", "enum", "format"):
        message = error.message.replace(repr(error.instance), "the value", 1)
    else:
        message = error.message
    return [field_error(location, field, message)]


@functools.cache
def _ecma(pattern: str) -> re.Pattern:
    # The contract's patterns are ECMA-262, where `$` is the very end; Python's `$` also matches
    # before a final newline, which would let "alice\n" or a UUID plus "\n" through.
    return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))


def _pattern(validator, pattern: str, instance, schema):
    if validator.is_type(instance, "string") and not _ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_RequestSchemaValidator = extend(Draft4RequestValidator, {"pattern": _pattern})
_ParameterSchemaValidator = extend(Draft4Validator, {"pattern": _pattern})
_compiled: dict[int, tuple[dict, Draft4Validator]] = {}


def _validator_for(schema: dict, validator_class) -> Draft4Validator:
    """Built once per schema (Connexion would build one per request); the schema is kept alive with it."""
    if id(schema) not in _compiled:
        _compiled[id(schema)] = (schema, validator_class(schema, format_checker=Draft4Validator.FORMAT_CHECKER))
    return _compiled[id(schema)][1]


def _as_json_schema(schema: t.Any) -> t.Any:
    """An OpenAPI 3.0 schema as plain JSON Schema: `nullable: true` admits null (its type and enum), as Connexion's
    validators read it."""
    if isinstance(schema, list):
        return [_as_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    plain = {name: _as_json_schema(value) for name, value in schema.items() if name != "nullable"}
    if schema.get("nullable") is True:
        if isinstance(plain.get("type"), str):
            plain["type"] = [plain["type"], "null"]
        if "enum" in plain:
            plain["enum"] = [*plain["enum"], None]
    return plain


_fast_validators: dict[int, tuple[dict, t.Any]] = {}


def _valid_at_once(schema: dict, value: t.Any) -> bool:
    """Whether `value` is valid by `schema`, told by jsonschema-rs (compiled once per schema): true is final; false
    (or a schema it cannot take) leaves the decision, and the wording of every error, to the validators above. It
    is never the looser of the two: the schema it reads admits exactly what Connexion's Draft 4 reading admits."""
    if id(schema) not in _fast_validators:
        try:
            validator = jsonschema_rs.Draft4Validator(_as_json_schema(schema), validate_formats=True)
        except (ValueError, jsonschema_rs.ValidationError):
            validator = None
        _fast_validators[id(schema)] = (schema, validator)
    validator = _fast_validators[id(schema)][1]
    return validator is not None and validator.is_valid(value)


def request_body_errors(schema: dict, body: t.Any) -> list[dict]:
    """Every way `body` breaks the request body schema `schema`, by field."""
    if _valid_at_once(schema, body):
        return []
    validator = _validator_for(schema, _RequestSchemaValidator)
    errors = [entry for error in validator.iter_errors(body) for entry in _errors("body", error)]
    return sorted(errors, key=lambda entry: entry["field"])


# No body at all, as opposed to a JSON `null` body, which the schema refuses.
_ABSENT = object()
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)


class BodyValidator(JSONRequestBodyValidator):
    """JSON bodies: strict UTF-8, readable JSON errors, and every schema violation at once."""

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        # Connexion misses `; charset=` after a space, so read it here: JSON is UTF-8 (RFC 8259).
        charset = _CHARSET.search(Headers(scope=scope).get("content-type", ""))
        if charset and charset.group(1).lower() not in {"utf-8", "utf8"}:
            raise Problem(415, f"The body must be UTF-8 encoded JSON, not charset={charset.group(1)}.")
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return _ABSENT
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"is not valid UTF-8 (bad byte at position {error.start})"
            raise invalid([field_error("body", "", message)]) from None
        try:
            body = strict_json.loads(text)
        except strict_json.StrictJsonError as error:
            raise invalid([field_error("body", "", str(error))]) from None
        try:
            # A lone "\\ud800" escape decodes to a string that UTF-8 (and so Postgres) cannot hold.
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise invalid([field_error("body", "", "contains an unpaired UTF-16 surrogate escape")]) from None
        return body

    def _validate(self, body: t.Any) -> None:
        if body is _ABSENT:
            if self._required:
                raise invalid([field_error("body", "", "is required: send a JSON object")])
            return
        errors = request_body_errors(self._schema, body)
        if errors:
            raise invalid(errors)


class ParametersValidator(ParameterValidator):
    """Path and query parameters, all problems reported together."""

    def validate_request(self, request: ConnexionRequest) -> None:
        errors = []
        if self.strict_validation:
            for name in sorted(self.validate_query_parameter_list(request, self.security_query_params)):
                errors.append(field_error("query", name, "is not a parameter of this operation: remove it"))
        sources = {"path": request.path_params, "query": request.query_params, "header": request.headers}
        for location, read in sources.items():
            for param in self.parameters.get(location, []):
                value = read.get(param["name"])
                if value is None:
                    if param.get("required"):
                        errors.append(field_error(location, param["name"], "is required"))
                    continue
                if _valid_at_once(param["schema"], value):
                    continue
                validator = _validator_for(param["schema"], _ParameterSchemaValidator)
                for error in validator.iter_errors(value):
                    errors.extend({**entry, "field": param["name"]} for entry in _errors(location, error))
        if errors:
            raise invalid(errors)


class RequestSizeLimits:
    """Refuses header sets over MAX_HEADER_BYTES, and bodies over the limit before they are read whole.

    uvicorn's HTTP parser (httptools) takes headers of any size, so they are bounded here, before anything
    else reads them (a 10 MB header used to be carried through every middleware). A declared Content-Length
    over the limit is refused at once. A chunked body (no Content-Length) is buffered up to the limit and
    replayed with a Content-Length, because Connexion reads a body only when one is declared.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES:
            raise Problem(
                431,
                f"The request's headers are larger than {MAX_HEADER_BYTES} bytes together; send fewer or smaller.",
                kind="request-headers-too-large",
            )
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                raise too_large(self.limit)
            return await self.app(scope, receive, send)
        if b"chunked" not in headers.get(b"transfer-encoding", b""):
            return await self.app(scope, receive, send)
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                raise too_large(self.limit)
        replayed = [(name, value) for name, value in scope["headers"] if name != b"transfer-encoding"]
        scope = {**scope, "headers": [*replayed, (b"content-length", str(len(body)).encode())]}
        pending = [{"type": "http.request", "body": bytes(body), "more_body": False}]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)
