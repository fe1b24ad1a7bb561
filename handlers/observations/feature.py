"""Classroom observations: `/observe`, its form, scheduled notices and reminders, and the export."""

from __future__ import annotations

from handlers.features import Command, Export, Feature, Setup
from handlers.observations.commands import ObserveCommands
from handlers.observations.demo import demo_visits, whoami_verb
from handlers.observations.export import OBSERVATION_COLUMNS, observation_rows
from handlers.observations.form import observation_form
from handlers.observations.reminders import ObservationReminders
from handlers.observations.rubric import load_rubric
from handlers.observations.service import ObservationService, Policy
from scheduling.tick import QuietHours


def feature(setup: Setup) -> Feature:
    settings = setup.settings
    policy = Policy(
        notice_school_days=settings.notice_school_days,
        feedback_school_days=settings.feedback_school_days,
        rubric=load_rubric(settings.rubric_path),
        quiet=QuietHours(settings.quiet_start, settings.quiet_end),
    )
    service = ObservationService(policy, settings.default_timezone)
    commands = ObserveCommands(setup.port, service)
    return Feature(
        name="observations",
        commands=(
            Command(
                "observe",
                "schedule and follow up classroom observations (/observe help for everything)",
                "[@teacher <when> announced|unannounced|peer|walkthrough minutes] | list | show N | help",
                commands.run,
                mentions=True,
            ),
        ),
        forms=(observation_form(commands),),
        kinds=ObservationReminders(service).kinds(),
        exports=(Export("observations", "observation", OBSERVATION_COLUMNS, observation_rows),),
        cli=(whoami_verb(),),
        demo=lambda repos, workspace_id, now: demo_visits(service, repos, workspace_id, now),
    )
