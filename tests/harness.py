"""Drive the bot the way the terminal does, and look at what it stored.

`Chat(bot, user="alice").say("/goal")` goes through the console adapter's `to_inbound`, `Bot.handle` and
`render_plain`, and returns the text the person would read (all reply messages, blank-line separated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.adapters.console import to_inbound
from bot.render.plain import render_plain
from handlers.goals.export import goal_rows
from handlers.messages import Inbound, Outbound, Reply
from handlers.router import Bot
from scheduling.clock import FakeClock
from scheduling.tick import Recipient
from storage.database import Database
from storage.models import Conversation
from storage.unit_of_work import unit_of_work

TIME_ZONE = "America/New_York"

# One good answer per step of the goal coach, in order, for a clock at 2026-11-23: none draws a tip.
GOOD_ANSWERS: dict[str, str] = {
    "goal_type": "1",
    "data_reviewed": "Fall benchmark: 38% of my 4th graders read at grade level; fluency is the gap",
    "specific": "my 4th graders will read grade-level text fluently and with understanding",
    "measurable": "the share of students at benchmark on the DIBELS fluency probe, from 38% to 70%",
    "action": "I will run daily 20-minute guided reading groups and weekly fluency checks",
    "results": "students below benchmark close at least half the gap in reading fluency",
    "completion_date": "June 15, 2027",
    "benchmarks": "Jan 29: winter fluency probe; March 31: running records for my focus group",
    "alignment": "School improvement plan goal 2: early literacy",
}
STEPS = tuple(GOOD_ANSWERS)

# What those answers are stored as.
GOOD_GOAL: dict[str, Any] = {
    "goal_type": "student_learning",
    "data_reviewed": GOOD_ANSWERS["data_reviewed"],
    "specific": GOOD_ANSWERS["specific"],
    "measurable": GOOD_ANSWERS["measurable"],
    "action": GOOD_ANSWERS["action"],
    "results": GOOD_ANSWERS["results"],
    "completion_date": "2027-06-15",
    "benchmarks": [
        {"date": "2027-01-29", "check": "winter fluency probe"},
        {"date": "2027-03-31", "check": "running records for my focus group"},
    ],
    "alignment": GOOD_ANSWERS["alignment"],
}

# The first line of each step's question, to tell which question the bot is asking.
QUESTION = {
    "goal_type": "Step 1 of 9",
    "data_reviewed": "Step 2 of 9",
    "specific": "Step 3 of 9",
    "measurable": "Step 4 of 9",
    "action": "Step 5 of 9",
    "results": "Step 6 of 9",
    "completion_date": "Step 7 of 9",
    "benchmarks": "Step 8 of 9",
    "alignment": "Step 9 of 9",
    "review": "Save it, revise a part, or cancel?",
    "revise_pick": "Which part would you like to revise?",
}


class Chat:
    """One person typing lines at the terminal."""

    def __init__(self, bot: Bot, user: str = "alice", time_zone: str = TIME_ZONE) -> None:
        self.bot = bot
        self.user = user
        self.time_zone = time_zone

    def inbound(self, line: str, **changes: Any) -> Inbound:
        """The Inbound the terminal makes of `line`, with any field replaced (e.g. event_key=...)."""
        message = to_inbound(line, self.user, self.time_zone)
        return message.model_copy(update=changes) if changes else message

    def send(self, message: str | Inbound) -> Reply:
        return self.bot.handle(self.inbound(message) if isinstance(message, str) else message)

    def say(self, message: str | Inbound) -> str:
        """What the person reads back: every reply message as plain text, blank-line separated."""
        return render(self.send(message))

    def start_goal(self) -> str:
        return self.say("/goal")

    def answer_through(self, last_step: str, **answers: str) -> str:
        """Answer the steps in order up to and including `last_step` (GOOD_ANSWERS unless overridden).

        Assumes the coach is waiting at the first step. Returns the reply to the last answer.
        """
        reply = ""
        for step in STEPS[: STEPS.index(last_step) + 1]:
            reply = self.say(answers.get(step, GOOD_ANSWERS[step]))
        return reply

    def complete_goal(self, **answers: str) -> str:
        """Start a goal, answer every step and choose Save. Returns the reply to Save."""
        self.start_goal()
        review = self.answer_through(STEPS[-1], **answers)
        assert QUESTION["review"] in review, review
        return self.say("1")


def render(reply: Reply) -> str:
    return "\n\n".join(render_plain(message) for message in reply.messages)


def asks(text: str, step: str) -> bool:
    """True if `text` ends by asking the question of `step`."""
    return QUESTION[step] in text


# -- what is stored ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationRow:
    id: int
    status: str
    step: str
    answers: dict[str, Any]
    pending: dict[str, Any] | None
    result_ref: int | None


def conversations_of(db: Database, user: str = "alice") -> list[ConversationRow]:
    with unit_of_work(db) as repos:
        rows = repos.session.scalars(select(Conversation).where(Conversation.user_id == user).order_by(Conversation.id))
        return [
            ConversationRow(
                id=row.id,
                status=row.status,
                step=row.step,
                answers=dict(row.payload.get("answers", {})),
                pending=row.payload.get("pending"),
                result_ref=row.result_ref,
            )
            for row in rows
        ]


def open_conversation(db: Database, user: str = "alice") -> ConversationRow | None:
    found = [row for row in conversations_of(db, user) if row.status == "open"]
    assert len(found) <= 1, f"{user} has {len(found)} open conversations"
    return found[0] if found else None


def goals_of(db: Database, user: str = "alice") -> list[dict[str, Any]]:
    """The export rows (handlers.export.goal_rows) of one user's goals, oldest first."""
    return [row for row in goal_rows(db) if row["user_id"] == user]


NY = ZoneInfo("America/New_York")


@dataclass
class Delivered:
    """One message the scheduler delivered: to whom (a person's handle, or the channel it was posted in)."""

    to: str
    text: str
    at: datetime
    attachments: list[dict[str, str]] = field(default_factory=list)

    @property
    def local(self) -> datetime:
        return self.at.astimezone(NY)

    @property
    def first_line(self) -> str:
        return self.text.split("\n")[0]


class Inbox:
    """A sender that keeps what each person (or channel) received, and when, as the terminal shows it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.items: list[Delivered] = []

    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        text = "\n\n".join(render_plain(Outbound.model_validate(m)) for m in payload["messages"])
        channel = (payload.get("channel") or {}).get("name")  # a post in a team's channel, seen by the team
        attachments = payload.get("attachments") or []
        self.items.append(Delivered(channel or recipient.user_id, text, self.clock.now(), attachments))

    def of(self, user: str) -> list[Delivered]:
        return [item for item in self.items if item.to == user]

    def take(self) -> list[Delivered]:
        items, self.items = self.items, []
        return items
