"""A 10,000-person fan-out through a real `growthbot worker`, against a fake Slack that enforces a posting limit.

Run from the repository root:

    .venv/bin/python benchmarks/fanout.py [--recipients 10000] [--rate 100] [--latency-ms 50] [--old 1000]
                                          [--sqlite] [--admin-url URL] [--skip-kill]

The fake Web API (tests/fakes/slack_api.py, in this process) answers every call after `--latency-ms` and allows
`--rate` posts per second across the workspace (a token bucket with a burst of one second's worth); a post above
it gets 429 with Retry-After. The floor is the time that limit allows: (recipients - burst) / rate.

Three runs, each on a fresh outbox of one due message per person:

1. **New**: `growthbot worker` (production wiring: `bot.adapters.slack.outbox_sender`, the default Ticker), timed
   from its first Web API call until every row is marked sent in the database.
2. **Old**: the sender as it was before this change, kept here only for the comparison (`OldSlackSender`: one row
   at a time, `conversations.open` then `chat.postMessage`, a 429 sending the row back to the outbox), each send
   recorded at once as the old ticker did, in a child process built the same way, on `--old` recipients (a
   one-at-a-time sender's time is linear in them; the report scales it to the full count and says so). The fake
   does not limit `conversations.open` (Slack counts it as Tier 3, ~50 a minute), which flatters the old sender.
3. **Kill**: the new worker on the full fan-out, killed with SIGKILL halfway, its leases expired (as LEASE would
   after 5 minutes), a new worker started; every key must reach Slack exactly once.

PostgreSQL is a database `bench_fanout` created through `--admin-url` and dropped at the end (`--sqlite`: a file).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, text  # noqa: E402

from benchmarks.tick_cost import machine, postgres_url  # noqa: E402
from storage.database import Database, connect, upgrade  # noqa: E402
from storage.models import OutboxMessage, Person, Workspace  # noqa: E402
from tests.fakes.slack_api import FakeSlackAPI  # noqa: E402
from tests.scheduling.processes import (  # noqa: E402
    Worker,
    expire_leases,
    pending_count,
    seed,
    weekday_zone,
    worker_env,
)

DB_NAME = "bench_fanout"
log = logging.getLogger("fanout")


# -- the sender as it was (commit e9456c5), for the side-by-side figure only ----------------------------------


class OldSlackSender:
    """One row at a time, two Web API calls each; a 429 after retries sends the row back to the outbox."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, recipient: Any, payload: dict[str, Any]) -> None:
        from slack_sdk.errors import SlackApiError

        from scheduling.tick import SendLater

        if recipient.user_id.startswith("pending:"):
            raise SendLater(timedelta(hours=1), f"{recipient.user_id} is not matched to a Slack account yet")
        try:
            self._send(recipient, payload)
        except SlackApiError as error:
            if error.response.status_code != 429:
                raise
            wait = max(int(error.response.headers.get("Retry-After") or 30), 1)
            raise SendLater(timedelta(seconds=wait), "Slack is still rate limiting after retries") from error

    def _send(self, recipient: Any, payload: dict[str, Any]) -> None:
        from bot.render.slack import render_slack
        from handlers.messages import Outbound

        channel = self.client.conversations_open(users=recipient.user_id)["channel"]["id"]
        parts = [render_slack(Outbound.model_validate(m)) for m in payload.get("messages", [])]
        text = "\n\n".join(part["text"] for part in parts)
        self.client.chat_postMessage(channel=channel, text=text, blocks=[b for part in parts for b in part["blocks"]])


def old_worker() -> int:
    """`growthbot worker` with the old sender, each send recorded at once (the old ticker marked rows one by one)."""
    from bot.adapters.slack_web import web_client
    from bot.app import build, configure_logging
    from bot.settings import Settings
    from scheduling.background import start_periodic
    from scheduling.tick import Ticker

    settings = Settings()
    configure_logging(settings.log_level)
    runtime = build(settings)
    assert settings.slack_bot_token is not None
    client = web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, rate_limit_retries=0)
    ticker = Ticker(runtime.db, runtime.clock, runtime.kinds, {"slack": OldSlackSender(client)},  # type: ignore[dict-item]
                    settings.default_timezone, flush_rows=1)  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler = start_periodic({"tick": ticker.tick}, timedelta(seconds=settings.tick_seconds))
    logging.getLogger("old").info("worker %s ticking every %s s", ticker.worker, settings.tick_seconds)
    stop.wait()
    scheduler.shutdown(wait=True)
    return 0


OLD_COMMAND = [sys.executable, str(Path(__file__).resolve()), "--child-old-worker"]


# -- runs ---------------------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    recipients: int
    seconds: float
    posts: int
    doubled: int
    lost: int
    limited: int  # 429s the fake answered
    opens: int
    looks: int
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.recipients / self.seconds if self.seconds else 0.0


