"""What the rules refuse, said for whoever asked. Domain code (tasks, lists, the batch, the feed) raises these;
only the edges turn them into answers: taskapi/http/problems.py into problem+json (with the status each kind
names), taskapi/mcp/server.py into tool errors. Nothing here knows of requests."""


class DomainError(Exception):
    """A refusal: `detail` says what went wrong and what to do; `kind` names it for clients (the problem's type);
    `ext` carries the fields at fault (`errors`) and anything else a client can act on."""

    status = 400

    def __init__(
        self,
        detail: str,
        *,
        kind: str | None = None,
        errors: list[dict] | None = None,
        extra: dict | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.kind = kind
        self.ext = {**({"errors": errors} if errors else {}), **(extra or {})} or None
        if status is not None:
            self.status = status


class Invalid(DomainError):
    """Bad fields: 400 (malformed), or 422 (well-formed but out of range)."""


class NotYours(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    status = 410


class Stale(DomainError):
    """The thing changed since the caller read it (If-Match, a tool's etag)."""

    status = 412


class Unprocessable(DomainError):
    status = 422


def field_error(location: str, field: str, message: str) -> dict:
    return {"in": location, "field": field, "message": message}


def invalid(errors: list[dict], status: int = 400) -> Invalid:
    """A refusal naming each bad field; `detail` alone is enough to know what to fix."""
    detail = "; ".join(f"{e['in']}{'.' + e['field'] if e['field'] else ''}: {e['message']}" for e in errors)
    return Invalid(detail, errors=errors, status=status)


class RuleError(Invalid):
    """One field breaks a rule: `RuleError("after", "is not a sibling …")`."""

    def __init__(self, field: str, message: str, location: str = "body") -> None:
        error = field_error(location, field, message)
        super().__init__(f"{location}.{field}: {message}", errors=[error])
