"""Runs periodic jobs in-process with APScheduler, so `serve` and `socket` keep house on their own."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


def start_periodic(jobs: dict[str, Callable[[], None]], every: timedelta) -> BackgroundScheduler:
    """Start each job every `every`; a run that overlaps the previous one is skipped, not queued."""
    scheduler = BackgroundScheduler(timezone="UTC")
    for name, job in jobs.items():
        scheduler.add_job(job, "interval", seconds=every.total_seconds(), id=name, coalesce=True, max_instances=1)
    scheduler.start()
    log.info("started periodic jobs: %s", ", ".join(jobs))
    return scheduler
