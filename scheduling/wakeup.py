"""Prompt delivery: the delivery loop sleeps until the next thing is due, and wakes at once for work due now.

A fixed tick makes every message wait for the next tick (up to `TICK_SECONDS`). Instead the loop ticks, asks the
database when the next schedule or waiting row comes due, and sleeps until then (at most `every`). Work written
as due now rings a `Wakeup`:

- in this process, at the commit of any transaction that called `Outbox.enqueue` or `Schedules.add` with
  something due now (or `due_now(repos)`), through a session hook `Wakeup.attach` installs;
- in other processes on PostgreSQL, through `NOTIFY growthbot_due` sent by that same transaction, which
  `DeliveryLoop` listens for on a connection of its own.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from scheduling.tick import Ticker
from storage.database import Database
from storage.scheduling import listen_for_due, mark_due_now, on_due_commit
from storage.unit_of_work import Repos

log = logging.getLogger(__name__)

MIN_SLEEP = 0.01  # seconds: never spin, even if the next due instant is a hair away


def due_now(repos: Repos) -> None:
    """Say that this unit of work wrote something due now by other means than `Outbox.enqueue`/`Schedules.add`.

    Delivery loops hear about it when the unit of work commits (nothing happens if it rolls back).
    """
    mark_due_now(repos.session)


class Wakeup:
    """A doorbell for a delivery loop; ringing it early, or many times, costs one extra tick at most."""

    def __init__(self) -> None:
        self._event = threading.Event()

    @classmethod
    def attach(cls, db: Database) -> Wakeup:
        """A Wakeup that rings after every commit of `db` that wrote work due now."""
        wakeup = cls()
        on_due_commit(db, wakeup.ring)
        return wakeup

    def ring(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds or until rung (also if rung meanwhile); True if it was rung."""
        rang = self._event.wait(max(timeout, 0.0))
        self._event.clear()
        return rang


class DeliveryLoop:
    """Runs `ticker.tick()` on a thread of its own: at once when rung, when the next thing is due, or every `every`.

    `every` stays the longest sleep: it is what catches what no one rang for (a dead worker's lease running out).
    On PostgreSQL a second thread LISTENs for other processes' work. `shutdown` has APScheduler's signature, so the
    loop can stand in for the periodic job it replaces.
    """

    def __init__(self, ticker: Ticker, wakeup: Wakeup, every: timedelta, listen: bool = True) -> None:
        self.ticker = ticker
        self.wakeup = wakeup
        self.every = every.total_seconds()
        self.listen = listen and ticker.db.dialect == "postgresql"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> DeliveryLoop:
        self._threads = [threading.Thread(target=self._run, name="delivery-loop", daemon=True)]
        if self.listen:
            self._threads.append(
                threading.Thread(
                    target=listen_for_due,
                    args=(self.ticker.db, self.wakeup.ring, self._stop),
                    name="delivery-listen",
                    daemon=True,
                )
            )
        for thread in self._threads:
            thread.start()
        return self

    def shutdown(self, wait: bool = True) -> None:
        self._stop.set()
        self.wakeup.ring()
        if wait:
            for thread in self._threads:
                thread.join(timeout=30)
            self.ticker.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.ticker.tick()
            except Exception:
                log.exception("a tick failed; trying again in at most %s s", self.every)
            self.wakeup.wait(self._sleep())

    def _sleep(self) -> float:
        """Seconds until the next thing is due, at most `every`."""
        try:
            upcoming = self.ticker.next_due()
        except Exception:
            log.exception("could not read when the next message is due; sleeping %s s", self.every)
            return self.every
        if upcoming is None:
            return self.every
        left = (upcoming - self.ticker.clock.now()).total_seconds()
        return min(max(left, MIN_SLEEP), self.every)
