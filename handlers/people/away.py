"""`/away until Dec 3`: pause one's nudges while out; `/away off` to come back early; `/away` to check."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.goals.dates import DateProblem, find_date
from handlers.messages import Outbound, Reply
from storage.models import Person

MAX_AWAY = timedelta(days=366)


def _day(day: date) -> str:
    return day.strftime("%a %b %-d, %Y")


def away(person: Person, args: str, now: datetime, zone: ZoneInfo) -> Reply:
    text = args.strip()
    today = now.astimezone(zone).date()
    if not text:
        if person.away_until is None or person.away_until <= now:
            return Reply(messages=[Outbound(template="people/away_status", context={"back": ""})])
        back = person.away_until.astimezone(zone).date()
        return Reply(messages=[Outbound(template="people/away_status", context={"back": _day(back)})])
    if text.lower() in ("off", "back", "cancel", "stop", "none"):
        person.away_until = None
        return Reply(messages=[Outbound(template="people/away_off")])
    try:
        found = find_date(text.removeprefix("until").strip(), today)
    except DateProblem:
        found = None
    if found is None:
        return Reply(messages=[Outbound(template="people/away_usage", context={"text": text[:80]})])
    back = found.value
    if back <= today:
        return Reply(messages=[Outbound(template="people/away_past", context={"day": _day(back)})])
    if back - today > MAX_AWAY:
        return Reply(messages=[Outbound(template="people/away_usage", context={"text": text[:80]})])
    person.away_until = datetime.combine(back, datetime.min.time(), tzinfo=zone)
    return Reply(messages=[Outbound(template="people/away_set", context={"back": _day(back)})])
