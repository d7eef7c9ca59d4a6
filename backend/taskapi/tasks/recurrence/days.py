"""Whether a recurrence rule matches any day of a span, tested day by day against RFC 5545's definition of its
parts.

Only for the rules whose parts can contradict each other (a fifth Monday on the 1st): dateutil steps period by
period and checks UNTIL only once something matches, so for such a rule it would walk to year 9999 while the
task's row is locked. Testing the horizon's days here first costs a few milliseconds at most.
"""

import calendar
from datetime import date, datetime, timedelta
from typing import Protocol

from dateutil import rrule


class Recurrence(Protocol):
    """The parts of a rule this module reads (rules.py's Recurrence has them)."""

    freq: int
    interval: int
    byweekday: tuple
    bymonthday: tuple
    bymonth: tuple


def may_run_dry(rec: Recurrence) -> bool:
    """Whether the rule's parts can contradict each other (a fifth Monday on the 1st), so that dateutil, which
    steps period by period without ever checking UNTIL until something matches, could walk to year 9999."""
    ordinals = any(day.n for day in rec.byweekday)
    return sum(map(bool, (rec.byweekday, rec.bymonthday, rec.bymonth))) >= 2 or (ordinals and rec.interval > 1)


def _nth_of(day: date, within_year: bool) -> tuple[int, int]:
    """Which occurrence of its weekday this day is, from the start and from the end, in its month (or year)."""
    if within_year:
        first, last = date(day.year, 1, 1), date(day.year, 12, 31)
    else:
        first = day.replace(day=1)
        last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return (day - first).days // 7 + 1, -((last - day).days // 7 + 1)


def _matches(rec: Recurrence, parts: tuple, anchor: date, day: date) -> bool:
    """RFC 5545's test of one day against the rule (its defaults made explicit in `parts`)."""
    byweekday, bymonthday, bymonth = parts
    period = {
        rrule.DAILY: lambda: (day - anchor).days,
        rrule.WEEKLY: lambda: (day.toordinal() - day.weekday() - anchor.toordinal() + anchor.weekday()) // 7,
        rrule.MONTHLY: lambda: (day.year - anchor.year) * 12 + day.month - anchor.month,
        rrule.YEARLY: lambda: day.year - anchor.year,
    }[rec.freq]()
    if period % rec.interval or (bymonth and day.month not in bymonth):
        return False
    if bymonthday:
        last = calendar.monthrange(day.year, day.month)[1]
        if not any(day.day == (n if n > 0 else last + 1 + n) for n in bymonthday):
            return False
    if not byweekday:
        return True
    nth = _nth_of(day, within_year=rec.freq == rrule.YEARLY and not bymonth)
    return any(weekday.weekday == day.weekday() and weekday.n in (None, *nth) for weekday in byweekday)


def occurs_within(rec: Recurrence, parts: tuple, anchor: datetime, start: datetime, end: datetime) -> bool:
    """Whether some day in (start, end] (local wall dates) matches the rule, whose BYxxx defaults taken from the
    anchor are `parts`: at most a horizon of days, a few milliseconds."""
    day, last = start.date() + timedelta(days=1), end.date()
    while day <= last:
        if _matches(rec, parts, anchor.date(), day):
            return True
        day += timedelta(days=1)
    return False
