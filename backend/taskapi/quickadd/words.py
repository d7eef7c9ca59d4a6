"""Quick add: a task from plain words ("call mum tomorrow 5pm #family every week !high").

What is recognised, each as a span of the text (`start`, `end`, `kind`, `value`) so a page can show it and undo it:

- `due`: a date and time, read by dateparser ("tomorrow 5pm", "on friday", "dec 25 at 9am", "in 3 days",
  "2026-12-25", "noon"). A date alone is due at midnight (all day); a time alone is today's, or tomorrow's once
  it has passed. Read as wall time in the request's time zone, so "9am" stays 9am across a DST change.
- `recurrence`: "every …", "daily", "weekly", "monthly", "yearly", read by the `recurrent` library into an RRULE
  ("every monday", "every 2 weeks", "every weekday", "every month on the 15th"). With no date given, the task is
  due at its first occurrence from today.
- `tag`: `#word`; `list`: `#word` naming one of the user's lists (ignoring case), which wins over a tag.
- `priority`: `!high`, `!medium`, `!low` (or `!1`, `!2`, `!3`).

Only words from a date's vocabulary are ever tried as a date, and a span must hold something only dates have (a
weekday, a month with its day, today or tomorrow, a time of day, a written date, "in 3 days"): "buy 2 apples"
keeps its 2, "may I" keeps its may. Words nothing recognises stay in the title, never guessed at.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import dateparser
from dateutil.rrule import rrulestr
from recurrent.event_parser import RecurringEvent

_TOKEN = re.compile(r"\S+")
_EDGE_PUNCTUATION = ",.;"
# Longest spans tried, in words; and the most phrases handed to the parsers for one text, so that no text (a
# thousand characters of almost-dates) makes a slow request.
_MOST_DATE_WORDS = 6
_MOST_RECURRENCE_WORDS = 6
_MOST_ATTEMPTS = 60

_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_WEEKDAY_SHORT = {"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}  # fmt: skip
_DAYS = {"today", "tomorrow", "tonight", "tmrw"}
_TIME_WORDS = {"noon", "midnight"}
_UNITS = {"day", "days", "week", "weeks", "month", "months", "year", "years"}
_TIME_UNITS = {"hour", "hours", "hr", "hrs", "minute", "minutes", "min", "mins"}
_CONNECTORS = {"at", "on", "by", "in", "next", "this", "the", "of", "due", "a", "an"}
_TIME = re.compile(r"^(\d{1,2}(:\d{2})?(am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2})$")
_WRITTEN_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(/\d{2,4})?|\d{1,2}\.\d{1,2}\.(\d{2,4})?)$")
_ORDINAL = re.compile(r"^\d{1,2}(st|nd|rd|th)$")
_NUMBER = re.compile(r"^\d{1,4}$")

_RECURRENCE_STARTS = {"every", "daily", "weekly", "monthly", "yearly", "annually"}
_RECURRENCE_WORDS = (
    {"every", "other", "and", "on", "of", "the", "weekday", "weekdays", "day", "days", "week", "weeks"}
    | {"month", "months", "year", "years", "daily", "weekly", "monthly", "yearly", "annually"}
    | _WEEKDAYS
    | {day + "s" for day in _WEEKDAYS}
    | _MONTHS
)
# What an RRULE of this API may hold (taskapi/tasks/recurrence/rules.py); recurrent adds nothing else wanted.
_RULE_PARTS = ("FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH")

_PRIORITIES = {"high": "high", "medium": "medium", "low": "low", "1": "high", "2": "medium", "3": "low"}
_HASHTAG = re.compile(r"^#([\w-]{1,32})$")
_PRIORITY = re.compile(r"^!(high|medium|low|[123])$", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    value: object


@dataclass
class Parsed:
    title: str
    spans: list[Span]
    fields: dict


@dataclass(frozen=True)
class _Word:
    text: str  # lower case, without edge punctuation
    start: int
    end: int


def parse(text: str, now: datetime, zone: ZoneInfo, lists: dict[str, tuple[str, str]]) -> Parsed:
    """`now` in `zone`; `lists`: the user's lists by lower-case name → (id, name)."""
    matches = list(_TOKEN.finditer(text))
    words = _words(matches)
    budget = _Budget(_MOST_ATTEMPTS)
    taken: set[int] = set()
    spans: list[Span] = []
    fields: dict = {}
    _marks(words, taken, spans, fields, lists)
    rule = _recurrence(words, taken, spans, budget)
    moment, has_time = _due(words, taken, spans, now, zone, budget)
    if rule is not None:
        fields["recurrence"] = {"rule": rule, "timezone": zone.key}
        # The API keeps a series' due date on one of its occurrences: the first from the date given, or today.
        moment = _first_occurrence(rule, moment or now, moment is not None and has_time, zone)
    if moment is not None:
        fields["due_at"] = moment
        due_span = next((span for span in spans if span.kind == "due"), None)
        if due_span is not None:
            spans[spans.index(due_span)] = Span(due_span.start, due_span.end, "due", _instant(moment))
    kept = [match.group() for index, match in enumerate(matches) if index not in taken]
    spans.sort(key=lambda span: span.start)
    return Parsed(" ".join(kept), spans, fields)


