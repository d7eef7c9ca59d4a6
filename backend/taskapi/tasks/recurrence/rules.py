"""Recurring tasks: RFC 5545 rules, checked part by part, and their next occurrence in the rule's time zone.

Occurrences are wall-clock times: "daily at 09:00 Europe/Berlin" stays 09:00 there across daylight-saving
changes. A wall time that a change skips is read with the offset before the gap, and one that happens twice
is the first of the two, as RFC 5545 says. dateutil's `rrule` expands the rule; this module only parses,
validates, and keeps the expansion cheap for a series anchored long ago.
"""

import dataclasses
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain, islice
from zoneinfo import ZoneInfo, available_timezones

from dateutil import rrule

from taskapi.errors import field_error, invalid
from taskapi.tasks.recurrence import days

MAX_COUNT = 1000
MAX_INTERVAL = 1000
# How far ahead an expansion looks. dateutil steps period by period, without yielding, until an occurrence
# matches: bounded by this, a rule whose parts contradict each other (a fifth Monday on the 1st) costs a few
# milliseconds instead of a walk to year 9999 while the task's row is locked. A rule that would recur but has
# no occurrence within it of the due date is refused; a series whose next occurrence lies further ends.
HORIZON_YEARS = 10
HORIZON = timedelta(days=round(365.25 * HORIZON_YEARS))
# Occurrences must stay within what due dates can hold (see models.DUE_NEVER).
LATEST = datetime(9999, 12, 30, tzinfo=UTC)

FREQUENCIES = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY, "MONTHLY": rrule.MONTHLY, "YEARLY": rrule.YEARLY}
WEEKDAYS = {name: getattr(rrule, name) for name in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")}
UNSUPPORTED_PARTS = {"BYSECOND", "BYMINUTE", "BYHOUR", "BYWEEKNO", "BYYEARDAY", "BYSETPOS", "WKST", "RSCALE", "SKIP"}
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str, location: str = "body", field_name: str = "recurrence.timezone") -> ZoneInfo:
    """An IANA zone by name, or a 400 naming the field. Only names the tz database lists are looked up."""
    if name not in _zone_names():
        raise invalid([field_error(location, field_name, f"unknown time zone {name}")])
    return ZoneInfo(name)


@dataclass(frozen=True)
class Recurrence:
    rule: str
    timezone: str
    freq: int
    interval: int = 1
    byweekday: tuple = ()
    bymonthday: tuple[int, ...] = ()
    bymonth: tuple[int, ...] = ()
    count: int | None = None
    # UNTIL as a UTC instant, or as a local date or wall time in the rule's zone.
    until: datetime | date | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def as_json(self) -> dict:
        return {"rule": self.rule, "timezone": self.timezone}


class _RuleError(ValueError):
    pass


def _integers(name: str, value: str, low: int, high: int, *, signed: bool = False) -> tuple[int, ...]:
    numbers = []
    for part in value.split(","):
        if not re.fullmatch(r"[+-]?\d{1,4}" if signed else r"\+?\d{1,4}", part):
            raise _RuleError(f"{name}={value} is not valid: expected whole numbers separated by commas")
        number = int(part)
        if not low <= abs(number) <= high:
            raise _RuleError(f"{name}={part} is out of range: each value must be from {low} to {high}")
        numbers.append(number)
    return tuple(dict.fromkeys(numbers))


def _byday(value: str, freq: str) -> tuple:
    chosen = []
    for part in value.split(","):
        match = _BYDAY.match(part)
        if not match:
            raise _RuleError(f"BYDAY={part} is not valid: use MO, TU, WE, TH, FR, SA or SU, e.g. BYDAY=MO,WE or 1MO")
        ordinal, name = match.groups()
        if ordinal is None:
            chosen.append(WEEKDAYS[name])
            continue
        limit = {"MONTHLY": 5, "YEARLY": 53}.get(freq)
        if limit is None:
            raise _RuleError(f"BYDAY={part}: a numbered weekday is only allowed with FREQ=MONTHLY or FREQ=YEARLY")
        if not 1 <= abs(int(ordinal)) <= limit:
            raise _RuleError(f"BYDAY={part} is out of range: the number must be from 1 to {limit}, or -{limit} to -1")
        chosen.append(WEEKDAYS[name](int(ordinal)))
    return tuple(dict.fromkeys(chosen))


