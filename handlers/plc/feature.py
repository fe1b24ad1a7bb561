"""PLC teams: `/plc`, its two forms, check-ins and reminders on the scheduler, the export and the import verb."""

from __future__ import annotations

import argparse

from handlers.features import CliEnv, CliVerb, Command, Export, Feature, Setup
from handlers.plc.commands import PlcCommands, configure_plc, run_import
from handlers.plc.demo import load_plc_demo
from handlers.plc.export import REVIEW_COLUMNS, review_rows
from handlers.plc.forms import PlcForms
from handlers.plc.service import PlcService


def feature(setup: Setup) -> Feature:
    service = PlcService(setup.settings.default_timezone)
    commands = PlcCommands(setup.port, service)
    forms = PlcForms(service)

    def run(args: argparse.Namespace, env: CliEnv) -> int:
        return run_import(args, env, service)

    return Feature(
        name="plc",
        commands=(
            Command(
                "plc",
                "PLC teams: check-ins on the meeting cadence, data-review logs, history",
                "new | log [team] | history [assessment] | list",
                commands.run,
            ),
        ),
        forms=(forms.new_form(), forms.log_form()),
        kinds=service.kinds(),
        exports=(Export("plc-reviews", "PLC review", REVIEW_COLUMNS, review_rows),),
        cli=(CliVerb("plc", "PLC teams: import many from a CSV file", configure_plc, run),),
        demo=lambda repos, workspace_id, now: load_plc_demo(repos, workspace_id, now, service),
    )
