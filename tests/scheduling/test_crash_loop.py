"""kill -9 a real `growthbot worker` while it delivers, again and again: no message is doubled or lost."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.database import Database
from tests.fakes.slack_api import FakeSlackAPI
from tests.scheduling.processes import crash_run, weekday_zone

# Kept small for CI: the full figure (10 runs of 400 rows) is benchmarks/crash_loop.py.
PEOPLE, PER_PERSON, KILLS = 30, 5, 2


@pytest.mark.postgresql
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_workers_killed_mid_delivery_double_nothing_and_lose_nothing(
    db: Database, postgres_url: str, tmp_path: Path
) -> None:
    zone = weekday_zone(datetime.now(UTC))
    if zone is None:
        pytest.skip("it is the weekend in every candidate zone, and nobody is messaged on a weekend")
    with FakeSlackAPI(latency=0.02) as api:  # posts take a while, so kills land with several in flight
        run = crash_run(db, postgres_url, api, tmp_path, zone, PEOPLE, PER_PERSON, KILLS, random.Random(8), "crash")
    assert (run.doubled, run.lost) == (0, 0), run.logs
    assert run.posts == run.rows == PEOPLE * PER_PERSON
    assert sum(run.in_flight_at_kill) > 0, "no kill landed mid-delivery"
    assert run.looks > 0  # the rows left in doubt were looked for before being sent again
    assert "Traceback" not in run.logs, run.logs
    print(
        f"{run.rows} rows, {run.kills} kills, {run.in_flight_at_kill} in doubt, {run.looks} looks, {run.seconds:.1f} s"
    )