def _until(value: str) -> datetime | date:
    match = _UNTIL.match(value)
    if not match:
        raise _RuleError(f"UNTIL={value} is not valid: use a date (20261231) or a UTC time (20261231T235959Z)")
    day, time, utc = match.groups()
    try:
        if time is None:
            return datetime.strptime(day, "%Y%m%d").date()
        moment = datetime.strptime(day + time, "%Y%m%d%H%M%S")
    except ValueError:
        raise _RuleError(f"UNTIL={value} is not a real date or time") from None
    return moment.replace(tzinfo=UTC) if utc else moment


def _parse_rule(text: str) -> dict:
    rule = text.strip().upper().removeprefix("RRULE:")
    if not rule:
        raise _RuleError("is empty: give at least FREQ, e.g. FREQ=WEEKLY;BYDAY=MO")
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        name, equals, value = item.partition("=")
        if not equals or not name or not value:
            raise _RuleError(f"{item or 'an empty part'} is not a NAME=VALUE part (parts are separated by ';')")
        if name in UNSUPPORTED_PARTS:
            raise _RuleError(f"{name} is not supported")
        if name not in {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL"}:
            raise _RuleError(f"{name} is not an RRULE part this API knows")
        if name in parts:
            raise _RuleError(f"{name} is given twice")
        parts[name] = value
    if "FREQ" not in parts:
        raise _RuleError("FREQ is required, e.g. FREQ=DAILY")
    if parts["FREQ"] not in FREQUENCIES:
        raise _RuleError(f"FREQ={parts['FREQ']} is not supported (use DAILY, WEEKLY, MONTHLY or YEARLY)")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _RuleError("COUNT and UNTIL cannot both be given")
    return {**parts, "_text": rule}


# The longest each month can be, Feb 29 included: a BYMONTH/BYMONTHDAY pair outside these never occurs.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _names_a_real_day(bymonth: tuple[int, ...], bymonthday: tuple[int, ...]) -> bool:
    return any(abs(day) <= _MONTH_DAYS[month - 1] for month in bymonth for day in bymonthday)


def _occurs(rec: Recurrence) -> Recurrence:
    if rec.bymonth and rec.bymonthday and not _names_a_real_day(rec.bymonth, rec.bymonthday):
        raise _RuleError("BYMONTHDAY and BYMONTH together name no real date, so the task would never recur")
    return rec


def parse(body: dict) -> Recurrence:
    """A `recurrence` object from a request body, or a 400 whose `errors` name the field and the part at fault."""
    timezone = body.get("timezone", "UTC")
    zone(timezone)
    try:
        parts = _parse_rule(body["rule"])
        freq = parts["FREQ"]

        def numbers(name: str, low: int, high: int, signed: bool = False) -> tuple[int, ...]:
            return _integers(name, parts[name], low, high, signed=signed) if name in parts else ()

        return _occurs(
            Recurrence(
                rule=parts["_text"],
                timezone=timezone,
                freq=FREQUENCIES[freq],
                interval=(numbers("INTERVAL", 1, MAX_INTERVAL) or (1,))[0],
                byweekday=_byday(parts["BYDAY"], freq) if "BYDAY" in parts else (),
                bymonthday=numbers("BYMONTHDAY", 1, 31, signed=True),
                bymonth=numbers("BYMONTH", 1, 12),
                count=(numbers("COUNT", 1, MAX_COUNT) or (None,))[0],
                until=_until(parts["UNTIL"]) if "UNTIL" in parts else None,
            )
        )
    except _RuleError as error:
        raise invalid([field_error("body", "recurrence.rule", str(error))]) from None


def _defaults(rec: Recurrence, anchor: datetime) -> tuple:
    """The BYxxx parts RFC 5545 takes from the first occurrence when the rule gives none (as dateutil does),
    made explicit so that the expansion may start from a later point of the series."""
    byweekday, bymonthday, bymonth = rec.byweekday, rec.bymonthday, rec.bymonth
    if not byweekday and not bymonthday:
        if rec.freq == rrule.WEEKLY:
            byweekday = (list(WEEKDAYS.values())[anchor.weekday()],)
        elif rec.freq == rrule.MONTHLY:
            bymonthday = (anchor.day,)
        elif rec.freq == rrule.YEARLY:
            bymonth, bymonthday = bymonth or (anchor.month,), (anchor.day,)
    return byweekday, bymonthday, bymonth


def _restart(rec: Recurrence, anchor: datetime, near: datetime) -> datetime:
    """A start for the expansion a whole number of periods after the anchor and before `near`, so that a series
    anchored long ago is not expanded from its beginning. Same weekday, week, month or year parity."""
    if near <= anchor:
        return anchor
    if rec.freq == rrule.DAILY:
        periods = (near.date() - anchor.date()).days // rec.interval - 1
        return anchor + timedelta(days=max(periods, 0) * rec.interval)
    if rec.freq == rrule.WEEKLY:
        periods = (near.date() - anchor.date()).days // (7 * rec.interval) - 1
        return anchor + timedelta(weeks=max(periods, 0) * rec.interval)
    if rec.freq == rrule.MONTHLY:
        months = (near.year - anchor.year) * 12 + near.month - anchor.month
        shift = max(months // rec.interval - 1, 0) * rec.interval
        year, month = divmod(anchor.month - 1 + shift, 12)
        return anchor.replace(year=anchor.year + year, month=month + 1, day=1)
    shift = max((near.year - anchor.year) // rec.interval - 1, 0) * rec.interval
    return anchor.replace(year=anchor.year + shift, month=1, day=1)


def _local_occurrences(rec: Recurrence, anchor: datetime, near: datetime) -> Iterator[datetime]:
    """The series' wall times in order, the anchor first (RFC 5545: DTSTART is always the first occurrence), up
    to HORIZON after `near`."""
    try:
        horizon = max(near, anchor) + HORIZON
    except OverflowError:
        horizon = datetime.max
    parts = _defaults(rec, anchor)
    if _never_again(rec, anchor) or (
        days.may_run_dry(rec) and not days.occurs_within(rec, parts, anchor, near, horizon)
    ):
        return iter([anchor])
    byweekday, bymonthday, bymonth = parts
    start = anchor if rec.count is not None else _restart(rec, anchor, near)
    expansion = rrule.rrule(
        rec.freq,
        dtstart=start,
        interval=rec.interval,
        wkst=rrule.MO,
        byweekday=byweekday or None,
        bymonthday=bymonthday or None,
        bymonth=bymonth or None,
        until=horizon,
    )
    later = (moment for moment in expansion if moment > anchor)
    occurrences = chain([anchor], later)
    return islice(occurrences, rec.count) if rec.count is not None else occurrences


def _within_until(rec: Recurrence, local: datetime, instant: datetime) -> bool:
    if rec.until is None:
        return True
    if isinstance(rec.until, datetime):
        return instant <= rec.until if rec.until.tzinfo else local <= rec.until
    return local.date() <= rec.until


def _never_again(rec: Recurrence, anchor: datetime) -> bool:
    """Rules that cannot occur after the anchor, which dateutil would search until year 9999 to find out: a
    daily rule stepping whole weeks and a BYDAY without the anchor's weekday; months that lack the day
    (BYMONTH=2 on a series started on the 31st)."""
    weekdays = {day.weekday for day in rec.byweekday}
    if rec.freq == rrule.DAILY and rec.interval % 7 == 0 and weekdays and anchor.weekday() not in weekdays:
        return True
    _byweekday, bymonthday, bymonth = _defaults(rec, anchor)
    return bool(bymonth and bymonthday) and not _names_a_real_day(bymonth, bymonthday)


def require_occurrence(rec: Recurrence, series_start: datetime) -> None:
    """A 400 naming `recurrence.rule` unless the rule, COUNT and UNTIL aside, recurs within HORIZON of the series'
    start: one that never would is a mistake, and would end the series on its first completion."""
    endless = dataclasses.replace(rec, count=None, until=None)
    if next_occurrence(endless, series_start, series_start) is None:
        message = f"has no occurrence within {HORIZON_YEARS} years of the due date; its parts contradict each other"
        raise invalid([field_error("body", "recurrence.rule", message)])


def next_occurrence(rec: Recurrence, series_start: datetime, after: datetime) -> datetime | None:
    """The series' first occurrence strictly after `after` (UTC) and within HORIZON of it, or None when the series
    has ended (or runs dry for that long)."""
    tz = rec.zone
    anchor = series_start.astimezone(tz).replace(tzinfo=None)
    near = after.astimezone(tz).replace(tzinfo=None)
    try:
        for local in _local_occurrences(rec, anchor, near):
            instant = local.replace(tzinfo=tz).astimezone(UTC)
            if not _within_until(rec, local, instant) or instant >= LATEST or instant - after > HORIZON:
                return None
            if instant > after:
                return instant
    except (OverflowError, ValueError):  # the series runs past year 9999
        return None
    return None
