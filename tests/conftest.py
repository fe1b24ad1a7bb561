"""Shared fixtures: a migrated database on SQLite and PostgreSQL, a clock that only moves when told, the bot.

Fixtures other test files may use:

- ``db``: a migrated, empty :class:`storage.database.Database`. Parametrised as ``sqlite`` and
  ``postgresql``, so a test that takes it (directly or through ``bot``) runs once per database.
  SQLite is a copy of a template file migrated once per session; PostgreSQL runs only when the
  ``TEST_DATABASE_URL`` environment variable names a database (it is migrated once per session and
  every table is truncated after each test). With ``REQUIRE_POSTGRES=1`` a missing or unreachable
  PostgreSQL is an error, never a skip, so CI cannot pass without running those cases.
- ``empty_database``: like ``db`` but with no schema at all (for migration tests). On PostgreSQL it is
  a fresh schema of its own, dropped afterwards, so it never disturbs the migrated one.
- ``clock``: a :class:`scheduling.clock.FakeClock` at ``NOW`` (2026-11-23 15:00 UTC, 10:00 in New York).
- ``bot``: :class:`handlers.router.Bot` on ``db`` and ``clock``, default zone America/New_York,
  idle drafts set aside after 14 days.
- ``chat``: a :class:`tests.harness.Chat` for user ``alice`` on ``bot``.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import MetaData, make_url, text

from bot.settings import Settings
from handlers.router import Bot
from scheduling.clock import FakeClock
from storage.database import Database, connect, upgrade
from storage.models import Base
from tests.harness import Chat

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DEFAULT_TIMEZONE = "America/New_York"
IDLE_DAYS = 14

POSTGRES_ENV = "TEST_DATABASE_URL"


def test_settings(**changes: object) -> Settings:
    """Settings as a fresh install has them (no .env), in New York, with drafts idle after IDLE_DAYS."""
    return Settings(_env_file=None, default_timezone=DEFAULT_TIMEZONE, draft_idle_days=IDLE_DAYS, **changes)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test
REQUIRE_ENV = "REQUIRE_POSTGRES"

# Checks are pure and fast, but CI machines are not: no per-example deadline.
settings.register_profile("growthbot", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("growthbot"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "growthbot"))


def _postgres_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes")


def _probe_postgres(url: str) -> str | None:
    """None if PostgreSQL at `url` answers within a few seconds, else the reason it does not."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except Exception as error:
        return f"{type(error).__name__}: {error}".strip()
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: runs against PostgreSQL (needs TEST_DATABASE_URL)")
    if _postgres_required():
        url = os.environ.get(POSTGRES_ENV)
        if not url:
            raise pytest.UsageError(f"{REQUIRE_ENV}=1 but {POSTGRES_ENV} is not set")
        problem = _probe_postgres(url)
        if problem:
            raise pytest.UsageError(f"{REQUIRE_ENV}=1 but PostgreSQL at {POSTGRES_ENV} is unreachable: {problem}")


# -- PostgreSQL ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """TEST_DATABASE_URL once it answers; skips (or, with REQUIRE_POSTGRES=1, fails) otherwise."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if _postgres_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {POSTGRES_ENV} is not set")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    problem = _probe_postgres(url)
    if problem:
        if _postgres_required():
            pytest.fail(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {problem}")
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {problem}")
    return url


def drop_everything(database: Database) -> None:
    """Drop every table in the connection's schema, alembic_version included."""
    metadata = MetaData()
    metadata.reflect(database.engine)
    metadata.drop_all(database.engine)


@pytest.fixture(scope="session")
def postgres_database(postgres_url: str) -> Iterator[Database]:
    """The PostgreSQL test database, wiped and migrated from scratch once per session."""
    database = connect(postgres_url)
    drop_everything(database)
    upgrade(database)
    yield database
    database.dispose()


def truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text("SET LOCAL lock_timeout = '10s'"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def with_search_path(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema` (PostgreSQL only)."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


# -- SQLite --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy, which is much faster than Alembic."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    database = connect(f"sqlite:///{path}")
    upgrade(database)
    raw = database.engine.raw_connection()  # outside a transaction: a checkpoint cannot run inside one
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    database.dispose()
    return path


# -- the database fixtures -----------------------------------------------------------------------------

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(params=DATABASES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database with no rows, on SQLite and on PostgreSQL (see the module docstring)."""
    if request.param == "sqlite":
        path = tmp_path / "growthbot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        database = connect(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    database = request.getfixturevalue("postgres_database")
    try:
        yield database
    finally:
        truncate_all(database)


@pytest.fixture(params=DATABASES)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables at all, for migration tests, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        database = connect(f"sqlite:///{tmp_path / 'empty.db'}")
        yield database
        database.dispose()
        return
    admin: Database = request.getfixturevalue("postgres_database")
    schema = f"gb_test_{secrets.token_hex(4)}"
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = connect(with_search_path(request.getfixturevalue("postgres_url"), schema))
    try:
        yield database
    finally:
        database.dispose()
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


# -- time and the bot ----------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    """A clock standing still at 2026-11-23 15:00 UTC until a test calls advance() or set()."""
    return FakeClock(NOW)


@pytest.fixture
def bot(db: Database, clock: FakeClock) -> Bot:
    """The bot on the test database and fake clock, as `growthbot console` builds it."""
    return Bot(db, clock, test_settings())


@pytest.fixture
def chat(bot: Bot) -> Chat:
    """Alice at the terminal."""
    return Chat(bot, user="alice")
