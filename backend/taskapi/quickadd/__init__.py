"""Quick add: a task from plain words (words.py reads them, handlers.py makes the task)."""
