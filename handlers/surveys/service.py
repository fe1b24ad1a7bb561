"""What a survey does: send it (through the scheduler, one outbox row per person), take answers by mode,
nudge those who have not answered, and show results only for groups large enough to stay unidentifiable.

Privacy is the schema's (storage/surveys.py): a named answer carries the person; a confidential one goes to a
table with no person column, while the invitation only flips `answered`; an anonymous one touches nothing
about who. Nothing here logs an answer or who gave it.
"""

from __future__ import annotations

import logging
import random
import re
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any
from zoneinfo import ZoneInfo

import prompts
from handlers.forms import FormResult, Submission
from handlers.messages import CommandButton, Outbound
from handlers.surveys.instruments import Instrument, Question
from scheduling.kinds import Kind, Notice
from storage.models import Person, PlcTeam, Schedule, Survey
from storage.unit_of_work import Repos

log = logging.getLogger(__name__)

MODES = ("named", "confidential", "anonymous")
INVITE, NUDGE, PULSE = "survey.invite", "survey.nudge", "survey.pulse"
MAX_REMINDERS = 3
SHOWN_TEXT = 280  # characters of one open answer shown in results; the export has the whole of it
SHOWN_TEXTS = 25  # open answers shown per question in results; the rest are counted
_SHUFFLE = random.SystemRandom()


def subject(survey_id: int) -> str:
    return f"survey:{survey_id}"


def modal_form_id(instrument: Instrument, mode: str) -> str:
    return f"{instrument.form_id}-{mode[0]}"