def clear(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(delete(OutboxMessage))
        connection.execute(delete(Person))
        connection.execute(delete(Workspace))


def posts_by_person(api: FakeSlackAPI, since: int) -> Counter[str]:
    with api._lock:
        calls = api.calls[since:]
    return Counter(str(c.params.get("channel")) for c in calls if c.method == "chat.postMessage")


def fan_out(
    name: str,
    db: Database,
    url: str,
    api: FakeSlackAPI,
    recipients: int,
    zone: str,
    command: list[str] | None = None,
    kill_at: float | None = None,
) -> Run:
    clear(db)
    keys = seed(db, zone, datetime.now(UTC), recipients, 1, prefix=name)
    mark = len(api.calls)
    env = worker_env(url, api, tick_seconds=1)
    worker = Worker(env, ROOT, command)
    worker.wait_ticking()
    while len(api.calls) == mark:
        time.sleep(0.001)
    started = api.calls[mark].at
    note = ""
    if kill_at is not None:
        while sum(posts_by_person(api, mark).values()) < kill_at * recipients:
            time.sleep(0.005)
        worker.kill()
        leased = expire_leases(db)
        note = f"killed at {kill_at:.0%}: {leased} rows in doubt, leases expired, a new worker started"
        worker = Worker(env, ROOT, command)
        worker.wait_ticking()
    deadline = time.monotonic() + 3600
    while pending_count(db) and time.monotonic() < deadline:
        time.sleep(0.05)
    finished = time.monotonic()
    time.sleep(1.0)  # nothing more may go out
    worker.stop()
    if "Traceback" in worker.log:
        log.warning("%s worker logged a traceback:\n%s", name, worker.log[-4000:])
    by_person = posts_by_person(api, mark)
    with api._lock:
        calls = [c.method for c in api.calls[mark:]]
    return Run(
        name=name,
        recipients=len(keys),
        seconds=finished - started,
        posts=sum(by_person.values()),
        doubled=sum(1 for n in by_person.values() if n > 1),
        lost=len(keys) - len(by_person),
        limited=sum(1 for m in calls if m.endswith("!429")),
        opens=sum(1 for m in calls if m == "conversations.open"),
        looks=sum(1 for m in calls if m == "conversations.history"),
        note=note,
    )


@contextmanager
def database(args: argparse.Namespace) -> Any:
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="fanout-") as folder:
            url = f"sqlite:///{folder}/fanout.db"
            db = connect(url)
            upgrade(db)
            try:
                yield db, url, "SQLite"
            finally:
                db.dispose()
        return
    with postgres_url(args.admin_url, DB_NAME) as url:
        db = connect(url)
        upgrade(db)
        with db.engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
        try:
            yield db, url, f"PostgreSQL {version}"
        finally:
            db.dispose()


def report(runs: list[Run], args: argparse.Namespace, backend: str, seconds: float) -> str:
    burst = args.rate
    floor = (args.recipients - burst) / args.rate
    new = next(r for r in runs if r.name == "new")
    lines = [
        f"**Machine:** {machine()}; {backend}. Fake Slack: {args.latency_ms:g} ms per call, {args.rate:g} posts/s "
        f"workspace limit (burst {burst:g}), 429 + Retry-After above it. Run took {seconds:.0f} s.",
        "",
        "| Run | Recipients | Time s | Posts/s | × floor | Posts | Doubled | Lost | 429s | conversations.open |"
        " conversations.history | Note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        projected = r.seconds * args.recipients / r.recipients  # a one-at-a-time sender is linear in recipients
        shown = f"{r.seconds:.1f}" if r.recipients == args.recipients else f"{r.seconds:.1f} (→ {projected:.0f})"
        lines.append(
            f"| {r.name} | {r.recipients:,} | {shown} | {r.per_second:.1f} | {projected / floor:.2f} | {r.posts:,} | "
            f"{r.doubled} | {r.lost} | {r.limited:,} | {r.opens:,} | {r.looks:,} | {r.note} |"
        )
    old = next((r for r in runs if r.name == "old"), None)
    lines += ["", f"Floor: ({args.recipients:,} − {burst:g} burst) / {args.rate:g} per s = {floor:.1f} s. "
              f"New sender: {new.seconds / floor:.3f} × floor."]  # fmt: skip
    if old is not None:
        lines.append(
            f"New vs old, per recipient, same fake and database: {new.per_second / old.per_second:.1f}× faster."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="the fake's workspace posting limit, per second")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the fake's time to answer each call")
    parser.add_argument("--old", type=int, default=1_000, help="recipients for the old sender (0: skip it)")
    parser.add_argument("--skip-kill", action="store_true", help="no kill -9 run")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--child-old-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_old_worker:
        return old_worker()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.ERROR)
    zone = weekday_zone(datetime.now(UTC))
    if zone is None:
        print("It is the weekend in every candidate zone and nobody is messaged on a weekend; try again later.")
        return 1
    began = time.monotonic()
    runs: list[Run] = []
    with database(args) as (db, url, backend):
        with FakeSlackAPI(latency=args.latency_ms / 1000, rate_limit=args.rate) as api:
            runs.append(fan_out("new", db, url, api, args.recipients, zone))
            log.info("new: %s", runs[-1])
        if args.old:
            with FakeSlackAPI(latency=args.latency_ms / 1000, rate_limit=args.rate) as api:
                runs.append(fan_out("old", db, url, api, args.old, zone, command=OLD_COMMAND))
                log.info("old: %s", runs[-1])
        if not args.skip_kill:
            with FakeSlackAPI(latency=args.latency_ms / 1000, rate_limit=args.rate) as api:
                runs.append(fan_out("new, kill -9 at 50%", db, url, api, args.recipients, zone, kill_at=0.5))
                log.info("kill: %s", runs[-1])
        clear(db)
    print(report(runs, args, backend, time.monotonic() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
