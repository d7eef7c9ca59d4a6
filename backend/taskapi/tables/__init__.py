"""Every table, in one place: SQLModel (SQLAlchemy) definitions registered on SQLModel.metadata, which
migrations/env.py imports whole. Statements are built from these tables elsewhere; nothing here runs a query."""

from taskapi.tables import calendar, lists, service, tasks

__all__ = ["calendar", "lists", "service", "tasks"]
