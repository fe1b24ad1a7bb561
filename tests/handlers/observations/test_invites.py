"""Calendar invites: what a calendar app reads back from the bytes we attach."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from handlers.observations.invites import PRODID, invite_filename, invite_ics

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 9, 0, tzinfo=ZoneInfo("America/New_York"))
HOSTILE = "Room 5; bring, notes\nline2"


def invite(**changes: Any) -> bytes:
    fields: dict[str, Any] = {
        "uid": "obs-42@growthbot",
        "sequence": 0,
        "summary": "Classroom observation: Ms. Rivera",
        "description": "Announced observation, grade 4 reading.",
        "start": START,
        "minutes": 45,
        "organizer": ("Dr. Chen", "chen@district.example.org"),
        "attendees": [("Ms. Rivera", "rivera@district.example.org")],
        "now": NOW,
    }
    fields.update(changes)
    return invite_ics(**fields)


def parsed(data: bytes) -> tuple[Calendar, Any]:
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_a_request_carries_what_calendar_apps_need() -> None:
    calendar, event = parsed(invite())
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "obs-42@growthbot"
    assert event.decoded("SEQUENCE") == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Classroom observation: Ms. Rivera"
    assert str(event["DESCRIPTION"]) == "Announced observation, grade 4 reading."


def test_times_are_written_in_utc_and_the_end_follows_the_length() -> None:
    data = invite()
    _, event = parsed(data)
    assert event.decoded("DTSTART") == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 3, 14, 45, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == NOW
    assert b"DTSTART:20261203T140000Z" in data  # no TZID, so no VTIMEZONE is needed
    assert b"VTIMEZONE" not in data


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence() -> None:
    later = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)
    _, first = parsed(invite())
    _, moved = parsed(invite(sequence=1, start=later))
    assert str(moved["UID"]) == str(first["UID"])
    assert moved.decoded("SEQUENCE") == 1
    assert moved.decoded("DTSTART") == later


def test_a_cancellation_says_so_in_method_and_status() -> None:
    calendar, event = parsed(invite(sequence=2, cancelled=True))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("SEQUENCE") == 2
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:rivera@district.example.org"
    assert "RSVP" not in attendee.params  # nothing to answer on a cancellation


def test_people_are_mailto_addresses_with_their_names() -> None:
    _, event = parsed(invite(attendees=[("Ms. Rivera", "rivera@district.example.org"), ("Mr. Ode", "ode@x.org")]))
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:chen@district.example.org"
    assert organizer.params["CN"] == "Dr. Chen"
    attendees = event["ATTENDEE"]
    assert [str(a) for a in attendees] == ["mailto:rivera@district.example.org", "mailto:ode@x.org"]
    assert [a.params["CN"] for a in attendees] == ["Ms. Rivera", "Mr. Ode"]
    assert all(a.params["RSVP"] == "TRUE" and a.params["PARTSTAT"] == "NEEDS-ACTION" for a in attendees)


def test_people_without_a_usable_email_are_left_out() -> None:
    people = [("No Email", None), ("Blank", "  "), ("Not an address", "rivera"), ("Ms. Rivera", "rivera@x.org")]
    _, event = parsed(invite(organizer=("Dr. Chen", None), attendees=people))
    assert "ORGANIZER" not in event
    assert str(event["ATTENDEE"]) == "mailto:rivera@x.org"  # the only one, so not a list


def test_hostile_text_survives_the_round_trip() -> None:
    description = HOSTILE + "\r\nBEGIN:VEVENT\rEND:VEVENT\x00\x1b[31m"
    data = invite(summary=HOSTILE, description=description, location="Bldg A, Room 5; 2nd floor")
    _, event = parsed(data)  # still exactly one event
    assert str(event["SUMMARY"]) == HOSTILE
    assert str(event["DESCRIPTION"]) == HOSTILE + "\nBEGIN:VEVENT\nEND:VEVENT[31m"
    assert b"\r" not in data.replace(b"\r\n", b"")  # no CR but the line ends
    assert str(event["LOCATION"]) == "Bldg A, Room 5; 2nd floor"
    assert b"SUMMARY:Room 5\\; bring\\, notes\\nline2" in data


def test_hostile_names_stay_in_their_parameter() -> None:
    name = 'O\'Brien, Pat; "Jr"\nATTENDEE:mailto:evil@example.org'
    data = invite(attendees=[(name, "pat@x.org")])
    _, event = parsed(data)
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:pat@x.org"
    assert attendee.params["CN"].startswith('O\'Brien, Pat; "Jr" ATTENDEE')
    assert b"\nATTENDEE:mailto:evil" not in data


def test_lines_end_in_crlf_as_the_standard_requires() -> None:
    data = invite()
    assert data.count(b"\r\n") == data.count(b"\n")


def test_no_location_or_description_means_no_empty_fields() -> None:
    _, event = parsed(invite(description=""))
    assert "DESCRIPTION" not in event
    assert "LOCATION" not in event


@pytest.mark.parametrize(
    "changes",
    [{"start": datetime(2026, 12, 3, 9, 0)}, {"now": datetime(2026, 11, 24)}, {"minutes": 0}, {"uid": " "}],
)
def test_programming_errors_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        invite(**changes)


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("Classroom observation: Ms. Rivera", "classroom-observation-ms-rivera-2026-12-03-0900.ics"),
        ("Observación – Señora Muñoz", "observacion-senora-munoz-2026-12-03-0900.ics"),
        ("../../etc/passwd", "etc-passwd-2026-12-03-0900.ics"),
        ("观察", "observation-2026-12-03-0900.ics"),
        ("", "observation-2026-12-03-0900.ics"),
    ],
)
def test_file_names_are_safe_ascii(summary: str, expected: str) -> None:
    assert invite_filename(summary, START) == expected


def test_long_summaries_give_bounded_file_names() -> None:
    name = invite_filename("word " * 100, START)
    assert len(name) <= 60 + len("-2026-12-03-0900.ics")
    assert name.endswith("-2026-12-03-0900.ics")
    assert not name.startswith("-") and "--" not in name
