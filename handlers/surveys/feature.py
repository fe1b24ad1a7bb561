"""Surveys: `/survey` (send, pulse, answer, results), one form per instrument, fan-out and nudge kinds,
the responses export (`growthbot export responses [--survey N]`), and `growthbot instruments list|check`."""

from __future__ import annotations

import argparse
from datetime import datetime, time
from pathlib import Path
from typing import Any

from handlers.engine import CheckContext, Problem
from handlers.features import CliEnv, CliVerb, Command, Export, ExportRefused, Feature, Selection, Setup
from handlers.forms import FormSpec
from handlers.surveys.commands import SurveyCommands
from handlers.surveys.flow import SurveyFlow
from handlers.surveys.instruments import Instrument, load_instruments, read_instrument
from handlers.surveys.service import MODES, SurveyService, modal_form_id
from storage.database import Database
from storage.unit_of_work import Repos, unit_of_work

RESPONSE_COLUMNS = ("survey", "instrument", "mode", "response", "respondent", "question", "answer")


def _shown_rule(instrument: Instrument):  # type: ignore[no-untyped-def]
    """A conditional question that is shown (its condition met) and required must be answered."""

    def cross_check(values: dict[str, Any], _ctx: CheckContext) -> dict[str, Problem]:
        problems: dict[str, Problem] = {}
        for question in instrument.questions:
            if question.show_if is None or not question.required:
                continue
            if values.get(question.show_if[0]) in question.show_if[1] and values.get(question.id) in (None, "", []):
                problems[question.id] = Problem("forms/errors/required", {"label": question.text})
        return problems

    return cross_check


def feature(setup: Setup) -> Feature:
    settings = setup.settings
    extra: Path | None = getattr(settings, "instruments_dir", None)
    instruments, _problems = load_instruments(extra)  # `growthbot instruments check` reports the problems
    service = SurveyService(instruments, getattr(settings, "min_group_size", 5), settings.default_timezone)
    commands = SurveyCommands(setup.port, service)
    specs = {
        i.id: FormSpec(id=i.form_id, submit=service.submit, words=i.form_words, cross_check=_shown_rule(i))
        for i in instruments.values()
    }
    # A modal is re-drawn by the router (errors, pages) from its form's words, so each mode has its own
    # form whose intro starts with the mode line: it can never drop out of the view.
    modal_specs = [
        FormSpec(id=modal_form_id(i, mode), submit=service.submit, cross_check=_shown_rule(i),
                 words=i.form_words.model_copy(update={"id": modal_form_id(i, mode), "intro": service.intro(i, mode)}))
        for i in instruments.values() for mode in MODES
    ]  # fmt: skip

    def export_all(db: Database) -> list[dict[str, Any]]:
        with unit_of_work(db) as repos:
            return [row for survey in repos.surveys.all_in() for row in service.export_rows(repos, survey)]

    def configure_responses(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--survey", type=int, default=None, help="only this survey (default: every survey)")

    def select_responses(db: Database, args: argparse.Namespace) -> Selection:
        """Every survey, or the one `--survey` names; a note for each one whose answers are withheld."""
        with unit_of_work(db) as repos:
            if args.survey is None:
                surveys = repos.surveys.all_in()
            else:
                one = repos.surveys.get(args.survey)
                if one is None:
                    raise ExportRefused(f"there is no survey {args.survey}.")
                surveys = [one]
            rows = [row for survey in surveys for row in service.export_rows(repos, survey)]
            notes = [note for survey in surveys if (note := service.withheld_note(repos, survey))]
        return Selection(rows, tuple(notes))

    def configure_instruments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", choices=["list", "check"], help="list the instruments, or check files")
        parser.add_argument("files", nargs="*", type=Path, help="instrument files to check (default: all)")

    def run_instruments(args: argparse.Namespace, env: CliEnv) -> int:
        if args.action == "list":
            found, problems = load_instruments(extra)
            for instrument in found.values():
                source = f"  (adapted: {instrument.source})" if instrument.source else ""
                env.out.write(
                    f"{instrument.id:<18} {len(instrument.questions):>3} questions  {instrument.title}{source}\n"
                )
            for problem in problems:
                env.err.write(f"{problem}\n")
            return 1 if problems else 0
        problems = []
        if args.files:
            for path in args.files:
                problems.extend(read_instrument(path)[1])
        else:
            problems = load_instruments(extra)[1]
        for problem in problems:
            env.err.write(f"{problem}\n")
        if not problems:
            env.out.write("All instruments are valid.\n")
        return 1 if problems else 0

    def demo(repos: Repos, workspace_id: int, now: datetime) -> str:
        return _demo(repos, service, workspace_id, now)

    return Feature(
        name="surveys",
        commands=(
            Command(
                "survey",
                "exit slips, needs assessments and pulse surveys (/survey help for everything)",
                "[answer N | send <instrument> to <@people|plc:team|#channel|school:name|everyone> [confidential]"
                " | results N | help]",
                commands.run,
                mentions=True,
            ),
        ),
        forms=(*specs.values(), *modal_specs),
        flows=tuple(SurveyFlow(spec, instruments[key]) for key, spec in specs.items()),
        kinds=service.kinds(),
        exports=(
            Export(
                "responses",
                "response",
                RESPONSE_COLUMNS,
                export_all,
                configure=configure_responses,
                select=select_responses,
            ),
        ),
        cli=(
            CliVerb(
                "instruments",
                "list survey instruments, or check instrument files",
                configure_instruments,
                run_instruments,
            ),
        ),
        demo=demo,
    )


def _demo(repos: Repos, service: SurveyService, workspace_id: int, now: datetime) -> str:
    """A confidential exit slip from the demo's first evaluator to everyone else: open five school days, closing
    at 5pm, with a reminder at 9am on the second."""
    people = [p for pid in repos.surveys.people_ids(workspace_id) if (p := repos.people.get(pid)) is not None]
    owner = next((p for p in people if p.has_role("evaluator", "admin")), None)
    if owner is None or "exit_slip" not in service.instruments or repos.surveys.all_in(workspace_id):
        return ""
    others = [p.id for p in people if p.id != owner.id]
    calendar, zone = repos.calendars.load(workspace_id), service.zone(owner)
    today = now.astimezone(zone).date()

    def at(school_days: int, hour: int) -> datetime:  # a real close and reminder: a school day, in school hours
        return datetime.combine(calendar.add_school_days(today, school_days), time(hour), tzinfo=zone)

    survey = service.send(repos, owner, service.instruments["exit_slip"], "confidential", others, "everyone", now,
                          at(5, 17), [at(2, 9)])  # fmt: skip
    return f"survey #{survey.id}: a confidential exit slip to {len(others)} people"
