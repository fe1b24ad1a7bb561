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


def time_problem(
    when: When, mode: str, calendar: SchoolCalendar, policy: Policy, today: date,
    teacher: Person | None = None, now: datetime | None = None, default_zone: str = "UTC",
) -> Problem | None:  # fmt: skip
    """A school day, in school hours, and (announced or peer) with enough school days' notice.

    Notice is counted from when the notice can actually reach the teacher: inside their working hours and
    after their away time (`teacher` and `now` given), so a teacher who is away never learns of a visit late.
    """
    slot = check_slot(when.local, calendar.is_school_day, calendar.next_school_day, policy.day_start, policy.day_end)
    if slot is not None:
        return Problem(slot.template, slot.context)
    if mode not in TOLD_BEFORE:
        return None
    start, reaches, away_until = today, "", ""
    if teacher is not None and now is not None:
        zone = zone_of(teacher, default_zone)
        reach = notice_reaches(teacher, calendar, policy, now, default_zone)
        start = max(today, reach.astimezone(ZoneInfo(zone)).date())
        if reach > now:
            reaches = describe(reach, zone)
        if teacher.away_until is not None and teacher.away_until > now:
            away_until = describe(teacher.away_until, zone)
    if calendar.school_days_between(start, when.local.date()) >= policy.notice_school_days:
        return None
    earliest = calendar.add_school_days(start, policy.notice_school_days)
    context = {
        "days": policy.notice_school_days, "earliest": earliest.strftime("%a %b %-d"), "mode": mode,
        "article": "An" if mode == "announced" else "A", "teacher": teacher.display_name if teacher else "",
        "reaches": reaches, "away_until": away_until,
    }  # fmt: skip
    return Problem("observations/errors/too_little_notice", context)


def notice_reaches(
    person: Person, calendar: SchoolCalendar, policy: Policy, now: datetime, default_zone: str
) -> datetime:
    """When a notice written now can reach `person`: their working hours on a school day, once back from away."""
    away = person.away_until if person.away_until is not None and person.away_until > now else None
    return next_delivery_time(now, policy.quiet.window_for(person, default_zone), calendar, away)


def derived_status(observation: Observation, now: datetime) -> str:
    """What an observation is at `now`: scheduled, happened, feedback due, shared, acknowledged or cancelled."""
    if observation.status == "cancelled":
        return "cancelled"
    if observation.acknowledged_at is not None:
        return "acknowledged"
    if observation.feedback_shared_at is not None:
        return "shared"
    if observation.starts_at + timedelta(minutes=observation.minutes) > now:
        return "scheduled"
    return "feedback due" if observation.feedback_due is not None else "happened"


def notes(observation: Observation) -> list[dict[str, Any]]:
    """The evidence notes as they stand, each with its number (notes saved before numbering get theirs here)."""
    return [{**item, "note": item.get("note", index + 1)} for index, item in enumerate(observation.evidence or [])]


def ratings(observation: Observation) -> dict[str, str]:
    """The formative rating of each indicator as it stands (the latest rating entry; none when cleared)."""
    found: dict[str, str] = {}
    for entry in observation.entries:
        if entry.kind == "rating":
            if entry.data.get("level"):
                found[entry.data["indicator"]] = entry.data["level"]
            else:
                found.pop(entry.data["indicator"], None)
    return found


def feedback_version(observation: Observation) -> int:
    return sum(entry.kind == "feedback" for entry in observation.entries)


