"""Hostile calendar files: every refusal names its line, echoes nothing raw, and nothing is saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.database import Database
from tests.org.helpers import Growthbot, Run, closed_days, school_years, write

YEAR = """\
school_year: 2026-2027
first_day: 2026-08-31
last_day: 2027-06-17
closed:
  - {date: 2026-11-26, name: Thanksgiving}
"""

ICS_HEAD = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Hillside//Calendar//EN
"""

THANKSGIVING = """\
BEGIN:VEVENT
UID:thanksgiving
DTSTART;VALUE=DATE:20261126
DTEND;VALUE=DATE:20261128
SUMMARY:Thanksgiving
END:VEVENT
"""


def refused(run: Run, db: Database, problems: list[str]) -> None:
    """Exactly these problems, in order, then "Nothing was saved.", and truly nothing saved."""
    assert run.code == 1, run.out
    assert run.out == ""
    assert run.err.splitlines() == [*problems, "Nothing was saved."], run.err
    assert school_years(db) == [] and closed_days(db) == {}


def import_yaml(growthbot: Growthbot, tmp_path: Path, text: str) -> Run:
    return growthbot("calendar", "import", write(tmp_path, "calendar.yaml", text))


def import_ics(growthbot: Growthbot, tmp_path: Path, text: str, *options: str) -> Run:
    return growthbot("calendar", "import", write(tmp_path, "closures.ics", text), *options)


# -- YAML ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ('"Thanks\\0giving"', "U+0000"),
        ('"\\e[31mRed day"', "U+001B"),
        ('"Bell\\a"', "U+0007"),
        ('"Del\\x7f"', "U+007F"),
    ],
)
def test_yaml_control_characters_in_a_name_are_refused_with_their_line(
    growthbot: Growthbot, db: Database, tmp_path: Path, name: str, code: str
):
    run = import_yaml(growthbot, tmp_path, YEAR + f"  - {{date: 2026-11-27, name: {name}}}\n")

    refused(run, db, [f"calendar.yaml line 6: name contains a control character ({code}); remove it"])