def _words(matches: list[re.Match]) -> list[_Word]:
    words = []
    for match in matches:
        raw = match.group()
        stripped = raw.rstrip(_EDGE_PUNCTUATION) or raw
        words.append(_Word(stripped.lower(), match.start(), match.start() + len(stripped)))
    return words


def _marks(words, taken, spans, fields, lists) -> None:
    """#tags, #lists and !priority: whole words, recognised by their mark."""
    for index, word in enumerate(words):
        if (tag := _HASHTAG.match(word.text)) is not None:
            name = tag.group(1)
            if name in lists and "list_id" not in fields:
                list_id, list_name = lists[name]
                fields["list_id"] = list_id
                spans.append(Span(word.start, word.end, "list", {"id": list_id, "name": list_name}))
            else:
                fields.setdefault("tags", [])
                if name not in fields["tags"]:
                    fields["tags"].append(name)
                spans.append(Span(word.start, word.end, "tag", name))
            taken.add(index)
        elif (priority := _PRIORITY.match(word.text)) is not None and "priority" not in fields:
            fields["priority"] = _PRIORITIES[priority.group(1).lower()]
            spans.append(Span(word.start, word.end, "priority", fields["priority"]))
            taken.add(index)


class _Budget:
    def __init__(self, attempts: int) -> None:
        self.left = attempts

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _recurrence(words, taken, spans, budget: _Budget) -> str | None:
    for start, word in enumerate(words):
        if start in taken or word.text not in _RECURRENCE_STARTS:
            continue
        end = start
        while end < len(words) and end - start < _MOST_RECURRENCE_WORDS and end not in taken:
            text, previous = words[end].text, words[end - 1].text
            # A number only as "every 2 weeks" or "march 3": elsewhere it is the title's ("every week 3 apples").
            number = _NUMBER.match(text) and (end == start + 1 or previous in _MONTHS)
            if text not in _RECURRENCE_WORDS and not _ORDINAL.match(text) and not number:
                break
            end += 1
        for stop in range(end, start, -1):
            if not budget.spend():
                return None
            rule = _rule(" ".join(w.text for w in words[start:stop]))
            if rule is not None:
                taken.update(range(start, stop))
                spans.append(Span(words[start].start, words[stop - 1].end, "recurrence", rule))
                return rule
    return None


def _rule(phrase: str) -> str | None:
    """An RRULE of this API's parts for the phrase, or None."""
    parsed = RecurringEvent(now_date=datetime(2000, 1, 1)).parse(phrase)
    if not isinstance(parsed, str) or not parsed.startswith("RRULE:"):
        return None
    parts = dict(part.split("=", 1) for part in parsed.removeprefix("RRULE:").split(";") if "=" in part)
    if "FREQ" not in parts or set(parts) - {*_RULE_PARTS, "INTERVAL"}:
        return None
    if parts.get("INTERVAL") == "1":
        del parts["INTERVAL"]
    return ";".join(f"{name}={parts[name]}" for name in _RULE_PARTS if name in parts)


