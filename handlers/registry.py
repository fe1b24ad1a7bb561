"""Every feature the bot has, one line each. Adding a feature is its package plus a line here."""

from __future__ import annotations

from handlers import goals, observations, people
from handlers.features import FeatureFactory

FEATURES: tuple[FeatureFactory, ...] = (
    goals.feature,
    observations.feature,
    people.feature,
)
