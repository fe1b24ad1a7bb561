"""`/partnership` and its forms (new, plan add|edit, notes), `plan done N`, the agenda, and import-plan."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from handlers.engine import Check, CheckContext, Problem
from handlers.features import CliEnv, Invocation, Port
from handlers.file_import import Refused, import_file, workspace_arguments
from handlers.forms import FormResult, FormSpec, Submission
from handlers.messages import Outbound, Reply
from handlers.partnerships.plan import PLAN_COLUMNS, read_members, read_plan, read_row, stamp
from handlers.partnerships.service import MEETING_KINDS, PartnershipService, day_label, members_of
from handlers.plc.cadence import CadenceProblem, check_cadence, read_cadence
from storage.models import Partnership, Person
from storage.unit_of_work import Repos

NEW_FORM, STEP_FORM, NOTES_FORM = "partnership_new", "partnership_step", "partnership_notes"
LEAD_ROLES = ("partnership_lead", "admin")


def _say(template: str, **context: Any) -> Reply:
    return Reply(messages=[Outbound(template=f"partnerships/{template}", context=context)])


def mine(repos: Repos, person: Person) -> Partnership | None:
    found = repos.partnerships.of_person(person.workspace_id, person.id)
    return found[0] if found else None


class PartnershipCommands:
    def __init__(self, port: Port, service: PartnershipService) -> None:
        self.port = port
        self.service = service

    def run(self, invocation: Invocation) -> Reply:
        words = invocation.args.strip().split()
        verb = words[0].lower() if words else ""
        repos, person = invocation.repos, invocation.person
        if verb == "help":
            return _say("usage", text="")
        if verb == "new":
            if not person.has_role(*LEAD_ROLES):
                return _say("errors/not_lead")
            return self.port.open_form(repos, invocation, NEW_FORM, {})
        partnership = mine(repos, person)
        if partnership is None:
            return (
                _say("errors/none")
                if verb in ("", "show", "plan", "agenda", "notes")
                else _say("usage", text=verb[:40])
            )
        if verb in ("", "show"):
            return self.show(repos, partnership, invocation)
        if verb == "agenda":
            return self.agenda(repos, partnership, invocation)
        if verb == "notes":
            return self.port.open_form(repos, invocation, NOTES_FORM, {})
        if verb == "plan":
            return self.plan(invocation, partnership, words[1:])
        return _say("usage", text=verb[:40])

    def show(self, repos: Repos, partnership: Partnership, invocation: Invocation) -> Reply:
        calendar = repos.calendars.load(partnership.workspace_id)
        meetings = []
        for meeting in repos.partnerships.meetings(partnership.id):
            found = self.service.next_meeting(meeting, invocation.now, calendar)
            meetings.append({"kind": MEETING_KINDS.get(meeting.kind, meeting.kind), "cadence": meeting.cadence,
                             "next": found[0].astimezone(self.service.zone).strftime("%a %b %-d, %-I:%M %p")
                             if found else ""})  # fmt: skip
        steps = repos.partnerships.steps(partnership.id)
        return _say("show", name=partnership.name, district=partnership.district, program=partnership.program,
                    stage=partnership.stage, vision=partnership.vision, meetings=meetings,
                    members=[{"name": p.display_name, "role": r} for p, r in members_of(repos, partnership)],
                    steps=len(steps), done=sum(s.status == "done" for s in steps))  # fmt: skip

    def agenda(self, repos: Repos, partnership: Partnership, invocation: Invocation) -> Reply:
        calendar = repos.calendars.load(partnership.workspace_id)
        meetings = repos.partnerships.meetings(partnership.id)
        if not meetings:
            return _say("errors/none")
        found = self.service.next_meeting(meetings[0], invocation.now, calendar)
        if found is None:
            return _say("errors/none")
        today = invocation.now.astimezone(self.service.zone).date()
        context = self.service.agenda(repos, partnership, meetings[0], found[0], found[1], today)
        return _say("agenda", **context, when="now")

    def plan(self, invocation: Invocation, partnership: Partnership, words: list[str]) -> Reply:
        repos, now = invocation.repos, invocation.now
        verb = words[0].lower() if words else ""
        number = int(words[1]) if len(words) > 1 and words[1].isascii() and words[1].isdigit() else None
        if verb == "":
            names = {p.id: p.display_name for p, _r in members_of(repos, partnership)}
            rows = [self.service.row(s, names) for s in repos.partnerships.steps(partnership.id)]
            return _say("plan", partnership=partnership.name, steps=rows)
        if verb == "add":
            return self.port.open_form(repos, invocation, STEP_FORM, {"status": "not_started"})
        step = repos.partnerships.step(partnership.id, number) if number is not None and number < 10**6 else None
        if verb in ("edit", "done") and step is None:
            return _say("errors/no_step", number=(words[1] if len(words) > 1 else "")[:12])
        if verb == "done" and step is not None:
            step.status, step.updated_at = "done", now
            self.service.nudge_step(repos, partnership, step, now)
            return _say("step_done", number=step.number, step=step.step)
        if verb == "edit" and step is not None:
            names = {p.id: p for p, _r in members_of(repos, partnership)}
            values = {"step": step.step, "start_on": step.start_on.isoformat() if step.start_on else None,
                      "due_on": step.due_on.isoformat(), "others": step.others, "outputs": step.outputs,
                      "outcomes": step.outcomes, "resources": step.resources, "impact": str(step.impact),
                      "lift": str(step.lift), "status": step.status,
                      "responsible": ", ".join(f"@{names[i].platform_user_id}" for i in step.responsible_ids
                                               if i in names)}  # fmt: skip
            values = {k: v for k, v in values.items() if v not in (None, "")}
            return self.port.open_form(repos, invocation, STEP_FORM, values, context={"number": step.number})  # type: ignore[call-arg]
        return _say("usage", text=f"plan {verb}"[:40])


class PartnershipForms:
    def __init__(self, service: PartnershipService) -> None:
        self.service = service

    # -- new -------------------------------------------------------------------------------------------

    def new_services(self, repos: Repos, person: Person, now: Any) -> dict[str, Any]:
        return {"members": lambda text: read_members(repos, person.workspace_id, text)}

    @staticmethod
    def check_members(text: str, ctx: CheckContext) -> Check:
        reader = ctx.services.get("members")
        if reader is None:
            return Check(value=text)
        _found, problems = reader(text)
        if problems:
            return Check(error=Problem("partnerships/errors/members", {"problems": problems[:5]}))
        return Check(value=text.strip())

    def submit_new(self, submission: Submission) -> FormResult:
        repos, person, values, now = submission.repos, submission.person, submission.values, submission.now
        if not person.has_role(*LEAD_ROLES):
            return FormResult(errors={"name": Problem("partnerships/errors/not_lead")})
        if repos.partnerships.named(person.workspace_id, values["name"]):
            return FormResult(errors={"name": Problem("partnerships/errors/name_taken", {"name": values["name"]})})
        members, problems = read_members(repos, person.workspace_id, values.get("members") or "")
        if problems:
            return FormResult(errors={"members": Problem("partnerships/errors/members", {"problems": problems})})
        listed = [{"person_id": person.id, "role": "lead"}] + [
            {"person_id": p.id, "role": r} for p, r in members if p.id != person.id]  # fmt: skip
        partnership = repos.partnerships.add(
            workspace_id=person.workspace_id, name=values["name"], district=values["district"],
            program=values["program"], vision=values.get("vision") or "", stage=values["stage"],
            channel=(values.get("channel") or "").strip()[:120],
            lead_id=person.id, members=listed, remind_school_days=5, created_at=now,
        )  # fmt: skip
        for kind in ("leadership", "liaison", "quarterly"):
            text = values.get(kind)
            if text:
                try:
                    cadence = read_cadence(text)
                except CadenceProblem:
                    continue
                self.service.set_meeting(repos, partnership, kind, text, cadence, now)
        meetings = [{"kind": MEETING_KINDS[m.kind], "cadence": m.cadence}
                    for m in repos.partnerships.meetings(partnership.id)]  # fmt: skip
        return FormResult(messages=[Outbound(template="partnerships/created", context={
            "name": partnership.name, "meetings": meetings, "days": partnership.remind_school_days,
            "channel": partnership.channel,
            "members": [{"name": p.display_name, "role": r} for p, r in members_of(repos, partnership)]})],
            result_ref=partnership.id)  # fmt: skip

    def new_form(self) -> FormSpec:
        checks = {"members": self.check_members, "leadership": check_cadence, "liaison": check_cadence,
                  "quarterly": check_cadence}  # fmt: skip
        return FormSpec(id=NEW_FORM, submit=self.submit_new, services=self.new_services, checks=checks)

    # -- a plan step -------------------------------------------------------------------------------------

    def step_services(self, repos: Repos, person: Person, now: Any) -> dict[str, Any]:
        partnership = mine(repos, person)
        return {"members": [p for p, _r in members_of(repos, partnership)] if partnership else []}

    @staticmethod
    def check_responsible(text: str, ctx: CheckContext) -> Check:
        row = {"step": "x", "due": "2000-01-01", "responsible": text}
        _fields, problems = read_row(row, ctx.services.get("members", []), ctx.today)
        wrong = [why for column, why in problems if column == "responsible"]
        if wrong:
            return Check(error=Problem("partnerships/errors/responsible", {"why": wrong[0]}))
        return Check(value=text.strip())

    @staticmethod
    def cross_step(values: dict[str, Any], _ctx: CheckContext) -> dict[str, Problem]:
        start, due = values.get("start_on"), values.get("due_on")
        if isinstance(start, str) and isinstance(due, str) and due < start:
            return {
                "due_on": Problem(
                    "partnerships/errors/due_before_start",
                    {"due": day_label(date.fromisoformat(due)), "start": day_label(date.fromisoformat(start))},
                )
            }
        return {}  # fmt: skip

    def submit_step(self, submission: Submission) -> FormResult:
        repos, person, values, now = submission.repos, submission.person, submission.values, submission.now
        partnership = mine(repos, person)
        if partnership is None:
            return FormResult(errors={"step": Problem("partnerships/errors/none")})
        row = {"step": values["step"], "start": values.get("start_on") or "", "due": values["due_on"],
               "responsible": values["responsible"], "others": values.get("others") or "",
               "outputs": values.get("outputs") or "", "outcomes": values.get("outcomes") or "",
               "resources": values.get("resources") or "", "impact": values["impact"], "lift": values["lift"],
               "status": (values.get("status") or "not_started").replace("_", " ")}  # fmt: skip
        fields, problems = read_row(row, [p for p, _r in members_of(repos, partnership)], now.date())
        if problems:
            _column, why = problems[0]
            return FormResult(errors={"responsible": Problem("partnerships/errors/responsible", {"why": why})})
        number = submission.context.get("number")
        step = repos.partnerships.step(partnership.id, int(number)) if number else None
        if step is not None:
            for name, value in fields.items():
                setattr(step, name, value)
            step.updated_at = now
        else:
            step = repos.partnerships.add_steps(partnership.id, [stamp(fields, now)])[0]
        self.service.nudge_step(repos, partnership, step, now)
        return FormResult(messages=[Outbound(template="partnerships/step_saved", context={
            "number": step.number, "step": step.step, "due": day_label(step.due_on),
            "edited": bool(number)})], result_ref=step.id)  # fmt: skip

    def step_form(self) -> FormSpec:
        return FormSpec(id=STEP_FORM, submit=self.submit_step, services=self.step_services,
                        checks={"responsible": self.check_responsible}, cross_check=self.cross_step)  # fmt: skip

    # -- after the meeting ---------------------------------------------------------------------------------

    def submit_notes(self, submission: Submission) -> FormResult:
        repos, person, values, now = submission.repos, submission.person, submission.values, submission.now
        partnership = mine(repos, person)
        if partnership is None:
            return FormResult(errors={"meeting_on": Problem("partnerships/errors/none")})
        changed = []
        for part in [p.strip() for p in (values.get("updates") or "").split(",") if p.strip()]:
            number, _sp, status = part.partition(" ")
            step = repos.partnerships.step(partnership.id, int(number)) if number.isascii() and number.isdigit() \
                and len(number) < 7 else None  # fmt: skip
            wanted = status.strip().lower().replace(" ", "_")
            if step is not None and wanted in ("not_started", "in_progress", "done", "blocked"):
                step.status, step.updated_at = wanted, now
                self.service.nudge_step(repos, partnership, step, now)
                changed.append(f"#{step.number} {wanted.replace('_', ' ')}")
        repos.partnerships.add_note(
            partnership_id=partnership.id, meeting_kind="leadership",
            meeting_on=date.fromisoformat(values["meeting_on"]),
            notes=values.get("notes") or "", decisions=values.get("decisions") or "",
            next_steps=values.get("next_steps") or "", author_id=person.id, created_at=now,
        )  # fmt: skip
        return FormResult(messages=[Outbound(template="partnerships/notes_saved", context={
            "partnership": partnership.name, "changed": changed})])  # fmt: skip

    def notes_form(self) -> FormSpec:
        return FormSpec(id=NOTES_FORM, submit=self.submit_notes)


# -- growthbot partnership import-plan FILE ------------------------------------------------------------------


def configure_partnership(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="partnership_command", required=True)
    imports = verbs.add_parser("import-plan", help="add action-plan rows from a CSV file (all or nothing)")
    imports.add_argument("file", type=Path, help=f"CSV with columns {', '.join(PLAN_COLUMNS)}")
    imports.add_argument("--partnership", default="", help="its name (default: the only one)")
    workspace_arguments(imports)


def run_import_plan(args: argparse.Namespace, env: CliEnv, service: PartnershipService) -> int:
    def load(repos: Repos, workspace_id: int, text: str) -> str:
        found = repos.partnerships.in_workspace(workspace_id)
        if args.partnership:
            found = [p for p in found if p.name.lower() == args.partnership.strip().lower()]
        if len(found) != 1:
            raise Refused([f"name the partnership with --partnership (there are {len(found)} matching)"])
        partnership = found[0]
        members = [p for p, _r in members_of(repos, partnership)]
        rows, problems = read_plan(text, members, env.now.astimezone(service.zone).date())
        if problems:
            raise Refused(problems)
        for step in repos.partnerships.add_steps(partnership.id, [stamp(r, env.now) for r in rows]):
            service.nudge_step(repos, partnership, step, env.now)
        return f"Imported {len(rows)} action steps into {partnership.name}."

    return import_file(args, env, load)
