"""The two PLC forms: `/plc new` (a team) and `/plc log` (a data review), their checks and what submit does."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from handlers.engine import Check, CheckContext, Problem
from handlers.forms import FormResult, FormSpec, Submission
from handlers.goals.dates import DateProblem, find_date
from handlers.messages import Outbound
from handlers.plc.cadence import CadenceProblem, check_cadence, read_cadence
from handlers.plc.people import find_people, one_of
from handlers.plc.service import NewTeam, PlcService, day_label, members_of
from storage.models import Person
from storage.unit_of_work import Repos

NEW_FORM = "plc_new"
LOG_FORM = "plc_log"
MAX_LINES = 20


def _day(text: str, today: date) -> date | None:
    try:
        found = find_date(text, today)
    except DateProblem:
        return None
    return found.value if found else None


def read_assessments(text: str, today: date) -> tuple[list[tuple[str, date, date]], Problem | None]:
    """Lines "name, first day, last day" as (name, start, end); the first bad line as a problem."""
    rows: list[tuple[str, date, date]] = []
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for number, line in enumerate(lines[:MAX_LINES], start=1):
        parts = [part.strip() for part in line.split(",")]
        start = _day(parts[-2], today) if len(parts) >= 3 else None
        end = _day(parts[-1], today) if len(parts) >= 3 else None
        name = ", ".join(parts[:-2]).strip() if len(parts) >= 3 else ""
        if not name or start is None or end is None:
            return [], Problem("plc/errors/assessment_line", {"line": number, "text": line[:80]})
        if end < start:
            return [], Problem("plc/errors/window_backwards", {"line": number, "name": name[:80]})
        rows.append((name[:200], start, end))
    return rows, None


def read_steps(text: str, members: list[Person], today: date) -> tuple[list[dict[str, Any]], Problem | None]:
    """Lines "step; owner; due date": each owner a team member, each due date today or later."""
    steps: list[dict[str, Any]] = []
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for number, line in enumerate(lines[:MAX_LINES], start=1):
        parts = [part.strip() for part in line.split(";")]
        if len(parts) != 3 or not parts[0]:
            return [], Problem("plc/errors/step_line", {"line": number, "text": line[:80]})
        owner = one_of(members, parts[1])
        if owner is None:
            return [], Problem("plc/errors/not_member", {"line": number, "owner": parts[1][:60],
                                                         "members": [m.display_name for m in members]})  # fmt: skip
        due = _day(parts[2], today)
        if due is None:
            return [], Problem("plc/errors/step_date", {"line": number, "text": parts[2][:40]})
        if due < today:
            return [], Problem("plc/errors/step_past", {"line": number, "due": day_label(due)})
        steps.append({"what": parts[0][:500], "owner_id": owner.id, "owner": owner.display_name,
                      "due": due.isoformat()})  # fmt: skip
    return steps, None


class PlcForms:
    def __init__(self, service: PlcService) -> None:
        self.service = service

    # -- /plc new --------------------------------------------------------------------------------------

    def new_services(self, repos: Repos, person: Person, now: datetime) -> dict[str, Any]:
        return {
            "find": lambda text: find_people(repos, person.workspace_id, text),
            "taken": {t.name.lower() for t in repos.plc.in_workspace(person.workspace_id)},
        }

    @staticmethod
    def check_name(text: str, ctx: CheckContext) -> Check:
        if text.strip().lower() in ctx.services.get("taken", set()):
            return Check(error=Problem("plc/errors/name_taken", {"name": text.strip()[:80]}))
        return Check(value=text.strip())

    @staticmethod
    def check_members(text: str, ctx: CheckContext) -> Check:
        finder = ctx.services.get("find")
        if finder is None:
            return Check(value=text)
        found = finder(text)
        if found.unknown or found.ambiguous or not found.people:
            return Check(error=Problem("plc/errors/unknown_people",
                                       {"unknown": found.unknown[:5], "ambiguous": found.ambiguous[:5]}))  # fmt: skip
        return Check(value=text.strip())

    @staticmethod
    def check_assessments(text: str, ctx: CheckContext) -> Check:
        _rows, problem = read_assessments(text, ctx.today)
        return Check(error=problem) if problem else Check(value=text.strip())

    def submit_new(self, submission: Submission) -> FormResult:
        repos, person, values, now = submission.repos, submission.person, submission.values, submission.now
        if not person.has_role("plc_lead", "admin"):
            return FormResult(errors={"name": Problem("plc/errors/not_lead")})
        found = find_people(repos, person.workspace_id, values["members"] or "")
        if found.unknown or found.ambiguous:
            return FormResult(
                errors={
                    "members": Problem(
                        "plc/errors/unknown_people", {"unknown": found.unknown, "ambiguous": found.ambiguous}
                    )
                }
            )
        try:
            cadence = read_cadence(values["cadence"] or "")
        except CadenceProblem as problem:
            return FormResult(errors={"cadence": Problem("plc/errors/cadence", {"text": "", "why": problem.why})})
        today = now.astimezone(self.service.zone).date()
        assessments, problem = read_assessments(values.get("assessments") or "", today)
        if problem is not None:
            return FormResult(errors={"assessments": problem})
        if repos.plc.named(person.workspace_id, values["name"]) is not None:
            return FormResult(errors={"name": Problem("plc/errors/name_taken", {"name": values["name"][:80]})})
        team = self.service.create(repos, person.workspace_id, NewTeam(
            name=values["name"], school=values.get("school") or "", channel=values.get("channel") or "",
            lead=person, members=found.people, cadence_text=values["cadence"], cadence=cadence,
            assessments=assessments,
        ), now)  # fmt: skip
        meetings = [m.astimezone(self.service.zone).strftime("%a %b %-d, %-I:%M %p")
                    for m in self.service.next_meetings(repos, team, now)]  # fmt: skip
        context = {"team": team.name, "cadence": cadence.described, "members": [p.display_name for p in
                   members_of(repos, team)], "channel": team.channel, "next": meetings,
                   "assessments": [{"name": a.name, "review": day_label(a.review_on) if a.review_on else ""}
                                   for a in repos.plc.assessments(team.id)]}  # fmt: skip
        return FormResult(messages=[Outbound(template="plc/created", context=context)], result_ref=team.id)

    def new_form(self) -> FormSpec:
        return FormSpec(
            id=NEW_FORM, submit=self.submit_new, services=self.new_services,
            checks={"name": self.check_name, "members": self.check_members, "cadence": check_cadence,
                    "assessments": self.check_assessments},
        )  # fmt: skip

    # -- /plc log --------------------------------------------------------------------------------------

    def log_services(self, repos: Repos, person: Person, now: datetime) -> dict[str, Any]:
        teams = repos.plc.of_person(person.workspace_id, person.id)
        return {"teams": {t.name.lower(): members_of(repos, t) for t in teams},
                "team_names": [t.name for t in teams]}  # fmt: skip

    @staticmethod
    def check_team(text: str, ctx: CheckContext) -> Check:
        names = ctx.services.get("team_names", [])
        wanted = text.strip().lower()
        picked = [n for n in names if n.lower() == wanted] or [n for n in names if wanted and wanted in n.lower()]
        if wanted.isascii() and wanted.isdigit() and 1 <= int(wanted) <= len(names):
            picked = [names[int(wanted) - 1]]
        if len(picked) != 1:
            return Check(error=Problem("plc/errors/which_team", {"text": text.strip()[:60], "teams": names}))
        return Check(value=picked[0])

    @staticmethod
    def check_given(text: str, ctx: CheckContext) -> Check:
        """A day given is in the past: "Dec 8" typed on Dec 9 means this Dec 8, not next year's."""
        day = date.fromisoformat(text)
        if day > ctx.today and day.replace(year=day.year - 1) <= ctx.today:
            day = day.replace(year=day.year - 1) if not (day.month == 2 and day.day == 29) else day
        if day > ctx.today:
            return Check(error=Problem("plc/errors/given_future", {"day": day_label(day)}))
        return Check(value=day.isoformat())

    @staticmethod
    def check_tier3(text: str, ctx: CheckContext) -> Check:
        problems = PlcForms.cross_log({**ctx.answers, "tier3": float(text)}, ctx)
        return Check(error=problems["tier3"]) if "tier3" in problems else Check(value=int(float(text)))

    @staticmethod
    def check_steps(text: str, ctx: CheckContext) -> Check:
        team = str(ctx.answers.get("team") or "").lower()
        members = ctx.services.get("teams", {}).get(team, [])
        _steps, problem = read_steps(text, members, ctx.today)
        return Check(error=problem) if problem else Check(value=text.strip())

    @staticmethod
    def cross_log(values: dict[str, Any], ctx: CheckContext) -> dict[str, Problem]:
        assessed = values.get("students_assessed")
        needing = (values.get("tier2") or 0) + (values.get("tier3") or 0)
        if isinstance(assessed, int | float) and needing > assessed:
            shown = {"assessed": f"{assessed:g}", "needing": f"{needing:g}"}
            return {"tier3": Problem("plc/errors/too_many_tiers", shown)}
        given = values.get("given_on")
        if isinstance(given, str) and given > ctx.today.isoformat():
            return {"given_on": Problem("plc/errors/given_future", {"day": day_label(date.fromisoformat(given))})}
        return {}

    def submit_log(self, submission: Submission) -> FormResult:
        repos, person, values, now = submission.repos, submission.person, submission.values, submission.now
        teams = [t for t in repos.plc.of_person(person.workspace_id, person.id) if t.name == values.get("team")]
        if not teams:
            return FormResult(errors={"team": Problem("plc/errors/which_team", {"text": "", "teams": []})})
        team = teams[0]
        today = now.astimezone(self.service.zone).date()
        steps, problem = read_steps(values.get("next_steps") or "", members_of(repos, team), today)
        if problem is not None:
            return FormResult(errors={"next_steps": problem})
        for earlier in repos.plc.reviews(team.id):
            same = (earlier.assessment.lower(), earlier.given_on.isoformat(), earlier.students_assessed,
                    earlier.percent_at_target) == (str(values["assessment"]).lower(), values["given_on"],
                                                   int(values["students_assessed"]),
                                                   float(values["percent_at_target"]))  # fmt: skip
            if same:
                return FormResult(messages=[Outbound(template="plc/already_logged",
                                                     context={"team": team.name, "id": earlier.id})])  # fmt: skip
        review = self.service.log(repos, team, person, values | {"next_steps": steps}, now)
        context = {"team": team.name, "assessment": review.assessment, "percent": f"{review.percent_at_target:g}",
                   "assessed": review.students_assessed, "tier2": review.tier2, "tier3": review.tier3,
                   "steps": [{"what": s["what"], "owner": s["owner"], "due": day_label(date.fromisoformat(s["due"]))}
                             for s in steps]}  # fmt: skip
        return FormResult(messages=[Outbound(template="plc/logged", context=context)], result_ref=review.id)

    def log_form(self) -> FormSpec:
        return FormSpec(
            id=LOG_FORM, submit=self.submit_log, services=self.log_services, cross_check=self.cross_log,
            checks={"team": self.check_team, "given_on": self.check_given, "tier3": self.check_tier3,
                    "next_steps": self.check_steps},
        )  # fmt: skip
