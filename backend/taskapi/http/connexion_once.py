"""Connexion 3.3's per-request set-up, done once per operation instead.

On every request Connexion re-decorates the operation's handler (`AsyncOperation.fn` builds a new
StarletteDecorator, whose wrapper decorates again and reads the handler's signature), builds a new URI
parser, converts each parameter name to Python with regexes (`pythonic`, twice), and the bearer check reads
the token function's signature twice. None of it depends on the request. These subclasses keep Connexion's
behaviour and do that work when the API is added. `tests/api/test_connexion_once.py` fails if an upgrade
of Connexion stops calling them, or if a request reads a signature again.

Request validation, per request, also built a URI parser and a parameter validator, and resolved the path and
query parameters, which the handler's decorator then resolved again; Connexion's URI parser rebuilds its
parameters' schemas on every access, once per parameter. `RequestValidationOnce` builds parser and validators
once per operation and hands the handler the parameters it resolved.

The Swagger UI middleware also routes every request a second time, only to find that most are not for it;
`SwaggerUIForItsPathsOnly` lets through at once what cannot be one of its paths.
"""

import asyncio
import functools

from connexion import utils
from connexion.apps.asynchronous import AsyncApi, AsyncApp, AsyncOperation
from connexion.context import receive, scope
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import AsyncParameterDecorator, pythonic
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.security import NO_VALUE, BearerSecurityHandler, OAuthResponseProblem
from connexion.uri_parsing import OpenAPIURIParser

# Parameter names come from the contract (strict validation refuses any other), so the cache stays small.
_pythonic = functools.lru_cache(maxsize=512)(pythonic)
# Where request validation leaves the path and query parameters it resolved, for the handler's arguments.
_RESOLVED = "taskapi.resolved_parameters"
# Body validators kept per operation, by media type and charset (a client may send any charset: a bound).
_BODY_VALIDATORS_KEPT = 8


class UriParserOnce(OpenAPIURIParser):
    """Connexion's OpenAPI parser, with its parameters' schemas by name built once (for `uri_parser_class`)."""

    def __init__(self, param_defns, body_defn) -> None:
        super().__init__(param_defns, body_defn)
        self._param_schemas = {name: defn.get("schema", {}) for name, defn in self._param_defns.items()}

    @property
    def param_schemas(self):
        return self._param_schemas


class _ParametersOnce(AsyncParameterDecorator):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.sanitize_fn is pythonic:
            self.sanitize_fn = _pythonic


class _DecoratedOnce(StarletteDecorator):
    """The handler decorated once; a request only builds its ConnexionRequest."""

    def __init__(self, uri_parser, **kwargs) -> None:
        super().__init__(**kwargs)
        self._uri_parser = uri_parser

    @property
    def _parameter_decorator_cls(self):
        return _ParametersOnce

    def __call__(self, function):
        decorated = self.decorate(function)
        framework, uri_parser = self.framework, self._uri_parser

        async def handle():
            request = framework.get_request(uri_parser=uri_parser, scope=scope, receive=receive)
            resolved = scope.get("extensions", {}).get(_RESOLVED)
            if resolved is not None:  # the same parser resolved them during validation
                request._path_params, request._query_params = resolved
            return await decorated(request)

        return handle


class _OperationOnce(AsyncOperation):
    @classmethod
    def from_operation(cls, operation, *, pythonic_params: bool, jsonifier) -> "_OperationOnce":
        made = super().from_operation(operation, pythonic_params=pythonic_params, jsonifier=jsonifier)
        uri_parser = operation.uri_parser_class(operation.parameters, operation.body_definition())
        made._handle = _DecoratedOnce(uri_parser, pythonic_params=pythonic_params, jsonifier=jsonifier)(made._fn)
        return made

    @property
    def fn(self):
        return self._handle


class _ApiOnce(AsyncApi):
    def make_operation(self, operation) -> _OperationOnce:
        return _OperationOnce.from_operation(operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)


