"""A caller's units of work: where an operation's statements run. A request's come from the worker's pool, one
per block (taskapi/sync/after_request.py makes them for every request), and its reads that stand alone from a read
replica that has caught up with the user, if there are any; a batch binds every operation to its own transaction.
Either way, the pending reminders the writes set are gathered for once they are committed."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from taskapi.db.read_replicas import ReadReplicas
from taskapi.db.session import Database, Work, _UnitOfWork, statement, transaction

T = TypeVar("T")


class Units:
    """Units of work from the worker's pool, each a statement in autocommit or a transaction."""

    __slots__ = ("database", "read_replicas", "reminders")

    def __init__(self, database: Database, read_replicas: ReadReplicas | None = None) -> None:
        self.database = database
        self.read_replicas = read_replicas
        self.reminders: list[datetime] = []

    async def read(self, user_id: str, fn: Callable[[Work], Awaitable[T]]) -> T:
        """`fn`'s answer, from statements that only read `user_id`'s rows: on a read replica that has every change
        the user had committed, or on the primary. `fn` may run twice (a replica that fails it): it must not write.
        A read that decides a write (If-Match) belongs in the write's own unit, not here."""
        if self.read_replicas is None:
            async with self.statement() as work:
                return await fn(work)
        return await self.read_replicas.read(user_id, fn)

    def statement(self) -> _UnitOfWork:
        return statement(self.database, reminders=self.reminders)

    def transaction(self) -> _UnitOfWork:
        return transaction(self.database, reminders=self.reminders)


class Enclosed:
    """Every unit is `work`'s transaction (a batch's): the operations' statements commit together, or not at all."""

    __slots__ = ("_work",)

    def __init__(self, work: Work) -> None:
        self._work = work

    def statement(self) -> "Enclosed":
        return self

    async def read(self, _user_id: str, fn: Callable[[Work], Awaitable[T]]) -> T:
        """In the transaction, as everything a batch reads: it sees the batch's own writes."""
        return await fn(self._work)

    transaction = statement

    async def __aenter__(self) -> Work:
        return self._work

    async def __aexit__(self, *_exc) -> bool:
        return False


# What an operation takes: a request's units, or a batch's one transaction.
AnyUnits = Units | Enclosed
