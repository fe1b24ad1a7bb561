"""`/plc`: new, log, history, list; and `growthbot plc import FILE` for many teams at once."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from handlers.features import CliEnv, Invocation, Port
from handlers.file_import import Refused, import_file, workspace_arguments
from handlers.messages import Outbound, Reply
from handlers.plc.cadence import CadenceProblem, read_cadence
from handlers.plc.forms import LOG_FORM, NEW_FORM, read_assessments
from handlers.plc.people import split_refs
from handlers.plc.service import NewTeam, PlcService, members_of
from storage.models import PlcTeam
from storage.unit_of_work import Repos

IMPORT_COLUMNS = ("name", "school", "lead", "members", "channel", "cadence", "assessments")
REQUIRED_COLUMNS = ("name", "lead", "members", "cadence")


def _usage(text: str = "") -> Reply:
    return Reply(messages=[Outbound(template="plc/usage", context={"text": text[:40]})])


class PlcCommands:
    def __init__(self, port: Port, service: PlcService) -> None:
        self.port = port
        self.service = service

    def run(self, invocation: Invocation) -> Reply:
        verb, _, rest = invocation.args.strip().partition(" ")
        verb = verb.lower()
        if verb in ("", "help"):
            return _usage()
        if verb == "new":
            if not invocation.person.has_role("plc_lead", "admin"):
                return Reply(messages=[Outbound(template="plc/errors/not_lead")])
            return self.port.open_form(invocation.repos, invocation, NEW_FORM, {})
        if verb == "log":
            return self.log(invocation, rest.strip())
        if verb == "history":
            return self.history(invocation, rest.strip())
        if verb in ("list", "teams"):
            return self.list(invocation)
        return _usage(verb)

    def _teams(self, invocation: Invocation) -> list[PlcTeam]:
        return invocation.repos.plc.of_person(invocation.person.workspace_id, invocation.person.id)

    def log(self, invocation: Invocation, team_text: str) -> Reply:
        teams = self._teams(invocation)
        if not teams and not team_text:
            return Reply(messages=[Outbound(template="plc/errors/no_team")])
        picked = [t for t in teams if team_text and team_text.lower() in t.name.lower()]
        if team_text and not picked:  # a check-in's button clicked by someone not on that team, or a typo
            names = [t.name for t in teams]
            return Reply(messages=[Outbound(template="plc/errors/not_on_team", context={"team": team_text[:200],
                                                                                       "teams": names})])  # fmt: skip
        picked = [t for t in picked if t.name.lower() == team_text.lower()] or picked or teams
        team = picked[0]
        defaults: dict[str, Any] = {"team": team.name} if len(picked) == 1 else {}
        repos = invocation.repos
        today = invocation.now.astimezone(self.service.zone).date()
        due = [a for a in repos.plc.assessments(team.id) if a.window_start <= today]
        if due:
            defaults["assessment"] = due[-1].name
        return self.port.open_form(repos, invocation, LOG_FORM, defaults)

    def history(self, invocation: Invocation, assessment: str) -> Reply:
        teams = self._teams(invocation)
        if not teams:
            return Reply(messages=[Outbound(template="plc/errors/no_team")])
        histories = [self.service.history(invocation.repos, team, assessment) for team in teams]
        return Reply(messages=[Outbound(template="plc/history", context={"teams": histories})])

    def list(self, invocation: Invocation) -> Reply:
        repos = invocation.repos
        rows = []
        for team in self._teams(invocation):
            meetings = self.service.next_meetings(repos, team, invocation.now, 1)
            rows.append({"name": team.name, "cadence": team.cadence, "members": len(members_of(repos, team)),
                         "next": meetings[0].astimezone(self.service.zone).strftime("%a %b %-d, %-I:%M %p")
                         if meetings else ""})  # fmt: skip
        return Reply(messages=[Outbound(template="plc/list", context={"teams": rows})])


# -- growthbot plc import FILE ----------------------------------------------------------------------------


def configure_plc(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="plc_command", required=True)
    imports = verbs.add_parser("import", help="add PLC teams from a CSV file (all or nothing)")
    imports.add_argument("file", type=Path, help=f"CSV with columns {', '.join(IMPORT_COLUMNS)}")
    workspace_arguments(imports)


def import_teams(repos: Repos, workspace_id: int, text: str, service: PlcService, now: Any) -> list[str]:
    """Check every row first; save all of them only if none has a problem. Returns the problems (line, column)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [f"line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"]
    problems: list[str] = []
    planned: list[NewTeam] = []
    seen: set[str] = set()
    today: date = now.astimezone(service.zone).date()
    existing = {t.name.lower() for t in repos.plc.in_workspace(workspace_id)}
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        name = row.get("name", "")
        if not name:
            problems.append(f"line {line}, column name: empty")
            continue
        if name.lower() in existing or name.lower() in seen:
            problems.append(f"line {line}, column name: a team called {name[:60]!r} exists already")
        seen.add(name.lower())
        leads = repos.people.resolve(workspace_id, row.get("lead", ""))
        if len(leads) != 1:
            problems.append(f"line {line}, column lead: no one on the roster is {row.get('lead', '')[:60]!r}")
        members = []
        for ref in split_refs(row.get("members", "").replace(";", ",")):
            found = repos.people.resolve(workspace_id, ref)
            if len(found) != 1:
                problems.append(f"line {line}, column members: no one on the roster is {ref[:60]!r}")
            else:
                members.append(found[0])
        try:
            cadence = read_cadence(row.get("cadence", ""))
        except CadenceProblem as problem:
            problems.append(f"line {line}, column cadence: can't read {row.get('cadence', '')[:60]!r} ({problem.why})")
            continue
        assessments, problem = read_assessments(row.get("assessments", "").replace("|", "\n"), today)
        if problem is not None:
            problems.append(f"line {line}, column assessments: can't read {problem.context.get('text', '')!r}")
        if len(leads) == 1:
            planned.append(NewTeam(name=name[:200], school=row.get("school", "")[:200],
                                   channel=row.get("channel", "")[:120], lead=leads[0], members=members,
                                   cadence_text=row["cadence"][:200], cadence=cadence,
                                   assessments=assessments))  # fmt: skip
    if problems:
        return problems
    for new in planned:
        service.create(repos, workspace_id, new, now)
    return []


def run_import(args: argparse.Namespace, env: CliEnv, service: PlcService) -> int:
    def load(repos: Repos, workspace_id: int, text: str) -> str:
        problems = import_teams(repos, workspace_id, text, service, env.now)
        if problems:
            raise Refused(problems)
        return f"Imported PLC teams; {len(repos.plc.in_workspace(workspace_id))} in the workspace now."

    return import_file(args, env, load)