def test_yaml_control_character_in_the_school_year_is_refused(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = import_yaml(growthbot, tmp_path, YEAR.replace("school_year: 2026-2027", 'school_year: "2026\\0-2027"'))

    refused(run, db, ["calendar.yaml line 1: school_year contains a control character (U+0000); remove it"])


def test_a_raw_nul_byte_in_yaml_is_reported_on_its_own_line(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = import_yaml(growthbot, tmp_path, YEAR + "  - {date: 2026-11-27, name: Thanks\x00giving}\n")

    refused(run, db, ["calendar.yaml line 6: contains a control character (U+0000); remove it"])


def test_a_name_longer_than_its_column_is_refused_not_cut(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = import_yaml(growthbot, tmp_path, YEAR + f"  - {{date: 2026-11-27, name: {'x' * 201}}}\n")

    refused(run, db, ["calendar.yaml line 6: name is longer than 200 characters"])


def test_a_name_of_exactly_200_characters_is_stored_whole(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = import_yaml(growthbot, tmp_path, YEAR + f"  - {{date: 2026-11-27, name: {'x' * 200}}}\n")

    assert run.code == 0, run.err
    assert closed_days(db)["2026-11-27"] == "x" * 200


def test_a_name_on_several_lines_is_stored_as_one_line(growthbot: Growthbot, db: Database, tmp_path: Path):
    text = YEAR + "  - date: 2026-11-27\n    name: |\n      Day after\n      Thanksgiving\n"

    run = import_yaml(growthbot, tmp_path, text)

    assert run.code == 0, run.err
    assert closed_days(db)["2026-11-27"] == "Day after Thanksgiving"


def test_the_same_day_listed_three_times_is_refused_on_each_repeat(growthbot: Growthbot, db: Database, tmp_path: Path):
    text = YEAR + "  - {date: 2026-11-26, name: Thanksgiving}\n  - {date: 2026-11-26, name: Thanksgiving}\n"

    run = import_yaml(growthbot, tmp_path, text)

    refused(
        run,
        db,
        [
            "calendar.yaml line 6: 2026-11-26 is already closed on line 5 (Thanksgiving); list each day once",
            "calendar.yaml line 7: 2026-11-26 is already closed on line 5 (Thanksgiving); list each day once",
        ],
    )


def test_a_day_inside_a_vacation_listed_again_is_refused(growthbot: Growthbot, db: Database, tmp_path: Path):
    text = YEAR + "  - {from: 2026-12-24, to: 2027-01-01, name: Winter vacation}\n  - {date: 2026-12-25}\n"

    run = import_yaml(growthbot, tmp_path, text)

    refused(
        run,
        db,
        ["calendar.yaml line 7: 2026-12-25 is already closed on line 6 (Winter vacation); list each day once"],
    )


def test_overlapping_vacations_are_refused_at_the_first_shared_day(growthbot: Growthbot, db: Database, tmp_path: Path):
    text = YEAR + (
        "  - {from: 2027-02-15, to: 2027-02-19, name: February vacation}\n"
        "  - {from: 2027-02-18, to: 2027-02-22, name: Long weekend}\n"
    )

    run = import_yaml(growthbot, tmp_path, text)

    refused(
        run,
        db,
        ["calendar.yaml line 7: 2027-02-18 is already closed on line 6 (February vacation); list each day once"],
    )


def test_a_time_zone_in_yaml_is_refused_with_its_line(growthbot: Growthbot, db: Database, tmp_path: Path):
    """A YAML calendar holds dates only, so it has no `time_zone` key; an unknown zone is never taken quietly."""
    run = import_yaml(growthbot, tmp_path, YEAR.replace("first_day:", "time_zone: Mars/Olympus\nfirst_day:"))

    refused(run, db, ['calendar.yaml line 2: unknown key "time_zone"; use school_year, first_day, last_day, closed'])


def test_a_bad_value_is_echoed_with_its_control_characters_escaped(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = import_yaml(growthbot, tmp_path, YEAR + '  - {date: "\\e[2J2026-11-27", name: Wipe}\n')

    refused(run, db, ['calendar.yaml line 6: date "\\x1b[2J2026-11-27" is not a date; write YYYY-MM-DD'])
    assert "\x1b" not in run.err


# -- iCalendar -----------------------------------------------------------------------------------------


def test_an_unknown_tzid_on_an_event_is_refused(growthbot: Growthbot, db: Database, tmp_path: Path):
    event = THANKSGIVING.replace("DTSTART;VALUE=DATE:20261126", "DTSTART;TZID=Mars/Olympus:20261126T000000")
    event = event.replace("DTEND;VALUE=DATE:20261128", "DTEND;TZID=America/New_York:20261128T000000")

    run = import_ics(growthbot, tmp_path, ICS_HEAD + event + "END:VCALENDAR\n")

    refused(
        run,
        db,
        ['closures.ics line 6: unknown time zone "Mars/Olympus"; use an IANA name such as America/New_York'],
    )


def test_an_unknown_zone_declared_by_the_calendar_is_refused(growthbot: Growthbot, db: Database, tmp_path: Path):
    zones = "X-WR-TIMEZONE:Eastern\nBEGIN:VTIMEZONE\nTZID:Eastern Standard Time\nEND:VTIMEZONE\n"

    run = import_ics(growthbot, tmp_path, ICS_HEAD + zones + THANKSGIVING + "END:VCALENDAR\n")

    refused(
        run,
        db,
        [
            'closures.ics line 4: unknown time zone "Eastern"; use an IANA name such as America/New_York',
            'closures.ics line 6: unknown time zone "Eastern Standard Time"; use an IANA name such as America/New_York',
        ],
    )


def test_known_zones_are_accepted(growthbot: Growthbot, db: Database, tmp_path: Path):
    zones = "X-WR-TIMEZONE:America/New_York\nBEGIN:VTIMEZONE\nTZID:America/New_York\nEND:VTIMEZONE\n"
    event = THANKSGIVING.replace("DTSTART;VALUE=DATE:20261126", "DTSTART;TZID=America/New_York:20261126T000000")
    event = event.replace("DTEND;VALUE=DATE:20261128", "DTEND;TZID=America/New_York:20261128T000000")

    run = import_ics(growthbot, tmp_path, ICS_HEAD + zones + event + "END:VCALENDAR\n")

    assert run.code == 0, run.err
    assert closed_days(db) == {"2026-11-26": "Thanksgiving", "2026-11-27": "Thanksgiving"}


@pytest.mark.parametrize(("char", "code"), [("\x00", "U+0000"), ("\x1b", "U+001B"), ("\x0c", "U+000C")])
def test_control_characters_in_a_summary_are_refused_on_its_line(
    growthbot: Growthbot, db: Database, tmp_path: Path, char: str, code: str
):
    event = THANKSGIVING.replace("SUMMARY:Thanksgiving", f"SUMMARY:Thanks{char}giving")

    run = import_ics(growthbot, tmp_path, ICS_HEAD + event + "END:VCALENDAR\n")

    refused(run, db, [f"closures.ics line 8: SUMMARY contains a control character ({code}); remove it"])


def test_a_megabyte_summary_is_refused_in_one_short_line(growthbot: Growthbot, db: Database, tmp_path: Path):
    event = THANKSGIVING.replace("SUMMARY:Thanksgiving", "SUMMARY:" + "x" * 1_000_000)

    run = import_ics(growthbot, tmp_path, ICS_HEAD + event + "END:VCALENDAR\n")

    refused(run, db, ["closures.ics line 8: SUMMARY is longer than 200 characters"])


def test_the_same_event_three_times_is_refused_on_each_repeat(growthbot: Growthbot, db: Database, tmp_path: Path):
    run = import_ics(growthbot, tmp_path, ICS_HEAD + THANKSGIVING * 3 + "END:VCALENDAR\n")

    refused(
        run,
        db,
        [
            "closures.ics line 12: 2026-11-26 is already closed on line 6 (Thanksgiving); list each day once",
            "closures.ics line 18: 2026-11-26 is already closed on line 6 (Thanksgiving); list each day once",
        ],
    )


def test_a_duplicate_is_refused_inside_a_school_year_too(growthbot: Growthbot, db: Database, tmp_path: Path):
    text = ICS_HEAD + THANKSGIVING * 2 + "END:VCALENDAR\n"

    run = import_ics(growthbot, tmp_path, text, "--first-day", "2026-08-31", "--last-day", "2027-06-17")

    refused(
        run,
        db,
        ["closures.ics line 12: 2026-11-26 is already closed on line 6 (Thanksgiving); list each day once"],
    )


def test_an_event_longer_than_a_year_is_refused(growthbot: Growthbot, db: Database, tmp_path: Path):
    event = THANKSGIVING.replace("DTEND;VALUE=DATE:20261128", "DTEND;VALUE=DATE:20281128")

    run = import_ics(growthbot, tmp_path, ICS_HEAD + event + "END:VCALENDAR\n")

    refused(run, db, ["closures.ics line 7: the event lasts from 2026-11-26 to 2028-11-27, longer than a year"])


def test_line_numbers_count_only_real_line_breaks(growthbot: Growthbot, db: Database, tmp_path: Path):
    """A form feed or a \\x1c inside a line is a bad character on that line, not the start of a new one."""
    head = ICS_HEAD.replace("PRODID:-//Hillside//Calendar//EN", "PRODID:-//Hill\x1cside//EN\x0c")
    event = THANKSGIVING.replace("DTSTART;VALUE=DATE:20261126", "DTSTART;VALUE=DATE:2026x1126")

    run = import_ics(growthbot, tmp_path, head + event + "END:VCALENDAR\n")

    refused(run, db, ['closures.ics line 6: DTSTART "2026x1126" is not a date'])
