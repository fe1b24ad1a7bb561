"""`/survey`: list, send, pulse, answer, results, close. Bad input gets what to type instead."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from handlers.features import Invocation, Port
from handlers.messages import Outbound, Reply
from handlers.observations.when import When, parse_when
from handlers.org.staff import ROLES
from handlers.surveys.flow import SurveyFlow, flow_name
from handlers.surveys.instruments import Instrument
from handlers.surveys.service import MAX_REMINDERS, MODES, SurveyService, _say, describe, modal_form_id
from storage.models import Person, Survey
from storage.unit_of_work import Repos

KEYWORDS = ("closes", "close", "remind", "every", "for")
_WEEKDAYS = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR",
             "mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR"}  # fmt: skip
# a Slack mention, a word with a quoted part (`school:"Hillside Elementary"`, curly quotes too), or a word
_TOKEN = re.compile(r'<[^>]*>|[^\s"\u201c\u201d]*["\u201c\u201d][^"\u201c\u201d\n]{0,200}["\u201c\u201d]\S*|\S+')


def _reply(*messages: Outbound) -> Reply:
    return Reply(messages=list(messages))


class SurveyCommands:
    def __init__(self, port: Port, service: SurveyService) -> None:
        self.port = port
        self.service = service

    @property
    def instruments(self) -> dict[str, Instrument]:
        return self.service.instruments

    def run(self, invocation: Invocation) -> Reply:
        words = invocation.args.strip().split(maxsplit=1)
        verb = words[0].lower() if words else "list"
        rest = words[1] if len(words) > 1 else ""
        handlers = {"list": self.list, "send": self.send, "pulse": self.pulse, "answer": self.answer,
                    "results": self.results, "close": self.close, "instruments": self.list_instruments,
                    "help": self.help}  # fmt: skip
        if verb.isascii() and verb.isdigit():
            verb, rest = "answer", verb
        handler = handlers.get(verb)
        if handler is None:
            return _reply(_say("surveys/usage", text=invocation.args.strip()[:80]))
        return handler(invocation, rest)

    def help(self, _invocation: Invocation, _rest: str) -> Reply:
        return _reply(_say("surveys/help", min=self.service.min_group, modes=MODES))

    def list_instruments(self, _invocation: Invocation, _rest: str) -> Reply:
        return _reply(_say("surveys/instruments", instruments=self._catalogue()))

    def _catalogue(self) -> list[dict[str, Any]]:
        return [{"id": i.id, "title": i.title, "questions": len(i.questions)} for i in self.instruments.values()]

    def list(self, invocation: Invocation, _rest: str) -> Reply:
        repos, person, now = invocation.repos, invocation.person, invocation.now
        zone = self.service.zone(person)
        mine = [
            {"id": o.survey.id, "title": o.survey.title, "mode": o.survey.mode,
             "answered": o.answered and o.survey.mode != "anonymous",
             "closes": describe(o.survey.closes_at, zone) if o.survey.closes_at else ""}
            for o in repos.surveys.open_for(person.id, now)
        ]  # fmt: skip
        sent = [
            {"id": s.id, "title": s.title, "mode": s.mode, "n": s.answered, "invited": s.invited,
             "open": s.status == "open" and (s.closes_at is None or s.closes_at > now)}
            for s in repos.surveys.owned_by(person.id, limit=5)
        ]  # fmt: skip
        return _reply(_say("surveys/list", open=mine, sent=sent))

    # -- sending -------------------------------------------------------------------------------------

    def _instrument(self, name: str) -> Instrument | Outbound:
        wanted = name.strip().lower().replace("-", "_")
        if wanted in self.instruments:
            return self.instruments[wanted]
        return _say("surveys/errors/unknown_instrument", name=name[:40], instruments=self._catalogue())

    def _when(self, text: str, now: datetime, person: Person) -> When | Outbound:
        found = parse_when(text, now, str(self.service.zone(person)))
        if not isinstance(found, When):
            return Outbound(template=found.template, context=found.context)
        if found.at <= now:
            return _say("surveys/errors/when_past", text=text[:80])
        return found

    def _split(self, text: str) -> tuple[list[str], dict[str, list[str]], str | None]:
        """Targets (before any keyword), each keyword's words, and the mode (anywhere after the targets)."""
        tokens = _TOKEN.findall(text)
        targets: list[str] = []
        parts: dict[str, list[str]] = {}
        mode: str | None = None
        current: list[str] | None = None
        for token in tokens:
            lowered = token.lower()
            if lowered in MODES:
                mode, current = lowered, None
            elif lowered in KEYWORDS:
                key = "closes" if lowered == "close" else lowered
                if key == "remind" and "remind" in parts:
                    parts["remind"].append("|")
                current = parts.setdefault(key, [])
            elif current is not None:
                current.append(token)
            elif not parts and mode is None:
                targets.append(token)
            else:
                parts.setdefault("_stray", []).append(token)
        return targets, parts, mode

    @staticmethod
    def _guest(person: Person, verb: str) -> Reply | None:
        """Sending takes a roster role: a guest (someone who has only chatted with the bot) is told who may."""
        if person.active and person.has_role(*ROLES):
            return None
        return _reply(_say("surveys/errors/guest", verb=verb, roles=ROLES))

    def send(self, invocation: Invocation, rest: str) -> Reply:
        """`send <instrument> to <who...> [named|confidential|anonymous] [closes <when>] [remind <when>]`"""
        repos, person, now = invocation.repos, invocation.person, invocation.now
        if refused := self._guest(person, "send"):
            return refused
        head = rest.split(maxsplit=2)
        if len(head) < 3 or head[1].lower() != "to":
            return _reply(_say("surveys/errors/send_usage", instruments=self._catalogue()))
        instrument = self._instrument(head[0])
        if isinstance(instrument, Outbound):
            return _reply(instrument)
        refs, parts, mode = self._split(head[2])
        if "_stray" in parts or "every" in parts or "for" in parts:
            return _reply(_say("surveys/errors/send_usage", instruments=self._catalogue()))
        targets = self.service.resolve(repos, person.workspace_id, refs)
        if targets.problem is not None:
            return _reply(targets.problem)
        closes_at = None
        if parts.get("closes"):
            when = self._when(" ".join(parts["closes"]), now, person)
            if isinstance(when, Outbound):
                return _reply(when)
            closes_at = when.at
        reminders: list[datetime] = []
        for text in " ".join(parts.get("remind", [])).split("|") if "remind" in parts else []:
            when = self._when(text.strip(), now, person)
            if isinstance(when, Outbound):
                return _reply(when)
            if closes_at is not None and when.at >= closes_at:
                return _reply(_say("surveys/errors/remind_after_close", text=text.strip()[:80]))
            reminders.append(when.at)
        if len(reminders) > MAX_REMINDERS:
            return _reply(_say("surveys/errors/too_many_reminders", most=MAX_REMINDERS))
        chosen = mode or "confidential"
        survey = self.service.send(repos, person, instrument, chosen, targets.people, " ".join(targets.refs), now,
                                   closes_at, reminders)  # fmt: skip
        zone = self.service.zone(person)
        return _reply(_say("surveys/sent", id=survey.id, title=survey.title, mode=chosen, invited=survey.invited,
                           closes=describe(closes_at, zone) if closes_at else "",
                           reminders=[describe(r, zone) for r in reminders], min=self.service.min_group,
                           small=chosen != "named" and survey.invited < self.service.min_group,
                           you_too=person.id in targets.people))  # fmt: skip

    def pulse(self, invocation: Invocation, rest: str) -> Reply:
        """`pulse <instrument> to <who...> every [other] <weekday> <time> [mode] [for <days> days]`"""
        repos, person, now = invocation.repos, invocation.person, invocation.now
        if refused := self._guest(person, "pulse"):
            return refused
        head = rest.split(maxsplit=2)
        if len(head) < 3 or head[1].lower() != "to":
            return _reply(_say("surveys/errors/pulse_usage"))
        instrument = self._instrument(head[0])
        if isinstance(instrument, Outbound):
            return _reply(instrument)
        refs, parts, mode = self._split(head[2])
        every = [w.lower() for w in parts.get("every", [])]
        interval = 1
        if every[:1] == ["other"]:
            interval, every = 2, every[1:]
        if "_stray" in parts or len(every) < 2 or every[0].rstrip("s") not in _WEEKDAYS:
            return _reply(_say("surveys/errors/pulse_usage"))
        targets = self.service.resolve(repos, person.workspace_id, refs)
        if targets.problem is not None:
            return _reply(targets.problem)
        first = self._when(" ".join(every), now, person)
        if isinstance(first, Outbound):
            return _reply(first)
        days_words = parts.get("for", [])
        close_days = (
            int(days_words[0])
            if days_words and days_words[0].isascii() and days_words[0].isdigit() and len(days_words[0]) < 4
            else 3
        )
        if not 1 <= close_days <= 14:
            return _reply(_say("surveys/errors/pulse_usage"))
        rrule = f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={_WEEKDAYS[every[0].rstrip('s')]}"
        chosen = mode or "confidential"
        schedule = self.service.add_pulse(
            repos, person, instrument, chosen, targets.refs, rrule, first.at, close_days, now
        )
        context = {"id": schedule.id, "title": instrument.title, "mode": chosen, "other": interval == 2,
                   "first": describe(first.at, self.service.zone(person)), "days": close_days,
                   "weekday": every[0].rstrip("s").capitalize(), "people": len(targets.people)}  # fmt: skip
        return _reply(_say("surveys/pulse_set", **context))

    # -- answering and reading -----------------------------------------------------------------------

    def _survey(self, repos: Repos, rest: str, verb: str) -> Survey | Outbound:
        number = rest.strip().lstrip("#")
        if not (number.isascii() and number.isdigit()) or len(number) > 9:
            return _say("surveys/errors/need_number", verb=verb)
        survey = repos.surveys.get(int(number))
        if survey is None:
            return _say("surveys/errors/no_such_survey", id=number)
        return survey

    def answer(self, invocation: Invocation, rest: str) -> Reply:
        repos, person, now = invocation.repos, invocation.person, invocation.now
        survey = self._survey(repos, rest, "answer")
        if isinstance(survey, Outbound):
            return _reply(survey)
        problem = self.service.may_answer(repos, survey, person, now)
        if problem is not None:
            return _reply(problem)
        invitation = repos.surveys.invitation(survey.id, person.id)
        if survey.mode == "confidential" and invitation is not None and invitation.answered:
            return _reply(_say("surveys/errors/already_answered", id=survey.id, title=survey.title))
        instrument = self.instruments[survey.instrument]
        defaults: dict[str, Any] = {}
        if survey.mode == "named":
            earlier = dict(next((a for p, a in repos.surveys.named_answers(survey.id) if p.id == person.id), {}))
            defaults = stored_to_values(instrument, earlier)
        line = Outbound(template="surveys/mode_line", context=self.service.mode_line(survey))
        context = {"survey": survey.id}
        if invocation.inbound.forms:  # a modal whose intro starts with the mode line
            form_id = modal_form_id(instrument, survey.mode)
            return self.port.open_form(repos, invocation, form_id, defaults, context)  # type: ignore[call-arg]
        return self._ask_in_chat(invocation, instrument, defaults, context, line)

    def _ask_in_chat(
        self, invocation: Invocation, instrument: Instrument, defaults: dict[str, Any], context: dict[str, Any],
        line: Outbound,
    ) -> Reply:  # fmt: skip
        """One question at a time, skipping questions whose condition is not met (handlers/surveys/flow.py)."""
        repos, key = invocation.repos, invocation.key
        open_one = repos.conversations.open_for(key)
        if open_one is not None:
            if key.platform == "console" or key.thread is not None:
                return _reply(Outbound(template="forms/finish_open_first"))
            open_one.status = "replaced"  # an unbound conversation whose thread never opened
        flow = self.port.flow(flow_name(instrument.id))
        assert isinstance(flow, SurveyFlow)
        reply = self.port.start(repos, key, flow.name, flow.start_state(defaults, context), invocation.now)
        form = instrument.form_words
        intro = Outbound(template="forms/intro", context={"title": form.title, "intro": form.intro})
        return Reply(messages=[line, intro, *reply.messages], conversation_id=reply.conversation_id,
                     new_thread=key.thread is None)  # fmt: skip

    def results(self, invocation: Invocation, rest: str) -> Reply:
        repos, person = invocation.repos, invocation.person
        survey = self._survey(repos, rest, "results")
        if isinstance(survey, Outbound):
            return _reply(survey)
        if survey.owner_id != person.id and not person.has_role("admin"):
            return _reply(_say("surveys/errors/owner_only", id=survey.id))
        return _reply(_say("surveys/results", **self.service.results(repos, survey)))

    def close(self, invocation: Invocation, rest: str) -> Reply:
        repos, person = invocation.repos, invocation.person
        survey = self._survey(repos, rest, "close")
        if isinstance(survey, Outbound):
            return _reply(survey)
        if survey.owner_id != person.id:
            return _reply(_say("surveys/errors/owner_only", id=survey.id))
        survey.status = "closed"
        repos.schedules.cancel_subject(f"survey:{survey.id}", invocation.now)
        return _reply(_say("surveys/closed", id=survey.id, title=survey.title, n=survey.answered,
                           invited=survey.invited))  # fmt: skip


def stored_to_values(instrument: Instrument, stored: dict[str, Any]) -> dict[str, Any]:
    """A named person's saved answers (labels) as form values (option values), so `keep` offers them."""
    values: dict[str, Any] = {}
    for question in instrument.questions:
        if question.id not in stored:
            continue
        by_label = {c.label: c.value for c in question.choices()}
        value = stored[question.id]
        values[question.id] = (
            [by_label.get(v, v) for v in value] if isinstance(value, list) else by_label.get(value, value)
        )
    return values
