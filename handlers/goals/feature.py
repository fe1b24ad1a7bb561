"""The S.M.A.R.T. goal coach: `/goal`, its dialog, and the goals export."""

from __future__ import annotations

from handlers.features import Command, Export, Feature, Setup
from handlers.goals.check import goal_verb
from handlers.goals.commands import GoalCommands
from handlers.goals.export import GOAL_COLUMNS, goal_rows
from handlers.goals.flow import GoalCoach
from handlers.goals.plan import GoalPlan


def feature(setup: Setup) -> Feature:
    plan = GoalPlan(setup.settings.default_timezone)
    commands = GoalCommands(setup.port, plan)
    return Feature(
        name="goals",
        commands=(
            Command(
                "goal",
                "S.M.A.R.T. goals: draft with coaching, check one, your plan and check-ins, your team's goals",
                "[check TEXT | list | show N | edit N | plan | checkin N on track|behind|done | team | help]",
                commands.run,
            ),
        ),
        flows=(GoalCoach(plan),),
        kinds=plan.kinds(),
        exports=(Export("goals", "goal", GOAL_COLUMNS, goal_rows),),
        cli=(goal_verb(),),
    )
