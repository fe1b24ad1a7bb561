"""Builds the running parts from settings, once, and hands them down."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.settings import Settings
from handlers.router import Bot
from scheduling.clock import Clock, SystemClock
from storage.database import Database, connect, upgrade


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    bot: Bot


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl" on every start is noise


def build(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> Runtime:
    """Connect, bring the schema up to date (a new SQLite file is created here), and make the bot."""
    db = connect(settings.database_url)
    if migrate:
        upgrade(db)
    bot = Bot(db, clock or SystemClock(), settings.default_timezone, settings.draft_idle_days)
    return Runtime(settings=settings, db=db, bot=bot)
