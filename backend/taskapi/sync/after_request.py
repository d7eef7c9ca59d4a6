"""Every request's units of work, and what its worker does once the request is over (its transaction committed or
rolled back): the reminder clock is told of the pending reminders its writes set, and the announcer of the user
whose tasks or lists it changed (taskapi/sync/announcer.py)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskapi.db.units import Units

# Methods that read only: nothing to announce.
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class AfterRequest:
    """ASGI middleware, inside the bearer check (the user is known) and outside the handler's unit of work: it puts
    the request's Units in its state (`request.state.units`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state")
        if scope["type"] != "http" or state is None:
            return await self.app(scope, receive, send)
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        units = state["units"] = Units(state["db"], state.get("read_replicas"))
        await self.app(scope, receive, watch)
        earliest = min(units.reminders) if units.reminders else None
        if earliest is not None and (clock := state.get("reminders")) is not None:
            clock.consider(earliest)
        # A refusal (4xx, 5xx) changed nothing: its transaction was rolled back.
        user, announcer = state.get("user_id"), state.get("announcer")
        if scope["method"] not in _READS and status < 400 and user is not None and announcer is not None:
            announcer.tell(user, earliest)
