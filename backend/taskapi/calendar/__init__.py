"""Private calendar feeds of a user's tasks, in iCalendar (taskapi/calendar/feeds.py)."""
