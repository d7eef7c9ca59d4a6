"""Instants relative to now, as the API writes them: tests never depend on the day they run."""

from datetime import UTC, datetime, timedelta


def instant(value: datetime) -> str:
    """RFC 3339 in UTC ending in Z, whole seconds: the API's own form."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def days_from_now(days: int, hour: int = 9) -> datetime:
    """`hour`:00 UTC, `days` days after today (UTC): before today when negative."""
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)
