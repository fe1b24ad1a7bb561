"""The demo district's past visits, one at each after-visit stage, and `growthbot whoami` for newcomers.

`growthbot demo load` calls `demo_visits` (the feature's demo hook): so `make run` shows the whole cycle at
once (evidence missing, feedback due, feedback overdue, shared, acknowledged) without waiting for days.
The records are written directly, with no notices queued, so loading the demo sends nobody anything.
"""

from __future__ import annotations

import argparse
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.features import CliEnv, CliVerb
from handlers.observations.rubric import read_tags
from handlers.observations.service import ObservationService, feedback_due
from storage.models import Observation, Person
from storage.unit_of_work import Repos, unit_of_work

DOMAIN = "demo.growthbot.example"
CONSOLE = ("console", "local")  # the terminal workspace the demo lives in (bot/adapters/console.py)

# (teacher, mode, school days ago, minutes, notes as (text), feedback, stage)
VISITS: tuple[tuple[str, str, int, int, tuple[str, ...], str, str], ...] = (
    ("kim", "unannounced", 1, 20, (), "", "evidence missing"),
    ("nguyen", "announced", 2, 30, ("II-A-1: learning goal posted and revisited at the close",
                                     "II-B: calm, practised transitions between stations"), "", "feedback due"),
    ("obrien", "announced", 9, 30, ("I-B: exit tickets sorted into three groups during the lesson",),
     "", "feedback overdue"),
    ("rivera", "unannounced", 6, 20, ("II-D: every group asked to justify an answer",
                                       "several students waited a long time for help"),
     "Clear expectations; next, a signal for groups that are stuck.", "shared"),
    ("kim", "announced", 14, 45, ("II-A: questions moved from recall to reasoning",),
     "Strong questioning. Try longer wait time after open questions.", "acknowledged"),
)  # fmt: skip


def demo_visits(service: ObservationService, repos: Repos, workspace_id: int, now: datetime) -> str:
    """Add the past visits once (loading again adds nothing); returns what was added, for the summary."""
    observer = repos.roster.by_email(workspace_id, f"lopez@{DOMAIN}")
    if observer is None or repos.observations.of_observer(observer.id):
        return ""
    calendar = repos.calendars.load(workspace_id)
    zone = ZoneInfo(observer.time_zone or service.default_zone)
    today = now.astimezone(zone).date()
    added = 0
    for handle, mode, days_ago, minutes, notes, feedback, stage in VISITS:
        teacher = repos.roster.by_email(workspace_id, f"{handle}@{DOMAIN}")
        if teacher is None:
            continue
        day = calendar.add_school_days(today, -days_ago)
        at = datetime.combine(day, time(10, 0), tzinfo=zone)
        observation = repos.observations.add(
            workspace_id=workspace_id, observer_id=observer.id, teacher_id=teacher.id, mode=mode,
            starts_at=at, minutes=minutes, status="scheduled", evidence=[], sequence=0,
            created_at=at - timedelta(days=3), updated_at=at,
        )  # fmt: skip
        repos.session.refresh(observation)
        observation.feedback_due = feedback_due(observation, calendar, service.policy)
        _after(service, repos, observation, observer, teacher, notes, feedback, stage, at)
        added += 1
    return f"{added} past visits of {observer.display_name} at each stage (/observe list as lopez)." if added else ""


def _after(
    service: ObservationService, repos: Repos, observation: Observation, observer: Person, teacher: Person,
    notes: tuple[str, ...], feedback: str, stage: str, at: datetime,
) -> None:  # fmt: skip
    later = at + timedelta(minutes=observation.minutes + 10)
    tagged = [(text, *read_tags(text, service.policy.rubric)[:2]) for text in notes]
    for text, tags, elements in tagged:
        service.add_evidence(repos, observation, text, tags, elements, observer, later)
    rated = next((tags[0] for _text, tags, _elements in tagged if tags), "II-A")  # rate what the notes are about
    if stage in ("shared", "acknowledged"):
        service.rate(repos, observation, rated, "Proficient", observer, later)
        service.save_feedback(repos, observation, feedback, observer, later + timedelta(hours=4))
        shared = later + timedelta(days=1)
        observation.feedback_shared_at = shared
        observation.status = "done"
        repos.observations.add_entry(observation, "share", observer.id, shared, "", None, {"version": 1})
    if stage == "acknowledged":
        acked = later + timedelta(days=2)
        observation.acknowledged_at = acked
        repos.observations.add_entry(observation, "ack", teacher.id, acked)
        reply = "Thank you. I'll try a count of five after each open question."
        observation.teacher_reply = reply
        repos.observations.add_entry(observation, "reply", teacher.id, acked, reply)


# -- growthbot whoami ----------------------------------------------------------------------------------

DOES = {
    "admin": "schedule any observation, read evaluations, export records (growthbot export observations)",
    "evaluator": "schedule and log observations of your educators, record evidence, write and share feedback",
    "teacher": "read shared feedback and answer it (/observe list, /observe ack N, /observe reply N <text>)",
    "plc_lead": "lead your PLC's check-ins and do walkthroughs",
    "facilitator": "run professional learning and do walkthroughs",
    "partnership_lead": "lead the student-teaching partnership's meetings",
}


def whoami_verb() -> CliVerb:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--user", required=True, help="the terminal user, e.g. lopez (as in console --user)")

    def run(args: argparse.Namespace, env: CliEnv) -> int:
        env.out.write(whoami(env, args.user))
        return 0

    return CliVerb("whoami", "who you are in the terminal workspace (the demo) and what you can do", configure, run)


def whoami(env: CliEnv, user: str) -> str:
    name = user.strip().lower()[:64]
    with unit_of_work(env.db) as repos:
        workspace = repos.roster.find_workspace(*CONSOLE)
        person = repos.people.find(workspace.id, name) if workspace and name else None
        if person is None or not person.roles:
            return (
                f'"{name}" is a guest here, with no roster role: you can set your own hours with /settings and try\n'
                "a peer observation, but nothing evaluates you. Try --user lopez (the demo principal) or\n"
                "--user kim (a teacher); `growthbot roster list` shows everyone.\n"
            )
        lines = [
            f"You are {person.display_name} ({person.email or 'no email'}): {', '.join(person.roles)}"
            + (f" at {person.school.name}" if person.school else "")
            + (f", evaluated by {person.evaluator.display_name}" if person.evaluator else "")
            + (" (deactivated: you left the roster)" if person.deactivated_at else "")
            + "."
        ]
        lines += [f"- As {role}: {DOES[role]}." for role in person.roles if role in DOES]
        lines += _visits(repos, person)
    lines.append(f"Chat as yourself: growthbot console --user {name}")
    return "\n".join(lines) + "\n"


def _visits(repos: Repos, person: Person) -> list[str]:
    found: list[Any] = []
    observed = repos.observations.of_observer(person.id)
    if observed:
        found.append(f"You have {len(observed)} observations as observer: /observe list shows what each needs.")
    mine = [o for o in repos.observations.of_teacher(person.id) if o.feedback_shared_at is not None]
    if mine:
        found.append(f"{len(mine)} of your observations have shared feedback: /observe show {mine[0].id}.")
    return found
