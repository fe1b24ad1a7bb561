"""The date reader: the forms teachers type, impossible dates, and text that holds no date."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from handlers.goals.dates import MONTHS, DateProblem, FoundDate, find_date

TODAY = date(2026, 11, 23)


# -- accepted forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "matched"),
    [
        ("June 15, 2026", date(2026, 6, 15), "June 15, 2026"),
        ("june 15 2026", date(2026, 6, 15), "june 15 2026"),
        ("Jun. 15, 2026", date(2026, 6, 15), "Jun. 15, 2026"),
        ("June 15th, 2026", date(2026, 6, 15), "June 15th, 2026"),
        ("Sept 5, 2027", date(2027, 9, 5), "Sept 5, 2027"),
        ("15 June 2026", date(2026, 6, 15), "15 June 2026"),
        ("15th of June, 2026", date(2026, 6, 15), "15th of June, 2026"),
        ("6/15/2026", date(2026, 6, 15), "6/15/2026"),
        ("06/15/2026", date(2026, 6, 15), "06/15/2026"),
        ("6/15/27", date(2027, 6, 15), "6/15/27"),
        ("2026-06-15", date(2026, 6, 15), "2026-06-15"),
        ("2027-6-5", date(2027, 6, 5), "2027-6-5"),
        ("June 2026", date(2026, 6, 30), "June 2026"),
        ("Feb 2028", date(2028, 2, 29), "Feb 2028"),
        ("February, 2027", date(2027, 2, 28), "February, 2027"),
        ("end of May 2027", date(2027, 5, 31), "end of May 2027"),
        ("the end of April, 2027", date(2027, 4, 30), "the end of April, 2027"),
    ],
)
def test_accepted_forms(text: str, expected: date, matched: str) -> None:
    assert find_date(text, TODAY) == FoundDate(expected, matched)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("end of May", date(2027, 5, 31)),  # May has passed this year: next May
        ("end of November", date(2026, 11, 30)),  # still ahead this month
        ("end of December", date(2026, 12, 31)),
        ("June 15", date(2027, 6, 15)),
        ("Dec 1", date(2026, 12, 1)),
        ("11/23", date(2026, 11, 23)),  # today is not in the past
        ("11/22", date(2027, 11, 22)),
        ("1st of March", date(2027, 3, 1)),
    ],
)
def test_without_a_year_the_next_such_day_is_taken(text: str, expected: date) -> None:
    found = find_date(text, TODAY)
    assert found is not None
    assert found.value == expected


def test_a_date_inside_a_sentence() -> None:
    found = find_date("I'll be done by June 15, 2027 at the latest.", TODAY)
    assert found == FoundDate(date(2027, 6, 15), "June 15, 2027")


def test_the_first_date_in_the_text_wins() -> None:
    found = find_date("March 31 running records, then Jan 30 and 2027-05-01", TODAY)
    assert found is not None
    assert found.value == date(2027, 3, 31)


def test_month_and_year_is_not_read_as_month_and_day() -> None:
    """ "June 2026" must be the end of June, not June 20 or June 2."""
    found = find_date("June 2026", TODAY)
    assert found is not None
    assert found.value == date(2026, 6, 30)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "soon", "next year", "by spring", "May I finish early?", "3 grades", "🙂📚", "June", "20/"],
)
def test_no_date(text: str) -> None:
    assert find_date(text, TODAY) is None


# -- impossible dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "month", "month_name", "year", "days"),
    [
        ("31/31/2026", 31, "", 2026, 0),
        ("13/1/2027", 13, "", None, 0),  # year: not shown when the month is impossible
        ("0/5/2027", 0, "", None, 0),
        ("2/30/2027", 2, "February", 2027, 28),
        ("2/29/2027", 2, "February", 2027, 28),
        ("February 30, 2028", 2, "February", 2028, 29),
        ("April 31, 2027", 4, "April", 2027, 30),
        ("31 June 2027", 6, "June", 2027, 30),
        ("6/0/2027", 6, "June", 2027, 30),
        ("2027-13-01", 13, "", 2027, 0),
        ("2027-02-30", 2, "February", 2027, 28),
        ("June 0000", 6, "June", 0, 0),
    ],
)
def test_impossible_dates_raise_date_problem(
    text: str, month: int, month_name: str, year: int | None, days: int
) -> None:
    with pytest.raises(DateProblem) as raised:
        find_date(text, TODAY)
    problem = raised.value
    assert (problem.text, problem.month, problem.month_name, problem.days) == (text, month, month_name, days)
    if year is not None:
        assert problem.year == year


def test_impossible_date_inside_a_sentence_names_only_the_date() -> None:
    with pytest.raises(DateProblem) as raised:
        find_date("we finish on 31/31/2026, I hope", TODAY)
    assert raised.value.text == "31/31/2026"


def test_leap_day_is_real_in_a_leap_year() -> None:
    assert find_date("2/29/2028", TODAY) == FoundDate(date(2028, 2, 29), "2/29/2028")


@pytest.mark.parametrize("text", ["6/0", "June 0", "0 June", "0th of June", "6/00", "6/٠"])
def test_day_zero_without_year_is_a_date_problem(text: str) -> None:
    """Regression: a year-less day 0 used to escape as a plain ValueError from _year_for."""
    with pytest.raises(DateProblem):
        find_date(text, TODAY)


# -- properties ----------------------------------------------------------------------------------------

MONTH_NAMES = [calendar.month_name[m] for m in range(1, 13)]
DATEISH = st.lists(
    st.one_of(
        st.sampled_from([*sorted(MONTHS), "end of", "the end of", "of", "st", "th", ",", "/", "-", ".", " "]),
        st.integers(0, 3000).map(str),
        st.text(max_size=4),
    ),
    max_size=10,
).map(" ".join)
TEXTS = st.one_of(st.text(), DATEISH, st.text(min_size=200, max_size=3000))


@given(text=TEXTS, today=st.dates(date(1990, 1, 1), date(2090, 12, 31)))
@example(text="🙂" * 50_000, today=TODAY)
@example(text="6/15/" * 10_000, today=TODAY)
@example(text="June " * 10_000, today=TODAY)
@example(text="\x00\n\t\u200b\ufeff", today=TODAY)
def test_find_date_returns_a_date_none_or_raises_date_problem(text: str, today: date) -> None:
    try:
        found = find_date(text, today)
    except DateProblem as problem:
        assert problem.text in text
        return
    if found is not None:
        assert isinstance(found.value, date)
        assert found.text in text


@given(day=st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_every_real_date_reads_back_in_every_written_form(day: date) -> None:
    month = calendar.month_name[day.month]
    for text in (
        f"{month} {day.day}, {day.year}",
        f"{calendar.month_abbr[day.month]} {day.day} {day.year}",
        f"{day.day} {month} {day.year}",
        f"{day.month}/{day.day}/{day.year}",
        day.isoformat(),
        f"by {month} {day.day}, {day.year}: spring probe",
    ):
        found = find_date(text, TODAY)
        assert found is not None, text
        assert found.value == day, text


@given(year=st.integers(2000, 2099), month=st.integers(1, 12))
def test_month_and_year_means_the_last_day_of_that_month(year: int, month: int) -> None:
    last = date(year, month, calendar.monthrange(year, month)[1])
    assert find_date(f"{calendar.month_name[month]} {year}", TODAY).value == last  # type: ignore[union-attr]
    assert find_date(f"end of {calendar.month_name[month]} {year}", TODAY).value == last  # type: ignore[union-attr]


@given(year=st.integers(2000, 2099), month=st.integers(1, 12), data=st.data())
def test_days_past_the_end_of_the_month_are_date_problems(year: int, month: int, data: st.DataObject) -> None:
    last = calendar.monthrange(year, month)[1]
    day = data.draw(st.integers(last + 1, 31)) if last < 31 else 32
    with pytest.raises(DateProblem) as raised:
        find_date(f"{month}/{day}/{year}", TODAY)
    assert raised.value.days == last


@given(
    today=st.dates(date(2000, 1, 1), date(2090, 12, 31)),
    month=st.integers(1, 12),
    day=st.integers(1, 28),
    form=st.sampled_from(["{name} {day}", "{month}/{day}", "{day} {name}"]),
)
def test_a_date_without_a_year_is_never_in_the_past(today: date, month: int, day: int, form: str) -> None:
    text = form.format(name=MONTH_NAMES[month - 1], month=month, day=day)
    found = find_date(text, today)
    assert found is not None
    assert (found.value.month, found.value.day) == (month, day)
    assert today <= found.value < today + timedelta(days=366)
