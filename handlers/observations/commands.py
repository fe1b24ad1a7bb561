"""`/observe` and its subcommands.

/observe                                  the guided form
/observe @teacher <when> [mode] [minutes] schedule in one line
/observe list | show N | move N <when> | cancel N
/observe evidence N <notes>               notes tagged to rubric indicators such as II-A
/observe feedback N <text> | share N      draft the written feedback, then send it
/observe ack N | reply N <text>           the teacher answers shared feedback
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.engine import MAX_ANSWER_CHARS, Problem
from handlers.features import Invocation, Port
from handlers.messages import Outbound, Reply
from handlers.observations.checks import (
    DEFAULT_MINUTES,
    Lookup,
    find_teacher,
    find_time,
    read_minutes,
    when_answer,
)
from handlers.observations.rubric import tag_evidence
from handlers.observations.service import MODES, PRE_CONFERENCE_MINUTES, ObservationService, summary, zone_of
from handlers.observations.when import When
from storage.models import Observation, Person
from storage.unit_of_work import Repos

USAGE = "observations/usage"
VERBS = ("new", "list", "show", "move", "cancel", "preconf", "evidence", "feedback", "share", "ack", "reply", "help")


@dataclass
class Outcome:
    messages: list[Outbound] = field(default_factory=list)
    ok: bool = True
    observation_id: int | None = None


def _say(template: str, **context: object) -> Outbound:
    return Outbound(template=template, context=dict(context))


def _problem(problem: Problem) -> Outcome:
    return Outcome([Outbound(template=problem.template, context=problem.context)], ok=False)


class ObserveCommands:
    def __init__(self, port: Port, service: ObservationService) -> None:
        self.port = port
        self.service = service

    def lookup(self, repos: Repos, person: Person, now: datetime) -> Lookup:
        return Lookup(repos, person, repos.calendars.load(person.workspace_id), self.service.policy, now,
                      self.service.default_zone)  # fmt: skip

    def run(self, invocation: Invocation) -> Reply:
        repos, person, args, now = invocation.repos, invocation.person, invocation.args, invocation.now
        words = args.split()
        verb = words[0].lower() if words else "new"
        if verb == "new":
            return self.port.open_form(repos, invocation, "observe", {})
        if verb == "help":
            return Reply(messages=[_say(USAGE)])
        if verb == "list":
            return Reply(messages=[self.listing(repos, person, now)])
        if verb in VERBS:
            return Reply(messages=self.on_one(repos, person, verb, words[1:], args, now))
        return Reply(messages=self.one_line(repos, person, args, now).messages)

    # -- scheduling ----------------------------------------------------------------------------------

    def one_line(self, repos: Repos, observer: Person, args: str, now: datetime) -> Outcome:
        """`@kim next Tuesday 10:15 announced 30`: who first, then when, with mode and minutes anywhere."""
        tokens = args.split()
        ref, rest = tokens[0], tokens[1:]
        mode = "announced"
        for word in list(rest):
            if word.lower() in MODES:
                mode = word.lower()
                rest.remove(word)
        minutes = DEFAULT_MINUTES
        if len(rest) >= 2 and rest[-1].lower() in ("min", "mins", "minutes") and rest[-2].isdigit():
            rest = [*rest[:-2], rest[-2] + "min"]
        if rest and re.fullmatch(r"\d{1,3}(?:m|min|mins|minutes)?", rest[-1], re.I) and len(rest) > 1:
            read = read_minutes(rest[-1])
            if isinstance(read, Problem):
                return _problem(read)
            minutes, rest = read, rest[:-1]
        if not rest:
            return Outcome([_say(USAGE, missing="when")], ok=False)
        lookup = self.lookup(repos, observer, now)
        teacher = find_teacher(lookup, ref, mode)
        if isinstance(teacher, Problem):
            return _problem(teacher)
        when = find_time(lookup, " ".join(rest), mode)
        if isinstance(when, Problem):
            return _problem(when)
        return self.create(repos, observer, now, teacher.id, when.at, mode, minutes, guessed=when.guessed_date)

    def create(
        self, repos: Repos, observer: Person, now: datetime, teacher_id: int, at: datetime, mode: str, minutes: int,
        guessed: bool = False,
    ) -> Outcome:  # fmt: skip
        teacher = repos.people.get(teacher_id)
        if teacher is None:
            return Outcome([_say("observations/errors/unknown_person", ref=str(teacher_id))], ok=False)
        observation, clashes = self.service.schedule(repos, observer, teacher, at, mode, minutes, now)
        zone = zone_of(observer, self.service.default_zone)
        when = When(at=at, local=at.astimezone(ZoneInfo(zone)), guessed_date=guessed)
        times = when_answer(when, zone, teacher, self.service.default_zone)
        context = self.service.context_for(observation, observer)
        calendar = repos.calendars.load(observer.workspace_id)
        context.update(times, clashes=self._clashes(clashes, observer, now),
                       teacher_told_at=self.service.reaches_at(teacher, calendar, now),
                       invite_at=self.service.reaches_at(observer, calendar, now))  # fmt: skip
        return Outcome([_say("observations/scheduled", **context)], observation_id=observation.id)

    def _clashes(self, clashes: list[Observation], viewer: Person, now: datetime) -> list[dict[str, object]]:
        """Double bookings the viewer may know of: never someone's unannounced visit before it is over."""
        return [summary(c, viewer, self.service.default_zone) for c in clashes if self._may_see(c, viewer, now)]

    # -- one observation -----------------------------------------------------------------------------

    def on_one(self, repos: Repos, person: Person, verb: str, words: list[str], args: str, now: datetime) -> list:
        if not words or not words[0].lstrip("#").isdecimal() or len(words[0]) > 9:
            return [_say("observations/errors/need_number", verb=verb)]
        observation = repos.observations.get(person.workspace_id, int(words[0].lstrip("#")))
        if observation is None or not self._may_see(observation, person, now):
            return [_say("observations/errors/not_found", number=words[0].lstrip("#"))]
        text = args.split(None, 2)[2] if len(args.split(None, 2)) > 2 else ""
        if len(text) > MAX_ANSWER_CHARS:
            return [_say("engine/too_long", limit=MAX_ANSWER_CHARS, got=len(text))]
        is_observer = observation.observer_id == person.id or person.has_role("admin")
        if verb == "show":
            return [self.show(observation, person)]
        if verb in ("ack", "reply"):
            return self.teacher_answer(repos, observation, person, verb, text, now)
        if verb == "preconf":
            return self.pre_conference(repos, observation, person, text, now)
        if not is_observer:
            return [_say("observations/errors/observer_only", verb=verb)]
        if observation.status == "cancelled":
            return [_say("observations/errors/cancelled", id=observation.id)]
        if verb == "cancel":
            if observation.feedback_shared_at is not None:
                return [_say("observations/errors/already_done", id=observation.id)]
            self.service.cancel(repos, observation, now)
            return [_say("observations/cancelled", **summary(observation, person, self.service.default_zone))]
        if verb == "move":
            return self.move(repos, observation, person, text, now)
        if observation.starts_at > now:
            return [_say("observations/errors/not_yet", verb=verb, **self._ctx(observation, person))]
        if verb == "evidence":
            return self.evidence(observation, person, text, now)
        if verb == "feedback":
            return self.feedback(observation, person, text, now)
        if observation.starts_at + timedelta(minutes=observation.minutes) > now:
            return [_say("observations/errors/not_over", **self._ctx(observation, person))]
        return self.share(repos, observation, person, now)

    def _ctx(self, observation: Observation, person: Person) -> dict[str, object]:
        return self.service.context_for(observation, person)

    def _may_see(self, observation: Observation, person: Person, now: datetime) -> bool:
        """Observer, admin, or the teacher (but a teacher learns of an unannounced visit only afterwards)."""
        if observation.observer_id == person.id or person.has_role("admin"):
            return True
        if observation.teacher_id != person.id:
            return False
        if observation.mode in ("unannounced", "walkthrough"):
            over = now >= observation.starts_at + timedelta(minutes=observation.minutes)
            return over and observation.status != "cancelled"
        return True

    def show(self, observation: Observation, person: Person) -> Outbound:
        context = self._ctx(observation, person)
        # Peer and walkthrough notes belong to the two educators: not even an admin reads them.
        mine = observation.observer_id == person.id or (person.has_role("admin") and observation.evaluative)
        context.update(
            evidence=observation.evidence if mine else [],
            feedback=(observation.feedback or "") if mine or observation.feedback_shared_at else "",
            teacher_reply=observation.teacher_reply or "",
            viewer_is_teacher=observation.teacher_id == person.id,
        )
        return Outbound(template="observations/show", context=context)

    def move(self, repos: Repos, observation: Observation, person: Person, text: str, now: datetime) -> list:
        if not text:
            return [_say("observations/errors/need_time", verb="move", id=observation.id)]
        if observation.feedback_shared_at is not None:
            return [_say("observations/errors/already_done", id=observation.id)]
        when = find_time(self.lookup(repos, observation.observer, now), text, observation.mode)
        if isinstance(when, Problem):
            return _problem(when).messages
        clashes = self.service.move(repos, observation, when.at, now)
        context = self._ctx(observation, person)
        zone = zone_of(person, self.service.default_zone)
        context.update(when_answer(when, zone, observation.teacher, self.service.default_zone))
        context["clashes"] = self._clashes(clashes, person, now)
        return [_say("observations/moved", **context)]

    def pre_conference(self, repos: Repos, observation: Observation, person: Person, text: str, now: datetime) -> list:
        """Either person books the pre-conference of an announced observation, before the visit."""
        if observation.mode != "announced" or observation.status != "scheduled" or observation.starts_at <= now:
            return [_say("observations/errors/no_pre_conference", id=observation.id)]
        if not text:
            return [_say("observations/errors/need_time", verb="preconf", id=observation.id)]
        lookup = self.lookup(repos, person, now)
        when = find_time(lookup, text, "unannounced")  # school day and hours; no notice needed
        if isinstance(when, Problem):
            return _problem(when).messages
        if when.at + timedelta(minutes=PRE_CONFERENCE_MINUTES) > observation.starts_at:
            return [_say("observations/errors/pre_conference_after", **self._ctx(observation, person))]
        self.service.set_pre_conference(repos, observation, when.at, now)
        context = self._ctx(observation, person)
        context.update(when_answer(when, zone_of(person, self.service.default_zone), None, self.service.default_zone))
        return [_say("observations/pre_conference_set", **context)]

    def evidence(self, observation: Observation, person: Person, text: str, now: datetime) -> list:
        if not text.strip():
            return [_say("observations/errors/need_text", verb="evidence", id=observation.id)]
        rubric = self.service.policy.rubric
        known, unknown = tag_evidence(text, rubric)
        if unknown:
            codes = [i.code for i in rubric.indicators()]
            return [_say("observations/errors/unknown_indicator", unknown=unknown, codes=codes)]
        if observation.evaluative and not known:
            example = rubric.indicators()[0].code
            return [_say("observations/errors/untagged", example=example, id=observation.id)]
        count = self.service.add_evidence(observation, text.strip(), known, person, now)
        names = [f"{code} {rubric.indicator(code).name}" for code in known]  # type: ignore[union-attr]
        return [_say("observations/evidence_saved", count=count, indicators=names, **self._ctx(observation, person))]

    def feedback(self, observation: Observation, person: Person, text: str, now: datetime) -> list:
        if observation.feedback_shared_at is not None:
            return [_say("observations/errors/already_done", id=observation.id)]
        if not text.strip():
            return [_say("observations/errors/need_text", verb="feedback", id=observation.id)]
        observation.feedback = text.strip()
        observation.updated_at = now
        return [_say("observations/feedback_draft", feedback=observation.feedback, **self._ctx(observation, person))]

    def share(self, repos: Repos, observation: Observation, person: Person, now: datetime) -> list:
        if observation.feedback_shared_at is not None:
            return [_say("observations/errors/already_done", id=observation.id)]
        if not observation.feedback:
            return [_say("observations/errors/no_draft", id=observation.id)]
        self.service.share_feedback(repos, observation, now)
        return [_say("observations/shared", **self._ctx(observation, person))]

    def teacher_answer(
        self, repos: Repos, observation: Observation, person: Person, verb: str, text: str, now: datetime
    ) -> list:
        if observation.teacher_id != person.id:
            return [_say("observations/errors/teacher_only", verb=verb)]
        if observation.feedback_shared_at is None:
            return [_say("observations/errors/no_feedback_yet", id=observation.id)]
        if verb == "reply" and not text.strip():
            return [_say("observations/errors/need_text", verb="reply", id=observation.id)]
        self.service.acknowledge(repos, observation, now, text.strip() if verb == "reply" else None)
        return [_say("observations/answered", verb=verb, **self._ctx(observation, person))]

    # -- lists ---------------------------------------------------------------------------------------

    def listing(self, repos: Repos, person: Person, now: datetime) -> Outbound:
        """Evaluators: upcoming, evidence missing, feedback overdue. Everyone: observations of me."""
        zone = self.service.default_zone
        upcoming, need_evidence, need_feedback, overdue = [], [], [], []
        calendar = repos.calendars.load(person.workspace_id)
        today = now.astimezone(ZoneInfo(zone_of(person, zone))).date()
        for observation in repos.observations.of_observer(person.id):
            item = summary(observation, person, zone)
            if observation.starts_at > now:
                upcoming.append(item)
            elif observation.feedback_shared_at is None:
                if (
                    observation.feedback_due is not None
                    and calendar.school_days_between(today, observation.feedback_due) < 0
                ):
                    overdue.append(item)
                elif not observation.evidence:
                    need_evidence.append(item)
                else:
                    need_feedback.append(item)
        mine = [
            summary(o, person, zone) for o in repos.observations.of_teacher(person.id) if self._may_see(o, person, now)
        ]
        return Outbound(
            template="observations/list",
            context={"upcoming": upcoming, "need_evidence": need_evidence, "need_feedback": need_feedback,
                     "overdue": overdue, "mine": mine},
        )  # fmt: skip
