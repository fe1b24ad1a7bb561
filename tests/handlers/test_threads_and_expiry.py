"""Conversations in chat threads: edits in two threads, old threads, and what expiry may overwrite."""

from __future__ import annotations

from datetime import timedelta

from bot.render.plain import render_plain
from handlers.messages import Inbound, Reply
from handlers.router import Bot
from scheduling.clock import FakeClock
from storage.database import Database
from tests.harness import GOOD_ANSWERS, STEPS, Chat, goals_of

IDLE = timedelta(days=15)


class Thread:
    """One Slack-like DM thread of one teacher, driven through Bot.handle."""

    def __init__(self, bot: Bot, thread: str | None, user: str = "U1") -> None:
        self.bot, self.thread, self.user = bot, thread, user

    def send(self, text: str = "", command: str | None = None) -> str:
        reply = self.bot.handle(
            Inbound(platform="slack", workspace="T1", user_id=self.user, channel="D1", thread=self.thread,
                    text=text, command=command)
        )  # fmt: skip
        return self._bind(reply)

    def _bind(self, reply: Reply) -> str:
        if reply.new_thread and reply.conversation_id is not None and self.thread is not None:
            self.bot.bind_thread(reply.conversation_id, self.thread)
        return "\n\n".join(render_plain(m) for m in reply.messages)

    def command(self, args: str) -> str:
        """Run /goal <args>; a new conversation is bound to this Thread's id, as the Slack adapter does."""
        reply = self.bot.handle(
            Inbound(platform="slack", workspace="T1", user_id=self.user, channel="D1", command="goal", text=args)
        )
        return self._bind(reply)


def test_an_expired_edit_never_reverts_a_goal_saved_in_another_thread(bot: Bot, db: Database, clock: FakeClock) -> None:
    first = Thread(bot, "t1")
    first.command("")
    first.send("1")
    first.send(GOOD_ANSWERS["data_reviewed"])
    clock.advance(IDLE)
    bot.expire_idle()  # draft #1 kept
    stale, fresh = Thread(bot, "t2"), Thread(bot, "t3")
    stale.command("edit 1")
    fresh.command("edit 1")
    for step in STEPS[STEPS.index("specific") :]:
        fresh.send(GOOD_ANSWERS[step])
    assert fresh.send("save").startswith("Saved as goal #1")
    clock.advance(IDLE)
    [delivery] = bot.expire_idle()  # the edit in t2 sat idle
    assert render_plain(delivery.messages[0]).startswith("Your edit of goal #1 sat idle too long")
    [goal] = goals_of(db, "U1")
    assert goal["status"] == "saved" and goal["measurable"] == GOOD_ANSWERS["measurable"] and goal["statement"]


def test_a_reply_in_an_old_thread_does_not_take_over_a_new_draft(bot: Bot, db: Database) -> None:
    old = Thread(bot, "t0")
    old.command("")
    for step in STEPS:
        old.send(GOOD_ANSWERS[step])
    old.send("save")
    Thread(bot, None).command("")  # a new draft whose thread is not bound yet
    assert "already saved" in old.send("2")
    assert "Step 2 of 9" in Thread(bot, "t9").send("2")  # its own thread's first reply still finds it


def test_an_answer_that_drew_a_tip_is_kept_when_the_draft_expires(
    chat: Chat, bot: Bot, db: Database, clock: FakeClock
) -> None:
    chat.start_goal()
    chat.answer_through("data_reviewed")
    assert "coaching note" in chat.say("improve")
    clock.advance(IDLE)
    bot.expire_idle()
    [goal] = goals_of(db)
    assert goal["specific"] == "improve"


def test_goal_numbers_in_other_scripts_get_a_clear_message(chat: Chat) -> None:
    assert chat.say("/goal show ²").startswith("Which goal?")
    assert chat.say("/goal edit ３").startswith("Which goal?")
