"""The statements the task operations send, each built once per shape with bound values (a new statement with
literal values costs SQLAlchemy a fresh compile on every request), and the one function that runs a write."""

import functools
import uuid
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from taskapi.db.session import Work
from taskapi.db.statements import fetch_first
from taskapi.errors import Conflict, field_error, invalid
from taskapi.tables.tasks import CHANGED_COLUMNS, POSITION_TYPE, PUBLIC_COLUMNS, SUBTASKS_MAX, TASK_COUNTS, TASKS
from taskapi.tasks.etags import Condition

# Takes the user's counter row, which every write of the user's tasks and lists takes anyway (the change-number
# trigger, migration 0008), before reading what a write computes from: the neighbours of a move, the top of a
# list. Whatever the statements after it read stays true until the transaction ends. Taken first, it keeps one
# lock order (counter, then rows) with every other write.
LOCK_USER = sa.text("""
INSERT INTO task_counts AS c (user_id) VALUES (:owner_id)
ON CONFLICT (user_id) DO UPDATE SET user_id = c.user_id
""")
# The same lock, inside a statement that writes a task row: taken before the row (a condition on no column is
# checked once, before the scan), so that a one-statement write and a transaction that took LOCK_USER first lock
# in the same order, and never each wait for the other. A subtask's write goes on to lock its parent (migration
# 0014), a parent's its subtasks: without one order, a tick and a parent's completion could deadlock.
USER_HELD = sa.exists(
    sa.select(TASK_COUNTS.c.user_id).where(TASK_COUNTS.c.user_id == sa.bindparam("owner_id")).with_for_update()
)
_SIBLINGS = TASKS.alias("siblings")


def top_of(in_list: bool, user_id, list_id) -> sa.ColumnElement:
    """The key before the first top-level task of a list (`in_list`) or of the Inbox: a new task's place."""
    in_group = _SIBLINGS.c.list_id == list_id if in_list else _SIBLINGS.c.list_id.is_(None)
    first = (
        sa.select(_SIBLINGS.c.position)
        .where(_SIBLINGS.c.user_id == user_id, in_group, _SIBLINGS.c.parent_id.is_(None))
        .order_by(_SIBLINGS.c.position)
        .limit(1)
        .scalar_subquery()
    )
    return sa.func.position_before(first, type_=POSITION_TYPE)


class Raced(Exception):
    """A concurrent write changed what this statement read in its own snapshot, which may predate the lock it then
    waited for: it took the key a create computed, or added a subtask to the task being deleted. Run the
    statement again."""


THIS_TASK = (TASKS.c.id == sa.bindparam("task_id", type_=sa.Uuid), TASKS.c.user_id == sa.bindparam("owner_id"))
READ = sa.select(*PUBLIC_COLUMNS).where(*THIS_TASK)
_IF_MATCH_VERSIONS = sa.any_(sa.bindparam("if_match_versions", type_=postgresql.ARRAY(sa.Integer)))
_MATCHING_VERSION = TASKS.c.version == _IF_MATCH_VERSIONS
_DELETED = TASKS.alias("deleted")


@functools.lru_cache(maxsize=2)
def delete(guarded: bool) -> sa.Delete:
    """The DELETE of a task (at a version the If-Match allows, when `guarded`) and of its subtasks with it."""
    this = [_DELETED.c.id == sa.bindparam("task_id", type_=sa.Uuid), _DELETED.c.user_id == sa.bindparam("owner_id")]
    if guarded:
        this.append(_DELETED.c.version == _IF_MATCH_VERSIONS)
    task_id = sa.bindparam("task_id", type_=sa.Uuid)
    return sa.delete(TASKS).where(
        USER_HELD,
        TASKS.c.user_id == sa.bindparam("owner_id"),
        sa.or_(TASKS.c.id == task_id, TASKS.c.parent_id == task_id),
        sa.exists(sa.select(_DELETED.c.id).where(*this)),
    )


@functools.lru_cache(maxsize=64)
def insert(columns: tuple[str, ...], completed: bool) -> sa.Insert:
    """The INSERT for a create that sets these columns (a completed one stamped by the database's clock), first in
    its list or in the Inbox unless the columns include its position.

    INSERT … SELECT …: the task goes in only while its user holds fewer than `quota` live tasks. The user's
    counter row is locked (FOR UPDATE) until the statement's transaction ends, and the insert trigger raises
    the count in that same transaction (migration 0005): concurrent creates of one user pass one at a time
    and never exceed the quota together; other users' creates are not held back.
    """
    values = {name: sa.bindparam(name, type_=TASKS.c[name].type) for name in columns}
    if completed:
        values["completed_at"] = sa.func.now()
    if "position" not in values:  # first in its list, found once the user's lock is held (migration 0019)
        values["position"] = sa.null().cast(POSITION_TYPE)
    held = sa.select(TASK_COUNTS.c.live).where(TASK_COUNTS.c.user_id == values["user_id"]).with_for_update()
    within = sa.select(*values.values()).where(sa.func.coalesce(held.scalar_subquery(), 0) < sa.bindparam("quota"))
    # include_defaults=False: the id, version and timestamps come from the columns' server defaults.
    return sa.insert(TASKS).from_select(list(values), within, include_defaults=False).returning(*CHANGED_COLUMNS)


