"""What scheduling, moving, cancelling and following up an observation does, inside one transaction.

Every message to the other person goes through the outbox (so quiet hours apply and nothing is sent
twice); every later nudge is a schedule about `observation:<id>`, so a move or a cancel replaces them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.engine import Problem
from handlers.observations.invites import invite_filename, invite_ics
from handlers.observations.rubric import Rubric, load_rubric
from handlers.observations.when import When, check_slot, describe
from scheduling.calendar import SchoolCalendar
from scheduling.quiet_hours import next_delivery_time
from scheduling.tick import QuietHours
from storage.models import Observation, Person
from storage.unit_of_work import Repos

MODES = ("announced", "unannounced", "peer", "walkthrough")
EVALUATIVE = ("announced", "unannounced")
TOLD_BEFORE = ("announced", "peer")  # the teacher hears beforehand; otherwise only afterwards
WALKTHROUGH_ROLES = ("evaluator", "admin", "facilitator", "plc_lead")
REMINDER_TIME = time(8, 0)
PRE_CONFERENCE_MINUTES = 20
REMINDER_RULE = "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=15"

NOTICE = "observation.notice"
EVIDENCE_PROMPT = "observation.evidence_prompt"
AFTER_NOTICE = "observation.after_notice"
FEEDBACK_REMINDER = "observation.feedback_reminder"


@dataclass(frozen=True)
class Policy:
    """The district's timelines (school days) and school hours, from settings."""

    notice_school_days: int = 2
    feedback_school_days: int = 5
    day_start: time = time(7, 0)
    day_end: time = time(17, 0)
    rubric: Rubric = field(default_factory=load_rubric)
    quiet: QuietHours = field(default_factory=QuietHours)


def zone_of(person: Person, default: str) -> str:
    try:
        ZoneInfo(person.time_zone or default)
    except (KeyError, ValueError):
        return default
    return person.time_zone or default


def subject(observation: Observation) -> str:
    return f"observation:{observation.id}"


def permission_problem(observer: Person, teacher: Person, mode: str) -> Problem | None:
    """Only the teacher's evaluator (or an admin) observes for evaluation; peers and walkthroughs are wider."""
    if observer.id == teacher.id:
        return Problem("observations/errors/self")
    if mode in EVALUATIVE:
        if teacher.evaluator_id == observer.id or observer.has_role("admin"):
            return None
        return Problem("observations/errors/not_your_teacher", {"teacher": teacher.display_name})
    if mode == "walkthrough" and not (observer.has_role(*WALKTHROUGH_ROLES) or teacher.evaluator_id == observer.id):
        return Problem("observations/errors/walkthrough_role")
    return None


def time_problem(when: When, mode: str, calendar: SchoolCalendar, policy: Policy, today: date) -> Problem | None:
    """A school day, in school hours, and (announced or peer) with enough school days' notice."""
    slot = check_slot(when.local, calendar.is_school_day, calendar.next_school_day, policy.day_start, policy.day_end)
    if slot is not None:
        return Problem(slot.template, slot.context)
    if mode in TOLD_BEFORE and calendar.school_days_between(today, when.local.date()) < policy.notice_school_days:
        earliest = calendar.add_school_days(today, policy.notice_school_days)
        return Problem(
            "observations/errors/too_little_notice",
            {"days": policy.notice_school_days, "earliest": earliest.strftime("%a %b %-d"), "mode": mode},
        )
    return None


def feedback_due(observation: Observation, calendar: SchoolCalendar, policy: Policy) -> date | None:
    if observation.mode not in EVALUATIVE:
        return None
    local_day = observation.starts_at.astimezone(ZoneInfo(observation.observer.time_zone)).date()
    return calendar.add_school_days(local_day, policy.feedback_school_days)


