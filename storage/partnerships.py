"""Repository for partnerships, their meeting cadences, after-meeting notes and action plans."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ActionStep, Partnership, PartnershipMeeting, PartnershipNote, Workspace


class Partnerships:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, **fields: Any) -> Partnership:
        partnership = Partnership(**fields)
        self.session.add(partnership)
        self.session.flush()
        return partnership

    def get(self, partnership_id: int) -> Partnership | None:
        return self.session.get(Partnership, partnership_id)

    def in_workspace(self, workspace_id: int) -> list[Partnership]:
        return list(
            self.session.scalars(
                select(Partnership).where(Partnership.workspace_id == workspace_id).order_by(Partnership.id)
            )
        )

    def named(self, workspace_id: int, name: str) -> Partnership | None:
        wanted = name.strip().lower()
        return next((p for p in self.in_workspace(workspace_id) if p.name.lower() == wanted), None)

    def of_person(self, workspace_id: int, person_id: int) -> list[Partnership]:
        return [
            p
            for p in self.in_workspace(workspace_id)
            if p.lead_id == person_id or any(m.get("person_id") == person_id for m in p.members or [])
        ]

    def all_with_workspace(self) -> list[tuple[Partnership, Workspace]]:
        rows = self.session.execute(
            select(Partnership, Workspace)
            .join(Workspace, Partnership.workspace_id == Workspace.id)
            .order_by(Partnership.id)
        )
        return [(partnership, workspace) for partnership, workspace in rows]

    # -- meetings ------------------------------------------------------------------------------------

    def set_meeting(self, partnership_id: int, kind: str, **fields: Any) -> PartnershipMeeting:
        found = self.session.scalar(
            select(PartnershipMeeting).where(
                PartnershipMeeting.partnership_id == partnership_id, PartnershipMeeting.kind == kind
            )
        )
        if found is None:
            found = PartnershipMeeting(partnership_id=partnership_id, kind=kind, **fields)
            self.session.add(found)
        else:
            for name, value in fields.items():
                setattr(found, name, value)
        self.session.flush()
        return found

    def meetings(self, partnership_id: int) -> list[PartnershipMeeting]:
        return list(
            self.session.scalars(
                select(PartnershipMeeting)
                .where(PartnershipMeeting.partnership_id == partnership_id)
                .order_by(PartnershipMeeting.id)
            )
        )

    def meeting(self, meeting_id: int) -> PartnershipMeeting | None:
        return self.session.get(PartnershipMeeting, meeting_id)

    def add_note(self, **fields: Any) -> PartnershipNote:
        note = PartnershipNote(**fields)
        self.session.add(note)
        self.session.flush()
        return note

    def last_note(self, partnership_id: int) -> PartnershipNote | None:
        return self.session.scalar(
            select(PartnershipNote)
            .where(PartnershipNote.partnership_id == partnership_id)
            .order_by(PartnershipNote.meeting_on.desc(), PartnershipNote.id.desc())
            .limit(1)
        )

    # -- the action plan -----------------------------------------------------------------------------

    def steps(self, partnership_id: int) -> list[ActionStep]:
        return list(
            self.session.scalars(
                select(ActionStep).where(ActionStep.partnership_id == partnership_id).order_by(ActionStep.number)
            )
        )

    def step(self, partnership_id: int, number: int) -> ActionStep | None:
        return self.session.scalar(
            select(ActionStep).where(ActionStep.partnership_id == partnership_id, ActionStep.number == number)
        )

    def step_by_id(self, step_id: int) -> ActionStep | None:
        return self.session.get(ActionStep, step_id)

    def add_steps(self, partnership_id: int, rows: list[dict[str, Any]]) -> list[ActionStep]:
        """Append rows to the plan, numbered after the last one."""
        last = self.session.scalar(
            select(func.max(ActionStep.number)).where(ActionStep.partnership_id == partnership_id)
        )
        added = []
        for offset, fields in enumerate(rows, start=1):
            step = ActionStep(partnership_id=partnership_id, number=(last or 0) + offset, **fields)
            self.session.add(step)
            added.append(step)
        self.session.flush()
        return added

    def all_steps(self) -> list[tuple[ActionStep, Partnership]]:
        rows = self.session.execute(
            select(ActionStep, Partnership)
            .join(Partnership, ActionStep.partnership_id == Partnership.id)
            .order_by(Partnership.id, ActionStep.number)
        )
        return [(step, partnership) for step, partnership in rows]
