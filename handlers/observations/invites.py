"""Calendar invites (.ics) for observations, so they land in the evaluator's and the teacher's calendars.

A rescheduled or cancelled observation is sent with the same UID and a higher SEQUENCE: calendar apps
then update or remove the event they already hold instead of adding a second one. The caller keeps the
UID and the sequence with the observation and bumps the sequence on every change, cancellation included.
The UID carries a random id of the install (`Observations.install_id`), so two districts' observation #1
are never taken for one event by a calendar that holds both.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress

PRODID = "-//growthbot//observations//EN"

_EMAIL = re.compile(r"[^@\s<>\"':;,]+@[^@\s<>\"':;,]+\.[^@\s<>\"':;,]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and newline


def invite_ics(
    *,
    uid: str,
    sequence: int,
    summary: str,
    description: str,
    start: datetime,
    minutes: int,
    organizer: tuple[str, str | None],
    attendees: list[tuple[str, str | None]],
    now: datetime,
    cancelled: bool = False,
    location: str = "",
    private: bool = False,
) -> bytes:
    """One VEVENT as an iTIP REQUEST (or CANCEL). People are (name, email); times must be timezone-aware.

    `private`: an event only for the calendar it is imported into (METHOD:PUBLISH, no ORGANIZER, no
    ATTENDEE), for visits the teacher must not hear of beforehand: a calendar app that imports a REQUEST
    may mail its attendees an invitation, and one that imports a PUBLISH mails nobody. A cancelled private
    event is published again with STATUS:CANCELLED.

    Times are written in UTC, so no VTIMEZONE is needed and every app shows the event in its own zone.
    A person without a usable email is left out of ORGANIZER/ATTENDEE: a calendar can only invite an
    address, and a made-up one would make apps try to mail it.
    """
    if start.tzinfo is None or now.tzinfo is None:
        raise ValueError("start and now must be timezone-aware")
    if not uid.strip() or sequence < 0 or minutes <= 0:
        raise ValueError("an invite needs a uid, a sequence >= 0 and a positive length")

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH" if private else "CANCEL" if cancelled else "REQUEST")

    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", (start + timedelta(minutes=minutes)).astimezone(UTC))
    event.add("summary", _text(summary))
    if description.strip():
        event.add("description", _text(description))
    if location.strip():
        event.add("location", _text(location))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")

    if private:
        calendar.add_component(event)
        return calendar.to_ical()
    organizer_address = _address(*organizer)
    if organizer_address is not None:
        event.add("organizer", organizer_address)
    for name, email in attendees:
        address = _address(name, email)
        if address is None:
            continue
        address.params["ROLE"] = "REQ-PARTICIPANT"
        if not cancelled:
            address.params["PARTSTAT"] = "NEEDS-ACTION"
            address.params["RSVP"] = "TRUE"
        event.add("attendee", address)

    calendar.add_component(event)
    return calendar.to_ical()


def invite_filename(summary: str, start: datetime) -> str:
    """'classroom-observation-ms-rivera-2026-12-03-0900.ics': ASCII only, safe on every OS and in mail."""
    ascii_text = unicodedata.normalize("NFKD", summary).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].rstrip("-") or "observation"
    return f"{slug}-{start:%Y-%m-%d-%H%M}.ics"


def _text(value: str) -> str:
    """Newlines only (icalendar escapes them): a lone CR passes through raw, and a lenient parser that ends
    a line there would let text forge a property. Other control characters are not allowed in iCalendar text.
    """
    return _TEXT_CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _address(name: str, email: str | None) -> vCalAddress | None:
    """mailto: address with the person's name as CN; None when no usable email is known."""
    email = (email or "").strip()
    if not _EMAIL.fullmatch(email):
        return None
    address = vCalAddress(f"mailto:{email}")
    cn = " ".join(_CONTROL.sub(" ", name).split())
    if cn:
        address.params["CN"] = cn
    return address
