"""Persisted goal-coach turns per second, single process, on SQLite and PostgreSQL.

Run from the repository root: `.venv/bin/python benchmarks/turns.py [--people 60] [--threads 4]`.

A turn is one `Bot.handle` of a neutral Inbound, exactly as the inbox drain calls it: the event id is
recorded, the person and conversation read, the step checked and advanced, and (at the end) the goal
saved, all in one committed transaction. Each simulated teacher starts `/goal` and answers all nine
steps and the review. PostgreSQL runs in a database created for the run (`gb_bench_turns_<pid>`) and
dropped after; SQLite in a temporary file. The ratio is against the issue's goal of 300 turns/s.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.messages import Inbound  # noqa: E402
from scheduling.clock import FakeClock  # noqa: E402
from tests.harness import GOOD_ANSWERS  # noqa: E402

GOAL = 300.0


def run(url: str, people: int, threads: int) -> tuple[int, float]:
    runtime = build(Settings(_env_file=None, database_url=url), clock=FakeClock(datetime(2026, 11, 23, 15, tzinfo=UTC)))
    ids = itertools.count()

    def teacher(n: int) -> int:
        user = f"bench{n}"
        base = {"platform": "console", "workspace": "local", "user_id": user, "channel": f"console:{user}",
                "time_zone": "America/New_York"}  # fmt: skip
        turns = [Inbound(command="goal", event_key=f"e{next(ids)}", **base)]
        turns += [Inbound(text=a, event_key=f"e{next(ids)}", **base) for a in GOOD_ANSWERS.values()]
        turns.append(Inbound(text="1", event_key=f"e{next(ids)}", **base))
        for inbound in turns:
            runtime.bot.handle(inbound)
        return len(turns)

    teacher(-1)  # warm caches and the connection pool
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        total = sum(pool.map(teacher, range(people)))
    elapsed = time.perf_counter() - started
    runtime.db.dispose()
    return total, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--threads", type=int, default=4, help="turns handled at once, as the drain's threads do")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = run(f"sqlite:///{tmp}/turns.db", args.people, args.threads)
    name = f"gb_bench_turns_{os.getpid()}"
    pg = ["-h", "127.0.0.1", "-U", "postgres"]
    if subprocess.run(["createdb", *pg, name], capture_output=True).returncode == 0:
        try:
            results["PostgreSQL"] = run(f"postgresql://postgres@127.0.0.1:5432/{name}", args.people, args.threads)
        finally:
            subprocess.run(["dropdb", *pg, "--if-exists", name], capture_output=True)
    else:
        print("PostgreSQL not reachable at 127.0.0.1:5432; measured SQLite only")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    print(f"commit {head.stdout.strip()}, {args.threads} threads, {args.people} people; load average {load}")
    for label, (turns, seconds) in results.items():
        rate = turns / seconds
        print(f"{label:10} {turns} turns in {seconds:.2f} s = {rate:.0f} turns/s ({rate / GOAL:.2f}x the 300/s goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
