"""The periodic upkeep `serve` and `socket` run: idle drafts set aside, old event ids forgotten."""

from __future__ import annotations

from datetime import timedelta

from handlers.router import Bot
from scheduling.clock import FakeClock
from storage.database import Database
from storage.unit_of_work import unit_of_work
from tests.harness import Chat


def test_housekeeping_keeps_idle_drafts_and_forgets_week_old_event_ids(
    chat: Chat, bot: Bot, db: Database, clock: FakeClock
) -> None:
    chat.start_goal()
    bot.handle(chat.inbound("1", event_key="ev-1"))
    clock.advance(timedelta(days=15))
    [delivery] = bot.housekeep()
    assert [(m.template, m.context) for m in delivery.messages] == [("goals/draft_kept", {"goal_id": 1})]
    with unit_of_work(db) as repos:
        assert repos.events.count() == 0  # ev-1 is older than a week: no platform will redeliver it
    assert bot.housekeep() == []
