"""The scheduled messages of an observation: what each says when its time comes, given what is done by then.

Each reads the observation afresh, so a prompt for evidence already recorded, or a feedback reminder after
the feedback was shared, says nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.observations.service import (
    AFTER_NOTICE,
    EVIDENCE_PROMPT,
    FEEDBACK_REMINDER,
    NOTICE,
    ObservationService,
    zone_of,
)
from scheduling.kinds import Kind, Notice
from storage.models import Observation, Schedule
from storage.unit_of_work import Repos


class ObservationReminders:
    def __init__(self, service: ObservationService) -> None:
        self.service = service

    def kinds(self) -> tuple[Kind, ...]:
        # Notices and invites must reach people even after a long outage; reminders lose their point sooner.
        return (
            Kind(NOTICE, expand=lambda *_: [], nudge=False, grace=timedelta(days=3)),
            Kind(AFTER_NOTICE, expand=self.after_notice, shift=None, nudge=False, grace=timedelta(days=3)),
            Kind(EVIDENCE_PROMPT, expand=self.evidence_prompt, shift=None),
            Kind(FEEDBACK_REMINDER, expand=self.feedback_reminder, shift=None, grace=timedelta(hours=12)),
        )

    def _current(self, repos: Repos, schedule: Schedule) -> Observation | None:
        """The observation, unless it was cancelled or moved since this schedule was made."""
        observation = repos.observations.by_id(int(schedule.payload.get("observation_id", 0)))
        if observation is None or observation.status == "cancelled":
            return None
        if observation.sequence != schedule.payload.get("sequence"):
            return None
        return observation

    def after_notice(self, repos: Repos, schedule: Schedule, _at: datetime) -> list[Notice]:
        """An unannounced observation (or walkthrough): the teacher hears of it once it is over."""
        observation = self._current(repos, schedule)
        if observation is None:
            return []
        teacher = observation.teacher
        context = self.service.context_for(observation, teacher)
        return [Notice(teacher.id, [{"template": "observations/after_notice", "context": context}])]

    def evidence_prompt(self, repos: Repos, schedule: Schedule, _at: datetime) -> list[Notice]:
        observation = self._current(repos, schedule)
        if observation is None or observation.evidence or observation.feedback_shared_at is not None:
            return []
        observer = observation.observer
        context = self.service.context_for(observation, observer)
        context["example_indicator"] = self.service.policy.rubric.indicators()[0].code
        return [Notice(observer.id, [{"template": "observations/evidence_prompt", "context": context}])]

    def feedback_reminder(self, repos: Repos, schedule: Schedule, at: datetime) -> list[Notice]:
        """Daily on school days from two school days before the deadline, more pressing as it nears."""
        observation = self._current(repos, schedule)
        if observation is None or observation.feedback_shared_at is not None or observation.feedback_due is None:
            return []
        observer = observation.observer
        calendar = repos.calendars.load(observation.workspace_id)
        today = at.astimezone(ZoneInfo(zone_of(observer, self.service.default_zone))).date()
        if not calendar.is_school_day(today):
            return []
        left = calendar.school_days_between(today, observation.feedback_due)
        context = self.service.context_for(observation, observer)
        context.update(days_left=left, overdue_days=max(-left, 0), has_evidence=bool(observation.evidence))
        return [Notice(observer.id, [{"template": "observations/feedback_reminder", "context": context}])]
