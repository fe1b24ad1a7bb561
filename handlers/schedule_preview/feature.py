"""`growthbot schedule upcoming`: every message the scheduler would send in a window, before anyone is nudged.

The list comes from `scheduling/preview.py`, which runs the tick's own rules (occurrences, school-day shifts,
each kind's expand, quiet hours, away) ahead of time and keeps nothing.
"""

from __future__ import annotations

import argparse
import importlib
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import prompts
from handlers.features import CliEnv, CliVerb, Feature, Setup
from handlers.messages import Outbound
from scheduling.kinds import Kinds
from scheduling.preview import Upcoming, upcoming
from scheduling.tick import QuietHours


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: type YYYY-MM-DD, like 2027-01-11") from error


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 400:
        raise argparse.ArgumentTypeError(f"{text!r}: type a number of days from 1 to 400")
    return int(text)


def configure(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="schedule_command", required=True)
    listing = verbs.add_parser("upcoming", help="list what the scheduler would send, and when")
    listing.add_argument("--from", dest="start", type=_day, default=None, help="first day, YYYY-MM-DD (default: now)")
    listing.add_argument("--days", type=_days, default=7, help="how many days to look ahead (default: 7)")
    listing.add_argument("--format", choices=["text", "json"], default="text")


def first_line(item: Upcoming) -> str:
    messages = item.payload.get("messages") or []
    if not messages:
        return ""
    text = prompts.render(Outbound.model_validate(messages[0]).template, messages[0].get("context", {}))
    return text.splitlines()[0] if text else ""


def describe(item: Upcoming) -> dict[str, str | int | None]:
    local = item.at.astimezone(ZoneInfo(item.time_zone))
    return {"kind": item.kind, "recipient": item.recipient, "recipient_id": item.recipient_id,
            "local": local.strftime("%Y-%m-%d %H:%M"), "weekday": local.strftime("%a"), "zone": item.time_zone,
            "at_utc": item.at.isoformat(), "status": item.status, "schedule_id": item.schedule_id,
            "first_line": first_line(item)}  # fmt: skip


def all_kinds(settings: object) -> Kinds:
    """The tick's kinds, as the running bot registers them (the registry is read at run time, not imported)."""
    registry = importlib.import_module("handlers.registry")
    kinds = Kinds(
        grace_overrides={n: timedelta(hours=h) for n, h in getattr(settings, "kind_grace_hours", {}).items()},
        default_grace=timedelta(hours=getattr(settings, "grace_hours", 6)),
    )
    for factory in registry.FEATURES:
        for kind in factory(Setup(port=_NoPort(), settings=settings)).kinds:
            kinds.register(kind)
    return kinds


class _NoPort:
    def __getattr__(self, name: str) -> object:
        raise RuntimeError("a scheduler kind used the bot's port while previewing")


def feature(setup: Setup) -> Feature:
    settings = setup.settings

    def run(args: argparse.Namespace, env: CliEnv) -> int:
        zone = ZoneInfo(env.default_timezone)
        start = env.now if args.start is None else datetime.combine(args.start, time(0, 0), tzinfo=zone)
        end = (start.astimezone(zone) + timedelta(days=args.days)).replace(hour=0, minute=0, second=0, microsecond=0)
        if args.start is None:
            end += timedelta(days=1)
        kinds = all_kinds(settings)
        quiet = QuietHours(settings.quiet_start, settings.quiet_end)
        items = [describe(i) for i in upcoming(env.db, kinds, quiet, env.default_timezone, start, end)]
        if args.format == "json":
            env.out.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
            return 0
        if not items:
            print(f"Nothing would be sent from {start:%Y-%m-%d} to {end:%Y-%m-%d}.", file=env.out)
            return 0
        for item in items:
            away = "  (dropped: recipient away)" if item["status"] == "away" else ""
            print(f"{item['weekday']} {item['local']} {item['zone']}  {item['kind']}  to {item['recipient']}{away}\n"
                  f"    {item['first_line']}", file=env.out)  # fmt: skip
        print(f"{len(items)} message{'s' if len(items) != 1 else ''}.", file=env.out)
        return 0

    return Feature(
        name="schedule_preview",
        cli=(CliVerb("schedule", "see what the scheduler will send (schedule upcoming)", configure, run),),
    )
