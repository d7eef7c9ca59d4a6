"""Recurring tasks: rules.py (RRULE and time zone parsed, the next occurrence), days.py (the day-by-day test of rules
whose parts can contradict each other), series.py (completing one makes its next occurrence)."""
