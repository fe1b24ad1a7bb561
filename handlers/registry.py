"""Every feature the bot has, one line each. Adding a feature is its package plus a line here."""

from __future__ import annotations

from handlers.features import FeatureFactory
from handlers.goals.feature import feature as goals
from handlers.observations.feature import feature as observations
from handlers.people.feature import feature as people

FEATURES: tuple[FeatureFactory, ...] = (
    goals,
    observations,
    people,
)