def _kind(words: list[_Word], index: int) -> str | None:
    """What a word is to a date: an anchor (only dates have it), a part, a connector, or nothing."""
    text = words[index].text
    before = words[index - 1].text if index > 0 else ""
    after = words[index + 1].text if index + 1 < len(words) else ""
    if text in _WEEKDAYS or text in _DAYS or text in _TIME_WORDS:
        return "anchor"
    if _TIME.match(text) or _WRITTEN_DATE.match(text):
        return "anchor"
    if text in _WEEKDAY_SHORT and (before in {"on", "next", "this", "by", "due"} or _TIME.match(after)):
        return "anchor"
    if text in _MONTHS and any(_NUMBER.match(near) or _ORDINAL.match(near) for near in (before, after)):
        return "anchor"
    earlier = words[index - 2].text if index > 1 else ""
    on_the = before in {"on", "by"} or (before == "the" and earlier in {"on", "by", "due"})
    if _ORDINAL.match(text) and (on_the or before in _MONTHS or after in _MONTHS or after == "of"):
        return "anchor"
    if text in _UNITS | _TIME_UNITS and (before in {"next", "this"} or _NUMBER.match(before) or before in {"a", "an"}):
        return "anchor"
    if _NUMBER.match(text) or _ORDINAL.match(text) or text in _MONTHS or text in _UNITS | _TIME_UNITS:
        return "part"
    if text in _CONNECTORS or text in _WEEKDAY_SHORT:
        return "connector"
    return None


def _due(words, taken, spans, now: datetime, zone: ZoneInfo, budget: _Budget) -> tuple[datetime | None, bool]:
    """The first date in the words, as an aware datetime in `zone`, and whether a time of day was given."""
    index = 0
    while index < len(words):
        if index in taken or _kind(words, index) is None:
            index += 1
            continue
        end = index
        while end < len(words) and end not in taken and end - index < _MOST_DATE_WORDS and _kind(words, end):
            end += 1
        found = _longest_date(words, index, end, now, zone, budget)
        if found is not None:
            start, stop, moment, has_time = found
            taken.update(range(start, stop))
            spans.append(Span(words[start].start, words[stop - 1].end, "due", None))
            return moment, has_time
        index = end
    return None, False


def _longest_date(words, first: int, last: int, now: datetime, zone: ZoneInfo, budget: _Budget):
    for start in range(first, last):
        for stop in range(last, start, -1):
            run = words[start:stop]
            kinds = [_kind(words, i) for i in range(start, stop)]
            if "anchor" not in kinds or kinds[-1] == "connector":
                continue
            if not budget.spend():
                return None
            moment = _read_date(" ".join(word.text for word in run), now)
            if moment is not None:
                has_time = any(_TIME.match(w.text) or w.text in _TIME_WORDS | _TIME_UNITS | {"tonight"} for w in run)
                if not has_time:
                    moment = datetime.combine(moment.date(), time(0))
                return start, stop, moment.replace(tzinfo=zone), has_time
    return None


def _read_date(phrase: str, now: datetime) -> datetime | None:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    return dateparser.parse(phrase, languages=["en"], settings=settings)


def _first_occurrence(rule: str, since: datetime, timed: bool, zone: ZoneInfo) -> datetime:
    """The rule's first occurrence on `since`'s day or later: at `since`'s time of day if `timed`, else at midnight
    (a day's task). A timed one already past on that day is the next one."""
    start = datetime.combine(since.date(), since.time() if timed else time(0))
    return rrulestr(rule, dtstart=start).after(start, inc=True).replace(tzinfo=zone)


def _instant(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


def warm_up() -> None:
    """dateparser loads its language data on first use (a tenth of a second): at start-up, not in a request."""
    _read_date("tomorrow 5pm", datetime.now())
    _rule("every week")