def feedback_due(observation: Observation, calendar: SchoolCalendar, policy: Policy) -> date | None:
    if observation.mode not in EVALUATIVE:
        return None
    local_day = observation.starts_at.astimezone(ZoneInfo(zone_of(observation.observer, "UTC"))).date()
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
        "article": "An" if observation.mode in ("announced", "unannounced") else "A",
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
        at = notice_reaches(person, calendar, self.policy, now, self.default_zone)
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

    def log(
        self, repos: Repos, observer: Person, teacher: Person, at: datetime, mode: str, minutes: int, now: datetime
    ) -> Observation:
        """A visit that already happened: saved as over, the teacher told at once, feedback reminders set up."""
        observation = repos.observations.add(
            workspace_id=observer.workspace_id, observer_id=observer.id, teacher_id=teacher.id, mode=mode,
            starts_at=at, minutes=minutes, status="scheduled", evidence=[], sequence=0, created_at=now,
            updated_at=now,
        )  # fmt: skip
        repos.session.refresh(observation)
        calendar = repos.calendars.load(observation.workspace_id)
        observation.feedback_due = feedback_due(observation, calendar, self.policy)
        self._notify(repos, observation, teacher, "observations/after_notice", now, "logged", extra={"logged": True})
        self._reminders(repos, observation, calendar, now)
        return observation

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

    def cancel(self, repos: Repos, observation: Observation, now: datetime, gone: Person | None = None) -> None:
        self._withdraw(repos, observation, now)
        if observation.pre_conference_at is not None and observation.pre_conference_at > now:
            self._drop_pre_conference(repos, observation, now)
        observation.status = "cancelled"
        observation.sequence += 1
        observation.updated_at = now
        told = [observation.observer] + ([observation.teacher] if observation.mode in TOLD_BEFORE else [])
        for person in (p for p in told if gone is None or p.id != gone.id):
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
                repos, observation, teacher, "observations/notice_teacher", now, f"{change}-notice", invite=True,
                extra={"moved": change == "moved"},
            )  # fmt: skip
        end = observation.starts_at + timedelta(minutes=observation.minutes)
        if observation.mode not in TOLD_BEFORE:
            self._later(repos, observation, AFTER_NOTICE, end, now, teacher)
        self._later(repos, observation, EVIDENCE_PROMPT, end, now, observer)
        self._reminders(repos, observation, calendar, now)

    def _reminders(self, repos: Repos, observation: Observation, calendar: SchoolCalendar, now: datetime) -> None:
        """Daily feedback reminders from two school days before the feedback is due (evaluations only)."""
        observer = observation.observer
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
        attachments = [self.invite(repos, observation, now, cancelled)] if invite else []
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

    def invite(self, repos: Repos, observation: Observation, now: datetime, cancelled: bool = False) -> dict[str, str]:
        """The .ics for one person. A visit the teacher hears of only afterwards is a private event that names
        no attendee and makes no calendar app mail anyone (see `invite_ics`)."""
        observer, teacher = observation.observer, observation.teacher
        label = "Observation" if observation.evaluative else observation.mode.capitalize()
        title = f"{label}: {teacher.display_name} with {observer.display_name}"
        description = (
            f"{observation.mode.capitalize()} observation scheduled in growthbot (#{observation.id})."
            if observation.evaluative
            else f"Non-evaluative {observation.mode}: notes go only to {teacher.display_name}. (#{observation.id})"
        )
        content = invite_ics(
            uid=f"observation-{observation.id}-{repos.observations.install_id(now)}@growthbot",
            sequence=observation.sequence, summary=title, description=description, start=observation.starts_at,
            minutes=observation.minutes, organizer=(observer.display_name, observer.email),
            attendees=[(teacher.display_name, teacher.email)], now=now, cancelled=cancelled,
            private=observation.mode not in TOLD_BEFORE,
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
                         "attachments": [self.conference_invite(repos, observation, at, now, sequence, cancelled)]},
            )  # fmt: skip

    def conference_invite(
        self, repos: Repos, observation: Observation, at: datetime, now: datetime, sequence: int, cancelled: bool
    ) -> dict[str, str]:
        observer, teacher = observation.observer, observation.teacher
        title = f"Pre-conference: {teacher.display_name} with {observer.display_name}"
        content = invite_ics(
            uid=f"observation-{observation.id}-preconference-{repos.observations.install_id(now)}@growthbot",
            sequence=sequence, cancelled=cancelled,
            summary=title, description=f"Before observation #{observation.id}.", start=at,
            minutes=PRE_CONFERENCE_MINUTES, organizer=(observer.display_name, observer.email),
            attendees=[(teacher.display_name, teacher.email)], now=now,
        )  # fmt: skip
        local_start = at.astimezone(ZoneInfo(zone_of(observer, self.default_zone)))
        return {"filename": invite_filename(title, local_start), "content": content.decode(), "title": title}

    # -- after the observation -----------------------------------------------------------------------

    def add_evidence(
        self, repos: Repos, observation: Observation, text: str, tags: list[str], elements: list[str],
        author: Person, now: datetime,
    ) -> int:  # fmt: skip
        """A new note (number returned); untagged it is general evidence. Its history starts with it."""
        current = notes(observation)
        number = max((item["note"] for item in current), default=0) + 1
        item = {"note": number, "text": text, "indicators": tags, "elements": elements, "at": now.isoformat(),
                "by": author.id}  # fmt: skip
        observation.evidence = [*current, item]
        observation.updated_at = now
        repos.observations.add_entry(observation, "evidence", author.id, now, text, number,
                                     {"indicators": tags, "elements": elements})  # fmt: skip
        return number

    def edit_evidence(
        self, repos: Repos, observation: Observation, number: int, text: str, tags: list[str], elements: list[str],
        author: Person, now: datetime,
    ) -> None:  # fmt: skip
        """A new version of note `number`; the old text stays in the history."""
        observation.evidence = [
            {**item, "text": text, "indicators": tags, "elements": elements, "edited_at": now.isoformat()}
            if item["note"] == number
            else item
            for item in notes(observation)
        ]
        observation.updated_at = now
        repos.observations.add_entry(observation, "evidence", author.id, now, text, number,
                                     {"indicators": tags, "elements": elements, "edited": True})  # fmt: skip

    def remove_evidence(
        self, repos: Repos, observation: Observation, number: int, author: Person, now: datetime
    ) -> None:
        observation.evidence = [item for item in notes(observation) if item["note"] != number]
        observation.updated_at = now
        repos.observations.add_entry(observation, "evidence", author.id, now, "", number, {"removed": True})

    def rate(
        self, repos: Repos, observation: Observation, indicator: str, level: str | None, author: Person, now: datetime
    ) -> None:
        """A formative rating (or none, to clear it); the teacher sees it only with the shared feedback."""
        observation.updated_at = now
        repos.observations.add_entry(observation, "rating", author.id, now, "", None,
                                     {"indicator": indicator, "level": level})  # fmt: skip

    def save_feedback(self, repos: Repos, observation: Observation, text: str, author: Person, now: datetime) -> int:
        """A new version of the written feedback. Once shared, a new version goes to the teacher at once."""
        shared = observation.feedback_shared_at is not None
        observation.feedback = text
        observation.updated_at = now
        version = feedback_version(observation) + 1
        repos.observations.add_entry(observation, "feedback", author.id, now, text, None,
                                     {"version": version, "shared": shared})  # fmt: skip
        if shared:
            extra = {"feedback": text, "version": version, **self.teacher_view(observation)}
            self._notify(repos, observation, observation.teacher, "observations/feedback_revised", now,
                         f"feedback-v{version}", extra=extra)  # fmt: skip
        return version

    def teacher_view(self, observation: Observation) -> dict[str, Any]:
        """The evidence and ratings the teacher reads with shared feedback (peer notes are theirs too)."""
        rubric = self.policy.rubric
        levels = ratings(observation)
        return {
            "notes": [note_view(item, rubric) for item in notes(observation)],
            "ratings": [
                {"code": code, "name": getattr(rubric.indicator(code), "name", ""), "level": level}
                for code, level in levels.items()
            ],
        }

    def share_feedback(self, repos: Repos, observation: Observation, author: Person, now: datetime) -> None:
        """Send the written feedback (or peer notes), with the evidence and ratings, and stop the reminders."""
        observation.feedback_shared_at = now
        observation.updated_at = now
        observation.status = "done"
        repos.observations.add_entry(observation, "share", author.id, now, "", None,
                                     {"version": feedback_version(observation)})  # fmt: skip
        repos.schedules.cancel_subject(subject(observation), now)
        repos.observations.drop_pending_messages(subject(observation), f"observation:{observation.id}:remind")
        extra = {"feedback": observation.feedback or "", **self.teacher_view(observation)}
        self._notify(repos, observation, observation.teacher, "observations/feedback_shared", now, "feedback",
                     extra=extra)  # fmt: skip

    def acknowledge(self, repos: Repos, observation: Observation, now: datetime, reply: str | None) -> None:
        """A reply is added to the thread (never replacing an earlier one); an acknowledgement is kept once."""
        teacher = observation.teacher
        if reply:
            observation.teacher_reply = reply
            repos.observations.add_entry(observation, "reply", teacher.id, now, reply)
        else:
            if observation.acknowledged_at is None:
                observation.acknowledged_at = now
            repos.observations.add_entry(observation, "ack", teacher.id, now)
        observation.updated_at = now
        tag = f"reply-{now.isoformat()}" if reply else f"ack-{now.isoformat()}"
        self._notify(repos, observation, observation.observer, "observations/teacher_answered", now, tag,
                     extra={"reply": reply or ""})  # fmt: skip

    def leave(self, repos: Repos, person: Person, now: datetime) -> list[dict[str, Any]]:
        """Someone leaves the district: their visits still ahead are cancelled with notices; returned as listed."""
        cancelled = []
        for observation in repos.observations.scheduled_of(person.id, now):
            cancelled.append(summary(observation, observation.observer, self.default_zone))
            self.cancel(repos, observation, now, gone=person)
        return cancelled


def note_view(item: dict[str, Any], rubric: Rubric) -> dict[str, Any]:
    """A note as people read it: its text once, as written, and the names of the indicators it is tagged with."""
    names = [getattr(rubric.indicator(code), "name", code) for code in item.get("indicators") or []]
    return {"note": item["note"], "text": item["text"], "names": names, "elements": item.get("elements") or []}