class BearerOnce(BearerSecurityHandler):
    """The bearer check, with which keywords the token function takes decided once (for `security_map`)."""

    def _generic_check(self, func, exception_msg):
        wants_scopes = self._accepts_kwarg(func, self.required_scopes_kw)
        wants_request = self._accepts_kwarg(func, self.request_kw)

        async def check(request, *args, required_scopes=None):
            kwargs = {}
            if wants_scopes:
                kwargs[self.required_scopes_kw] = required_scopes
            if wants_request:
                kwargs[self.request_kw] = request
            token_info = func(*args, **kwargs)
            while asyncio.iscoroutine(token_info):
                token_info = await token_info
            if token_info is NO_VALUE:
                return NO_VALUE
            if token_info is None:
                raise OAuthResponseProblem(detail=exception_msg)
            return token_info

        return check


class _ValidationOnce(RequestValidationOperation):
    """Connexion's request validation (RequestValidationOperation.__call__, 3.3), with its parser and validators
    built when the operation is, and the parameters it resolved handed on in the scope."""

    def __init__(self, next_app, **kwargs) -> None:
        super().__init__(next_app, **kwargs)
        operation = self._operation
        self._uri_parser = operation.uri_parser_class(operation.parameters, operation.body_definition())
        self._parameters = self._validator_map["parameter"](
            operation.parameters,
            uri_parser=self._uri_parser,
            strict_validation=self.strict_validation,
            security_query_params=self.security_query_params,
        )
        self._bodies: dict[tuple[str, str], object] = {}

    def _body_validator(self, mime_type: str, encoding: str, schema: dict):
        """The validator for bodies of this type, or None when no validator is registered for it."""
        key = (mime_type, encoding)
        if key in self._bodies:
            return self._bodies[key]
        try:
            validator_cls = self._validator_map["body"][mime_type]
        except KeyError:
            validator = None
        else:
            validator = validator_cls(
                schema=schema,
                required=self._operation.request_body.get("required", False),
                nullable=utils.is_nullable(self._operation.body_definition(mime_type)),
                encoding=encoding,
                strict_validation=self.strict_validation,
                uri_parser=self._uri_parser,
            )
        if len(self._bodies) < _BODY_VALIDATORS_KEPT:
            self._bodies[key] = validator
        return validator

    async def __call__(self, scope, receive, send):
        request = ConnexionRequest(scope, uri_parser=self._uri_parser)
        self._parameters.validate_request(request)
        scope.setdefault("extensions", {})[_RESOLVED] = (request.path_params, request.query_params)
        mime_type, encoding = self.extract_content_type(scope["headers"])
        self.validate_mime_type(mime_type)
        schema = self._operation.body_schema(mime_type)
        if schema:
            validator = self._body_validator(mime_type, encoding, schema)
            if validator is not None:
                receive, scope = await validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)


class _ValidationApiOnce(RequestValidationAPI):
    def make_operation(self, operation) -> _ValidationOnce:
        return _ValidationOnce(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class RequestValidationOnce(RequestValidationMiddleware):
    api_cls = _ValidationApiOnce


def decorate_once(app: AsyncApp) -> None:
    """Make `app` build its operations with the classes above; call before `add_api`."""
    app._middleware_app.api_cls = _ApiOnce


class SwaggerUIForItsPathsOnly(SwaggerUIMiddleware):
    """Serves the contract (`…/openapi.json`, `…/openapi.yaml`) and the UI (`…/ui…`); everything else goes by."""

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and "/ui" not in path and not path.endswith(("/openapi.json", "/openapi.yaml")):
            return await self.app(scope, receive, send)
        return await super().__call__(scope, receive, send)


def validate_once(app: AsyncApp) -> None:
    """Put RequestValidationOnce in the place of Connexion's request validation; call after the last
    `add_middleware`, which finds its positions by Connexion's own classes, and before the first request."""
    stack = app.middleware.middlewares
    stack[stack.index(RequestValidationMiddleware)] = RequestValidationOnce


def middlewares() -> list:
    """Connexion's own middleware stack, with the Swagger UI middleware above in place of its own. A new list
    each time: `add_middleware` inserts into it."""
    return [
        SwaggerUIForItsPathsOnly if middleware is SwaggerUIMiddleware else middleware
        for middleware in ConnexionMiddleware.default_middlewares
    ]