def summary(observation: Observation, viewer: Person, default_zone: str) -> dict[str, Any]:
    """What lists and messages show about an observation, in the viewer's own zone."""
    due = observation.feedback_due
    return {
        "id": observation.id,
        "mode": observation.mode,
        "evaluative": observation.evaluative,
        "teacher": observation.teacher.display_name,
        "observer": observation.observer.display_name,
        "when": describe(observation.starts_at, zone_of(viewer, default_zone)),
        "minutes": observation.minutes,
        "status": observation.status,
        "evidence_count": len(observation.evidence or []),
        "feedback_due": due.strftime("%a %b %-d") if due else "",
        "feedback_shared": observation.feedback_shared_at is not None,
        "acknowledged": observation.acknowledged_at is not None,
        "pre_conference": (
            describe(observation.pre_conference_at, zone_of(viewer, default_zone))
            if observation.pre_conference_at
            else ""
        ),
    }


class ObservationService:
    def __init__(self, policy: Policy, default_zone: str) -> None:
        self.policy = policy
        self.default_zone = default_zone

    def reaches_at(self, person: Person, calendar: SchoolCalendar, now: datetime) -> str:
        """When a notice written now reaches `person` ("" for now), in their own zone, for confirmations."""
        away = person.away_until if person.away_until is not None and person.away_until > now else None
        at = next_delivery_time(now, self.policy.quiet.window_for(person, self.default_zone), calendar, away)
        return "" if at <= now else describe(at, zone_of(person, self.default_zone))

    # -- scheduling ----------------------------------------------------------------------------------

    def schedule(
        self, repos: Repos, observer: Person, teacher: Person, at: datetime, mode: str, minutes: int, now: datetime
    ) -> tuple[Observation, list[Observation]]:
        """Save it, send the invites and notices, and set up its reminders; also return double bookings."""
        clashes = repos.observations.overlapping([observer.id, teacher.id], at, at + timedelta(minutes=minutes))
        observation = repos.observations.add(
            workspace_id=observer.workspace_id, observer_id=observer.id, teacher_id=teacher.id, mode=mode,
            starts_at=at, minutes=minutes, status="scheduled", evidence=[], sequence=0, created_at=now,
            updated_at=now,
        )  # fmt: skip
        repos.session.refresh(observation)
        self._arrange(repos, observation, now, change="new")
        return observation, clashes

    def move(self, repos: Repos, observation: Observation, at: datetime, now: datetime) -> list[Observation]:
        people = [observation.observer_id, observation.teacher_id]
        clashes = repos.observations.overlapping(
            people, at, at + timedelta(minutes=observation.minutes), observation.id
        )
        self._withdraw(repos, observation, now)
        if observation.pre_conference_at is not None and observation.pre_conference_at >= at:
            self._drop_pre_conference(repos, observation, now)  # it would now come after the visit
        observation.starts_at = at
        observation.sequence += 1
        observation.updated_at = now
        self._arrange(repos, observation, now, change="moved")
        return clashes

    def cancel(self, repos: Repos, observation: Observation, now: datetime) -> None:
        self._withdraw(repos, observation, now)
        if observation.pre_conference_at is not None and observation.pre_conference_at > now:
            self._drop_pre_conference(repos, observation, now)
        observation.status = "cancelled"
        observation.sequence += 1
        observation.updated_at = now
        told = [observation.observer] + ([observation.teacher] if observation.mode in TOLD_BEFORE else [])
        for person in told:
            self._notify(repos, observation, person, "observations/notice_cancelled", now, "cancelled",
                         invite=True, cancelled=True)  # fmt: skip

    def _drop_pre_conference(self, repos: Repos, observation: Observation, now: datetime) -> None:
        assert observation.pre_conference_at is not None
        self._send_pre_conference(repos, observation, observation.pre_conference_at, now, cancelled=True)
        observation.pre_conference_at = None

    def _withdraw(self, repos: Repos, observation: Observation, now: datetime) -> None:
        repos.schedules.cancel_subject(subject(observation), now)
        repos.observations.drop_pending_messages(subject(observation), f"observation:{observation.id}:")

    def _arrange(self, repos: Repos, observation: Observation, now: datetime, change: str) -> None:
        calendar = repos.calendars.load(observation.workspace_id)
        observation.feedback_due = feedback_due(observation, calendar, self.policy)
        observer, teacher = observation.observer, observation.teacher
        self._notify(repos, observation, observer, "observations/notice_observer", now, f"{change}-invite", invite=True)
        if observation.mode in TOLD_BEFORE:
            self._notify(
                repos, observation, teacher, "observations/notice_teacher", now, f"{change}-notice", invite=True
            )
        end = observation.starts_at + timedelta(minutes=observation.minutes)
        if observation.mode not in TOLD_BEFORE:
            self._later(repos, observation, AFTER_NOTICE, end, now, teacher)
        self._later(repos, observation, EVIDENCE_PROMPT, end, now, observer)
        if observation.feedback_due is not None:
            first = calendar.add_school_days(observation.feedback_due, -2)
            local_day = observation.starts_at.astimezone(ZoneInfo(zone_of(observer, self.default_zone))).date()
            first = max(first, calendar.next_school_day(local_day))
            zone = ZoneInfo(zone_of(observer, self.default_zone))
            start = datetime.combine(first, REMINDER_TIME, tzinfo=zone)
            self._later(repos, observation, FEEDBACK_REMINDER, start, now, observer, rrule=REMINDER_RULE)

    def _later(
        self, repos: Repos, observation: Observation, kind: str, at: datetime, now: datetime, owner: Person,
        rrule: str | None = None,
    ) -> None:  # fmt: skip
        zone = zone_of(owner, self.default_zone)
        repos.schedules.add(
            workspace_id=observation.workspace_id, kind=kind, owner_id=owner.id, subject=subject(observation),
            payload={"observation_id": observation.id, "sequence": observation.sequence}, time_zone=zone,
            starts_at=at, next_run_at=at, now=now, rrule=rrule,
        )  # fmt: skip

    def _notify(
        self, repos: Repos, observation: Observation, person: Person, template: str, now: datetime, tag: str,
        invite: bool = False, cancelled: bool = False, extra: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        context = self.context_for(observation, person)
        context.update(extra or {})
        attachments = [self.invite(observation, now, cancelled)] if invite else []
        repos.outbox.enqueue(
            key=f"observation:{observation.id}:seq{observation.sequence}:{tag}:person:{person.id}",
            kind=NOTICE, recipient_id=person.id, now=now, due_at=now,
            payload={"messages": [{"template": template, "context": context}], "attachments": attachments},
        )  # fmt: skip

    def context_for(self, observation: Observation, person: Person) -> dict[str, Any]:
        """An observation as `person` reads it: times in their zone, and the other person's zone too."""
        observer, teacher = observation.observer, observation.teacher
        other = teacher if person.id == observer.id else observer
        context = summary(observation, person, self.default_zone)
        other_zone = zone_of(other, self.default_zone)
        if other_zone != zone_of(person, self.default_zone):
            context["when_other"] = describe(observation.starts_at, other_zone)
            context["other"] = other.display_name
        return context

    def invite(self, observation: Observation, now: datetime, cancelled: bool = False) -> dict[str, str]:
        observer, teacher = observation.observer, observation.teacher
        label = "Observation" if observation.evaluative else observation.mode.capitalize()
        title = f"{label}: {teacher.display_name} with {observer.display_name}"
        description = (
            f"{observation.mode.capitalize()} observation scheduled in growthbot (#{observation.id})."
            if observation.evaluative
            else f"Non-evaluative {observation.mode}: notes go only to {teacher.display_name}. (#{observation.id})"
        )
        content = invite_ics(
            uid=f"observation-{observation.id}@growthbot", sequence=observation.sequence, summary=title,
            description=description, start=observation.starts_at, minutes=observation.minutes,
            organizer=(observer.display_name, observer.email),
            attendees=[(teacher.display_name, teacher.email)], now=now, cancelled=cancelled,
        )  # fmt: skip
        local_start = observation.starts_at.astimezone(ZoneInfo(zone_of(observer, self.default_zone)))
        return {"filename": invite_filename(title, local_start), "content": content.decode(), "title": title}

    def set_pre_conference(self, repos: Repos, observation: Observation, at: datetime, now: datetime) -> None:
        """Book the pre-conference and send both people an invite for it (its own event, same sequence rules)."""
        observation.pre_conference_at = at
        observation.updated_at = now
        self._send_pre_conference(repos, observation, at, now, cancelled=False)

    def _send_pre_conference(
        self, repos: Repos, observation: Observation, at: datetime, now: datetime, cancelled: bool
    ) -> None:
        # Its own event: its SEQUENCE grows with time, so the observation's reminders keep their sequence.
        sequence = int(now.timestamp()) // 60
        template = "observations/pre_conference_cancelled" if cancelled else "observations/pre_conference"
        for person in (observation.observer, observation.teacher):
            context = self.context_for(observation, person)
            context["conference_when"] = describe(at, zone_of(person, self.default_zone))
            repos.outbox.enqueue(
                key=f"preconference:{observation.id}:seq{sequence}:person:{person.id}",
                kind=NOTICE, recipient_id=person.id, now=now, due_at=now,
                payload={"messages": [{"template": template, "context": context}],
                         "attachments": [self.conference_invite(observation, at, now, sequence, cancelled)]},
            )  # fmt: skip

    def conference_invite(
        self, observation: Observation, at: datetime, now: datetime, sequence: int, cancelled: bool
    ) -> dict[str, str]:
        observer, teacher = observation.observer, observation.teacher
        title = f"Pre-conference: {teacher.display_name} with {observer.display_name}"
        content = invite_ics(
            uid=f"observation-{observation.id}-preconference@growthbot", sequence=sequence, cancelled=cancelled,
            summary=title, description=f"Before observation #{observation.id}.", start=at,
            minutes=PRE_CONFERENCE_MINUTES, organizer=(observer.display_name, observer.email),
            attendees=[(teacher.display_name, teacher.email)], now=now,
        )  # fmt: skip
        local_start = at.astimezone(ZoneInfo(zone_of(observer, self.default_zone)))
        return {"filename": invite_filename(title, local_start), "content": content.decode(), "title": title}

    # -- after the observation -----------------------------------------------------------------------

    def add_evidence(self, observation: Observation, text: str, tags: list[str], author: Person, now: datetime) -> int:
        observation.evidence = [
            *(observation.evidence or []),
            {"text": text, "indicators": tags, "at": now.isoformat(), "by": author.id},
        ]
        observation.updated_at = now
        return len(observation.evidence)

    def share_feedback(self, repos: Repos, observation: Observation, now: datetime) -> None:
        """Send the written feedback (or peer notes) to the teacher and stop the reminders."""
        observation.feedback_shared_at = now
        observation.updated_at = now
        observation.status = "done"
        repos.schedules.cancel_subject(subject(observation), now)
        repos.observations.drop_pending_messages(subject(observation), f"observation:{observation.id}:remind")
        self._notify(repos, observation, observation.teacher, "observations/feedback_shared", now, "feedback",
                     extra={"feedback": observation.feedback or ""})  # fmt: skip

    def acknowledge(self, repos: Repos, observation: Observation, now: datetime, reply: str | None) -> None:
        if reply:
            observation.teacher_reply = reply
        else:
            observation.acknowledged_at = now
        observation.updated_at = now
        tag = f"reply-{now.isoformat()}" if reply else "ack"
        self._notify(repos, observation, observation.observer, "observations/teacher_answered", now, tag,
                     extra={"reply": reply or ""})  # fmt: skip
