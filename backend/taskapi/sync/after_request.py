"""What a worker does once a request is over (its transaction committed or rolled back): the reminder clock is
told of the pending reminders its writes set (taskapi/tasks/reminders_set.py), and the announcer of the user whose
tasks or lists it changed (taskapi/sync/announcer.py)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskapi.tasks.reminders_set import collected

# Methods that read only: nothing to announce.
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class AfterRequest:
    """ASGI middleware, inside the bearer check (the user is known) and outside the handler's unit of work."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with collected() as told:
            await self.app(scope, receive, watch)
        state = scope.get("state", {})
        earliest = min(told) if told else None
        if earliest is not None and (clock := state.get("reminders")) is not None:
            clock.consider(earliest)
        # A refusal (4xx, 5xx) changed nothing: its transaction was rolled back.
        user, announcer = state.get("user_id"), state.get("announcer")
        if scope["method"] not in _READS and status < 400 and user is not None and announcer is not None:
            announcer.tell(user, earliest)
