"""Queries behind surveys: who was asked, who has answered, and answers kept apart by privacy mode.

Confidential and anonymous answers go to `survey_sealed_answers`, which has no person column. Writing one
rewrites every answer of that survey under fresh random keys in a shuffled order (the survey row locked
first, so concurrent answers queue), so neither a key nor a row's place in a dump says which came first.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Conversation, Person, School, Survey, SurveyInvitation, SurveyNamedAnswer, SurveySealedAnswer

_SHUFFLE = random.SystemRandom()
CHUNK = 500


@dataclass(frozen=True)
class OpenSurvey:
    survey: Survey
    answered: bool


class Surveys:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _dialect(self) -> Any:
        return postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite

    # -- surveys -------------------------------------------------------------------------------------

    def create(self, **values: Any) -> Survey:
        survey = Survey(status="open", invited=0, answered=0, **values)
        self.session.add(survey)
        self.session.flush()
        return survey

    def get(self, survey_id: int) -> Survey | None:
        return self.session.get(Survey, survey_id)

    def lock(self, survey_id: int) -> Survey | None:
        """The survey row, locked until the transaction ends, so its answers are written one at a time."""
        return self.session.scalars(select(Survey).where(Survey.id == survey_id).with_for_update()).first()

    def owned_by(self, person_id: int, limit: int = 20) -> list[Survey]:
        query = select(Survey).where(Survey.owner_id == person_id).order_by(Survey.id.desc()).limit(limit)
        return list(self.session.scalars(query))

    def all_in(self, workspace_id: int | None = None) -> list[Survey]:
        query = select(Survey).order_by(Survey.id)
        if workspace_id is not None:
            query = query.where(Survey.workspace_id == workspace_id)
        return list(self.session.scalars(query))

    # -- who was asked -------------------------------------------------------------------------------

    def invite(self, survey: Survey, person_ids: Sequence[int]) -> int:
        """Record who the survey goes to (a person named twice is asked once); returns how many are new."""
        rows = [{"survey_id": survey.id, "person_id": pid, "answered": False} for pid in dict.fromkeys(person_ids)]
        new = 0
        for start in range(0, len(rows), CHUNK):
            statement = self._dialect().insert(SurveyInvitation).on_conflict_do_nothing()
            new += len(
                self.session.execute(statement.returning(SurveyInvitation.id), rows[start : start + CHUNK]).all()
            )
        survey.invited = self.invited_count(survey.id)
        return new

    def invited_count(self, survey_id: int) -> int:
        query = select(func.count()).select_from(SurveyInvitation).where(SurveyInvitation.survey_id == survey_id)
        return self.session.scalar(query) or 0

    def invitation(self, survey_id: int, person_id: int) -> SurveyInvitation | None:
        query = select(SurveyInvitation).where(
            SurveyInvitation.survey_id == survey_id, SurveyInvitation.person_id == person_id
        )
        return self.session.scalars(query).first()

    def invitee_ids(self, survey_id: int, unanswered_only: bool = False) -> list[int]:
        query = select(SurveyInvitation.person_id).where(SurveyInvitation.survey_id == survey_id)
        if unanswered_only:
            query = query.where(SurveyInvitation.answered.is_(False))
        return list(self.session.scalars(query.order_by(SurveyInvitation.person_id)))

    def open_for(self, person_id: int, now: datetime) -> list[OpenSurvey]:
        query = (
            select(Survey, SurveyInvitation.answered)
            .join(SurveyInvitation, SurveyInvitation.survey_id == Survey.id)
            .where(SurveyInvitation.person_id == person_id, Survey.status == "open", Survey.opens_at <= now)
            .order_by(Survey.id)
        )
        return [
            OpenSurvey(survey, answered)
            for survey, answered in self.session.execute(query).all()
            if survey.closes_at is None or survey.closes_at > now
        ]

    def mark_answered(self, survey_id: int, person_id: int) -> bool:
        """True the first time; the flag carries no time, so it says nothing about when."""
        result = self.session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.survey_id == survey_id, SurveyInvitation.person_id == person_id,
                   SurveyInvitation.answered.is_(False))
            .values(answered=True)
        )  # fmt: skip
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- answers -------------------------------------------------------------------------------------

    def save_named(self, survey: Survey, person_id: int, answers: dict[str, Any], now: datetime) -> bool:
        """Save or replace one person's answers; True when it replaced earlier ones."""
        row = self.session.scalars(
            select(SurveyNamedAnswer).where(
                SurveyNamedAnswer.survey_id == survey.id, SurveyNamedAnswer.person_id == person_id
            )
        ).first()
        if row is not None:
            row.answers = answers
            row.updated_at = now
            return True
        self.session.add(SurveyNamedAnswer(survey_id=survey.id, person_id=person_id, answers=answers, updated_at=now))
        self.session.flush()
        return False

    def save_sealed(self, survey: Survey, answers: dict[str, Any], day: date) -> None:
        """Add one answer with no one's name on it, rewriting the survey's answers in a shuffled order.

        The caller holds the survey's row lock (`lock`), so two answers never rewrite at once.
        """
        where = SurveySealedAnswer.survey_id == survey.id
        kept = [
            {"answers": a, "answered_on": d}
            for a, d in self.session.execute(
                select(SurveySealedAnswer.answers, SurveySealedAnswer.answered_on).where(where)
            )
        ]
        kept.append({"answers": answers, "answered_on": day})
        _SHUFFLE.shuffle(kept)
        self.session.execute(delete(SurveySealedAnswer).where(where))
        rows = [{"key": secrets.token_hex(16), "survey_id": survey.id, **row} for row in kept]
        for start in range(0, len(rows), CHUNK):
            self.session.execute(insert(SurveySealedAnswer), rows[start : start + CHUNK])

    def named_answers(self, survey_id: int) -> list[tuple[Person, dict[str, Any]]]:
        query = (
            select(Person, SurveyNamedAnswer.answers)
            .join(Person, Person.id == SurveyNamedAnswer.person_id)
            .where(SurveyNamedAnswer.survey_id == survey_id)
            .order_by(Person.display_name, Person.id)
        )
        return [(person, answers) for person, answers in self.session.execute(query).all()]

    def sealed_answers(self, survey_id: int) -> list[dict[str, Any]]:
        """Every answer of the survey, in a fresh random order each time."""
        query = select(SurveySealedAnswer.answers).where(SurveySealedAnswer.survey_id == survey_id)
        found = list(self.session.scalars(query))
        _SHUFFLE.shuffle(found)
        return found

    def answer_count(self, survey: Survey) -> int:
        model = SurveyNamedAnswer if survey.mode == "named" else SurveySealedAnswer
        query = select(func.count()).select_from(model).where(model.survey_id == survey.id)
        return self.session.scalar(query) or 0

    # -- targets -------------------------------------------------------------------------------------

    def school_named(self, workspace_id: int, name: str) -> School | None:
        query = select(School).where(School.workspace_id == workspace_id, func.lower(School.name) == name.lower())
        return self.session.scalars(query).first()

    def school_names(self, workspace_id: int) -> list[str]:
        return list(
            self.session.scalars(select(School.name).where(School.workspace_id == workspace_id).order_by(School.name))
        )

    def people_ids(self, workspace_id: int, school_id: int | None = None) -> list[int]:
        query = select(Person.id).where(Person.workspace_id == workspace_id)
        if school_id is not None:
            query = query.where(Person.school_id == school_id)
        if hasattr(Person, "deactivated_at"):
            query = query.where(Person.deactivated_at.is_(None))
        return list(self.session.scalars(query.order_by(Person.id)))

    def scrub_conversation(self, workspace_id: int, user_id: str, flow: str) -> int:
        """Empty the answers of a survey conversation being finished (the row outlives it), and its flow's name.

        The router writes the conversation after the flow completes, so the loaded row itself is changed.
        """
        query = select(Conversation).where(
            Conversation.workspace_id == workspace_id, Conversation.user_id == user_id,
            Conversation.flow == flow, Conversation.status == "open",
        )  # fmt: skip
        found = list(self.session.scalars(query))
        for conversation in found:
            conversation.payload = {}
            conversation.flow = "survey"
        return len(found)