# What a change may set from the row itself, in the same statement (SET reads the row as it was): completing
# stamps `completed_at` once and keeps it while the task stays done; a toggle flips `completed`; a rule that
# differs from the stored one starts a new series at the task's new due date (bound) or current one, while the
# same rule sent back (an editor saving other fields) keeps the series, and with it what COUNT has used.
_STAMPED = sa.func.coalesce(TASKS.c.completed_at, sa.func.now())
_RULE_CHANGED = TASKS.c.recurrence.is_distinct_from(sa.bindparam("new_recurrence", type_=TASKS.c.recurrence.type))
_NEW_DUE = sa.bindparam("new_due_at", type_=TASKS.c.due_at.type)
_FROM_ROW = {
    "toggled": sa.not_(TASKS.c.completed),
    "stamped": _STAMPED,
    "stamped_if_toggled_on": sa.case((sa.not_(TASKS.c.completed), _STAMPED), else_=None),
    "series_from_new_due": sa.case((_RULE_CHANGED, _NEW_DUE), else_=TASKS.c.series_start),
    "series_from_due": sa.case((_RULE_CHANGED, TASKS.c.due_at), else_=TASKS.c.series_start),
    # Moved to another list by an edit: first in it; staying in its list: where it is.
    **{
        f"top_of_{target}": sa.case(
            (
                TASKS.c.list_id.is_distinct_from(sa.bindparam("new_list_id", type_=sa.Uuid)),
                top_of(target == "list", sa.bindparam("owner_id"), sa.bindparam("new_list_id", type_=sa.Uuid)),
            ),
            else_=TASKS.c.position,
        )
        for target in ("list", "inbox")
    },
}


@dataclass(frozen=True)
class FromRow:
    """A value a change computes from the row itself, one of _FROM_ROW; any other value is bound."""

    name: str


@functools.lru_cache(maxsize=256)
def update(shape: tuple[tuple[str, str | None], ...]) -> sa.Update:
    """The UPDATE for one shape of change: each column set to a bound value, or (named) from the row."""
    values = {
        name: _FROM_ROW[from_row] if from_row else sa.bindparam(f"new_{name}", type_=TASKS.c[name].type)
        for name, from_row in shape
    }
    changed = (
        sa.update(TASKS)
        .where(USER_HELD, *THIS_TASK)
        .values(**values, updated_at=sa.func.now(), version=TASKS.c.version + 1)
    )
    return changed.returning(*CHANGED_COLUMNS)


@functools.lru_cache(maxsize=256)
def _only_at_matching_version(statement):
    return statement.where(_MATCHING_VERSION)


@functools.lru_cache(maxsize=256)
def unless_recurring(change):
    return change.where(TASKS.c.recurrence.is_(None))


def guarded(statement, params: dict, task_uuid: uuid.UUID, condition: Condition | None):
    """Add the If-Match condition to the statement (and its versions to `params`): it then changes the row only
    at a matching version."""
    if condition is None or condition.any:
        return statement
    params["if_match_versions"] = condition.versions_of(task_uuid)
    return _only_at_matching_version(statement)


NOT_YOUR_LIST = "is not one of your lists (null: the Inbox)"
SUBTASK_LIST = "cannot change on a subtask: it is in its parent's list (move the parent)"
# What breaking each rule the database holds (migrations 0004, 0012, 0014) says, as a 400 on the field.
_RULES = {
    "ck_tasks_recurrence_due": ("due_at", "is required for a recurring task (set due_at)"),
    "fk_tasks_list": ("list_id", NOT_YOUR_LIST),
    "fk_tasks_parent": ("parent_id", "is not one of your tasks"),
    "ck_tasks_one_level": ("parent_id", "is a subtask itself: a subtask cannot have subtasks"),
    "ck_tasks_subtask_list": ("list_id", SUBTASK_LIST),
    "ck_tasks_subtask_recurrence": ("recurrence", "must be null on a subtask: a subtask cannot recur (its parent can)"),
}


def too_many_subtasks() -> Conflict:
    return Conflict(
        f"The task already has {SUBTASKS_MAX} subtasks, the most a task may hold; delete some before adding more.",
        kind="subtask-quota-exceeded",
        extra={"limit": SUBTASKS_MAX},
    )


async def write(session: Work, change, params: dict | None = None):
    """Run an INSERT, UPDATE or DELETE … RETURNING. The database holds the rules of _RULES, for creates, edits
    and batches alike; breaking one is the client's mistake, a 400 (which never says whether a list or a task
    of someone else's exists)."""
    try:
        return await fetch_first(session, change, params)
    except (psycopg.errors.CheckViolation, psycopg.errors.ForeignKeyViolation) as error:
        constraint = error.diag.constraint_name
        if constraint == "ck_tasks_subtasks_max":
            raise too_many_subtasks() from None
        if constraint == "fk_tasks_parent_row":  # a subtask added meanwhile to the task being deleted
            raise Raced from None
        if constraint in _RULES:
            field, message = _RULES[constraint]
            raise invalid([field_error("body", field, message)]) from None
        raise
    except psycopg.errors.UniqueViolation as error:
        if error.diag.constraint_name == "uq_tasks_position":
            raise Raced from None
        raise
