"""Whatever a person types, at any step of any flow or after any command, they get an answer, never a crash.

Over 10,000 generated inputs in CI (`HYPOTHESIS_PROFILE=thorough` for ten times as many): every step of
every registered flow and form is driven directly through the engine inside one transaction, and every
registered command's arguments go through the whole bot. Text includes lone surrogates, control
characters, Slack markup, very long strings and the engine's own words (back, keep, skip).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import prompts
from bot.render.plain import render_plain
from handlers.engine import CheckContext, State
from handlers.form_flow import FormFlow
from handlers.org.demo import load_demo
from handlers.org.roster import console_directory
from handlers.router import Bot
from scheduling.clock import FakeClock
from storage.database import Database, connect, upgrade
from storage.unit_of_work import Repos, unit_of_work
from tests.conftest import test_settings
from tests.harness import Chat

APOLOGY = "Sorry, something went wrong"
WORDS = ["back", "keep", "skip", "cancel", "help", "1", "2", "9", "0", "-1", "yes", "Dec 3", "3pm", "@kim",
         "<!channel>", "<@U123|x>", "=SUM(A1)", "June 2027", "every other Friday", "30 min", "1e309"]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30),  # surrogates, controls
    st.builds(lambda word, text: f"{word} {text}", st.sampled_from(WORDS), st.text(max_size=30)),
    st.text(min_size=2001, max_size=2100),
)
# Over 10,000 inputs in CI in all, spread over however many steps the features register (every survey question
# is a step); `HYPOTHESIS_PROFILE=thorough make test` runs ten times more.
SCALE = 10 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 1
PER_COMMAND = 450 * SCALE
STEP_BUDGET = 7000 * SCALE


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bot, Database]]:
    """A demo district on its own SQLite file, shared by the module (the inputs never commit a record)."""
    db = connect(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.db")
    upgrade(db)
    clock = FakeClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    load_demo(db, clock, console_directory("console", "local"), "America/New_York")
    bot = Bot(db, clock, test_settings())
    yield bot, db
    db.dispose()


def per_step() -> int:
    return max(30 * SCALE, STEP_BUDGET // max(len(steps()), 1))


def steps() -> list[tuple[str, str]]:
    return list(_steps())


@cache
def _steps() -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for feature in Bot.catalogue(test_settings()):
        flows = [*feature.flows, *(FormFlow(spec) for spec in feature.forms)]
        found.extend((flow.name, step.name) for flow in flows for step in flow.steps)
    return tuple(found)


def _answers(flow_name: str) -> dict[str, object]:
    """Plausible earlier answers, so later steps (a review, a time that needs a teacher) can be reached."""
    if flow_name == "form:observe":
        return {"mode": "announced", "teacher": {"id": 0, "name": "Nobody"}, "minutes": 30,
                "when": {"at": "2026-12-03T15:00:00+00:00", "described": "Thu Dec 3", "guessed": False}}  # fmt: skip
    if flow_name == "form:settings":
        return {"time_zone": "America/New_York", "quiet_start": "07:00", "quiet_end": "18:00"}
    return {}


@pytest.mark.parametrize(("flow_name", "step_name"), steps())
def test_no_text_at_any_step_of_any_flow_raises(world: tuple[Bot, Database], flow_name: str, step_name: str) -> None:
    bot, db = world
    flow = bot.flows[flow_name]

    @settings(max_examples=per_step(), suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=TEXT)
    def one(text: str) -> None:
        with unit_of_work(db) as repos:
            person = _lopez(repos)
            state = State(step=step_name, answers=dict(_answers(flow_name)))
            ctx = CheckContext(today=bot.clock.now().date(), answers=state.answers,
                               services=flow.services(repos, person, bot.clock.now()))  # fmt: skip
            turn = flow.handle(state, text, ctx)
            for message in turn.messages:
                assert APOLOGY not in render_plain(message)
                prompts.render(message.template, message.context, prompts.MRKDWN)  # renders on Slack too
            assert turn.finish is not None or turn.state.step in {s.name for s in flow.steps}
            repos.session.rollback()

    one()


def _lopez(repos: Repos):  # type: ignore[no-untyped-def]
    workspace = repos.workspaces.ensure("console", "local", datetime(2026, 11, 1, tzinfo=UTC))
    person = repos.people.find(workspace.id, "lopez")
    assert person is not None
    return person


@pytest.mark.parametrize("command", [*(c.name for f in Bot.catalogue(test_settings()) for c in f.commands), "help"])
def test_no_arguments_to_any_command_raise(world: tuple[Bot, Database], command: str) -> None:
    bot, _db = world

    @settings(max_examples=PER_COMMAND, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(args=TEXT)
    def one(args: str) -> None:
        chat = Chat(bot, user="lopez")
        reply = chat.say(f"/{command} {args}")
        assert reply.strip() and APOLOGY not in reply
        chat.say("cancel")  # leave no form open for the next example

    one()
