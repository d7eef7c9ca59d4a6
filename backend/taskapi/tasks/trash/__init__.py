"""The trash: trashing.py (moving a task in and out, each one statement), restore.py (the restore operation)."""
