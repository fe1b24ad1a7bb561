"""`growthbot roster|calendar|demo`: the edge of organisation setup.

Here live the parts that know about platforms and files: which workspace a command is for (the Slack team
when SLACK_BOT_TOKEN is set, else the Teams tenant when Teams is configured, else the terminal; or as
`--platform` says), the Slack `users.lookupByEmail` lookup, reading the file, and exit codes. The importers
themselves are in handlers/org and never see Slack or Teams.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.adapters.console import PLATFORM as CONSOLE_PLATFORM
from bot.adapters.console import WORKSPACE as CONSOLE_WORKSPACE
from bot.app import Runtime
from bot.settings import Settings
from handlers.observations.rubric import load_rubric
from handlers.observations.service import ObservationService, Policy
from handlers.org.calendars import YearBounds, import_calendar, read_calendar, show_month
from handlers.org.demo import load_demo
from handlers.org.problems import DirectoryError, ImportFailed, Problem
from handlers.org.roster import (
    Directory,
    Leaver,
    LookupResult,
    console_directory,
    import_roster,
    list_roster,
    set_active,
)
from storage import teams as teams_store
from storage.database import Database

COMMANDS = ("roster", "calendar", "demo")
PLATFORMS = ("slack", "teams", "terminal")
TEAMS_PLATFORM = "teams"  # bot.adapters.teams.PLATFORM, without importing the adapter (and PyJWT) for a CLI
BAR_WIDTH = 30
REDRAW_SECONDS = 0.1  # a Slack lookup per row must not turn into a write to the terminal per row


class TerminalProgress:
    """One progress line, redrawn in place (carriage return) on a terminal and wiped before the report.

    Only for a terminal: on a pipe or in a log the report and the problems stay exactly as they were.
    """

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.stage = ""
        self.drawn_at = float("-inf")
        self.width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage == self.stage and done < total and now - self.drawn_at < REDRAW_SECONDS:
            return
        self.stage, self.drawn_at = stage, now
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        percent = 100 * done // total if total else 100
        line = f"{stage} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3d}% {done:,}/{total:,}"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = max(self.width, len(line))

    def close(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def terminal_progress(stream: TextIO) -> TerminalProgress | None:
    """A progress bar when `stream` is a terminal, else None (pipes, files and tests get no bar)."""
    isatty = getattr(stream, "isatty", None)
    return TerminalProgress(stream) if isatty is not None and isatty() else None


def _day(value: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f'"{value}" is not a date; write YYYY-MM-DD')


def _month(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise argparse.ArgumentTypeError(f'"{value}" is not a month; write YYYY-MM, e.g. 2026-11')
    return int(match.group(1)), int(match.group(2))


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    roster = commands.add_parser("roster", help="load the staff list (CSV)")
    roster_commands = roster.add_subparsers(dest="org_command", required=True)
    staff = roster_commands.add_parser("import", help="add or update people from a staff CSV, all or nothing")
    staff.add_argument("file", type=Path, help="CSV: email,name,role,school,evaluator_email[,time_zone]")
    staff.add_argument("--dry-run", action="store_true", help="check and report, save nothing")
    staff.add_argument(
        "--deactivate-missing", action="store_true", help="deactivate everyone on the roster the file leaves out"
    )
    listing = roster_commands.add_parser("list", help="who is on the roster (people who left are marked)")
    listing.add_argument("--school", default=None, help="only this school")
    listing.add_argument("--role", default=None, help="only this role, e.g. teacher or evaluator")
    off = roster_commands.add_parser("deactivate", help="someone left: records kept, reminders and visits stop")
    off.add_argument("email")
    on = roster_commands.add_parser("reactivate", help="undo deactivate: their reminders resume")
    on.add_argument("email")
    for sub in (staff, listing, off, on):
        _platform_option(sub)

    calendar = commands.add_parser("calendar", help="load or look at the school calendar")
    calendar_commands = calendar.add_subparsers(dest="org_command", required=True)
    load = calendar_commands.add_parser("import", help="load a school year and its closed days (YAML or .ics)")
    load.add_argument("file", type=Path, help="a .yaml/.yml school calendar or an .ics of closures")
    load.add_argument("--dry-run", action="store_true", help="check and report, save nothing")
    load.add_argument("--year", default=None, help=".ics only: school year name, e.g. 2026-2027")
    load.add_argument("--first-day", type=_day, default=None, help=".ics only: first day of school (YYYY-MM-DD)")
    load.add_argument("--last-day", type=_day, default=None, help=".ics only: last day of school (YYYY-MM-DD)")
    show = calendar_commands.add_parser("show", help="a month grid marking days without school")
    show.add_argument("--month", type=_month, default=None, help="YYYY-MM (default: this month)")
    for sub in (load, show):
        _platform_option(sub)

    demo = commands.add_parser("demo", help="sample data to try the bot")
    demo_commands = demo.add_subparsers(dest="org_command", required=True)
    sample = demo_commands.add_parser("load", help="load the demo district into the terminal workspace")
    sample.add_argument("--if-empty", action="store_true", help="only if the database has no people at all")


def _platform_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        choices=PLATFORMS,
        default=None,
        help="whose workspace (default: Slack if SLACK_BOT_TOKEN is set, else Teams if configured, else terminal)",
    )


def slack_directory(token: str, api_url: str) -> Directory:
    """The Slack team of the token, with each email looked up by `users.lookupByEmail`."""
    from slack_sdk.errors import SlackApiError

    from bot.adapters.slack import PLATFORM
    from bot.adapters.slack_web import web_client

    client = web_client(token, api_url)
    try:
        team = str(client.auth_test()["team_id"])
    except SlackApiError as error:
        raise DirectoryError(f"Slack did not accept SLACK_BOT_TOKEN ({error.response.get('error')})") from error
    except OSError as error:
        raise DirectoryError(f"could not reach Slack at {api_url} ({error})") from error

    def lookup(email: str) -> LookupResult | None:
        try:
            user = client.users_lookupByEmail(email=email)["user"]
        except SlackApiError as error:
            if error.response.get("error") == "users_not_found":
                return None
            raise DirectoryError(f"Slack could not look up {email} ({error.response.get('error')})") from error
        except OSError as error:
            raise DirectoryError(f"could not reach Slack at {api_url} ({error})") from error
        if user.get("deleted"):
            return None
        return LookupResult(str(user["id"]), user.get("tz"))

    return Directory(
        platform=PLATFORM,
        external_id=team,
        lookup=lookup,
        where=f"Slack team {team}",
        id_kind="Slack user",
        unmatched_on="Slack",
    )


def teams_directory(db: Database, tenant_id: str) -> Directory:
    """The Teams tenant's workspace. An import cannot ask Teams who is who, so only people the bot has linked
    already (from the members Teams reported, see bot/adapters/teams_members.py) are found; everyone else is
    saved as `pending:<email>` and linked by email when they first appear in Teams."""
    linked = teams_store.linked_emails(db, tenant_id)  # one query for the whole file, not one per row

    def lookup(email: str) -> LookupResult | None:
        user_id = linked.get(email)
        return LookupResult(user_id) if user_id else None

    return Directory(
        platform=TEAMS_PLATFORM,
        external_id=tenant_id,
        lookup=lookup,
        where=f"Teams tenant {tenant_id}",
        id_kind="Teams user",
        unmatched_on="Teams",
        pending_note="linked when they first appear in Teams",
    )


def terminal_directory() -> Directory:
    return console_directory(CONSOLE_PLATFORM, CONSOLE_WORKSPACE)


def directory_for(settings: Settings, db: Database | None = None, platform: str | None = None) -> Directory:
    """`platform` as given; else Slack with SLACK_BOT_TOKEN set, else Teams when configured, else the terminal."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    teams_configured = bool(settings.teams_app_id and settings.teams_tenant_id)
    if platform is None:
        platform = "slack" if token else "teams" if teams_configured and db is not None else "terminal"
    if platform == "slack":
        if not token:
            raise DirectoryError("--platform slack needs SLACK_BOT_TOKEN (see README, Slack setup)")
        return slack_directory(token, settings.slack_api_url)
    if platform == "teams":
        if not settings.teams_tenant_id or db is None:
            raise DirectoryError("--platform teams needs TEAMS_TENANT_ID (see README, Microsoft Teams setup)")
        return teams_directory(db, settings.teams_tenant_id)
    return terminal_directory()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFailed([Problem(0, "no such file", str(path))]) from None
    except UnicodeDecodeError:
        raise ImportFailed([Problem(0, 'not UTF-8 text; save it as "CSV UTF-8" (or UTF-8 text)', path.name)]) from None
    except OSError as error:
        raise ImportFailed([Problem(0, error.strerror or str(error), str(path))]) from None


