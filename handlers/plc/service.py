"""PLC teams: setting one up, its check-ins on the meeting cadence, the reminder and the missed mark, logged
reviews and their next steps, and the assessment calendar's reminders. Every nudge is a schedule about
`plc:<team id>`, so it obeys the calendar, quiet hours and away like every other message.

Check-ins skip a day with no school (the next meeting is on the cadence anyway). A team with a channel gets its
check-in posted there once, with a "Log data review" button that opens the form for whoever clicks; if the bot
cannot post there, the outbox sends it to every member's DM and tells the lead how to invite the bot. A team
without a channel gets it in each member's DM, with the same button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.messages import CommandButton
from handlers.plc.cadence import Cadence
from scheduling.calendar import SchoolCalendar
from scheduling.kinds import Kind, Notice
from scheduling.recurrence import next_occurrence
from storage.models import Person, PlcCheckin, PlcReview, PlcTeam, Schedule
from storage.unit_of_work import Repos

CHECKIN = "plc.checkin"
REVIEW_REMINDER = "plc.review_reminder"
REVIEW_MISSED = "plc.review_missed"
STEP_NUDGE = "plc.step_nudge"
ASSESSMENT_WINDOW = "plc.assessment_window"
END_OF_DAY = time(16, 30)  # when "not logged by the end of the school day" is decided
MORNING = time(8, 0)
WINDOW_SCHOOL_DAYS = 3
LEAD_ROLES = ("plc_lead", "admin")


def subject(team: PlcTeam) -> str:
    return f"plc:{team.id}"


def day_label(day: date) -> str:
    return day.strftime("%a %b %-d")


def members_of(repos: Repos, team: PlcTeam) -> list[Person]:
    ids = list(dict.fromkeys([*(team.member_ids or []), *([team.lead_id] if team.lead_id else [])]))
    people = [repos.people.get(i) for i in ids]
    return [p for p in people if p is not None]


def log_button(team: PlcTeam) -> dict[str, Any]:
    """The check-in's "Log data review": `/plc log <team>` for whoever clicks (a modal, a card, or the command)."""
    return CommandButton(label="Log data review", command="plc", args=f"log {team.name}").model_dump()


def names(people: list[Person]) -> list[str]:
    return [p.display_name for p in people]


@dataclass(frozen=True)
class NewTeam:
    name: str
    school: str
    channel: str
    lead: Person
    members: list[Person]
    cadence_text: str
    cadence: Cadence
    assessments: list[tuple[str, date, date]]


