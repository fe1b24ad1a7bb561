"""`/settings`: a person's own working hours and time zone, the window the scheduler keeps their messages in.

The zone defaults to the platform profile's; once a person picks one here it stays theirs (`zone_chosen`),
so a later profile sync does not undo it.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from handlers.engine import Check, CheckContext, Problem
from handlers.features import Invocation, Port
from handlers.forms import FormResult, FormSpec, Submission
from handlers.messages import Outbound, Reply

FORM_ID = "settings"
MIN_WINDOW_MINUTES = 60
ALIASES = {
    "eastern": "America/New_York",
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "central": "America/Chicago",
    "ct": "America/Chicago",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "mountain": "America/Denver",
    "mt": "America/Denver",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "arizona": "America/Phoenix",
    "pacific": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "utc": "UTC",
    "gmt": "UTC",
}


@cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def read_zone(text: str) -> str | None:
    """An IANA zone name in any case, or a common US name (Eastern, Pacific, CST); None if unknown."""
    wanted = text.strip().lower().replace(" ", "_")
    return ALIASES.get(wanted.replace("_time", "")) or _zones().get(wanted)


def check_zone(text: str, _ctx: CheckContext) -> Check:
    zone = read_zone(text)
    if zone is None:
        return Check(error=Problem("people/errors/unknown_zone", {"text": text.strip()[:60]}))
    return Check(value=zone)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def check_window(values: dict[str, Any], _ctx: CheckContext) -> dict[str, Problem]:
    start, end = values["quiet_start"], values["quiet_end"]
    if _minutes(end) - _minutes(start) < MIN_WINDOW_MINUTES:
        return {"quiet_end": Problem("people/errors/window", {"start": start, "end": end})}
    return {}


def submit(submission: Submission) -> FormResult:
    person, values = submission.person, submission.values
    person.quiet_start, person.quiet_end = values["quiet_start"], values["quiet_end"]
    if values["time_zone"] != person.time_zone:
        person.time_zone = values["time_zone"]
    person.zone_chosen = True
    return FormResult(messages=[Outbound(template="people/settings_saved", context=_shown(person.time_zone, values))])


def _shown(zone: str, values: dict[str, Any]) -> dict[str, str]:
    return {"zone": zone, "start": values["quiet_start"], "end": values["quiet_end"]}


class SettingsCommand:
    def __init__(self, port: Port, default_start: str, default_end: str) -> None:
        self.port = port
        self.default_start = default_start
        self.default_end = default_end

    def defaults(self, invocation: Invocation) -> dict[str, str]:
        person = invocation.person
        try:
            zone = str(ZoneInfo(person.time_zone or self.port.default_timezone))
        except (KeyError, ValueError):
            zone = self.port.default_timezone
        return {
            "time_zone": zone,
            "quiet_start": person.quiet_start or self.default_start,
            "quiet_end": person.quiet_end or self.default_end,
        }

    def run(self, invocation: Invocation) -> Reply:
        verb = invocation.args.strip().lower()
        current = self.defaults(invocation)
        if verb in ("show", "list"):
            return Reply(
                messages=[Outbound(template="people/settings_show", context=_shown(current["time_zone"], current))]
            )
        if verb not in ("", "edit", "new"):
            return Reply(messages=[Outbound(template="people/settings_usage", context={"text": verb[:40]})])
        return self.port.open_form(invocation.repos, invocation, FORM_ID, current)


def settings_form() -> FormSpec:
    return FormSpec(id=FORM_ID, submit=submit, checks={"time_zone": check_zone}, cross_check=check_window)
