"""Builds the running parts from settings, once, and hands them down."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from bot.settings import Settings
from handlers.router import Bot
from scheduling.clock import Clock, SystemClock
from scheduling.kinds import Kinds
from scheduling.tick import QuietHours, Sender, Ticker
from scheduling.wakeup import DeliveryLoop, Wakeup
from storage.database import Database, connect, upgrade

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    bot: Bot
    clock: Clock
    kinds: Kinds
    wakeup: Wakeup = field(default_factory=Wakeup)  # assemble attaches it to the database's commits

    def ticker(self, senders: dict[str, Sender]) -> Ticker:
        return Ticker(
            self.db,
            self.clock,
            self.kinds,
            senders,
            self.settings.default_timezone,
            QuietHours(self.settings.quiet_start, self.settings.quiet_end),
        )

    def start_ticking(self, senders: dict[str, Sender]) -> DeliveryLoop:
        """Deliver in this process: at once for work due now, else when the next thing is due (<= TICK_SECONDS)."""
        return DeliveryLoop(self.ticker(senders), self.wakeup, timedelta(seconds=self.settings.tick_seconds)).start()


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl" on every start is noise
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per tick otherwise


def make_kinds(settings: Settings) -> Kinds:
    return Kinds(
        grace_overrides={name: timedelta(hours=hours) for name, hours in settings.kind_grace_hours.items()},
        default_grace=timedelta(hours=settings.grace_hours),
    )


def assemble(settings: Settings, db: Database, clock: Clock) -> Runtime:
    """The bot with every registered feature, and the scheduler's kinds those features declare."""
    kinds = make_kinds(settings)
    bot = Bot(db, clock, settings)
    for kind in bot.kinds():
        kinds.register(kind)
    return Runtime(settings=settings, db=db, bot=bot, clock=clock, kinds=kinds, wakeup=Wakeup.attach(db))


def build(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> Runtime:
    """Connect, bring the schema up to date (a new SQLite file is created here), and make the bot."""
    db = connect(settings.database_url)
    if migrate:
        upgrade(db)
    return assemble(settings, db, clock or SystemClock())
