"""A caller's units of work: where an operation's statements run. A request's come from the worker's pool, one
per block (taskapi/sync/after_request.py makes them for every request); a batch binds every operation to its own
transaction. Either way, the pending reminders the writes set are gathered for once they are committed."""

from datetime import datetime

from taskapi.db.session import Database, Work, _UnitOfWork, statement, transaction


class Units:
    """Units of work from the worker's pool, each a statement in autocommit or a transaction."""

    __slots__ = ("database", "reminders")

    def __init__(self, database: Database) -> None:
        self.database = database
        self.reminders: list[datetime] = []

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

    transaction = statement

    async def __aenter__(self) -> Work:
        return self._work

    async def __aexit__(self, *_exc) -> bool:
        return False


# What an operation takes: a request's units, or a batch's one transaction.
AnyUnits = Units | Enclosed
