"""Partnerships: `/partnership`, its forms, meeting reminders with an agenda, exports and the import-plan verb."""

from __future__ import annotations

import argparse

from handlers.features import CliEnv, CliVerb, Command, Export, Feature, Setup
from handlers.partnerships.commands import (
    PartnershipCommands,
    PartnershipForms,
    configure_partnership,
    run_import_plan,
)
from handlers.partnerships.demo import load_partnership_demo
from handlers.partnerships.export import PARTNERSHIP_COLUMNS, STEP_COLUMNS, partnership_rows, step_rows
from handlers.partnerships.service import PartnershipService


def feature(setup: Setup) -> Feature:
    service = PartnershipService(setup.settings.default_timezone)
    commands = PartnershipCommands(setup.port, service)
    forms = PartnershipForms(service)

    def run(args: argparse.Namespace, env: CliEnv) -> int:
        return run_import_plan(args, env, service)

    return Feature(
        name="partnerships",
        commands=(
            Command(
                "partnership",
                "student-teaching partnership: members, meetings, action plan, agenda",
                "new | show | plan [add | edit N | done N] | agenda | notes",
                commands.run,
            ),
        ),
        forms=(forms.new_form(), forms.step_form(), forms.notes_form()),
        kinds=service.kinds(),
        exports=(
            Export("partnerships", "partnership", PARTNERSHIP_COLUMNS, partnership_rows),
            Export("action-steps", "action step", STEP_COLUMNS, step_rows),
        ),
        cli=(CliVerb("partnership", "partnerships: import an action plan from CSV", configure_partnership, run),),
        demo=lambda repos, workspace_id, now: load_partnership_demo(repos, workspace_id, now, service),
    )