class PlcService:
    def __init__(self, default_zone: str) -> None:
        self.default_zone = default_zone
        self.zone = ZoneInfo(default_zone)

    # -- setting up ------------------------------------------------------------------------------------

    def create(self, repos: Repos, workspace_id: int, new: NewTeam, now: datetime) -> PlcTeam:
        zone = ZoneInfo(self.default_zone)  # the school's zone: schools share the district's for now
        member_ids = list(dict.fromkeys([new.lead.id, *(p.id for p in new.members)]))
        team = repos.plc.add(
            workspace_id=workspace_id, name=new.name, school=new.school, channel=new.channel, lead_id=new.lead.id,
            member_ids=member_ids, cadence=new.cadence_text, rrule=new.cadence.rrule, time_zone=zone.key,
            starts_at=new.cadence.first_start(now, zone), created_at=now,
        )  # fmt: skip
        calendar = repos.calendars.load(workspace_id)
        first = next_occurrence(starts_at=team.starts_at, time_zone=team.time_zone, rrule=team.rrule, after=None,
                                calendar=calendar, shift=None)  # fmt: skip
        repos.schedules.add(
            workspace_id=workspace_id, kind=CHECKIN, owner_id=new.lead.id, subject=subject(team),
            payload={"team_id": team.id}, time_zone=team.time_zone, starts_at=team.starts_at,
            next_run_at=first.runs_at if first else None, now=now, rrule=team.rrule,
        )  # fmt: skip
        for name, start, end in new.assessments:
            self.add_assessment(repos, team, name, start, end, now, calendar)
        return team

    def add_assessment(
        self, repos: Repos, team: PlcTeam, name: str, start: date, end: date, now: datetime,
        calendar: SchoolCalendar | None = None,
    ) -> None:  # fmt: skip
        calendar = calendar or repos.calendars.load(team.workspace_id)
        review = self.meeting_on_or_after(team, end, calendar)
        assessment = repos.plc.add_assessment(team_id=team.id, name=name, window_start=start, window_end=end,
                                              review_on=review)  # fmt: skip
        remind = calendar.add_school_days(start, -WINDOW_SCHOOL_DAYS)
        at = datetime.combine(remind, MORNING, tzinfo=ZoneInfo(team.time_zone))
        if at > now:
            repos.schedules.add(
                workspace_id=team.workspace_id, kind=ASSESSMENT_WINDOW, owner_id=team.lead_id, subject=subject(team),
                payload={"team_id": team.id, "assessment_id": assessment.id}, time_zone=team.time_zone,
                starts_at=at, next_run_at=at, now=now,
            )  # fmt: skip

    def meeting_on_or_after(self, team: PlcTeam, day: date, calendar: SchoolCalendar) -> date | None:
        """The first meeting (on a school day) on or after `day`: the one that reviews an assessment."""
        zone = ZoneInfo(team.time_zone)
        after = datetime.combine(day, time(0, 0), tzinfo=zone) - timedelta(seconds=1)
        for _ in range(60):
            found = next_occurrence(starts_at=team.starts_at, time_zone=team.time_zone, rrule=team.rrule,
                                    after=after, calendar=calendar, shift=None)  # fmt: skip
            if found is None:
                return None
            local = found.runs_at.astimezone(zone).date()
            if calendar.is_school_day(local):
                return local
            after = found.original
        return None

    def next_meetings(self, repos: Repos, team: PlcTeam, now: datetime, count: int = 3) -> list[datetime]:
        calendar = repos.calendars.load(team.workspace_id)
        zone = ZoneInfo(team.time_zone)
        found: list[datetime] = []
        after: datetime | None = now
        for _ in range(count * 20):
            nxt = next_occurrence(starts_at=team.starts_at, time_zone=team.time_zone, rrule=team.rrule,
                                  after=after, calendar=calendar, shift=None)  # fmt: skip
            if nxt is None or len(found) >= count:
                break
            if calendar.is_school_day(nxt.runs_at.astimezone(zone).date()):
                found.append(nxt.runs_at)
            after = nxt.original
        return found

    # -- what the scheduler sends ----------------------------------------------------------------------

    def kinds(self) -> tuple[Kind, ...]:
        return (
            Kind(CHECKIN, expand=self.checkin, shift=None),
            Kind(REVIEW_REMINDER, expand=self.review_reminder, shift=None, grace=timedelta(hours=18)),
            Kind(REVIEW_MISSED, expand=self.review_missed, shift=None, grace=timedelta(days=7)),
            Kind(STEP_NUDGE, expand=self.step_nudge, shift=None, grace=timedelta(hours=12)),
            Kind(ASSESSMENT_WINDOW, expand=self.assessment_window, shift=None, grace=timedelta(hours=12)),
        )

    def _team(self, repos: Repos, schedule: Schedule) -> PlcTeam | None:
        return repos.plc.get(int(schedule.payload.get("team_id", 0)))

    def team_context(self, repos: Repos, team: PlcTeam) -> dict[str, Any]:
        lead = repos.people.get(team.lead_id) if team.lead_id else None
        return {"team": team.name, "school": team.school, "channel": team.channel,
                "lead": lead.display_name if lead else "", "team_id": team.id}  # fmt: skip

    def checkin(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        """A meeting on a school day: open its check-in, arrange the reminder and the missed mark, tell the team."""
        team = self._team(repos, schedule)
        if team is None:
            return []
        calendar = repos.calendars.load(team.workspace_id)
        zone = ZoneInfo(team.time_zone)
        local = at.astimezone(zone)
        if not calendar.is_school_day(local.date()):
            return []
        checkin, created = repos.plc.checkin(team.id, at, at)
        if not created:  # this occurrence was handled already
            return []
        end = max(END_OF_DAY, (local + timedelta(hours=1)).time())
        reminder = datetime.combine(local.date(), end, tzinfo=zone)
        missed = datetime.combine(calendar.next_school_day(local.date()), end, tzinfo=zone)
        for kind, when in ((REVIEW_REMINDER, reminder), (REVIEW_MISSED, missed)):
            repos.schedules.add(
                workspace_id=team.workspace_id, kind=kind, owner_id=team.lead_id,
                subject=f"{subject(team)}:checkin:{checkin.id}", payload={"checkin_id": checkin.id},
                time_zone=team.time_zone, starts_at=when, next_run_at=when, now=at,
            )  # fmt: skip
        under_review = [a.name for a in repos.plc.assessments(team.id) if a.review_on == local.date()]
        context = self.team_context(repos, team) | {
            "day": day_label(local.date()), "time": local.strftime("%-I:%M %p"), "assessments": under_review,
        }  # fmt: skip
        message = {"template": "plc/checkin", "context": context, "buttons": [log_button(team)]}
        members = members_of(repos, team)
        if team.channel and team.lead_id is not None:
            return [Notice(team.lead_id, [message], tag=f"checkin{checkin.id}:channel", channel=team.channel,
                           fallback=[p.id for p in members])]  # fmt: skip
        return [Notice(p.id, [message], tag=f"checkin{checkin.id}") for p in members]

    def _checkin(self, repos: Repos, schedule: Schedule) -> tuple[PlcCheckin, PlcTeam] | None:
        checkin = repos.plc.checkin_by_id(int(schedule.payload.get("checkin_id", 0)))
        team = repos.plc.get(checkin.team_id) if checkin is not None else None
        return (checkin, team) if checkin is not None and team is not None else None

    def review_reminder(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        found = self._checkin(repos, schedule)
        if found is None or found[0].status != "open" or found[1].lead_id is None:
            return []
        checkin, team = found
        checkin.status = "reminded"
        local = checkin.meeting_at.astimezone(ZoneInfo(team.time_zone))
        context = self.team_context(repos, team) | {"day": day_label(local.date())}
        return [Notice(team.lead_id, [{"template": "plc/review_reminder", "context": context}])]

    def review_missed(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        """Still not logged by the end of the next school day: marked missed (shown in /plc history)."""
        found = self._checkin(repos, schedule)
        if found is not None and found[0].status in ("open", "reminded"):
            found[0].status = "missed"
        return []

    def step_nudge(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        review = repos.plc.review(int(schedule.payload.get("review_id", 0)))
        index = int(schedule.payload.get("step", -1))
        if review is None or not 0 <= index < len(review.next_steps or []):
            return []
        step = review.next_steps[index]
        team = repos.plc.get(review.team_id)
        if team is None or step.get("owner_id") is None or step.get("done"):
            return []
        due = date.fromisoformat(step["due"])
        context = self.team_context(repos, team) | {"what": step["what"], "due": day_label(due)}
        return [Notice(int(step["owner_id"]), [{"template": "plc/step_nudge", "context": context}])]

    def assessment_window(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        team = self._team(repos, schedule)
        assessment = repos.plc.assessment(int(schedule.payload.get("assessment_id", 0)))
        if team is None or assessment is None:
            return []
        context = self.team_context(repos, team) | {
            "assessment": assessment.name, "start": day_label(assessment.window_start),
            "end": day_label(assessment.window_end),
            "review": day_label(assessment.review_on) if assessment.review_on else "",
        }  # fmt: skip
        return [Notice(p.id, [{"template": "plc/assessment_window", "context": context}])
                for p in members_of(repos, team)]  # fmt: skip

    # -- logging a review ------------------------------------------------------------------------------

    def log(self, repos: Repos, team: PlcTeam, author: Person, values: dict[str, Any], now: datetime) -> PlcReview:
        """Save the review, close the check-in it answers, and arrange each next step's nudge."""
        checkin = repos.plc.open_checkin(team.id)
        steps = values.get("next_steps") or []
        review = repos.plc.add_review(
            team_id=team.id, checkin_id=checkin.id if checkin else None, assessment=values["assessment"],
            given_on=date.fromisoformat(values["given_on"]), students_assessed=int(values["students_assessed"]),
            percent_at_target=float(values["percent_at_target"]), tier2=int(values.get("tier2") or 0),
            tier3=int(values.get("tier3") or 0), gaps=values.get("gaps"), next_steps=steps,
            logged_by_id=author.id, created_at=now,
        )  # fmt: skip
        if checkin is not None:
            checkin.status = "logged"
            checkin.review_id = review.id
            repos.schedules.cancel_subject(f"{subject(team)}:checkin:{checkin.id}", now)
        calendar = repos.calendars.load(team.workspace_id)
        for index, step in enumerate(steps):
            owner = repos.people.get(int(step["owner_id"])) if step.get("owner_id") else None
            if owner is None:
                continue
            day = calendar.previous_school_day(date.fromisoformat(step["due"]))
            at = datetime.combine(day, MORNING, tzinfo=ZoneInfo(team.time_zone))
            if at > now:
                repos.schedules.add(
                    workspace_id=team.workspace_id, kind=STEP_NUDGE, owner_id=owner.id,
                    subject=f"{subject(team)}:review:{review.id}", payload={"review_id": review.id, "step": index},
                    time_zone=team.time_zone, starts_at=at, next_run_at=at, now=now,
                )  # fmt: skip
        return review

    # -- history ---------------------------------------------------------------------------------------

    def history(self, repos: Repos, team: PlcTeam, assessment: str = "", limit: int = 8) -> dict[str, Any]:
        reviews = repos.plc.reviews(team.id)
        if assessment:
            reviews = [r for r in reviews if assessment.lower() in r.assessment.lower()]
        trends: dict[str, list[str]] = {}
        for review in reviews:
            trends.setdefault(review.assessment, []).append(f"{review.percent_at_target:g}%")
        zone = ZoneInfo(team.time_zone)
        recent = [
            {"assessment": r.assessment, "given_on": day_label(r.given_on), "assessed": r.students_assessed,
             "percent": f"{r.percent_at_target:g}", "tier2": r.tier2, "tier3": r.tier3, "gaps": r.gaps or "",
             "steps": len(r.next_steps or [])}
            for r in reversed(reviews[-limit:])
        ]  # fmt: skip
        missed = [day_label(c.meeting_at.astimezone(zone).date()) for c in repos.plc.checkins(team.id)
                  if c.status == "missed"][:limit]  # fmt: skip
        return {"team": team.name, "recent": recent, "trends": [{"assessment": a, "values": v}
                for a, v in trends.items()], "missed": missed, "filter": assessment[:60]}  # fmt: skip
