"""School days: what "within 5 school days" means across holidays, weekends, Thanksgiving and the summer."""

from __future__ import annotations

from datetime import date

import pytest

from scheduling.calendar import SchoolCalendar

VETERANS_DAY = date(2026, 11, 11)  # a Wednesday
THANKSGIVING_BREAK = (date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27))  # Wednesday to Friday
YEAR_2026 = (date(2026, 9, 2), date(2027, 6, 18))
YEAR_2027 = (date(2027, 9, 1), date(2028, 6, 16))


@pytest.fixture
def calendar() -> SchoolCalendar:
    closed = {VETERANS_DAY: "Veterans Day", **{day: "Thanksgiving break" for day in THANKSGIVING_BREAK}}
    return SchoolCalendar(closed=frozenset(closed), years=(YEAR_2026, YEAR_2027), labels=closed)


def test_five_school_days_after_a_monday_skip_the_wednesday_holiday_and_the_weekend(calendar: SchoolCalendar) -> None:
    # Tue 10, (Wed 11 closed), Thu 12, Fri 13, (weekend), Mon 16, Tue 17
    assert calendar.add_school_days(date(2026, 11, 9), 5) == date(2026, 11, 17)


def test_counting_back_skips_the_same_days(calendar: SchoolCalendar) -> None:
    assert calendar.add_school_days(date(2026, 11, 17), -5) == date(2026, 11, 9)


def test_day_zero_is_the_day_itself_or_the_next_school_day(calendar: SchoolCalendar) -> None:
    assert calendar.add_school_days(date(2026, 11, 10), 0) == date(2026, 11, 10)
    assert calendar.add_school_days(VETERANS_DAY, 0) == date(2026, 11, 12)
    assert calendar.add_school_days(date(2026, 11, 14), 0) == date(2026, 11, 16)  # a Saturday


def test_thanksgiving_week_has_two_school_days(calendar: SchoolCalendar) -> None:
    assert [calendar.is_school_day(date(2026, 11, d)) for d in range(23, 30)] == [
        True, True, False, False, False, False, False,
    ]  # fmt: skip
    assert calendar.add_school_days(date(2026, 11, 23), 2) == date(2026, 11, 30)
    assert calendar.school_days_between(date(2026, 11, 20), date(2026, 11, 30)) == 3  # Mon 23, Tue 24, Mon 30
    assert calendar.why_closed(date(2026, 11, 26)) == "Thanksgiving break"
    assert calendar.why_closed(date(2026, 11, 28)) == "weekend"


def test_school_days_between_counts_after_the_start_up_to_the_end(calendar: SchoolCalendar) -> None:
    assert calendar.school_days_between(date(2026, 11, 9), date(2026, 11, 17)) == 5
    assert calendar.school_days_between(date(2026, 11, 17), date(2026, 11, 9)) == -5
    assert calendar.school_days_between(date(2026, 11, 9), date(2026, 11, 9)) == 0
    assert calendar.school_days_between(date(2026, 11, 25), date(2026, 11, 29)) == 0


def test_shift_moves_a_closed_day_to_the_next_or_previous_school_day(calendar: SchoolCalendar) -> None:
    thanksgiving = date(2026, 11, 26)
    assert calendar.shift(thanksgiving, "next") == date(2026, 11, 30)
    assert calendar.shift(thanksgiving, "previous") == date(2026, 11, 24)
    assert calendar.shift(thanksgiving, None) == thanksgiving
    assert calendar.shift(date(2026, 11, 24), "next") == date(2026, 11, 24)  # a school day stays put
    assert calendar.shift(date(2026, 11, 14), "previous") == date(2026, 11, 13)  # Saturday to Friday


def test_the_summer_between_two_loaded_years_has_no_school_days(calendar: SchoolCalendar) -> None:
    last_day, first_day = YEAR_2026[1], YEAR_2027[0]
    assert calendar.is_school_day(last_day)
    assert not calendar.is_school_day(date(2027, 7, 14))  # a Wednesday in July
    assert calendar.why_closed(date(2027, 7, 14)) == "between school years"
    assert calendar.next_school_day(last_day) == first_day
    assert calendar.previous_school_day(first_day) == last_day
    assert calendar.add_school_days(date(2027, 6, 17), 2) == first_day
    assert calendar.school_days_between(date(2027, 6, 17), first_day) == 2
    assert calendar.shift(date(2027, 8, 2), "next") == first_day


def test_after_the_last_loaded_year_every_weekday_counts(calendar: SchoolCalendar) -> None:
    """A district that has not loaded next year yet still gets sensible answers: the weekday rule."""
    last_day = YEAR_2027[1]  # Friday 2028-06-16
    assert calendar.is_school_day(date(2028, 7, 5))  # a Wednesday
    assert not calendar.is_school_day(date(2028, 7, 8))  # a Saturday
    assert calendar.next_school_day(last_day) == date(2028, 6, 19)
    assert calendar.add_school_days(last_day, 5) == date(2028, 6, 23)
    assert calendar.is_school_day(date(2026, 8, 31))  # before the first loaded year too


def test_with_nothing_loaded_weekdays_are_school_days() -> None:
    empty = SchoolCalendar()
    assert empty.is_school_day(date(2026, 11, 26))
    assert not empty.is_school_day(date(2026, 11, 28))
    assert empty.add_school_days(date(2026, 11, 27), 1) == date(2026, 11, 30)
