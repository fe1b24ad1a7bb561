"""Repository for PLC teams, their assessment calendars, check-ins and logged data reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import PlcAssessment, PlcCheckin, PlcReview, PlcTeam, Workspace


class PlcTeams:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, **fields: Any) -> PlcTeam:
        team = PlcTeam(**fields)
        self.session.add(team)
        self.session.flush()
        return team

    def get(self, team_id: int) -> PlcTeam | None:
        return self.session.get(PlcTeam, team_id)

    def named(self, workspace_id: int, name: str) -> PlcTeam | None:
        wanted = name.strip().lower()
        return next((t for t in self.in_workspace(workspace_id) if t.name.lower() == wanted), None)

    def in_workspace(self, workspace_id: int) -> list[PlcTeam]:
        return list(
            self.session.scalars(select(PlcTeam).where(PlcTeam.workspace_id == workspace_id).order_by(PlcTeam.id))
        )

    def of_person(self, workspace_id: int, person_id: int) -> list[PlcTeam]:
        """Teams the person leads or belongs to (member lists are short JSON arrays, read in Python)."""
        return [
            t for t in self.in_workspace(workspace_id) if t.lead_id == person_id or person_id in (t.member_ids or [])
        ]

    def add_assessment(self, **fields: Any) -> PlcAssessment:
        assessment = PlcAssessment(**fields)
        self.session.add(assessment)
        self.session.flush()
        return assessment

    def assessments(self, team_id: int) -> list[PlcAssessment]:
        return list(
            self.session.scalars(
                select(PlcAssessment).where(PlcAssessment.team_id == team_id).order_by(PlcAssessment.window_start)
            )
        )

    def assessment(self, assessment_id: int) -> PlcAssessment | None:
        return self.session.get(PlcAssessment, assessment_id)

    def checkin(self, team_id: int, meeting_at: datetime, now: datetime) -> tuple[PlcCheckin, bool]:
        """The check-in of one meeting, and whether it is new (a repeated tick finds the same one)."""
        found = self.session.scalar(
            select(PlcCheckin).where(PlcCheckin.team_id == team_id, PlcCheckin.meeting_at == meeting_at)
        )
        if found is None:
            found = PlcCheckin(team_id=team_id, meeting_at=meeting_at, status="open", created_at=now)
            self.session.add(found)
            self.session.flush()
            return found, True
        return found, False

    def checkin_by_id(self, checkin_id: int) -> PlcCheckin | None:
        return self.session.get(PlcCheckin, checkin_id)

    def checkins(self, team_id: int) -> list[PlcCheckin]:
        return list(
            self.session.scalars(
                select(PlcCheckin).where(PlcCheckin.team_id == team_id).order_by(PlcCheckin.meeting_at.desc())
            )
        )

    def open_checkin(self, team_id: int) -> PlcCheckin | None:
        """The latest check-in still waiting for its review (open or reminded)."""
        return self.session.scalar(
            select(PlcCheckin)
            .where(PlcCheckin.team_id == team_id, PlcCheckin.status.in_(("open", "reminded")))
            .order_by(PlcCheckin.meeting_at.desc())
            .limit(1)
        )

    def add_review(self, **fields: Any) -> PlcReview:
        review = PlcReview(**fields)
        self.session.add(review)
        self.session.flush()
        return review

    def reviews(self, team_id: int) -> list[PlcReview]:
        return list(
            self.session.scalars(
                select(PlcReview).where(PlcReview.team_id == team_id).order_by(PlcReview.given_on, PlcReview.id)
            )
        )

    def review(self, review_id: int) -> PlcReview | None:
        return self.session.get(PlcReview, review_id)

    def all_reviews(self) -> list[tuple[PlcReview, PlcTeam, Workspace]]:
        rows = self.session.execute(
            select(PlcReview, PlcTeam, Workspace)
            .join(PlcTeam, PlcReview.team_id == PlcTeam.id)
            .join(Workspace, PlcTeam.workspace_id == Workspace.id)
            .order_by(PlcReview.id)
        )
        return [(review, team, workspace) for review, team, workspace in rows]
