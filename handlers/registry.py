"""Every feature the bot has, one line each. Adding a feature is its package plus a line here."""

from __future__ import annotations

from handlers.features import FeatureFactory
from handlers.goals.feature import feature as goals
from handlers.observations.feature import feature as observations
from handlers.partnerships.feature import feature as partnerships
from handlers.people.feature import feature as people
from handlers.plc.feature import feature as plc
from handlers.schedule_preview.feature import feature as schedule_preview
from handlers.surveys.feature import feature as surveys

FEATURES: tuple[FeatureFactory, ...] = (
    goals,
    observations,
    partnerships,
    people,
    plc,
    schedule_preview,
    surveys,
)
