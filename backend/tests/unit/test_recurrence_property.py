"""The next occurrence, against an independent expansion of the rule: every calendar day tested by hand.

The oracle walks day by day from the series' first occurrence and checks each day against RFC 5545's
definition of the rule parts, in the rule's zone; the service uses dateutil. They must agree across
daylight-saving changes, month ends, Feb 29, COUNT and UNTIL.
"""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskapi.tasks.recurrence import rules

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ZONES = ("Europe/Berlin", "America/New_York", "UTC")
# Past any `after` below (at most 7 years after the anchor) plus the service's 10-year horizon.
HORIZON_DAYS = 366 * 18


def _nth_weekday_of_month(day: date) -> tuple[int, int]:
    """(n from the start, -n from the end) of this weekday within its month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return (day.day - 1) // 7 + 1, -((last - day.day) // 7 + 1)


def _matches(parts: dict, anchor: date, day: date) -> bool:
    freq, interval = parts["FREQ"], parts.get("INTERVAL", 1)
    period = {
        "DAILY": (day - anchor).days,
        "WEEKLY": ((day - timedelta(days=day.weekday())) - (anchor - timedelta(days=anchor.weekday()))).days // 7,
        "MONTHLY": (day.year - anchor.year) * 12 + day.month - anchor.month,
        "YEARLY": day.year - anchor.year,
    }[freq]
    if period % interval:
        return False
    byday, bymonthday, bymonth = parts.get("BYDAY"), parts.get("BYMONTHDAY"), parts.get("BYMONTH")
    if bymonth and day.month not in bymonth:
        return False
    if freq == "YEARLY" and not (bymonth or bymonthday or byday) and day.month != anchor.month:
        return False
    if bymonthday:
        last = calendar.monthrange(day.year, day.month)[1]
        if not any(day.day == (d if d > 0 else last + 1 + d) for d in bymonthday):
            return False
    elif not byday and freq in ("MONTHLY", "YEARLY") and day.day != anchor.day:
        return False
    if byday:
        weekday = DAYS[day.weekday()]
        first, from_end = _nth_weekday_of_month(day)
        return any(name == weekday and (ordinal is None or ordinal in (first, from_end)) for ordinal, name in byday)
    return not (freq == "WEEKLY" and day.weekday() != anchor.weekday())


def oracle(parts: dict, zone: str, series_start: datetime, after: datetime) -> datetime | None:
    tz = ZoneInfo(zone)
    local_start = series_start.astimezone(tz)
    anchor, wall = local_start.date(), local_start.time().replace(tzinfo=None)
    index = 0
    for offset in range(HORIZON_DAYS):
        day = anchor + timedelta(days=offset)
        instant = datetime.combine(day, wall, tz).astimezone(UTC)
        if instant > after + rules.HORIZON:  # the service looks no further than this ahead
            return None
        if "UNTIL" in parts and instant > parts["UNTIL"]:
            return None
        if offset and not _matches(parts, anchor, day):
            continue
        index += 1
        if "COUNT" in parts and index > parts["COUNT"]:
            return None
        if instant > after:
            return instant
    return None  # a rule that never occurs again (say, the 31st of a BYMONTH=2 series)


def _rule_text(parts: dict) -> str:
    rendered = []
    for name, value in parts.items():
        if name == "BYDAY":
            value = ",".join(f"{ordinal or ''}{day}" for ordinal, day in value)
        elif name == "UNTIL":
            value = value.strftime("%Y%m%dT%H%M%SZ")
        elif isinstance(value, tuple):
            value = ",".join(map(str, value))
        rendered.append(f"{name}={value}")
    return ";".join(rendered)


@st.composite
def rule_parts(draw) -> dict:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts: dict = {"FREQ": freq, "INTERVAL": draw(st.integers(1, 3))}
    weekdays = st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True)
    if freq in ("DAILY", "WEEKLY") and draw(st.booleans()):
        parts["BYDAY"] = tuple((None, day) for day in draw(weekdays))
    if freq == "MONTHLY":
        choice = draw(st.sampled_from(["none", "monthday", "weekday", "nth"]))
        if choice == "monthday":
            days = st.integers(1, 31) | st.integers(-31, -1)
            parts["BYMONTHDAY"] = tuple(draw(st.lists(days, min_size=1, max_size=3, unique=True)))
        elif choice == "weekday":
            parts["BYDAY"] = tuple((None, day) for day in draw(weekdays))
        elif choice == "nth":
            ordinal = draw(st.sampled_from([1, 2, 3, 4, 5, -1, -2, -5]))
            parts["BYDAY"] = ((ordinal, draw(st.sampled_from(DAYS))),)
            if draw(st.booleans()):  # often contradictory: a fifth Monday on the 1st never happens
                parts["BYMONTHDAY"] = (draw(st.sampled_from([1, 2, 15, 29, 31, -1])),)
    if freq == "YEARLY" and draw(st.booleans()):
        parts["BYMONTH"] = tuple(draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True)))
    if draw(st.booleans()):
        if draw(st.booleans()):
            parts["COUNT"] = draw(st.integers(1, 30))
        else:
            parts["UNTIL"] = draw(st.datetimes(datetime(2024, 1, 1), datetime(2032, 1, 1))).replace(tzinfo=UTC)
    return parts


# Anchors and "after" instants that cross DST changes, month ends and Feb 29 (2024 and 2028 are leap years).
moments = st.datetimes(datetime(2023, 1, 1), datetime(2029, 12, 31), timezones=st.just(UTC))
wall_times = st.sampled_from([time(0, 0), time(1, 30), time(2, 30), time(9, 0), time(23, 59)])
anchor_days = st.dates(date(2023, 1, 1), date(2029, 12, 31)) | st.sampled_from(
    [date(2024, 2, 29), date(2024, 1, 31), date(2025, 3, 30), date(2025, 3, 9), date(2025, 10, 26), date(2025, 11, 2)]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=rule_parts(), zone=st.sampled_from(ZONES), day=anchor_days, wall=wall_times, after=moments)
def test_next_occurrence_agrees_with_an_independent_expansion(parts, zone, day, wall, after):
    series_start = datetime.combine(day, wall, ZoneInfo(zone)).astimezone(UTC)
    rule = rules.parse({"rule": _rule_text(parts), "timezone": zone})
    assert rules.next_occurrence(rule, series_start, after) == oracle(parts, zone, series_start, after)


def test_daily_nine_o_clock_berlin_across_both_changes():
    rule = rules.parse({"rule": "FREQ=DAILY", "timezone": "Europe/Berlin"})
    start = datetime(2026, 3, 28, 8, tzinfo=UTC)  # 09:00 CET
    assert rules.next_occurrence(rule, start, start) == datetime(2026, 3, 29, 7, tzinfo=UTC)  # 09:00 CEST
    autumn = datetime(2026, 10, 24, 7, tzinfo=UTC)  # 09:00 CEST
    assert rules.next_occurrence(rule, start, autumn) == datetime(2026, 10, 25, 8, tzinfo=UTC)  # 09:00 CET


def test_a_series_anchored_long_ago_is_not_expanded_from_its_start():
    new_york = ZoneInfo("America/New_York")
    rule = rules.parse({"rule": "FREQ=DAILY;INTERVAL=3", "timezone": "America/New_York"})
    start = datetime(1900, 1, 10, 15, tzinfo=UTC)  # 10:00 in New York
    after = datetime(2026, 11, 24, tzinfo=UTC)
    found = rules.next_occurrence(rule, start, after)
    assert found is not None and after < found <= after + timedelta(days=3)
    local = found.astimezone(new_york)
    assert (local.date() - date(1900, 1, 10)).days % 3 == 0 and local.time() == time(10, 0)


def test_a_series_past_year_9999_ends():
    rule = rules.parse({"rule": "FREQ=YEARLY"})
    assert rules.next_occurrence(rule, datetime(9999, 6, 1, tzinfo=UTC), datetime(9999, 6, 2, tzinfo=UTC)) is None
