"""The contract's paths matched as the contract orders them, for the method check: a path of literal segments
(`/{user_id}/tasks/quick`) is written before the template it also fits (`/{user_id}/tasks/{id}`), but the router
would take `PUT …/tasks/quick` for a task id and answer a 400 about it; this answers the 405 the contract means."""

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send


class ContractMethods:
    """ASGI middleware, before routing: a method the path's first matching contract path does not take is a 405
    (with the Allow its handler writes); anything else goes on."""

    def __init__(self, app: ASGIApp, allowed_methods: Callable[[str], list[str]]) -> None:
        self.app = app
        self.allowed_methods = allowed_methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("OPTIONS", "HEAD"):
            allowed = self.allowed_methods(scope["path"])
            if allowed and scope["method"] not in allowed:
                raise HTTPException(status_code=405)
        await self.app(scope, receive, send)
