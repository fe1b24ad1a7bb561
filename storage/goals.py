"""The educator plan's storage: goal drafts still in the coach, benchmark check-ins, an evaluator's team.

Kept beside `storage.unit_of_work.Goals` (the goal rows themselves) so the plan can grow without touching the
shared unit of work: handlers build `GoalPlans(repos.session)` inside the turn's own transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.database import insert_new
from storage.models import Conversation, Goal, GoalCheckin, Person


class GoalPlans:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open_drafts(self, platform: str, workspace_id: int, user_id: str) -> list[Conversation]:
        """Goal conversations still open for this person, in any thread: drafts not yet stored as goals."""
        return list(
            self.session.scalars(
                select(Conversation)
                .where(
                    Conversation.platform == platform,
                    Conversation.workspace_id == workspace_id,
                    Conversation.user_id == user_id,
                    Conversation.flow == "goal",
                    Conversation.status == "open",
                )
                .order_by(Conversation.id)
            )
        )

    def goal(self, goal_id: int) -> Goal | None:
        return self.session.get(Goal, goal_id)

    def ask(self, goal_id: int, benchmark_on: date, checks: str, now: datetime) -> GoalCheckin | None:
        """Record that the check-in for this benchmark was asked; None if it was asked already (exactly once)."""
        values: dict[str, Any] = {"goal_id": goal_id, "benchmark_on": benchmark_on, "checks": checks,
                                  "status": "asked", "note": "", "asked_at": now, "created_at": now}  # fmt: skip
        if not insert_new(self.session, GoalCheckin, values):
            return None
        return self.checkin(goal_id, benchmark_on)

    def checkin(self, goal_id: int, benchmark_on: date) -> GoalCheckin | None:
        return self.session.scalar(
            select(GoalCheckin).where(GoalCheckin.goal_id == goal_id, GoalCheckin.benchmark_on == benchmark_on)
        )

    def checkins(self, goal_id: int) -> list[GoalCheckin]:
        return list(
            self.session.scalars(
                select(GoalCheckin).where(GoalCheckin.goal_id == goal_id).order_by(GoalCheckin.benchmark_on)
            )
        )

    def answer(
        self, goal_id: int, benchmark_on: date, checks: str, status: str, note: str, now: datetime
    ) -> GoalCheckin:
        """Log an answer on the goal (a later answer to the same benchmark replaces the earlier one)."""
        row = self.checkin(goal_id, benchmark_on)
        if row is None:
            row = GoalCheckin(goal_id=goal_id, benchmark_on=benchmark_on, checks=checks, status=status, note="",
                              asked_at=None, created_at=now)  # fmt: skip
            self.session.add(row)
        row.status = status
        if note:
            row.note = note
        row.answered_at = now
        self.session.flush()
        return row

    def educators_of(self, evaluator_id: int) -> list[Person]:
        """The people this evaluator evaluates, by name: only theirs, never the rest of the school (and not those
        who have left the district)."""
        return list(
            self.session.scalars(
                select(Person)
                .where(Person.evaluator_id == evaluator_id, Person.deactivated_at.is_(None))
                .order_by(Person.display_name, Person.id)
            )
        )