def run(args: argparse.Namespace, runtime: Runtime) -> int:
    """Run one organisation command; problems go to stderr with exit code 1 and nothing saved."""
    try:
        print(_output(args, runtime), end="")
    except ImportFailed as failed:
        for problem in failed.problems:
            print(problem, file=sys.stderr)
        print("Nothing was saved.", file=sys.stderr)
        return 1
    except DirectoryError as error:
        print(f"growthbot: {error}. Nothing was saved.", file=sys.stderr)
        return 1
    return 0


def _output(args: argparse.Namespace, runtime: Runtime) -> str:
    settings, db, clock = runtime.settings, runtime.db, runtime.bot.clock
    zone = settings.default_timezone
    if args.command == "demo":
        summary = load_demo(
            db, clock, terminal_directory(), zone, if_empty=args.if_empty, features=runtime.bot.features
        )
        return f"{summary}\n" if summary else ""
    directory = directory_for(settings, db, getattr(args, "platform", None))
    if args.command == "roster" and args.org_command == "list":
        return list_roster(db, directory, args.school, args.role)
    if args.command == "roster" and args.org_command in ("deactivate", "reactivate"):
        active = args.org_command == "reactivate"
        return set_active(db, clock, directory, args.email, active, _leaver(settings))
    if args.command == "roster":
        text = _read(args.file)
        bar = terminal_progress(sys.stderr)
        try:
            report = import_roster(
                db, clock, directory, text, args.file.name, zone, args.dry_run, bar,
                deactivate_missing_people=args.deactivate_missing, leave=_leaver(settings),
            )  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
        return report.text()
    if args.org_command == "show":
        year, month = args.month or _this_month(runtime)
        return show_month(db, directory.platform, directory.external_id, year, month)
    bounds = YearBounds(args.year, args.first_day, args.last_day)
    plans = read_calendar(_read(args.file), args.file.name, zone, bounds)
    platform, external_id = directory.platform, directory.external_id
    return import_calendar(db, clock, platform, external_id, plans, args.file.name, args.dry_run).text()


def _leaver(settings: Settings) -> Leaver:
    """Someone leaving cancels their observations still ahead, with notices (the observations feature's rules)."""
    policy = Policy(
        notice_school_days=settings.notice_school_days,
        feedback_school_days=settings.feedback_school_days,
        rubric=load_rubric(settings.rubric_path),
    )
    return ObservationService(policy, settings.default_timezone).leave


def _this_month(runtime: Runtime) -> tuple[int, int]:
    today = runtime.bot.clock.now().astimezone(ZoneInfo(runtime.settings.default_timezone)).date()
    return today.year, today.month
