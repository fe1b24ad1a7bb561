"""`growthbot calendar import|show`: YAML and .ics calendars, their errors by line, and the month grid."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduling.clock import FakeClock
from storage.database import Database
from tests.org.helpers import Growthbot, closed_days, school_years, workspaces, write

YEAR = """\
school_year: 2026-2027
first_day: 2026-08-31
last_day: 2027-06-17
closed:
  - {date: 2026-11-26, name: Thanksgiving}
  - {date: 2026-11-27, name: Thanksgiving}
  - {from: 2026-12-24, to: 2027-01-01, name: Winter vacation}
  - {date: 2026-11-28, name: Saturday fair}
"""

WINTER = {
    "2026-12-24": "Winter vacation",
    "2026-12-25": "Winter vacation",
    "2026-12-28": "Winter vacation",
    "2026-12-29": "Winter vacation",
    "2026-12-30": "Winter vacation",
    "2026-12-31": "Winter vacation",
    "2027-01-01": "Winter vacation",
}


def test_yaml_import_stores_the_year_and_weekday_closures(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = growthbot("calendar", "import", write(tmp_path, "calendar.yaml", YEAR))

    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "School year 2026-2027: 2026-08-31 to 2027-06-17, 200 school days",
        "9 closed school days:",
        "  2026-11-26  Thanksgiving (1 school day)",
        "  2026-11-27  Thanksgiving (1 school day)",
        "  2026-11-28  Saturday fair (on a weekend: nothing to store)",
        "  2026-12-24 to 2027-01-01  Winter vacation (7 school days)",
    ]
    assert school_years(db) == [("2026-2027", "2026-08-31", "2027-06-17")]
    assert closed_days(db) == {"2026-11-26": "Thanksgiving", "2026-11-27": "Thanksgiving", **WINTER}
    assert [w[:2] for w in workspaces(db)] == [("console", "local")]


def test_reimport_replaces_the_years_closures_and_is_idempotent(growthbot: Growthbot, db: Database, tmp_path: Path):
    path = write(tmp_path, "calendar.yaml", YEAR)
    growthbot("calendar", "import", path)

    again = growthbot("calendar", "import", path)
    assert again.code == 0, again.err
    assert again.out.splitlines()[-1] == "Replaces the 2026-2027 calendar loaded before (9 closed days)."
    assert len(closed_days(db)) == 9
    assert len(school_years(db)) == 1

    fewer = YEAR.replace("  - {date: 2026-11-27, name: Thanksgiving}\n", "")
    growthbot("calendar", "import", write(tmp_path, "calendar.yaml", fewer))
    assert "2026-11-27" not in closed_days(db)
    assert len(closed_days(db)) == 8


def test_several_years_under_years(growthbot: Growthbot, db: Database, tmp_path: Path):
    text = """\
years:
  - school_year: 2026-2027
    first_day: 2026-08-31
    last_day: 2027-06-17
    closed:
      - {date: 2026-11-26, name: Thanksgiving}
  - school_year: 2027-2028
    first_day: 2027-08-30
    last_day: 2028-06-15
    closed: []
