"""A person's own availability: `/away` while out, `/settings` for working hours and time zone."""

from __future__ import annotations

from handlers.features import Command, Feature, Invocation, Setup
from handlers.messages import Reply
from handlers.people.away import away
from handlers.people.settings import SettingsCommand, settings_form


def feature(setup: Setup) -> Feature:
    port = setup.port

    def run_away(invocation: Invocation) -> Reply:
        return away(invocation.person, invocation.args, invocation.now, port.zone(invocation.person))

    settings = SettingsCommand(port, setup.settings.quiet_start, setup.settings.quiet_end)
    return Feature(
        name="people",
        commands=(
            Command("away", "pause your reminders while you are out", "until Dec 3 | off", run_away),
            Command("settings", "set the hours I may message you and your time zone", "[show]", settings.run),
        ),
        forms=(settings_form(),),
    )
