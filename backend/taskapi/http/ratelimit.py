"""Rate limits applied to requests (OWASP API4): per user after the token is verified, per client address for
requests without a valid one; the limiter itself is taskapi/http/limiter.py."""

import hashlib

from connexion.exceptions import ProblemException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskapi.http.limiter import Decision, Limiter, Policy
from taskapi.http.problems import Problem


async def _refused(verifier, token: str) -> bool:
    """Whether the token is refused (a 401). Keys that cannot be fetched (a 503) are our outage, not the
    client's fault: such a request is not counted against its address."""
    try:
        await verifier.verify(token)
    except ProblemException as problem:
        return problem.status == 401
    return False


def _bearer(scope: Scope) -> str | None:
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class _Limited:
    """Shared by both middlewares: add the policy's headers to the answer, or refuse with a 429."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def _pass(self, scope: Scope, receive: Receive, send: Send, policy: Policy, decision: Decision) -> None:
        headers = decision.headers(policy)
        if not decision.allowed:
            raise _too_many(policy, decision)
        encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *encoded]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _too_many(policy: Policy, decision: Decision) -> Problem:
    return Problem(
        429,
        f"Too many requests: the limit is {policy.per_minute} a minute (bursts of {policy.burst}); "
        f"retry in {decision.retry_after} s.",
        kind="rate-limited",
        headers={**decision.headers(policy), "Retry-After": str(decision.retry_after)},
    )


class UnauthenticatedLimit(_Limited):
    """Per client address (the trusted proxy's report, FORWARDED_ALLOW_IPS), for requests without a valid token,
    as GitHub limits them: a token is verified first (tens of microseconds, cached for the security check that
    follows), and one that verifies is counted against its user only, never refused because of its address, so
    that nobody sharing an address (a NAT, a campus, a Next.js server calling for all its users) can be locked
    out by someone else's forged tokens. Requests that end in a 401 (no token, a malformed or forged one) are
    counted; once an address is over its limit, its requests without a valid token are a 429."""

    def __init__(self, app: ASGIApp, policy: Policy | None) -> None:
        super().__init__(app)
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state", {})
        if scope["type"] != "http" or self.policy is None or "limiter" not in state:
            return await self.app(scope, receive, send)
        token = _bearer(scope)
        if token is not None and not await _refused(state["verifier"], token):
            return await self.app(scope, receive, send)
        address = (scope.get("client") or ("unknown", 0))[0]
        key = "ip:" + hashlib.blake2b(address.encode(), digest_size=12).hexdigest()
        limiter: Limiter = state["limiter"]
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._pass(scope, receive, watch, self.policy, limiter.take(key, self.policy, spend=False))
        except ProblemException as problem:  # a refused token is raised through here, answered further out
            status = problem.status
            raise
        finally:
            if status == 401 or state.get(_REFUSED_CREDENTIAL):
                limiter.take(key, self.policy)


class UserLimit(_Limited):
    """After the token is verified: each user's requests count against that user, whichever worker serves them."""

    def __init__(self, app: ASGIApp, policy: Policy | None) -> None:
        super().__init__(app)
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state", {})
        user = state.get("user_id")  # set by the bearer check (taskapi/auth/tokens.py)
        if scope["type"] != "http" or self.policy is None or user is None or "limiter" not in state:
            return await self.app(scope, receive, send)
        await self._pass(scope, receive, send, self.policy, state["limiter"].take(_user_key(user), self.policy))


# Set by a route whose credential is not a bearer token (a calendar feed's URL) when it refuses one.
_REFUSED_CREDENTIAL = "refused_credential"


def count_against_address(scope: Scope) -> None:
    """This request's credential (not a bearer token) was refused: count it against its address as a 401 is."""
    scope.setdefault("state", {})[_REFUSED_CREDENTIAL] = True


def count_for(scope: Scope, key: str) -> None:
    """Count this request against `key` (a credential other than a user's token), as a user's requests are
    counted; a 429 once over."""
    state = scope.get("state", {})
    policy = state.get("user_policy")
    if policy is not None and "limiter" in state:
        decision = state["limiter"].take(key, policy)
        if not decision.allowed:
            raise _too_many(policy, decision)


def _user_key(user_id: str) -> str:
    return "user:" + user_id


def count_more(state: dict, user_id: str, count: int) -> None:
    """Count `count` more of the user's requests than the one UserLimit counted: a batch counts as its number of
    operations. Let through already, they are spent even beyond the burst: the user's next requests wait."""
    per_user = state.get("user_policy")
    if per_user is not None and count > 0:
        state["limiter"].spend(_user_key(user_id), per_user, count)
