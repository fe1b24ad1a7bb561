"""Reading observation times: the forms evaluators type, their zones, daylight saving, and what is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.observations.when import (
    MAX_DAYS_AHEAD,
    NO_TIME,
    NOT_A_DATE,
    NOT_SCHOOL_DAY,
    OUTSIDE_HOURS,
    PAST,
    TOO_FAR,
    UNREADABLE,
    WEEKDAY_MISMATCH,
    When,
    WhenProblem,
    check_slot,
    describe,
    parse_when,
)

NY = "America/New_York"
LA = "America/Los_Angeles"
# Tuesday Nov 24, 2026, 10:00 in New York (EST, UTC-5)
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def local(text: str, now: datetime = NOW, zone: str = NY) -> datetime:
    """The wall time `text` was read as, naive, for compact expectations."""
    result = parse_when(text, now, zone)
    assert isinstance(result, When), result
    return result.local.replace(tzinfo=None)


def problem(text: str, now: datetime = NOW, zone: str = NY) -> WhenProblem:
    result = parse_when(text, now, zone)
    assert isinstance(result, WhenProblem), result
    return result


# -- the forms teachers type --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "guessed"),
    [
        ("12/3 9am", datetime(2026, 12, 3, 9, 0), False),  # month/day, US style
        ("Dec 3 at 9:30", datetime(2026, 12, 3, 9, 30), False),
        ("December 3, 2026 1:05pm", datetime(2026, 12, 3, 13, 5), False),
        ("2026-12-03 09:00", datetime(2026, 12, 3, 9, 0), False),
        ("12/03/26 9:00 AM", datetime(2026, 12, 3, 9, 0), False),  # dateparser alone says 2126
        ("Thu Dec 3 9am", datetime(2026, 12, 3, 9, 0), False),
        ("3rd of December 2:15 p.m.", datetime(2026, 12, 3, 14, 15), False),
        ("1/5 at 8", datetime(2027, 1, 5, 8, 0), False),  # January has passed this year: next January
        ("tomorrow 1pm", datetime(2026, 11, 25, 13, 0), True),
        ("in 3 days at 10am", datetime(2026, 11, 27, 10, 0), True),
        ("in a week at 9:45", datetime(2026, 12, 1, 9, 45), True),
        ("the day after tomorrow at noon", datetime(2026, 11, 26, 12, 0), True),
        ("Friday 2pm", datetime(2026, 11, 27, 14, 0), True),
        ("fri @ 10", datetime(2026, 11, 27, 10, 0), True),
        ("on Wednesday at 8:05am", datetime(2026, 11, 25, 8, 5), True),
    ],
)
def test_accepted_forms(text: str, expected: datetime, guessed: bool) -> None:
    result = parse_when(text, NOW, NY)
    assert isinstance(result, When), result
    assert result.local.replace(tzinfo=None) == expected
    assert result.guessed_date is guessed


def test_result_is_one_instant_in_utc_and_in_the_evaluators_zone() -> None:
    result = parse_when("12/3 9am", NOW, NY)
    assert isinstance(result, When)
    assert result.at == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    assert result.at.utcoffset() == timedelta(0)
    assert result.local.tzinfo == ZoneInfo(NY)
    assert result.local == result.at


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tuesday 1:30", time(13, 30)),  # a lesson, not the middle of the night
        ("Tuesday 6:59", time(18, 59)),
        ("Tuesday 7:00", time(7, 0)),
        ("Tuesday 12:30", time(12, 30)),
        ("Tuesday 1:30am", time(1, 30)),  # am said out loud is respected
        ("Tuesday 14:10", time(14, 10)),
        ("Tuesday 12am", time(0, 0)),
        ("Tuesday 12pm", time(12, 0)),
        ("Tuesday 12 noon", time(12, 0)),
    ],
)
def test_clock_times_without_am_pm_fall_in_the_school_day(text: str, expected: time) -> None:
    assert local(text, NOW + timedelta(days=1)).time() == expected


# -- weekdays: "Tuesday" vs "next Tuesday" ------------------------------------------------------------


def test_a_bare_weekday_that_is_today_means_today_while_the_time_is_ahead() -> None:
    # NOW is Tuesday 10:00 in New York
    assert local("Tuesday 10:15") == datetime(2026, 11, 24, 10, 15)
    assert local("this Tuesday 2pm") == datetime(2026, 11, 24, 14, 0)


def test_a_bare_weekday_whose_time_has_passed_today_means_next_week() -> None:
    assert local("Tuesday 9am") == datetime(2026, 12, 1, 9, 0)


def test_next_weekday_is_the_first_such_day_after_today_never_today() -> None:
    assert local("next Tuesday 10:15") == datetime(2026, 12, 1, 10, 15)  # even though 10:15 today is ahead
    assert local("next Wednesday 10:15") == datetime(2026, 11, 25, 10, 15)  # tomorrow, not in 8 days
    assert local("next fri 2pm") == datetime(2026, 11, 27, 14, 0)


def test_a_weekday_next_week_is_that_day_of_the_coming_monday_to_sunday_week() -> None:
    assert local("Wednesday next week 9am") == datetime(2026, 12, 2, 9, 0)
    assert local("next week on Monday at 1:30") == datetime(2026, 11, 30, 13, 30)
    assert local("next week 9am") == datetime(2026, 12, 1, 9, 0)  # no weekday: a week from today


@pytest.mark.parametrize("text", ["Friday 2pm", "next Tuesday 10:15", "tomorrow 9am", "in 3 days 9am", "9am"])
def test_days_that_were_only_implied_are_flagged_so_the_reply_names_the_date(text: str) -> None:
    result = parse_when(text, NOW, NY)
    assert isinstance(result, When)
    assert result.guessed_date


def test_a_weekday_that_contradicts_the_date_is_questioned() -> None:
    found = problem("Tue Dec 3 9am")  # Dec 3, 2026 is a Thursday
    assert found.template == WEEKDAY_MISMATCH
    assert found.context["weekday"] == "Tuesday"
    assert found.context["date"] == "2026-12-03"
    assert found.context["day"] == "Thu Dec 3, 2026"


def test_a_bare_time_is_today_if_ahead_else_tomorrow() -> None:
    assert local("2:30pm") == datetime(2026, 11, 24, 14, 30)
    assert local("9am") == datetime(2026, 11, 25, 9, 0)


# -- zones: "today" and weekdays are the evaluator's, not UTC's -----------------------------------------


# Tuesday Nov 24, 2026, 22:30 in Los Angeles, already Wednesday 06:30 in UTC
LATE_IN_LA = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)


def test_relative_days_count_from_the_evaluators_date_not_utcs() -> None:
    assert local("tomorrow 9am", LATE_IN_LA, LA) == datetime(2026, 11, 25, 9, 0)
    assert local("next Wednesday 9am", LATE_IN_LA, LA) == datetime(2026, 11, 25, 9, 0)
    assert local("11/25 9am", LATE_IN_LA, LA) == datetime(2026, 11, 25, 9, 0)


def test_the_same_words_are_different_instants_in_different_zones() -> None:
    in_ny = parse_when("12/3 9am", NOW, NY)
    in_la = parse_when("12/3 9am", NOW, LA)
    assert isinstance(in_ny, When) and isinstance(in_la, When)
    assert in_la.at - in_ny.at == timedelta(hours=3)
    assert in_la.at == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


def test_todays_date_without_a_year_is_today_not_next_year() -> None:
    on_dec_10 = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # 10:00 in New York
    assert local("12/10 2pm", on_dec_10) == datetime(2026, 12, 10, 14, 0)
    assert problem("Dec 3 2pm", on_dec_10).template == PAST  # a week ago: refused, never taken as next December


# -- daylight saving ---------------------------------------------------------------------------------


def test_a_weekday_across_the_autumn_change_keeps_its_wall_time() -> None:
    friday = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)  # Fri 10:00 EDT; clocks go back on Sun Nov 1
    result = parse_when("Monday 10:00", friday, NY)
    assert isinstance(result, When)
    assert result.local.replace(tzinfo=None) == datetime(2026, 11, 2, 10, 0)
    assert result.at == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # EST now, so 15:00 UTC, not 14:00


@pytest.mark.parametrize(("zone", "utc_hour"), [(NY, 7), (LA, 10)])
def test_a_time_skipped_by_the_spring_change_moves_forward_by_the_gap(zone: str, utc_hour: int) -> None:
    result = parse_when("Mar 14 2027 2:30am", NOW, zone)  # clocks jump 2:00 -> 3:00 that night
    assert isinstance(result, When)
    assert result.local.replace(tzinfo=None) == datetime(2027, 3, 14, 3, 30)
    assert result.at == datetime(2027, 3, 14, utc_hour, 30, tzinfo=UTC)
    assert describe(result.at, zone).endswith("3:30 AM EDT" if zone == NY else "3:30 AM PDT")


def test_a_time_that_happens_twice_in_the_autumn_is_the_first_one() -> None:
    result = parse_when("Nov 7 2027 1:30am", NOW, NY)  # 1:00-2:00 happens twice that night
    assert isinstance(result, When)
    assert result.at == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 1:30 EDT (UTC-4), not 1:30 EST
    assert result.local.fold == 0
    assert describe(result.at, NY) == "Sun Nov 7, 2027, 1:30 AM EDT"


def test_an_ordinary_early_march_night_is_left_alone() -> None:
    # 2027's spring change is Mar 14; Mar 9 at 2:30 exists and must not be moved
    assert local("Mar 9 2027 2:30am") == datetime(2027, 3, 9, 2, 30)


# -- what is refused, and what the person is told ------------------------------------------------------


@pytest.mark.parametrize("text", ["Friday", "tomorrow", "next Tuesday", "12/3", "Dec 3, 2026", "in 3 days"])
def test_a_day_without_a_time_asks_for_one(text: str) -> None:
    found = problem(text)
    assert found.template == NO_TIME
    assert found.context["example"] == f"{text} 10:15"
    assert date.fromisoformat(found.context["date"]) > NOW.date()


def test_the_day_understood_is_named_when_asking_for_a_time() -> None:
    assert problem("Friday").context["day"] == "Fri Nov 27, 2026"


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("today 9am", "Tue Nov 24, 2026, 9:00 AM EST"),
        ("11/24 9:59am", "Tue Nov 24, 2026, 9:59 AM EST"),  # a minute ago
        ("11/24 10:00", "Tue Nov 24, 2026, 10:00 AM EST"),  # exactly now
        ("yesterday 2pm", "Mon Nov 23, 2026, 2:00 PM EST"),
        ("December 3, 2025 1pm", "Wed Dec 3, 2025, 1:00 PM EST"),
    ],
)
def test_a_time_in_the_past_is_refused_saying_which_time_was_read(text: str, when: str) -> None:
    found = problem(text)
    assert found.template == PAST
    assert found.context["when"] == when


def test_a_minute_ahead_is_not_the_past() -> None:
    assert local("11/24 10:01am") == datetime(2026, 11, 24, 10, 1)


def test_more_than_400_days_ahead_is_refused() -> None:
    # from Tue Nov 24, 2026 10:00, Dec 29, 2027 is day 400
    assert local("Dec 29 2027 9am") == datetime(2027, 12, 29, 9, 0)
    found = problem("Dec 30 2027 9am")
    assert found.template == TOO_FAR
    assert found.context["max_days"] == MAX_DAYS_AHEAD
    assert found.context["when"] == "Thu Dec 30, 2027, 9:00 AM EST"


@pytest.mark.parametrize(
    ("text", "month", "days"),
    [
        ("2/30 9am", "February", 28),  # dateparser alone says Nov 2, 2030
        ("4/31/2027 9am", "April", 30),
        ("13/3 9am", "", 0),  # no 13th month; dateparser alone silently reads it as March 13
    ],
)
def test_dates_that_do_not_exist_are_refused_not_replaced(text: str, month: str, days: int) -> None:
    found = problem(text)
    assert found.template == NOT_A_DATE
    assert (found.context["month"], found.context["days"]) == (month, days)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "whenever suits",
        "garbage 9am",
        "Friday 9",  # a bare number: 9 what? (dateparser alone says September 2027)
        "Friday 25:00",
        "Friday 13pm",
        "June 2026 9am",  # a month is not a day
        "end of May 9am",
        "Tuesday or Wednesday 9am",
        "a week from today 9am",  # dateparser alone answers a week ago
        "Friday 2pm " + "x" * 300,
    ],
)
def test_unreadable_text_is_refused_with_the_text_echoed(text: str) -> None:
    found = problem(text)
    assert found.template == UNREADABLE
    assert found.context["text"] == " ".join(text.split())[:200]


@given(st.text(max_size=80))
def test_no_text_raises(text: str) -> None:
    result = parse_when(text, NOW, NY)
    assert isinstance(result, When | WhenProblem)
    if isinstance(result, When):
        assert NOW < result.at <= NOW + timedelta(days=MAX_DAYS_AHEAD)


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("Friday 2pm", NOW.replace(tzinfo=None), NY)


# -- describe ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (datetime(2026, 12, 3, 14, 0, tzinfo=UTC), NY, "Thu Dec 3, 2026, 9:00 AM EST"),
        (datetime(2026, 12, 3, 14, 0, tzinfo=UTC), LA, "Thu Dec 3, 2026, 6:00 AM PST"),
        (datetime(2027, 6, 1, 17, 5, tzinfo=UTC), NY, "Tue Jun 1, 2027, 1:05 PM EDT"),
        (datetime(2027, 6, 1, 4, 0, tzinfo=UTC), NY, "Tue Jun 1, 2027, 12:00 AM EDT"),
        (datetime(2027, 6, 1, 16, 0, tzinfo=UTC), NY, "Tue Jun 1, 2027, 12:00 PM EDT"),
        (datetime(2027, 1, 1, 6, 59, tzinfo=UTC), LA, "Thu Dec 31, 2026, 10:59 PM PST"),  # zone moves the date
    ],
)
def test_describe_reads_as_each_person_sees_it(instant: datetime, zone: str, expected: str) -> None:
    assert describe(instant, zone) == expected


# -- check_slot --------------------------------------------------------------------------------------

THANKSGIVING = {date(2026, 11, 26), date(2026, 11, 27)}


def is_school_day(day: date) -> bool:
    return day.weekday() < 5 and day not in THANKSGIVING


def next_school_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_school_day(day):
        day += timedelta(days=1)
    return day


def at(year: int, month: int, day: int, hour: int, minute: int = 0, zone: str = NY) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def test_a_school_day_in_school_hours_is_fine() -> None:
    assert check_slot(at(2026, 11, 25, 9, 30), is_school_day, next_school_day) is None
    assert check_slot(at(2026, 11, 25, 7, 0), is_school_day, next_school_day) is None  # the first minute


def test_a_holiday_is_refused_with_the_next_school_day_at_the_same_time() -> None:
    found = check_slot(at(2026, 11, 26, 10, 15), is_school_day, next_school_day)
    assert found is not None
    assert found.template == NOT_SCHOOL_DAY
    assert found.context["date"] == "2026-11-26"
    assert found.context["suggestion"] == "2026-11-30T10:15:00-05:00"  # Monday after the long weekend
    assert found.context["suggestion_day"] == "Mon Nov 30, 2026"


def test_the_suggestion_keeps_the_wall_time_across_a_clock_change() -> None:
    saturday = at(2026, 10, 31, 10, 0)  # EDT; Monday is EST
    found = check_slot(saturday, is_school_day, next_school_day)
    assert found is not None
    assert found.context["suggestion"] == "2026-11-02T10:00:00-05:00"


@pytest.mark.parametrize(("hour", "minute"), [(6, 59), (17, 0), (19, 30), (0, 0)])
def test_outside_school_hours_is_refused_with_the_hours(hour: int, minute: int) -> None:
    found = check_slot(at(2026, 11, 25, hour, minute), is_school_day, next_school_day)
    assert found is not None
    assert found.template == OUTSIDE_HOURS
    assert (found.context["start"], found.context["end"]) == ("7:00 AM", "5:00 PM")


def test_hours_are_checked_before_the_day_so_a_suggested_day_is_always_usable() -> None:
    found = check_slot(at(2026, 11, 28, 20, 0), is_school_day, next_school_day)  # Saturday evening
    assert found is not None
    assert found.template == OUTSIDE_HOURS


def test_a_district_can_set_its_own_hours() -> None:
    early = at(2026, 11, 25, 7, 30)
    found = check_slot(early, is_school_day, next_school_day, day_start=time(8, 0), day_end=time(15, 30))
    assert found is not None
    assert (found.context["start"], found.context["end"], found.context["time"]) == ("8:00 AM", "3:30 PM", "7:30 AM")
