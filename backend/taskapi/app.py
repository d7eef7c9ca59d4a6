"""create_app(): the contract wired to its handlers, errors and middleware."""

import gc
from contextlib import asynccontextmanager

from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import ProblemException
from connexion.middleware import MiddlewarePosition
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from taskapi.auth.tokens import TokenVerifier
from taskapi.contract import SnakeCaseResolver, allowed_methods, operations, spec
from taskapi.db.read_replicas import read_replicas
from taskapi.db.session import Database, DatabaseUnavailable
from taskapi.errors import DomainError
from taskapi.http.connexion_once import BearerOnce, UriParserOnce, decorate_once, middlewares, validate_once
from taskapi.http.limiter import Limiter, policies
from taskapi.http.metrics import MetricsEndpoint
from taskapi.http.observability import Observability
from taskapi.http.problems import (
    handle_database_unavailable,
    handle_domain_error,
    handle_problem,
    handle_unexpected,
    make_http_exception_handler,
)
from taskapi.http.ratelimit import UnauthenticatedLimit, UserLimit
from taskapi.http.routing import ContractMethods
from taskapi.http.validation import BodyValidator, ParametersValidator, RequestSizeLimits
from taskapi.mcp.endpoint import McpEndpoint
from taskapi.mcp.server import session_manager
from taskapi.push.sender import Pusher
from taskapi.quickadd import words
from taskapi.settings import Settings, load_settings
from taskapi.sync.after_request import AfterRequest
from taskapi.sync.announcer import Announcer
from taskapi.sync.hub import ChangeHub
from taskapi.sync.purge import Sweeper
from taskapi.sync.reminders import ReminderClock
from taskapi.tasks.cursors import CursorCodec


def create_app(settings: Settings | None = None) -> AsyncApp:
    settings = settings or load_settings()
    # Built once: the middlewares, the limiter and a batch's extra counting all use these.
    per_user, unauthenticated = policies(settings)
    contract = spec()
    allowed = allowed_methods(contract)

    @asynccontextmanager
    async def lifespan(_app):
        database = Database(settings)
        replicas = read_replicas(settings, database)
        verifier = TokenVerifier(settings)
        # With every limit off there is nothing to decide or to sync: no limiter, and the middlewares pass.
        limiter = Limiter(database) if per_user or unauthenticated else None
        if limiter:
            limiter.start()
        sweeper = Sweeper(database, settings)
        sweeper.start()
        pusher = Pusher(database, settings)
        pusher.start()
        announcer = Announcer(database)
        announcer.start()
        reminders = ReminderClock(database, on_pushes_queued=pusher.wake, on_fired=announcer.tell)
        reminders.start()
        hub = ChangeHub(settings, database, on_reminder_set=reminders.consider)
        hub.start()
        mcp = session_manager(settings.max_body_bytes)
        words.warm_up()
        # What start-up built (the contract, validators, SQLAlchemy's tables) lives as long as the worker: frozen,
        # the collector's full passes, which requests waiting on the database set off, no longer walk it every time.
        gc.collect()
        gc.freeze()
        try:
            async with mcp.run():
                yield {
                    "db": database,
                    "read_replicas": replicas,
                    "verifier": verifier,
                    "cursors": CursorCodec(settings.cursor_keys),
                    "settings": settings,
                    "hub": hub,
                    "announcer": announcer,
                    "reminders": reminders,
                    "pusher": pusher,
                    "mcp": mcp,
                    **({"limiter": limiter, "user_policy": per_user} if limiter else {}),
                }
        finally:
            await hub.close()
            await reminders.stop()
            await announcer.stop()
            await pusher.stop()
            await sweeper.stop()
            if limiter:
                await limiter.stop()
            await verifier.close()
            if replicas:
                await replicas.close()
            await database.dispose()

    app = AsyncApp(__name__, lifespan=lifespan, middlewares=middlewares())
    decorate_once(app)
    app.add_api(
        contract,
        security_map={"bearer": BearerOnce},
        resolver=SnakeCaseResolver(),
        pythonic_params=True,
        strict_validation=True,
        uri_parser_class=UriParserOnce,
        validate_responses=settings.validate_responses,
        validator_map={"parameter": ParametersValidator, "body": MediaTypeDict({"*/*json": BodyValidator})},
    )
    app.add_middleware(
        RequestSizeLimits, position=MiddlewarePosition.BEFORE_ROUTING, max_body_bytes=settings.max_body_bytes
    )
    app.add_middleware(ContractMethods, position=MiddlewarePosition.BEFORE_ROUTING, allowed_methods=allowed)
    app.add_middleware(UnauthenticatedLimit, position=MiddlewarePosition.BEFORE_SECURITY, policy=unauthenticated)
    app.add_middleware(UserLimit, position=MiddlewarePosition.BEFORE_VALIDATION, policy=per_user)
    # After the handler's transaction is over: the reminder clock and the announcer are told what the request wrote.
    app.add_middleware(AfterRequest, position=MiddlewarePosition.BEFORE_VALIDATION)
    # /mcp (and its RFC 9728 metadata) beside the contract's routes, behind the same checks (taskapi/mcp/endpoint.py).
    app.add_middleware(
        McpEndpoint,
        position=MiddlewarePosition.BEFORE_ROUTING,
        settings=settings,
        per_user=per_user,
        unauthenticated=unauthenticated,
    )
    # Both outside Connexion's exception handling: preflights are answered before routing and auth,
    # and the request's log line sees the final status. Added last is outermost.
    app.add_middleware(
        CORSMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        # Last-Event-ID: a browser resuming live events over fetch (the TypeScript client's subscribeToChanges).
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "X-Request-ID",
            "Last-Event-ID",
            "Mcp-Protocol-Version",
        ],
        expose_headers=[
            "ETag",
            "Location",
            "X-Request-ID",
            "Retry-After",
            "WWW-Authenticate",
            "RateLimit",
            "RateLimit-Policy",
        ],
        max_age=600,
    )
    operation_ids = {
        SnakeCaseResolver.handler_name(op["x-openapi-router-controller"], op["operationId"]): op["operationId"]
        for op in operations(contract)
    }
    app.add_middleware(Observability, position=MiddlewarePosition.BEFORE_EXCEPTION, operation_ids=operation_ids)
    app.add_middleware(MetricsEndpoint, position=MiddlewarePosition.BEFORE_EXCEPTION, token=settings.metrics_token)
    validate_once(app)
    app.add_error_handler(ProblemException, handle_problem)
    app.add_error_handler(DomainError, handle_domain_error)
    app.add_error_handler(DatabaseUnavailable, handle_database_unavailable)
    app.add_error_handler(HTTPException, make_http_exception_handler(allowed))
    app.add_error_handler(Exception, handle_unexpected)
    return app