def describe(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %b %-d, %-I:%M %p %Z")


@dataclass(frozen=True)
class Targets:
    """Who a send reaches (each person once), or what was wrong with the list; `refs` are the targets as
    resolved (`school:"Hillside Elementary"` for `school:hillside`), to store and to resolve again later."""

    people: list[int]
    problem: Outbound | None = None
    refs: list[str] = field(default_factory=list)


_QUOTES = str.maketrans("", "", '"\u201c\u201d')


def _unquoted(text: str) -> str | None:
    """The name inside quotes (`"Hillside Elementary"`, curly quotes too), or None when it is not quoted."""
    text = text.strip()
    if len(text) >= 2 and text[0] in '"\u201c\u201d' and text[-1] in '"\u201c\u201d':
        return text[1:-1]
    return None


def _may_continue(token: str) -> bool:
    """Whether a word after `school:Hillside` may be more of the name, rather than a target of its own."""
    lowered = token.lower()
    return not (
        lowered.startswith(("@", "#", "<", "school:", "plc:")) or "@" in lowered or lowered in ("everyone", "all")
    )


def _plain(text: str) -> str:
    """A name as matched: no quotes, `_` for a space, spacing folded, lower case."""
    return " ".join(text.translate(_QUOTES).replace("_", " ").split()).lower()


def _named(words: list[str], names: Mapping[str, object], kind: str) -> tuple[int, str] | Outbound:
    """The known name the first words begin: the most words that are a name, or the start of only one name
    (a whole-word start wins over a partial one). Returns how many words it took and the name, or what to say."""
    plain = {name: _plain(name) for name in names}
    for used in range(len(words), 0, -1):
        typed = _plain(" ".join(words[:used]))
        if not typed:
            continue
        exact = [name for name, p in plain.items() if p == typed]
        if exact:
            return used, exact[0]
        starting = [name for name, p in plain.items() if p.startswith(typed)]
        whole_words = [name for name in starting if plain[name].startswith(typed + " ")]
        if len(starting) == 1 or len(whole_words) == 1:
            return used, (whole_words or starting)[0]
        if starting:
            shown = " ".join(words[:used]).translate(_QUOTES).strip()
            return _say(f"surveys/errors/ambiguous_{kind}", name=shown[:80], names=starting[:10])
    shown = " ".join(words).translate(_QUOTES).strip()
    return _say(f"surveys/errors/unknown_{kind}", name=shown[:80], known=list(names)[:20])


class SurveyService:
    def __init__(self, instruments: dict[str, Instrument], min_group: int, default_zone: str) -> None:
        self.instruments = instruments
        self.min_group = max(3, min_group)
        self.default_zone = default_zone

    def zone(self, person: Person | None) -> ZoneInfo:
        try:
            return ZoneInfo((person.time_zone if person else None) or self.default_zone)
        except (ValueError, KeyError):
            return ZoneInfo(self.default_zone)

    # -- targets -------------------------------------------------------------------------------------

    def resolve(self, repos: Repos, workspace_id: int, refs: list[str]) -> Targets:
        """Who the refs reach. `school:` and `plc:` take the words after them up to the longest name they begin
        (`school:Hillside Elementary`, `school:hillside`), or a quoted name (`school:"Hillside Elementary"`)."""
        people: list[int] = []
        shown: list[str] = []
        index = 0
        while index < len(refs):
            ref = refs[index]
            index += 1
            lowered = ref.lower()
            if lowered in ("everyone", "all"):
                people += repos.surveys.people_ids(workspace_id)
            elif lowered.startswith(("school:", "plc:")):
                kind, typed = ref.split(":", 1)
                kind = kind.lower()
                quoted = _unquoted(typed)
                words = [quoted] if quoted is not None else [typed, *takewhile(_may_continue, refs[index:])]
                if kind == "school":
                    schools = {name: name for name in repos.surveys.school_names(workspace_id)}
                    found = _named(words, schools, kind)
                    if isinstance(found, Outbound):
                        return Targets([], found)
                    used, name = found
                    school = repos.surveys.school_named(workspace_id, name)
                    assert school is not None
                    people += repos.surveys.people_ids(workspace_id, school.id)
                else:
                    teams = {team.name: team for team in repos.plc.in_workspace(workspace_id)}
                    found = _named(words, teams, kind)
                    if isinstance(found, Outbound):
                        return Targets([], found)
                    used, name = found
                    people += self._team_people(teams[name])
                index += used - 1 if quoted is None else 0
                shown.append(f'{kind}:"{name}"' if " " in name else f"{kind}:{name}")
                continue
            elif lowered.startswith(("#", "<#")):
                found_people = self._channel(repos, workspace_id, ref)
                if isinstance(found_people, Outbound):
                    return Targets([], found_people)
                people += found_people
            else:
                matches = repos.people.resolve(workspace_id, ref)
                if not matches:
                    return Targets([], _say("surveys/errors/unknown_person", ref=ref.strip()[:80]))
                if len(matches) > 1:
                    names = [p.display_name for p in matches[:5]]
                    return Targets([], _say("surveys/errors/ambiguous_person", ref=ref[:80], names=names))
                people.append(matches[0].id)
            shown.append(ref)
        unique = list(dict.fromkeys(people))
        if not unique:
            return Targets([], _say("surveys/errors/nobody", refs=" ".join(refs)[:120]))
        return Targets(unique, refs=shown)

    @staticmethod
    def _team_people(team: PlcTeam) -> list[int]:
        return list(dict.fromkeys([*([team.lead_id] if team.lead_id else []), *(team.member_ids or [])]))

    def _channel(self, repos: Repos, workspace_id: int, ref: str) -> list[int] | Outbound:
        """`#grade4-plc`: the people of the PLC team that uses that channel. Other channels' members are the
        platform's to know, which the bot does not ask, so they are refused with what works instead."""

        def plain(text: str) -> str:
            found = re.fullmatch(r"<#([A-Z0-9]+)(?:\|([^>]*))?>", text.strip())
            return (found.group(2) or found.group(1) if found else text).strip().lstrip("#").lower()

        wanted = plain(ref)
        teams = [t for t in repos.plc.in_workspace(workspace_id) if t.channel]
        team = next((t for t in teams if wanted and plain(t.channel) == wanted), None)
        if team is None:
            return _say("surveys/errors/unknown_channel", ref=ref.strip()[:80],
                        known=[t.channel for t in teams][:20])  # fmt: skip
        return self._team_people(team)

    # -- sending -------------------------------------------------------------------------------------

    def send(
        self, repos: Repos, owner: Person, instrument: Instrument, mode: str, people: list[int], target: str,
        now: datetime, closes_at: datetime | None, reminders: list[datetime], pulse_id: int | None = None,
    ) -> Survey:  # fmt: skip
        """Record the survey and who it goes to; a schedule due now expands it into one message each."""
        survey = repos.surveys.create(
            workspace_id=owner.workspace_id, owner_id=owner.id, instrument=instrument.id, title=instrument.title,
            mode=mode, target=target[:300], opens_at=now, closes_at=closes_at, pulse_id=pulse_id, created_at=now,
        )  # fmt: skip
        repos.surveys.invite(survey, people)
        if pulse_id is None:  # a pulse's own occurrence sends the invitations itself
            self._schedule(repos, survey, owner, INVITE, now, now)
        for at in reminders[:MAX_REMINDERS]:
            self._schedule(repos, survey, owner, NUDGE, at, now)
        return survey

    def _schedule(self, repos: Repos, survey: Survey, owner: Person, kind: str, at: datetime, now: datetime) -> None:
        repos.schedules.add(
            workspace_id=survey.workspace_id, kind=kind, owner_id=owner.id, subject=subject(survey.id),
            payload={"survey_id": survey.id}, time_zone=str(self.zone(owner)), starts_at=at, next_run_at=at, now=now,
        )  # fmt: skip

    def add_pulse(
        self, repos: Repos, owner: Person, instrument: Instrument, mode: str, refs: list[str], rrule: str,
        first: datetime, close_days: int, now: datetime,
    ) -> Schedule:  # fmt: skip
        payload = {"instrument": instrument.id, "mode": mode, "targets": refs, "close_days": close_days}
        return repos.schedules.add(
            workspace_id=owner.workspace_id, kind=PULSE, owner_id=owner.id, subject=f"pulse:{instrument.id}",
            payload=payload, time_zone=str(self.zone(owner)), starts_at=first, next_run_at=first, now=now,
            rrule=rrule,
        )  # fmt: skip

    def invitation(self, survey: Survey, person: Person) -> dict[str, Any]:
        zone = self.zone(person)
        return {
            "template": "surveys/invite",
            "context": {
                "id": survey.id, "title": survey.title, "mode": survey.mode, "nudge": False, "to_everyone": False,
                "owner": survey.owner.display_name if survey.owner else "",
                "closes": describe(survey.closes_at, zone) if survey.closes_at else "",
                "questions": len(self.instruments[survey.instrument].questions)
                if survey.instrument in self.instruments else 0,
            },
            # opens the form for the person who clicks: a modal on Slack, a card on Teams, the command in a terminal
            "buttons": [CommandButton(label="Answer", command="survey", args=f"answer {survey.id}").model_dump()],
        }  # fmt: skip

    # -- the scheduler's kinds -----------------------------------------------------------------------

    def kinds(self) -> tuple[Kind, ...]:
        return (
            Kind(INVITE, expand=self.expand_invite, shift=None, nudge=False, grace=timedelta(days=3)),
            Kind(NUDGE, expand=self.expand_nudge, shift=None, nudge=True, grace=timedelta(hours=12)),
            Kind(PULSE, expand=self.expand_pulse, shift="next", nudge=True, grace=timedelta(hours=12)),
        )

    def _open(self, repos: Repos, schedule: Schedule, at: datetime) -> Survey | None:
        survey = repos.surveys.get(int(schedule.payload.get("survey_id", 0)))
        if survey is None or survey.status != "open" or (survey.closes_at is not None and survey.closes_at <= at):
            return None
        return survey

    def _notices(
        self, repos: Repos, survey: Survey, person_ids: list[int], tag: str, extra: dict[str, Any]
    ) -> list[Notice]:
        notices = []
        for person_id in person_ids:
            person = repos.people.get(person_id)
            if person is None:
                continue
            message = self.invitation(survey, person)
            message["context"].update(extra)
            notices.append(Notice(person_id, [message], tag=tag))
        return notices

    def expand_invite(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        survey = self._open(repos, schedule, at)
        if survey is None:
            return []
        return self._notices(repos, survey, repos.surveys.invitee_ids(survey.id), "invite", {"nudge": False})

    def expand_nudge(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        """Named and confidential: those who have not answered. Anonymous: everyone, and the message says why."""
        survey = self._open(repos, schedule, at)
        if survey is None:
            return []
        anonymous = survey.mode == "anonymous"
        people = repos.surveys.invitee_ids(survey.id, unanswered_only=not anonymous)
        return self._notices(repos, survey, people, "nudge", {"nudge": True, "to_everyone": anonymous})

    def expand_pulse(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        """Each occurrence of a recurring pulse is a survey of its own, sent to the group as it is that day."""
        payload = schedule.payload
        instrument = self.instruments.get(str(payload.get("instrument")))
        owner = repos.people.get(schedule.owner_id or 0)
        if instrument is None or owner is None:
            log.warning("pulse schedule %s names an instrument or owner that is gone", schedule.id)
            return []
        targets = self.resolve(repos, schedule.workspace_id, list(payload.get("targets", [])))
        if targets.problem is not None:
            log.warning("pulse schedule %s reaches nobody today", schedule.id)
            return []
        closes = at + timedelta(days=int(payload.get("close_days", 3)))
        survey = self.send(repos, owner, instrument, str(payload.get("mode", "confidential")), targets.people,
                           " ".join(payload.get("targets", [])), at, closes, [], pulse_id=schedule.id)  # fmt: skip
        return self._notices(repos, survey, targets.people, f"pulse{survey.id}", {"nudge": False})

    # -- answering -----------------------------------------------------------------------------------

    def may_answer(self, repos: Repos, survey: Survey | None, person: Person, now: datetime) -> Outbound | None:
        """Why this person cannot answer this survey now, or None."""
        if survey is None or survey.workspace_id != person.workspace_id:
            return _say("surveys/errors/no_such_survey")
        if repos.surveys.invitation(survey.id, person.id) is None:
            return _say("surveys/errors/not_invited", id=survey.id)
        if survey.status != "open" or (survey.closes_at is not None and survey.closes_at <= now):
            return _say("surveys/errors/closed", id=survey.id, title=survey.title)
        if survey.instrument not in self.instruments:
            return _say("surveys/errors/instrument_gone", id=survey.id)
        return None

    def intro(self, instrument: Instrument, mode: str) -> str:
        """A modal's intro: the mode line, then the instrument's purpose."""
        line = prompts.render(
            "surveys/mode_line", {"mode": mode, "owner": "The person who sent it", "min": self.min_group}
        )
        return f"{line} {instrument.purpose}".strip()

    def mode_line(self, survey: Survey) -> dict[str, Any]:
        owner = survey.owner.display_name if survey.owner else "The sender"
        return {"mode": survey.mode, "owner": owner, "min": self.min_group}

    def submit(self, submission: Submission) -> FormResult:
        repos, person, now = submission.repos, submission.person, submission.now
        survey_id = int(submission.context.get("survey", 0) or 0)
        survey = repos.surveys.lock(survey_id)
        problem = self.may_answer(repos, survey, person, now)
        if problem is not None or survey is None:
            return FormResult(messages=[problem or _say("surveys/errors/no_such_survey"), _say("surveys/not_saved")])
        instrument = self.instruments[survey.instrument]
        answers = shown_answers(instrument, submission.values)
        context = {"id": survey.id, "title": survey.title, "mode": survey.mode}
        if survey.mode == "named":
            replaced = repos.surveys.save_named(survey, person.id, answers, now)
            if repos.surveys.mark_answered(survey.id, person.id):
                survey.answered += 1
            return FormResult(messages=[_say("surveys/thanks", replaced=replaced, **context)])
        if survey.mode == "confidential" and not repos.surveys.mark_answered(survey.id, person.id):
            return FormResult(messages=[_say("surveys/errors/already_answered", **context)])
        repos.surveys.save_sealed(survey, answers, now.astimezone(self.zone(None)).date())
        survey.answered += 1
        return FormResult(messages=[_say("surveys/thanks", replaced=False, **context)])

    # -- results -------------------------------------------------------------------------------------

    def answers_of(self, repos: Repos, survey: Survey) -> list[tuple[str, dict[str, Any]]]:
        """(who, answers) for each response; who is empty outside named mode, and the order is random."""
        if survey.mode == "named":
            return [(p.display_name, a) for p, a in repos.surveys.named_answers(survey.id)]
        return [("", answers) for answers in repos.surveys.sealed_answers(survey.id)]

    def results(self, repos: Repos, survey: Survey) -> dict[str, Any]:
        instrument = self.instruments.get(survey.instrument)
        responses = self.answers_of(repos, survey)
        count = len(responses)
        context: dict[str, Any] = {
            "id": survey.id, "title": survey.title, "mode": survey.mode, "n": count, "invited": survey.invited,
            "rate": round(100 * count / survey.invited) if survey.invited else 0, "min": self.min_group,
            "withheld": count < self.min_group or instrument is None, "questions": [],
        }  # fmt: skip
        if context["withheld"] or instrument is None:
            return context
        for question in instrument.questions:
            context["questions"].append(self._question_result(question, responses, survey.mode == "named"))
        return context

    def _question_result(
        self, question: Question, responses: list[tuple[str, dict[str, Any]]], named: bool
    ) -> dict[str, Any]:
        given = [(who, answers.get(question.id)) for who, answers in responses]
        given = [(who, value) for who, value in given if value not in (None, "", [])]
        result: dict[str, Any] = {"label": question.text, "kind": question.kind, "n": len(given), "counts": [],
                                  "withheld": len(given) < self.min_group, "mean": None, "texts": [],
                                  "more": 0, "shortened": 0}  # fmt: skip
        if result["withheld"]:
            return result
        if question.open_text:
            texts = [f"{shorten(str(text))} ({who})" if named else shorten(str(text)) for who, text in given]
            if not named:
                _SHUFFLE.shuffle(texts)
            result["texts"] = texts[:SHOWN_TEXTS]
            result["more"] = max(0, len(texts) - SHOWN_TEXTS)
            result["shortened"] = sum(len(" ".join(str(text).split())) > SHOWN_TEXT for _who, text in given)
        elif question.kind == "number":
            numbers = [float(value) for _who, value in given]
            result["mean"] = round(statistics.fmean(numbers), 1)
            result["median"] = statistics.median(numbers)
        else:
            choices = question.choices()
            picked = [v for _who, value in given for v in (value if isinstance(value, list) else [value])]
            result["counts"] = [
                {"label": c.label, "n": picked.count(c.label), "pct": round(100 * picked.count(c.label) / len(given))}
                for c in choices
            ]
            if question.kind in ("likert", "rating"):
                points = {c.label: n for n, c in enumerate(choices, start=1)}
                scores = [points[v] for v in picked if v in points]
                result["mean"] = round(statistics.fmean(scores), 2) if scores else None
                result["of"] = len(choices)
        return result

    def export_rows(self, repos: Repos, survey: Survey) -> list[dict[str, Any]]:
        """One row per answer to one question, under the rules the results follow.

        Nothing for a survey, or a question, with fewer answers than the minimum. Named mode: each response
        numbered, with the person's name. Otherwise no name and no response number, and each question's answers
        in a fresh random order, so the file cannot be cut into breakdowns (one person's answers across
        questions) smaller than the minimum, just as `/survey results` never shows one.
        """
        responses = self.answers_of(repos, survey)
        instrument = self.instruments.get(survey.instrument)
        if len(responses) < self.min_group or instrument is None:
            return []
        named = survey.mode == "named"
        rows = []
        for question in instrument.questions:
            given = [(number, who, answers.get(question.id)) for number, (who, answers) in
                     enumerate(responses, start=1)]  # fmt: skip
            given = [item for item in given if item[2] not in (None, "", [])]
            if len(given) < self.min_group:
                continue
            if not named:
                _SHUFFLE.shuffle(given)
            for number, who, value in given:
                rows.append({"survey": survey.id, "instrument": survey.instrument, "mode": survey.mode,
                             "response": number if named else "", "respondent": who, "question": question.id,
                             "answer": "; ".join(value) if isinstance(value, list) else value})  # fmt: skip
        return rows

    def withheld_note(self, repos: Repos, survey: Survey) -> str | None:
        """Why an export of this survey writes nothing, if it does not: too few responses."""
        count = repos.surveys.answer_count(survey)
        if count >= self.min_group and survey.instrument in self.instruments:
            return None
        if survey.instrument not in self.instruments:
            return f"Survey {survey.id}'s instrument ({survey.instrument}) is not installed; none of it is written."
        return (f"Survey {survey.id} has {count} response{'' if count == 1 else 's'}; exports start at "
                f"{self.min_group}, so none are written.")  # fmt: skip


def shorten(text: str, limit: int = SHOWN_TEXT) -> str:
    """An open answer as one line of a results list: spacing and line breaks folded, long ones cut at a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:.") + "…"


def shown_answers(instrument: Instrument, values: dict[str, Any]) -> dict[str, Any]:
    """Answers as stored: choices by their label (what results show), conditional questions dropped when hidden."""
    stored: dict[str, Any] = {}
    for question in instrument.questions:
        if question.show_if is not None:
            earlier = values.get(question.show_if[0])
            if earlier not in question.show_if[1]:
                continue
        value = values.get(question.id)
        if value is None:
            continue
        labels = {c.value: c.label for c in question.choices()}
        if isinstance(value, list):
            stored[question.id] = [labels.get(str(v), str(v)) for v in value]
        elif question.kind in ("likert", "single_choice", "rating"):
            stored[question.id] = labels.get(str(value), str(value))
        else:
            stored[question.id] = value
    return stored


def _say(template: str, **context: Any) -> Outbound:
    return Outbound(template=template, context=context)