"""

    run = growthbot("calendar", "import", write(tmp_path, "years.yml", text))

    assert run.code == 0, run.err
    assert school_years(db) == [
        ("2026-2027", "2026-08-31", "2027-06-17"),
        ("2027-2028", "2027-08-30", "2028-06-15"),
    ]


def test_dry_run_saves_nothing(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = growthbot("calendar", "import", write(tmp_path, "calendar.yaml", YEAR), "--dry-run")

    assert run.code == 0, run.err
    assert run.out.splitlines()[-1] == "Dry run: nothing was saved."
    assert school_years(db) == [] and closed_days(db) == {} and workspaces(db) == []


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            YEAR + "  - {date: 2026-11-31, name: Nope}\n  - {date: Nov 3, name: Election}\n",
            [
                'calendar.yaml line 9: date "2026-11-31" is not a real date',
                'calendar.yaml line 10: date "Nov 3" is not a date; write YYYY-MM-DD',
            ],
        ),
        (
            YEAR + "  - {from: 2027-02-19, to: 2027-02-15, name: February vacation}\n",
            ["calendar.yaml line 9: to (2027-02-15) is before from (2027-02-19)"],
        ),
        (
            YEAR + "  - {date: 2027-06-18, name: Juneteenth}\n",
            [
                "calendar.yaml line 9: Juneteenth (2027-06-18) is outside the school year 2026-2027 "
                "(2026-08-31 to 2027-06-17)"
            ],
        ),
        (
            YEAR.replace("last_day: 2027-06-17", "last_day: 2026-06-17"),
            ["calendar.yaml line 3: last_day (2026-06-17) is before first_day (2026-08-31)"],
        ),
        (YEAR.replace("first_day: 2026-08-31\n", ""), ["calendar.yaml line 1: missing first_day"]),
        (
            YEAR + "  - {form: 2027-03-01, name: Typo}\n",
            ['calendar.yaml line 9: unknown key "form"; use date, from, to, name'],
        ),
        ("school_year: [2026\nfirst_day: 2026-08-31\n", ["calendar.yaml line 2: not readable as YAML"]),
        ("", ["calendar.yaml line 1: the file is empty"]),
    ],
)
def test_bad_calendar_files_name_the_line_and_save_nothing(
    growthbot: Growthbot, db: Database, tmp_path: Path, text: str, problems: list[str]
):
    run = growthbot("calendar", "import", write(tmp_path, "calendar.yaml", text))

    assert run.code == 1
    lines = run.err.splitlines()
    assert len(lines) >= len(problems) + 1, run.err
    for line, problem in zip(lines, problems, strict=False):
        assert line.startswith(problem), run.err
    assert lines[-1] == "Nothing was saved."
    assert school_years(db) == [] and closed_days(db) == {}


def test_a_year_overlapping_another_stored_year_is_refused(growthbot: Growthbot, db: Database, tmp_path: Path):
    growthbot("calendar", "import", write(tmp_path, "calendar.yaml", YEAR))
    other = "school_year: 2026-27\nfirst_day: 2027-06-01\nlast_day: 2028-06-15\n"

    run = growthbot("calendar", "import", write(tmp_path, "other.yaml", other))

    assert run.code == 1
    assert run.err.splitlines()[0] == (
        'other.yaml line 1: school year "2026-27" (2027-06-01 to 2028-06-15) overlaps "2026-2027" '
        "(2026-08-31 to 2027-06-17)"
    )


# -- iCalendar -----------------------------------------------------------------------------------------

ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Hillside//Calendar//EN
BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:STANDARD
DTSTART:19701101T020000
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:thanksgiving
DTSTART;VALUE=DATE:20261126
DTEND;VALUE=DATE:20261128
SUMMARY:Thanksgiving
END:VEVENT
BEGIN:VEVENT
UID:mlk
DTSTART;TZID=America/New_York:20270118T000000
DTEND;TZID=America/New_York:20270119T000000
SUMMARY:Martin Luther King
  Jr. Day
END:VEVENT
BEGIN:VEVENT
UID:february
DTSTART;VALUE=DATE:20270215
DURATION:P5D
SUMMARY:February vacation
END:VEVENT
BEGIN:VEVENT
UID:pd
DTSTART:20270312T130000Z
DTEND:20270312T200000Z
SUMMARY:Professional development\\, no students
END:VEVENT
END:VCALENDAR
"""

ICS_DAYS = {
    "2026-11-26": "Thanksgiving",
    "2026-11-27": "Thanksgiving",
    "2027-01-18": "Martin Luther King Jr. Day",
    "2027-02-15": "February vacation",
    "2027-02-16": "February vacation",
    "2027-02-17": "February vacation",
    "2027-02-18": "February vacation",
    "2027-02-19": "February vacation",
    "2027-03-12": "Professional development, no students",
}


def test_ics_events_are_closures_with_an_exclusive_end(growthbot: Growthbot, db: Database, tmp_path: Path):
    path = write(tmp_path, "closures.ics", ICS.replace("\n", "\r\n"))

    run = growthbot("calendar", "import", path, "--first-day", "2026-08-31", "--last-day", "2027-06-17")

    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "School year 2026-2027: 2026-08-31 to 2027-06-17, 200 school days"
    assert "9 closed school days:" in run.out
    assert school_years(db) == [("2026-2027", "2026-08-31", "2027-06-17")]
    assert closed_days(db) == ICS_DAYS

    again = growthbot("calendar", "import", path, "--year", "2026-2027")  # the stored bounds are reused
    assert again.code == 0, again.err
    assert closed_days(db) == ICS_DAYS


