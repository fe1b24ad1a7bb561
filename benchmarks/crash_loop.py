"""kill -9 a real `growthbot worker` mid-delivery, run after run: how many messages are doubled or lost.

Run from the repository root:

    .venv/bin/python benchmarks/crash_loop.py [--runs 10] [--rows 400] [--kills 2] [--latency-ms 20]
                                              [--admin-url URL] [--seed N] [--skip-old]

Each run seeds `--rows` due messages (40 people x 10), starts a worker, SIGKILLs it at a random point while it
is delivering, expires the dead worker's leases (what LEASE would do after 5 minutes, at once), repeats that
`--kills` times, and lets a last worker finish. The fake Web API (in this process) answers each call after
`--latency-ms`, so several posts are in flight when a kill lands; what reached Slack is counted by the
idempotency key each post carries (the new sender) or by recipient and text (the old one).

Side by side, the same loop runs with the sender as it was before this change (`benchmarks/fanout.py`'s
OldSlackSender: no key in the post, nothing looked up before a resend, each send recorded at once), which is
how the double send of issue 8 happened. PostgreSQL only (several workers share one outbox): a database
`bench_crash` created through `--admin-url` and dropped at the end.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.fanout import OLD_COMMAND  # noqa: E402
from benchmarks.tick_cost import machine, postgres_url  # noqa: E402
from storage.database import Database, connect, upgrade  # noqa: E402
from tests.fakes.slack_api import FakeSlackAPI  # noqa: E402
from tests.scheduling.processes import CrashRun, crash_run, weekday_zone  # noqa: E402

DB_NAME = "bench_crash"
PEOPLE = 40
log = logging.getLogger("crash_loop")


@dataclass
class Totals:
    name: str
    runs: list[CrashRun]

    def line(self) -> str:
        rows = sum(r.rows for r in self.runs)
        doubled = sum(r.doubled for r in self.runs)
        lost = sum(r.lost for r in self.runs)
        doubt = sum(sum(r.in_flight_at_kill) for r in self.runs)
        looks = sum(r.looks for r in self.runs)
        kills = sum(r.kills for r in self.runs)
        seconds = sum(r.seconds for r in self.runs)
        clean = sum(r.clean for r in self.runs)
        return (
            f"| {self.name} | {len(self.runs)} | {kills} | {rows:,} | {doubt:,} | {looks:,} | {doubled} | {lost} | "
            f"{clean}/{len(self.runs)} | {seconds:.0f} |"
        )


def old_counts(api: FakeSlackAPI, since: int) -> Counter[tuple[str, str]]:
    with api._lock:
        calls = api.calls[since:]
    return Counter(
        (str(c.params.get("channel")), str(c.params.get("text"))) for c in calls if c.method == "chat.postMessage"
    )


def old_run(db: Database, url: str, args: argparse.Namespace, zone: str, rng: random.Random, n: int) -> CrashRun:
    """The same loop with the old sender; doubles counted by (channel, text), as the post carries no key."""
    with FakeSlackAPI(latency=args.latency_ms / 1000) as api:
        run = crash_run(db, url, api, ROOT, zone, PEOPLE, args.rows // PEOPLE, args.kills, rng, f"old{n}",
                        command=OLD_COMMAND)  # fmt: skip
        counts = old_counts(api, 0)
    run.posts = sum(counts.values())
    run.doubled = sum(1 for c in counts.values() if c > 1)
    run.lost = max(run.rows - len(counts), run.unsent)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=400, help=f"messages per run ({PEOPLE} people)")
    parser.add_argument("--kills", type=int, default=2, help="workers killed per run before the last one finishes")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--skip-old", action="store_true", help="only the new sender")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.ERROR)
    zone = weekday_zone(datetime.now(UTC))
    if zone is None:
        print("It is the weekend in every candidate zone and nobody is messaged on a weekend; try again later.")
        return 1
    began = time.monotonic()
    rng = random.Random(args.seed)
    new, old = Totals("new sender (key in metadata, history checked)", []), Totals("old sender", [])
    with postgres_url(args.admin_url, DB_NAME) as url:
        db = connect(url)
        upgrade(db)
        with db.engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
        try:
            for n in range(args.runs):
                with FakeSlackAPI(latency=args.latency_ms / 1000) as api:
                    run = crash_run(db, url, api, ROOT, zone, PEOPLE, args.rows // PEOPLE, args.kills, rng, f"new{n}")
                new.runs.append(run)
                log.info("new run %s: doubled %s, lost %s, in doubt %s, looks %s, %.1f s", n + 1, run.doubled,
                         run.lost, run.in_flight_at_kill, run.looks, run.seconds)  # fmt: skip
                if "Traceback" in run.logs:
                    log.warning("a worker logged a traceback:\n%s", run.logs[-3000:])
                if not args.skip_old:
                    run = old_run(db, url, args, zone, rng, n)
                    old.runs.append(run)
                    log.info("old run %s: doubled %s, lost %s, in doubt %s, %.1f s", n + 1, run.doubled, run.lost,
                             run.in_flight_at_kill, run.seconds)  # fmt: skip
        finally:
            db.dispose()
    lines = [
        f"**Machine:** {machine()}; PostgreSQL {version}. Fake Slack answering in {args.latency_ms:g} ms. "
        f"{args.runs} runs of {args.rows} messages, {args.kills} kill -9 per run. Run took "
        f"{time.monotonic() - began:.0f} s.",
        "",
        "| Sender | Runs | Kills | Messages | In doubt at the kills | History looks | Doubled | Lost | Clean runs |"
        " Seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        new.line(),
    ]
    if old.runs:
        lines.append(old.line())
    print("\n".join(lines))
    return 0 if all(r.clean for r in new.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
