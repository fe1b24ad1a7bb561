"""The demo partnership (from handlers/org/demo/demo.yaml): members, a monthly leadership meeting, a liaison
meeting, and a nine-step action plan with some steps overdue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from handlers.partnerships.plan import stamp
from handlers.partnerships.service import PartnershipService
from handlers.plc.cadence import read_cadence
from scheduling.calendar import SchoolCalendar
from storage.unit_of_work import Repos

DEMO_FILE = Path(__file__).resolve().parent.parent / "org" / "demo" / "demo.yaml"
STEPS = [  # (step, start offset, due offset in days from today, owner index, impact, lift, status)
    ("Sign the partnership compact", -90, -60, 0, 1, 3, "done"),
    ("Review pipeline data: placements, hires and retention", -60, -20, 1, 1, 2, "in_progress"),
    ("Draft the vision statement and test it with the vision assessment", -45, -10, 0, 2, 2, "in_progress"),
    ("Agree on supervising practitioner selection criteria", -30, -3, 1, 1, 2, "not_started"),
    ("Set up a monthly liaison check-in calendar", -5, 12, 0, 1, 3, "not_started"),
    ("Align the methods course with the district's literacy priorities", 0, 40, 1, 2, 1, "not_started"),
    ("Train supervising practitioners on calibrated feedback", 10, 60, 0, 1, 1, "not_started"),
    ("Sign the data sharing agreement (no teacher-identifiable data)", -20, 25, 1, 1, 3, "not_started"),
    ("Plan sustainable funding for stipends", 30, 120, 0, 2, 2, "not_started"),
]


def load_partnership_demo(repos: Repos, workspace_id: int, now: datetime, service: PartnershipService) -> str:
    made = []
    entries = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8")).get("partnerships") or []
    for entry in entries:
        leads = [p for e in entry.get("leads", []) for p in repos.people.resolve(workspace_id, e)[:1]]
        if not leads or repos.partnerships.named(workspace_id, entry["name"]) is not None:
            continue
        members = [{"person_id": leads[0].id, "role": "lead"}] + [
            {"person_id": p.id, "role": "principal"} for p in leads[1:]]  # fmt: skip
        partnership = repos.partnerships.add(
            workspace_id=workspace_id, name=entry["name"], district="Demo district", program="State University",
            vision="Every new teacher we hire has learned to teach in our classrooms, with our students.",
            stage="initiation", channel="", lead_id=leads[0].id, members=members, remind_school_days=5,
            created_at=now,
        )  # fmt: skip
        for kind, text in (("leadership", "first Tuesday 4pm"), ("liaison", "third Wednesday 3:30pm")):
            service.set_meeting(repos, partnership, kind, text, read_cadence(text), now)
        today = now.astimezone(service.zone).date()
        calendar = repos.calendars.load(workspace_id)

        rows = [{"step": step, "start_on": _on(calendar, today, start), "due_on": _on(calendar, today, due),
                 "responsible_ids": [leads[owner % len(leads)].id], "others": "", "outputs": "", "outcomes": "",
                 "resources": "", "impact": impact, "lift": lift, "status": status}
                for step, start, due, owner, impact, lift, status in STEPS]  # fmt: skip
        for step in repos.partnerships.add_steps(partnership.id, [stamp(r, now) for r in rows]):
            service.nudge_step(repos, partnership, step, now)
        made.append(partnership.name)
    return f"Partnership: {', '.join(made)} ({len(STEPS)} action steps)" if made else ""


def _on(calendar: SchoolCalendar, today: date, offset: int) -> date:
    """A demo date `offset` days from today, on a school day."""
    return calendar.next_school_day(today + timedelta(days=offset), include=True)