def test_ics_without_a_school_year_adds_closures(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = growthbot("calendar", "import", write(tmp_path, "closures.ics", ICS))

    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "Closures with no school year given (they add to what is stored):"
    assert school_years(db) == []
    assert closed_days(db) == ICS_DAYS


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("DTSTART;VALUE=DATE:20261126", "DTSTART;VALUE=DATE:20261131"), 'closures.ics line 12: DTSTART "20261131"'),
        (("DURATION:P5D", "RRULE:FREQ=YEARLY"), "closures.ics line 26: repeating events (RRULE) are not supported"),
        (("DTEND;VALUE=DATE:20261128", "DTEND;VALUE=DATE:20261120"), "closures.ics line 13: the event ends"),
        (("DTSTART;VALUE=DATE:20270215", "DTSTART;VALUE=DATE:20270815"), "closures.ics line 25: February vacation"),
        (("BEGIN:VCALENDAR", "BEGIN:NOTHING"), "closures.ics line 1: not an iCalendar file"),
    ],
)
def test_bad_ics_files_name_the_line_and_save_nothing(
    growthbot: Growthbot, db: Database, tmp_path: Path, change: tuple[str, str], problem: str
):
    path = write(tmp_path, "closures.ics", ICS.replace(*change))

    run = growthbot("calendar", "import", path, "--first-day", "2026-08-31", "--last-day", "2027-06-17")

    assert run.code == 1
    assert run.err.startswith(problem), run.err
    assert school_years(db) == [] and closed_days(db) == {}


def test_ics_year_options_must_be_complete(growthbot: Growthbot, db: Database, tmp_path: Path):
    path = write(tmp_path, "closures.ics", ICS)

    half = growthbot("calendar", "import", path, "--first-day", "2026-08-31")
    unknown = growthbot("calendar", "import", path, "--year", "2030-2031")

    assert half.err.splitlines()[0] == "closures.ics: give both --first-day and --last-day, or neither"
    assert unknown.err.splitlines()[0] == (
        'closures.ics: school year "2030-2031" is not loaded yet; give --first-day and --last-day'
    )
    assert closed_days(db) == {}


# -- calendar show -------------------------------------------------------------------------------------


def test_show_marks_weekends_and_holidays_in_the_month(growthbot: Growthbot, tmp_path: Path):
    growthbot("calendar", "import", write(tmp_path, "calendar.yaml", YEAR))

    run = growthbot("calendar", "show", "--month", "2026-11")

    assert run.code == 0, run.err
    assert run.out == (
        "       November 2026\n"
        " Mo  Tu  We  Th  Fr  Sa  Su\n"
        "                         (1)\n"
        "  2   3   4   5   6  (7) (8)\n"
        "  9  10  11  12  13 (14)(15)\n"
        " 16  17  18  19  20 (21)(22)\n"
        " 23  24  25 (26)(27)(28)(29)\n"
        " 30\n"
        "(n) = no school\n"
        "\n"
        "No school on weekdays:\n"
        "  Thu Nov 26 to Fri Nov 27: Thanksgiving\n"
        "\n"
        "School days in November 2026: 19\n"
    )


def test_show_defaults_to_this_month_and_merges_a_vacation_across_weekends(
    growthbot: Growthbot, clock: FakeClock, tmp_path: Path
):
    growthbot("calendar", "import", write(tmp_path, "calendar.yaml", YEAR))
    clock.set(datetime(2027, 1, 1, 3, 0, tzinfo=UTC))  # still December 31 in New York

    run = growthbot("calendar", "show")

    assert run.out.startswith("       December 2026\n")
    assert "  Thu Dec 24 to Thu Dec 31: Winter vacation\n" in run.out
    assert "School days in December 2026: 17\n" in run.out


def test_show_without_a_calendar_says_every_weekday_counts(growthbot: Growthbot, db: Database):
    run = growthbot("calendar", "show", "--month", "2026-11")

    assert "School days in November 2026: 21\n" in run.out
    assert "No school calendar is loaded" in run.out
    assert workspaces(db) == []  # looking never creates anything
