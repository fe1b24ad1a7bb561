"""Run `growthbot roster|calendar|demo` in this process against the test database, and read what it stored.

- ``growthbot(*argv, **settings)``: parses `argv` with the real CLI parser, runs the command on the ``db``
  fixture (SQLite or PostgreSQL) with the fake ``clock``, and returns a :class:`Run` with the exit code,
  standard output and standard error. Keyword arguments override settings (e.g. ``slack_bot_token``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import org_commands
from bot.app import build
from bot.cli import _parser
from bot.settings import Settings
from scheduling.clock import FakeClock
from storage.database import Database
from tests.conftest import DEFAULT_TIMEZONE
from tests.org.helpers import Growthbot, Run


def database_url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def growthbot(db: Database, clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> Growthbot:
    def run(*argv: str | Path, **overrides: Any) -> Run:
        values: dict[str, Any] = {
            "database_url": database_url(db),
            "default_timezone": DEFAULT_TIMEZONE,
            "slack_bot_token": None,
            **overrides,
        }
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        runtime = build(settings, clock=clock, migrate=False)
        capsys.readouterr()
        try:
            code = org_commands.run(_parser().parse_args([str(arg) for arg in argv]), runtime)
        finally:
            runtime.db.dispose()
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
