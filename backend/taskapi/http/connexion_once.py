"""Connexion 3.3's per-request set-up, done once per operation instead.

On every request Connexion re-decorates the operation's handler (`AsyncOperation.fn` builds a new
StarletteDecorator, whose wrapper decorates again and reads the handler's signature), builds a new URI
parser, converts each parameter name to Python with regexes (`pythonic`, twice), and the bearer check reads
the token function's signature twice. None of it depends on the request. These subclasses keep Connexion's
behaviour and do that work when the API is added. `tests/api/test_connexion_once.py` fails if an upgrade
of Connexion stops calling them, or if a request reads a signature again.

The Swagger UI middleware also routes every request a second time, only to find that most are not for it;
`SwaggerUIForItsPathsOnly` lets through at once what cannot be one of its paths.
"""

import asyncio
import functools

from connexion.apps.asynchronous import AsyncApi, AsyncApp, AsyncOperation
from connexion.context import receive, scope
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import AsyncParameterDecorator, pythonic
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.security import NO_VALUE, BearerSecurityHandler, OAuthResponseProblem

# Parameter names come from the contract (strict validation refuses any other), so the cache stays small.
_pythonic = functools.lru_cache(maxsize=512)(pythonic)


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
            return await decorated(framework.get_request(uri_parser=uri_parser, scope=scope, receive=receive))

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


def middlewares() -> list:
    """Connexion's own middleware stack, with the Swagger UI middleware above in place of its own. A new list
    each time: `add_middleware` inserts into it."""
    return [
        SwaggerUIForItsPathsOnly if middleware is SwaggerUIMiddleware else middleware
        for middleware in ConnexionMiddleware.default_middlewares
    ]
