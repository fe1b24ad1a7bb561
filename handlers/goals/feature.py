"""The S.M.A.R.T. goal coach: `/goal`, its dialog, and the goals export."""

from __future__ import annotations

from handlers.features import Command, Export, Feature, Setup
from handlers.goals.check import goal_verb
from handlers.goals.commands import GoalCommands
from handlers.goals.export import GOAL_COLUMNS, goal_rows
from handlers.goals.flow import GoalCoach


def feature(setup: Setup) -> Feature:
    commands = GoalCommands(setup.port)
    return Feature(
        name="goals",
        commands=(
            Command(
                "goal",
                "draft a S.M.A.R.T. goal with coaching, check one you have, or list, show and edit yours",
                "[check TEXT | list | show N | edit N | help]",
                commands.run,
            ),
        ),
        flows=(GoalCoach(),),
        exports=(Export("goals", "goal", GOAL_COLUMNS, goal_rows),),
        cli=(goal_verb(),),
    )
