"""`/observe` and its subcommands.

/observe                                  the guided form
/observe @teacher <when> [mode] [minutes] schedule in one line
/observe log @teacher <past time> <walkthrough|peer|unannounced> [minutes]   a visit that already happened
/observe list | show N | move N <when> | cancel N
/observe evidence N <notes>               notes tagged to rubric indicators such as II-A (or none: general)
/observe evidence N edit K <notes> | evidence N remove K    before the feedback is shared
/observe rate N II-A <level>              an optional formative rating, from the rubric's levels
/observe feedback N <text> | share N      draft the written feedback, then send it
/observe ack N | reply N <text>           the teacher answers shared feedback

Nothing recorded is overwritten: notes, feedback versions, replies and ratings are entries in the
observation's history, which `/observe show N` gives in full (as far as the viewer may read it).
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
from handlers.observations.rubric import rating_level, read_tags
from handlers.observations.service import (
    MODES,
    PRE_CONFERENCE_MINUTES,
    TOLD_BEFORE,
    ObservationService,
    note_view,
    notes,
    ratings,
    summary,
    zone_of,
)
from handlers.observations.when import When, describe
from storage.models import Observation, ObservationEntry, Person
from storage.unit_of_work import Repos

USAGE = "observations/usage"
VERBS = (
    "new", "list", "show", "move", "cancel", "preconf", "evidence", "rate", "feedback", "share", "ack", "reply", "help",
)  # fmt: skip
LOG_MODES = ("walkthrough", "peer", "unannounced")
VERB_WORDS = {"evidence": "add evidence", "rate": "rate", "feedback": "write feedback", "share": "share feedback"}


@dataclass
class Outcome:
    messages: list[Outbound] = field(default_factory=list)
    ok: bool = True
    observation_id: int | None = None


def _say(template: str, **context: object) -> Outbound:
    return Outbound(template=template, context=dict(context))


def _teacher_reads(entry: ObservationEntry) -> bool:
    """What of the history the teacher reads: what was shared with them, and their own answers."""
    return entry.kind in ("reply", "ack", "share") or (entry.kind == "feedback" and bool(entry.data.get("shared")))


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
        if verb == "log":
            return Reply(messages=self.log(repos, person, args.split(None, 1)[1] if len(words) > 1 else "", now))
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
        when = find_time(lookup, " ".join(rest), mode, teacher)
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
        context.update(times,
                       teacher_told_at=self.service.reaches_at(teacher, calendar, now),
                       invite_at=self.service.reaches_at(observer, calendar, now))  # fmt: skip
        context["clashes"] = self._clashes(clashes, observer, now, (observer.id, teacher.id))
        return Outcome([_say("observations/scheduled", **context)], observation_id=observation.id)

    def _clashes(
        self, clashes: list[Observation], viewer: Person, now: datetime, people: tuple[int, ...] = ()
    ) -> list[dict[str, object]]:
        """Double bookings the viewer may know of: never someone's unannounced visit before it is over.

        A visit of others that the teacher was told of (announced or peer) is no secret: the viewer hears
        that the person they share with it is booked then, without its details.
        """
        found: list[dict[str, object]] = []
        for clash in clashes:
            if self._may_see(clash, viewer, now):
                found.append(summary(clash, viewer, self.service.default_zone))
            elif clash.mode in TOLD_BEFORE and clash.status == "scheduled":
                busy = next((p for p in (clash.teacher, clash.observer) if p.id in people), clash.teacher)
                found.append(
                    {
                        "busy": busy.display_name,
                        "when": describe(clash.starts_at, zone_of(viewer, self.service.default_zone)),
                    }
                )
        return found

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
            return [_say("observations/errors/not_yet", verb=VERB_WORDS[verb], **self._ctx(observation, person))]
        if verb == "evidence":
            return self.evidence(repos, observation, person, text, now)
        if verb == "rate":
            return self.rate(repos, observation, person, text, now)
        if verb == "feedback":
            return self.feedback(repos, observation, person, text, now)
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

    def show(self, observation: Observation, person: Person, now: datetime | None = None) -> Outbound:
        """The observation and its whole thread, as far as `person` may read it.

        The observer (and an admin, for an evaluation) reads everything, drafts and edits included. The
        teacher reads what was shared with them: each shared feedback version, and the evidence and
        ratings as they stood when shared. Peer and walkthrough notes belong to the two educators: not
        even an admin reads them.
        """
        context = self._ctx(observation, person)
        mine = observation.observer_id == person.id or (person.has_role("admin") and observation.evaluative)
        is_teacher = observation.teacher_id == person.id
        shared = observation.feedback_shared_at is not None
        rubric = self.service.policy.rubric
        zone = zone_of(person, self.service.default_zone)
        versions = {e.data.get("version"): e.text for e in observation.entries if e.kind == "feedback"}
        thread = []
        for entry in observation.entries:
            if not (mine or (is_teacher and _teacher_reads(entry))):
                continue
            text = versions.get(entry.data.get("version"), "") if entry.kind == "share" else entry.text
            thread.append({
                "kind": entry.kind, "text": text, "data": entry.data, "note": entry.note,
                "who": entry.author.display_name if entry.author else "someone who left",
                "when": describe(entry.created_at, zone),
            })  # fmt: skip
        current = ratings(observation)
        see_notes = mine or (is_teacher and shared)
        context.update(
            notes=[note_view(item, rubric) for item in notes(observation)] if see_notes else [],
            ratings=[{"code": c, "name": getattr(rubric.indicator(c), "name", ""), "level": lv}
                     for c, lv in current.items()] if see_notes else [],
            feedback=(observation.feedback or "") if mine or (is_teacher and shared) else "",
            thread=thread, viewer_is_teacher=is_teacher, mine=mine,
        )  # fmt: skip
        return Outbound(template="observations/show", context=context)

    def move(self, repos: Repos, observation: Observation, person: Person, text: str, now: datetime) -> list:
        if not text:
            return [_say("observations/errors/need_time", verb="move", id=observation.id)]
        if observation.feedback_shared_at is not None:
            return [_say("observations/errors/already_done", id=observation.id)]
        when = find_time(self.lookup(repos, observation.observer, now), text, observation.mode, observation.teacher)
        if isinstance(when, Problem):
            return _problem(when).messages
        clashes = self.service.move(repos, observation, when.at, now)
        context = self._ctx(observation, person)
        zone = zone_of(person, self.service.default_zone)
        context.update(when_answer(when, zone, observation.teacher, self.service.default_zone))
        context["clashes"] = self._clashes(clashes, person, now, (observation.observer_id, observation.teacher_id))
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

    def evidence(self, repos: Repos, observation: Observation, person: Person, text: str, now: datetime) -> list:
        """A note; `edit K <notes>` or `remove K` change one before the feedback is shared (history kept)."""
        if observation.feedback_shared_at is not None:
            return [_say("observations/errors/evidence_shared", id=observation.id)]
        words = text.split(None, 2)
        action = words[0].lower() if words else ""
        if action in ("edit", "remove", "delete"):
            number = words[1].lstrip("#") if len(words) > 1 else ""
            known = [item["note"] for item in notes(observation)]
            if not number.isdecimal() or int(number) not in known:
                return [_say("observations/errors/no_note", id=observation.id, number=number[:9], notes=known,
                             action="edit" if action == "edit" else "remove")]  # fmt: skip
            if action != "edit":
                self.service.remove_evidence(repos, observation, int(number), person, now)
                return [_say("observations/evidence_removed", number=int(number), **self._ctx(observation, person))]
            text = words[2] if len(words) > 2 else ""
            if not text.strip():
                return [_say("observations/errors/need_text", verb=f"evidence {observation.id} edit {number}",
                             id="")]  # fmt: skip
        if not text.strip():
            return [_say("observations/errors/need_text", verb="evidence", id=observation.id)]
        rubric = self.service.policy.rubric
        known_codes, elements, unknown = read_tags(text, rubric)
        if unknown:
            codes = [i.code for i in rubric.indicators()]
            return [_say("observations/errors/unknown_indicator", unknown=unknown, codes=codes)]
        if action == "edit":
            number = int(words[1].lstrip("#"))
            self.service.edit_evidence(repos, observation, number, text.strip(), known_codes, elements, person, now)
            edited = True
        else:
            number = self.service.add_evidence(repos, observation, text.strip(), known_codes, elements, person, now)
            edited = False
        names = [f"{code} {rubric.indicator(code).name}" for code in known_codes]  # type: ignore[union-attr]
        return [_say("observations/evidence_saved", count=number, indicators=names, elements=elements, edited=edited,
                     **self._ctx(observation, person))]  # fmt: skip

    def rate(self, repos: Repos, observation: Observation, person: Person, text: str, now: datetime) -> list:
        """`rate N II-A Proficient` (or `none` to clear): formative, shown to the teacher only once shared."""
        rubric = self.service.policy.rubric
        levels = list(rubric.levels)
        if not observation.evaluative:
            return [_say("observations/errors/rate_non_evaluative", id=observation.id)]
        if observation.feedback_shared_at is not None:
            return [_say("observations/errors/evidence_shared", id=observation.id)]
        words = text.split(None, 1)
        indicator = rubric.indicator(words[0]) if words else None
        example = rubric.indicators()[0].code
        if indicator is None:
            return [_say("observations/errors/rate_usage", id=observation.id, example=example, levels=levels,
                         got=(words[0] if words else "")[:20])]  # fmt: skip
        wanted = words[1].strip() if len(words) > 1 else ""
        level = None if wanted.lower() in ("none", "clear") else rating_level(wanted, rubric)
        if level is None and wanted.lower() not in ("none", "clear"):
            return [_say("observations/errors/rate_level", id=observation.id, code=indicator.code, levels=levels,
                         got=wanted[:40])]  # fmt: skip
        self.service.rate(repos, observation, indicator.code, level, person, now)
        return [_say("observations/rated", code=indicator.code, name=indicator.name, level=level or "",
                     **self._ctx(observation, person))]  # fmt: skip

    def feedback(self, repos: Repos, observation: Observation, person: Person, text: str, now: datetime) -> list:
        """A new version of the feedback. After sharing it goes to the teacher at once: never a silent change."""
        if not text.strip():
            return [_say("observations/errors/need_text", verb="feedback", id=observation.id)]
        version = self.service.save_feedback(repos, observation, text.strip(), person, now)
        template = (
            "observations/feedback_revised_sent" if observation.feedback_shared_at else "observations/feedback_draft"
        )
        return [_say(template, feedback=observation.feedback, version=version, **self._ctx(observation, person))]

    def share(self, repos: Repos, observation: Observation, person: Person, now: datetime) -> list:
        if observation.feedback_shared_at is not None:
            return [_say("observations/errors/already_done", id=observation.id)]
        if not observation.feedback:
            return [_say("observations/errors/no_draft", id=observation.id)]
        self.service.share_feedback(repos, observation, person, now)
        return [_say("observations/shared", **self._ctx(observation, person))]

    def log(self, repos: Repos, observer: Person, args: str, now: datetime) -> list:
        """`log @kim yesterday 10am walkthrough 20`: a visit that already happened; after-visit steps at once."""
        tokens = args.split()
        modes = [word.lower() for word in tokens if word.lower() in MODES]
        if len(tokens) < 2 or not modes or modes[0] not in LOG_MODES:
            return [_say("observations/errors/log_usage", modes=LOG_MODES, got=modes[0] if modes else "")]
        mode = modes[0]
        rest = [word for word in tokens[1:] if word.lower() not in MODES]
        minutes = DEFAULT_MINUTES
        if len(rest) > 1 and re.fullmatch(r"\d{1,3}(?:m|min|mins|minutes)?", rest[-1], re.I):
            read = read_minutes(rest[-1])
            if isinstance(read, Problem):
                return _problem(read).messages
            minutes, rest = read, rest[:-1]
        lookup = self.lookup(repos, observer, now)
        teacher = find_teacher(lookup, tokens[0], mode)
        if isinstance(teacher, Problem):
            return _problem(teacher).messages
        when = find_time(lookup, " ".join(rest), mode, past=True)
        if isinstance(when, Problem):
            return _problem(when).messages
        if when.at + timedelta(minutes=minutes) > now:
            return [_say("observations/errors/log_not_over", when=describe(when.at, lookup.zone), minutes=minutes)]
        observation = self.service.log(repos, observer, teacher, when.at, mode, minutes, now)
        context = self._ctx(observation, observer)
        context["example"] = self.service.policy.rubric.indicators()[0].code
        return [_say("observations/logged", **context)]

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
