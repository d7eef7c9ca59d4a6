"""RFC 9457 problem+json: every error the API answers is built here."""

import json
import logging

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from taskapi.db.session import DatabaseUnavailable
from taskapi.errors import DomainError, field_error
from taskapi.errors import invalid as invalid_fields
from taskapi.http.observability import request_id

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5

_TITLES = {
    400: ("validation-error", "Invalid request"),
    401: ("invalid-token", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not Found"),
    405: ("method-not-allowed", "Method Not Allowed"),
    409: ("conflict", "Conflict"),
    410: ("gone", "Gone"),
    412: ("precondition-failed", "Precondition Failed"),
    413: ("payload-too-large", "Payload Too Large"),
    415: ("unsupported-media-type", "Unsupported Media Type"),
    422: ("unprocessable", "Unprocessable Content"),
    429: ("rate-limited", "Too Many Requests"),
    431: ("request-headers-too-large", "Request Header Fields Too Large"),
    500: ("internal-error", "Internal Server Error"),
    503: ("service-unavailable", "Service Unavailable"),
}


class Problem(ProblemException):
    """An error answer; raise it anywhere in a request and the client gets it as problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict] | None = None,
        headers: dict | None = None,
        kind: str | None = None,
        extra: dict | None = None,
    ):
        slug, title = _TITLES[status]
        slug = kind or slug
        super().__init__(
            status=status,
            title=title,
            detail=detail,
            type=f"urn:taskapi:problem:{slug}",
            headers=headers,
            ext={**({"errors": errors} if errors else {}), **(extra or {})} or None,
        )

    def _body(self) -> str:
        body = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        body.update(self.ext or {})
        if (current := request_id()) is not None:
            body["request_id"] = current
        return json.dumps(body)

    def _headers(self) -> dict:
        # An error is about this one request: nothing may keep it.
        return {"Cache-Control": "no-store", **(self.headers or {})}

    def to_response(self) -> ConnexionResponse:
        return ConnexionResponse(
            status_code=self.status,
            mimetype=PROBLEM_JSON,
            content_type=PROBLEM_JSON,
            body=self._body(),
            headers=self._headers(),
        )

    def as_asgi(self) -> Response:
        """The same answer, for middleware outside Connexion's error handling."""
        return Response(self._body(), status_code=self.status, media_type=PROBLEM_JSON, headers=self._headers())


def problem_of(error: DomainError) -> Problem:
    """A refusal of the rules (taskapi/errors.py) as the problem that answers it."""
    return Problem(error.status, error.detail, kind=error.kind, extra=error.ext)


def invalid(errors: list[dict], status: int = 400) -> Problem:
    """A problem naming each bad field (400 malformed, 422 well-formed but out of range); `detail` alone
    is enough to know what to fix."""
    return problem_of(invalid_fields(errors, status))


def unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def unavailable(detail: str) -> Problem:
    return Problem(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def too_large(limit: int) -> Problem:
    return Problem(413, f"The request body is larger than {limit} bytes; send at most {limit} bytes.")


# Connexion's own problems (raised before our handlers run) reworded for a client developer.
_MISSING_TOKEN = "No bearer token: send `Authorization: Bearer <token>` with a token from Better Auth."  # noqa: S105


def _translate(exc: ProblemException) -> Problem:
    status = exc.status if exc.status in _TITLES else (500 if exc.status >= 500 else 400)
    detail = str(exc.detail or exc.title or "")
    if status == 401:
        return unauthorized(_MISSING_TOKEN if "No authorization token" in detail else detail)
    if status == 400:
        # What still comes from Connexion itself: a required body sent with no Content-Length.
        return invalid([field_error("body", "", detail)])
    if status == 415:
        return Problem(
            415,
            detail.replace("Invalid Content-type", "Unsupported Content-Type") + "; send the body as application/json",
        )
    if status >= 500:
        log.error("connexion problem %s: %s", exc.status, detail)
        return Problem(500, "Something went wrong on our side; nothing was changed. Try again later.")
    return Problem(status, detail)


async def handle_problem(_request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
    problem = exc if isinstance(exc, Problem) else _translate(exc)
    return problem.to_response()


def make_http_exception_handler(allowed_methods):
    """Starlette raises 404 for unknown routes and 405 with a one-method Allow; answer both properly."""

    async def handle_http_exception(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        if exc.status_code == 405:
            allowed = allowed_methods(request.url.path)
            detail = f"{request.method} is not allowed here; use one of: {', '.join(allowed)}."
            return Problem(405, detail, headers={"Allow": ", ".join(allowed)}).to_response()
        if exc.status_code == 404:
            return Problem(404, f"There is no endpoint at {request.url.path}; see /api/ui/ for the API.").to_response()
        status = exc.status_code if exc.status_code in _TITLES else 400
        return Problem(status, str(exc.detail)).to_response()

    return handle_http_exception


async def handle_domain_error(_request: ConnexionRequest, error: DomainError) -> ConnexionResponse:
    return problem_of(error).to_response()


async def handle_database_unavailable(_request: ConnexionRequest, exc: DatabaseUnavailable) -> ConnexionResponse:
    """Our database's outage is a 503 with Retry-After, never a 500."""
    return unavailable(str(exc)).to_response()


async def handle_unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return Problem(500, "Something went wrong on our side; nothing was changed. Try again later.").to_response()
