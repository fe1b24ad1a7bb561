"""Partnerships: members and roles, meeting cadences, reminders with an agenda from the action plan, the
after-meeting prompt, and step-owner nudges. Every nudge is a schedule about `partnership:<id>`.

Each cadence keeps one chain of one-off schedules for its next meeting: a reminder some school days before
(`remind_school_days`, 5), one on the morning, and the after-meeting prompt at its end, which arranges the
next meeting's chain. A meeting on a day with no school moves to the next school day, and its reminders say so.
Member names appear in messages; candidate and student names never do (nothing here stores them).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.plc.cadence import Cadence
from scheduling.calendar import SchoolCalendar
from scheduling.kinds import Kind, Notice
from scheduling.recurrence import next_occurrence
from storage.models import ActionStep, Partnership, PartnershipMeeting, Person, Schedule
from storage.unit_of_work import Repos

REMINDER = "partnership.reminder"
AFTER_MEETING = "partnership.after_meeting"
STEP_NUDGE = "partnership.step_nudge"
ROLES = ("lead", "liaison", "supervising practitioner", "program supervisor", "principal")
STAGES = ("initiation", "implementation", "continuous improvement")
MEETING_KINDS = {"leadership": "leadership meeting", "liaison": "liaison meeting", "quarterly": "partnership meeting"}
STATUSES = ("not_started", "in_progress", "done", "blocked")
MORNING = time(7, 30)
BEFORE_AT = time(8, 0)
MEETING_MINUTES = 60


def day_label(day: date) -> str:
    return day.strftime("%a %b %-d")


def subject(partnership: Partnership, meeting: PartnershipMeeting | None = None) -> str:
    return f"partnership:{partnership.id}" + (f":meeting:{meeting.id}" if meeting else "")


def members_of(repos: Repos, partnership: Partnership) -> list[tuple[Person, str]]:
    found = []
    for member in partnership.members or []:
        person = repos.people.get(int(member.get("person_id", 0)))
        if person is not None:
            found.append((person, str(member.get("role", ""))))
    return found


class PartnershipService:
    def __init__(self, default_zone: str) -> None:
        self.default_zone = default_zone
        self.zone = ZoneInfo(default_zone)

    # -- meetings ----------------------------------------------------------------------------------------

    def set_meeting(
        self, repos: Repos, partnership: Partnership, kind: str, text: str, cadence: Cadence, now: datetime
    ) -> PartnershipMeeting:
        meeting = repos.partnerships.set_meeting(
            partnership.id, kind, cadence=text[:200], rrule=cadence.rrule, time_zone=self.zone.key,
            starts_at=cadence.first_start(now, self.zone),
        )  # fmt: skip
        repos.schedules.cancel_subject(subject(partnership, meeting), now)
        self.arrange(repos, partnership, meeting, None, now)
        return meeting

    def next_meeting(
        self, meeting: PartnershipMeeting, after: datetime | None, calendar: SchoolCalendar
    ) -> tuple[datetime, datetime] | None:
        """(when it is, when the rule said) for the first meeting after `after`, moved off a day with no school."""
        found = next_occurrence(starts_at=meeting.starts_at, time_zone=meeting.time_zone, rrule=meeting.rrule,
                                after=after, calendar=calendar, shift="next")  # fmt: skip
        return (found.runs_at, found.original) if found else None

    def arrange(
        self, repos: Repos, partnership: Partnership, meeting: PartnershipMeeting, after: datetime | None,
        now: datetime,
    ) -> None:  # fmt: skip
        """The next meeting's reminders and after-meeting prompt (each a one-off schedule)."""
        calendar = repos.calendars.load(partnership.workspace_id)
        found = self.next_meeting(meeting, after, calendar)
        if found is None:
            return
        at, original = found
        zone = ZoneInfo(meeting.time_zone)
        day = at.astimezone(zone).date()
        payload = {"partnership_id": partnership.id, "meeting_id": meeting.id, "at": at.isoformat(),
                   "original": original.isoformat()}  # fmt: skip
        before = datetime.combine(calendar.add_school_days(day, -partnership.remind_school_days), BEFORE_AT, zone)
        plans = [(REMINDER, before, {"when": "before"}), (REMINDER, datetime.combine(day, MORNING, zone),
                 {"when": "morning"}), (AFTER_MEETING, at + timedelta(minutes=MEETING_MINUTES), {})]  # fmt: skip
        for kind, when, extra in plans:
            if when > now or kind == AFTER_MEETING:
                repos.schedules.add(
                    workspace_id=partnership.workspace_id, kind=kind, owner_id=partnership.lead_id,
                    subject=subject(partnership, meeting), payload=payload | extra, time_zone=meeting.time_zone,
                    starts_at=when, next_run_at=when, now=now,
                )  # fmt: skip

    # -- what the scheduler sends ----------------------------------------------------------------------

    def kinds(self) -> tuple[Kind, ...]:
        return (
            Kind(REMINDER, expand=self.reminder, shift=None, grace=timedelta(hours=12)),
            Kind(AFTER_MEETING, expand=self.after_meeting, shift=None, grace=timedelta(days=3)),
            Kind(STEP_NUDGE, expand=self.step_nudge, shift=None, grace=timedelta(hours=12)),
        )

    def _meeting(self, repos: Repos, schedule: Schedule) -> tuple[Partnership, PartnershipMeeting] | None:
        partnership = repos.partnerships.get(int(schedule.payload.get("partnership_id", 0)))
        meeting = repos.partnerships.meeting(int(schedule.payload.get("meeting_id", 0)))
        if partnership is None or meeting is None:
            return None
        return partnership, meeting

    def agenda(
        self, repos: Repos, partnership: Partnership, meeting: PartnershipMeeting, at: datetime, original: datetime,
        today: date,
    ) -> dict[str, Any]:  # fmt: skip
        """What the agenda template needs: steps overdue and due before the meeting, benchmarks, last decisions."""
        zone = ZoneInfo(meeting.time_zone)
        day, was = at.astimezone(zone).date(), original.astimezone(zone).date()
        calendar = repos.calendars.load(partnership.workspace_id)
        following = self.next_meeting(meeting, original, calendar)
        horizon = following[0].astimezone(zone).date() if following else day + timedelta(days=31)
        names = {p.id: p.display_name for p, _role in members_of(repos, partnership)}
        steps = repos.partnerships.steps(partnership.id)
        open_steps = [s for s in steps if s.status != "done"]
        last = repos.partnerships.last_note(partnership.id)
        benchmarks = []
        for person_id, name in names.items():
            for goal in repos.goals.of_person(person_id):
                if goal.goal_type != "partnership" or goal.status != "saved":
                    continue
                for mark in goal.benchmarks or []:
                    try:
                        due = date.fromisoformat(str(mark.get("date")))
                    except ValueError:
                        continue
                    if today <= due <= horizon:
                        benchmarks.append({"due": day_label(due), "check": mark.get("check", ""), "owner": name})
        return {
            "partnership": partnership.name, "meeting": MEETING_KINDS.get(meeting.kind, meeting.kind),
            "day": day_label(day), "time": at.astimezone(zone).strftime("%-I:%M %p"),
            "moved_from": day_label(was) if was != day else "", "why_moved": calendar.why_closed(was) if was != day
            else "", "stage": partnership.stage, "vision": partnership.vision,
            "overdue": [self.row(s, names) for s in open_steps if s.due_on < today],
            "due_soon": [self.row(s, names) for s in open_steps if today <= s.due_on <= horizon],
            "quick_wins": [self.row(s, names) for s in steps if s.status == "not_started" and s.impact == 1
                           and s.lift == 3],
            "benchmarks": benchmarks,
            "last": {"day": day_label(last.meeting_on), "decisions": last.decisions, "next_steps": last.next_steps}
            if last else None,
        }  # fmt: skip

    @staticmethod
    def row(step: ActionStep, names: dict[int, str]) -> dict[str, Any]:
        return {"number": step.number, "step": step.step, "due": day_label(step.due_on),
                "owners": [names[i] for i in step.responsible_ids or [] if i in names] or ["no one yet"],
                "status": step.status.replace("_", " ")}  # fmt: skip

    def reminder(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        found = self._meeting(repos, schedule)
        if found is None:
            return []
        partnership, meeting = found
        when = datetime.fromisoformat(schedule.payload["at"])
        original = datetime.fromisoformat(schedule.payload["original"])
        today = at.astimezone(ZoneInfo(meeting.time_zone)).date()
        context = self.agenda(repos, partnership, meeting, when, original, today)
        context["when"] = schedule.payload.get("when", "before")
        message = {"template": "partnerships/agenda", "context": context}
        members = [p for p, _role in members_of(repos, partnership)]
        if partnership.channel and partnership.lead_id is not None:  # once in the channel; DMs if it can't go there
            return [Notice(partnership.lead_id, [message], tag="channel", channel=partnership.channel,
                           fallback=[p.id for p in members])]  # fmt: skip
        return [Notice(p.id, [message]) for p in members]

    def after_meeting(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        """The meeting is over: ask the lead for notes, and arrange the next meeting's reminders."""
        found = self._meeting(repos, schedule)
        if found is None:
            return []
        partnership, meeting = found
        self.arrange(repos, partnership, meeting, datetime.fromisoformat(schedule.payload["original"]), at)
        if partnership.lead_id is None:
            return []
        day = datetime.fromisoformat(schedule.payload["at"]).astimezone(ZoneInfo(meeting.time_zone)).date()
        context = {"partnership": partnership.name, "meeting": MEETING_KINDS.get(meeting.kind, meeting.kind),
                   "day": day_label(day)}  # fmt: skip
        return [Notice(partnership.lead_id, [{"template": "partnerships/after_meeting", "context": context}])]

    def step_nudge(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        step = repos.partnerships.step_by_id(int(schedule.payload.get("step_id", 0)))
        if step is None or step.status == "done" or step.due_on.isoformat() != schedule.payload.get("due"):
            return []
        partnership = repos.partnerships.get(step.partnership_id)
        if partnership is None:
            return []
        context = {"partnership": partnership.name, "number": step.number, "step": step.step,
                   "due": day_label(step.due_on)}  # fmt: skip
        member_ids = {p.id for p, _role in members_of(repos, partnership)}
        return [Notice(i, [{"template": "partnerships/step_nudge", "context": context}])
                for i in step.responsible_ids or [] if i in member_ids]  # fmt: skip

    def nudge_step(self, repos: Repos, partnership: Partnership, step: ActionStep, now: datetime) -> None:
        """(Re)arrange the nudge the school day before the step is due."""
        tag = f"{subject(partnership)}:step:{step.id}"
        repos.schedules.cancel_subject(tag, now)
        if step.status == "done":
            return
        calendar = repos.calendars.load(partnership.workspace_id)
        at = datetime.combine(calendar.previous_school_day(step.due_on), BEFORE_AT, self.zone)
        if at > now:
            repos.schedules.add(
                workspace_id=partnership.workspace_id, kind=STEP_NUDGE, owner_id=partnership.lead_id, subject=tag,
                payload={"step_id": step.id, "due": step.due_on.isoformat()}, time_zone=self.zone.key,
                starts_at=at, next_run_at=at, now=now,
            )  # fmt: skip
