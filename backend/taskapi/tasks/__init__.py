"""The tasks: handlers, the table and its shapes, lists, cursors, ETags, idempotency, tags, recurrence, counts."""
