"""The S.M.A.R.T. goal coach: `/goal`, its dialog, and the goals export."""

from __future__ import annotations

from handlers.features import Command, Export, Feature, Setup
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
                "draft a S.M.A.R.T. goal with coaching, or list, show and edit yours",
                "[list | show N | edit N | help]",
                commands.run,
            ),
        ),
        flows=(GoalCoach(),),
        exports=(Export("goals", "goal", GOAL_COLUMNS, goal_rows),),
    )
