"""A survey sent to 5,000 people, fanned out through the outbox and the real Slack sender against the fake Web
API answering 429s with Retry-After and some 500s: every recipient must get exactly one invitation.

Run from the repository root:

    .venv/bin/python benchmarks/survey_fanout.py [--recipients 5000] [--database-url postgresql://...]

SQLite in a temporary file by default. The same code runs at 300 recipients in
tests/handlers/surveys/test_fanout.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scheduling.clock import FakeClock  # noqa: E402
from storage.database import connect, upgrade  # noqa: E402
from tests.fakes.slack_api import FakeSlackAPI  # noqa: E402
from tests.handlers.surveys.test_fanout import fan_out  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--database-url", default=None, help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = connect(args.database_url or f"sqlite:///{folder}/bench.db")
        upgrade(db)
        clock = FakeClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
        with FakeSlackAPI() as api:
            started = time.perf_counter()
            posts = fan_out(db, clock, api, args.recipients)
            took = time.perf_counter() - started
        faults = sum(1 for c in api.calls if "!" in c.method)
    once = len(posts) == args.recipients and set(posts.values()) == {1}
    print(f"{args.recipients} recipients, {faults} injected 429/500 answers, {took:.1f} s: "
          f"{'every recipient exactly once' if once else 'MISMATCH'}")  # fmt: skip
    return 0 if once else 1


if __name__ == "__main__":
    raise SystemExit(main())
