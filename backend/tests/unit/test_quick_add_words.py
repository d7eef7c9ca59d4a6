"""Quick add's reading of plain words (taskapi/quickadd/words.py), phrase by phrase, against clocks this test owns:
a Sunday afternoon in Paris and in New York, and the Saturday before each one's spring daylight-saving change."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from taskapi.quickadd.words import parse

PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
CLOCKS = {
    "P": datetime(2026, 12, 6, 15, 30, tzinfo=PARIS),
    "N": datetime(2026, 12, 6, 9, 30, tzinfo=NEW_YORK),
    # The day before the clocks go forward: Paris on 2027-03-28, New York on 2027-03-14.
    "PD": datetime(2027, 3, 27, 10, 0, tzinfo=PARIS),
    "ND": datetime(2027, 3, 13, 10, 0, tzinfo=NEW_YORK),
}
LISTS = {
    "work": ("11111111-1111-1111-1111-111111111111", "Work"),
    "home": ("22222222-2222-2222-2222-222222222222", "Home"),
}

# (clock, text, title, due as wall time in the clock's zone, rule, tags, priority, list)
PHRASES = [
    (
        "P",
        "call mum tomorrow 5pm #family every week !high",
        "call mum",
        "2026-12-07 17:00",
        "FREQ=WEEKLY",
        ["family"],
        "high",
        None,
    ),
    ("P", "buy milk", "buy milk", None, None, [], None, None),
    ("P", "buy 2 apples", "buy 2 apples", None, None, [], None, None),
    ("P", "may I borrow a pen", "may I borrow a pen", None, None, [], None, None),
    ("P", "meeting on friday", "meeting", "2026-12-11 00:00", None, [], None, None),
    ("P", "dentist dec 25 at 9am", "dentist", "2026-12-25 09:00", None, [], None, None),
    (
        "P",
        "pay rent every month on the 1st",
        "pay rent",
        "2027-01-01 00:00",
        "FREQ=MONTHLY;BYMONTHDAY=1",
        [],
        None,
        None,
    ),
    (
        "P",
        "standup every weekday 9:30am",
        "standup",
        "2026-12-07 09:30",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        [],
        None,
        None,
    ),
    ("P", "report #work !1", "report", None, None, [], "high", "work"),
    ("P", "read in bed", "read in bed", None, None, [], None, None),
    ("P", "water plants every 2 days", "water plants", "2026-12-06 00:00", "FREQ=DAILY;INTERVAL=2", [], None, None),
    ("P", "fix the sun lamp", "fix the sun lamp", None, None, [], None, None),
    ("P", "gym mon 7am", "gym", "2026-12-07 07:00", None, [], None, None),
    ("P", "taxes 2027-04-15", "taxes", "2027-04-15 00:00", None, [], None, None),
    ("P", "email bob in 3 days", "email bob", "2026-12-09 00:00", None, [], None, None),
    ("P", "call back in 2 hours", "call back", "2026-12-06 17:30", None, [], None, None),
    ("P", "lunch at noon", "lunch", "2026-12-07 12:00", None, [], None, None),
    (
        "P",
        "every monday review the week",
        "review the week",
        "2026-12-07 00:00",
        "FREQ=WEEKLY;BYDAY=MO",
        [],
        None,
        None,
    ),
    ("P", "something at 5", "something at 5", None, None, [], None, None),
    ("P", "tomorrow buy bread", "buy bread", "2026-12-07 00:00", None, [], None, None),
    ("P", "plan next week", "plan", "2026-12-13 00:00", None, [], None, None),
    ("P", "call mum tomorrow at 5pm every week", "call mum", "2026-12-07 17:00", "FREQ=WEEKLY", [], None, None),
    ("P", "pick up kids today 4pm", "pick up kids", "2026-12-06 16:00", None, [], None, None),
    ("P", "submit form by friday", "submit form", "2026-12-11 00:00", None, [], None, None),
    ("P", "renew passport jan 10", "renew passport", "2027-01-10 00:00", None, [], None, None),
    ("P", "renew passport 10 january", "renew passport", "2027-01-10 00:00", None, [], None, None),
    ("P", "party on the 20th", "party", "2026-12-20 00:00", None, [], None, None),
    ("P", "clean #home every saturday", "clean", "2026-12-12 00:00", "FREQ=WEEKLY;BYDAY=SA", [], None, "home"),
    ("P", "stretch daily", "stretch", "2026-12-06 00:00", "FREQ=DAILY", [], None, None),
    ("P", "backup weekly !low", "backup", "2026-12-06 00:00", "FREQ=WEEKLY", [], "low", None),
    (
        "P",
        "birthday every year on march 3",
        "birthday",
        "2027-03-03 00:00",
        "FREQ=YEARLY;BYMONTHDAY=3;BYMONTH=3",
        [],
        None,
        None,
    ),
    ("P", "review 12/24", "review", "2026-12-24 00:00", None, [], None, None),
    ("P", "pay bills 31 dec", "pay bills", "2026-12-31 00:00", None, [], None, None),
    ("P", "pay bills 31st december", "pay bills", "2026-12-31 00:00", None, [], None, None),
    ("P", "book flights tonight", "book flights", "2026-12-06 20:00", None, [], None, None),
    ("P", "coffee with ana at 8:30am tomorrow", "coffee with ana", "2026-12-07 08:30", None, [], None, None),
    ("P", "#errands buy stamps", "buy stamps", None, None, ["errands"], None, None),
    ("P", "call the 5th avenue store", "call the 5th avenue store", None, None, [], None, None),
    ("P", "update 3 slides", "update 3 slides", None, None, [], None, None),
    ("P", "!medium tidy desk", "tidy desk", None, None, [], "medium", None),
    ("P", "walk dog every day 7am", "walk dog", "2026-12-07 07:00", "FREQ=DAILY", [], None, None),
    ("P", "water garden every other day", "water garden", "2026-12-06 00:00", "FREQ=DAILY;INTERVAL=2", [], None, None),
    ("P", "dentist appointment 2027-01-05 14:00", "dentist appointment", "2027-01-05 14:00", None, [], None, None),
    ("P", "write in 10 minutes", "write", "2026-12-06 15:40", None, [], None, None),
    ("P", "finish draft by tomorrow noon", "finish draft", "2026-12-07 12:00", None, [], None, None),
    ("P", "meet on tue 3pm", "meet", "2026-12-08 15:00", None, [], None, None),
    ("P", "buy sunscreen", "buy sunscreen", None, None, [], None, None),
    ("P", "march on", "march on", None, None, [], None, None),
    ("P", "read chapter 4", "read chapter 4", None, None, [], None, None),
    ("N", "call mum tomorrow 5pm", "call mum", "2026-12-07 17:00", None, [], None, None),
    ("N", "dentist dec 25 at 9am", "dentist", "2026-12-25 09:00", None, [], None, None),
    (
        "N",
        "standup every weekday 9:30am",
        "standup",
        "2026-12-07 09:30",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        [],
        None,
        None,
    ),
    ("N", "lunch at noon", "lunch", "2026-12-06 12:00", None, [], None, None),
    ("N", "taxes 2027-04-15", "taxes", "2027-04-15 00:00", None, [], None, None),
    ("N", "meeting friday 2pm", "meeting", "2026-12-11 14:00", None, [], None, None),
    ("N", "gym every tuesday and thursday 6pm", "gym", "2026-12-08 18:00", "FREQ=WEEKLY;BYDAY=TU,TH", [], None, None),
    ("N", "call back in 2 hours", "call back", "2026-12-06 11:30", None, [], None, None),
    ("PD", "tomorrow 9am dentist", "dentist", "2027-03-28 09:00", None, [], None, None),
    ("PD", "call dad tomorrow at 2:30am", "call dad", "2027-03-28 02:30", None, [], None, None),
    ("PD", "every day 9am meds", "meds", "2027-03-28 09:00", "FREQ=DAILY", [], None, None),
    ("PD", "monday 9am report", "report", "2027-03-29 09:00", None, [], None, None),
    ("ND", "tomorrow 9am dentist", "dentist", "2027-03-14 09:00", None, [], None, None),
    ("ND", "every day 8am vitamins", "vitamins", "2027-03-14 08:00", "FREQ=DAILY", [], None, None),
    ("ND", "call at 2:30am tomorrow", "call", "2027-03-14 02:30", None, [], None, None),
]


@pytest.mark.parametrize(("clock", "text", "title", "due", "rule", "tags", "priority", "list_name"), PHRASES)
def test_a_phrase_becomes_its_fields(clock, text, title, due, rule, tags, priority, list_name):
    now = CLOCKS[clock]
    parsed = parse(text, now, now.tzinfo, LISTS)
    assert parsed.title == title
    moment = parsed.fields.get("due_at")
    assert (moment.strftime("%Y-%m-%d %H:%M") if moment else None) == due
    if moment:
        assert moment.tzinfo == now.tzinfo
    recurrence = parsed.fields.get("recurrence")
    assert (recurrence["rule"] if recurrence else None) == rule
    if recurrence:
        assert recurrence["timezone"] == now.tzinfo.key
    assert parsed.fields.get("tags", []) == tags
    assert parsed.fields.get("priority") == priority
    assert parsed.fields.get("list_id") == (LISTS[list_name][0] if list_name else None)


def test_there_are_enough_phrases_in_both_zones():
    assert len(PHRASES) >= 60
    assert {clock for clock, *_ in PHRASES} == set(CLOCKS)


@pytest.mark.parametrize(
    ("clock", "text", "instant"),
    [
        # The same 9am is an hour nearer UTC once summer time begins.
        ("PD", "dentist today 9pm", "2027-03-27T20:00:00+00:00"),
        ("PD", "dentist tomorrow 9am", "2027-03-28T07:00:00+00:00"),
        ("ND", "dentist today 9pm", "2027-03-14T02:00:00+00:00"),
        ("ND", "dentist tomorrow 9am", "2027-03-14T13:00:00+00:00"),
        # 2:30 does not exist that night: read on the clock before the change (an hour later in summer time).
        ("PD", "call dad tomorrow at 2:30am", "2027-03-28T01:30:00+00:00"),
        ("ND", "call at 2:30am tomorrow", "2027-03-14T07:30:00+00:00"),
    ],
)
def test_wall_times_stay_wall_times_across_a_daylight_saving_change(clock, text, instant):
    now = CLOCKS[clock]
    assert parse(text, now, now.tzinfo, {}).fields["due_at"].astimezone(UTC).isoformat() == instant


def test_each_span_points_at_the_words_it_read():
    text = "call mum tomorrow 5pm #family every week !high"
    parsed = parse(text, CLOCKS["P"], PARIS, {})
    assert [(span.kind, text[span.start : span.end]) for span in parsed.spans] == [
        ("due", "tomorrow 5pm"),
        ("tag", "#family"),
        ("recurrence", "every week"),
        ("priority", "!high"),
    ]
    assert [span.value for span in parsed.spans] == ["2026-12-07T16:00:00Z", "family", "FREQ=WEEKLY", "high"]
