"""Engine and session factory, built by a function (never at import time), and schema upgrades."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Insert, Table, create_engine, event, insert, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ClauseElement

MIGRATIONS = Path(__file__).parent / "migrations"


class GroupCommit:
    """Short writes that arrive while one batch is being committed wait, and go in the next batch together.

    The first writer to find nobody writing leads: it takes every write queued so far, commits them in one
    transaction and hands each its result. With one writer at a time that is a single write, at once; under load
    it is one lock hand-over and one commit for a whole batch instead of a convoy of them, each waiting for the
    write lock and then, holding it, for the GIL between its statements. Nobody returns before their write is
    committed, so an ack that follows is still an ack of something durable.
    """

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._queue: list[_Slot] = []
        self._leading = False

    def submit(self, item: Any, write: Callable[[list[Any]], list[bool]]) -> bool:
        slot = _Slot(item)
        with self._turn:
            self._queue.append(slot)
            while slot.outcome is None and self._leading:
                self._turn.wait()
            batch: list[_Slot] = []
            if slot.outcome is None:
                self._leading = True
                batch, self._queue = self._queue, []
        if batch:
            outcomes = self._write(batch, write)
            with self._turn:
                for done, outcome in zip(batch, outcomes, strict=True):
                    done.outcome = outcome
                self._leading = False
                self._turn.notify_all()
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return bool(slot.outcome)

    @staticmethod
    def _write(batch: list[_Slot], write: Callable[[list[Any]], list[bool]]) -> list[bool | BaseException]:
        try:
            return list(write([slot.item for slot in batch]))
        except BaseException as error:
            if len(batch) == 1:
                return [error]
        outcomes: list[bool | BaseException] = []
        for slot in batch:  # one bad write must not fail the others: each alone
            try:
                outcomes.extend(write([slot.item]))
            except BaseException as error:
                outcomes.append(error)
        return outcomes


@dataclass
class _Slot:
    item: Any
    outcome: bool | BaseException | None = None


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    queue: sessionmaker[Session] | None = None  # SQLite: the inbox's own file, so an ack never waits on a turn
    inbox_writes: GroupCommit = field(default_factory=GroupCommit, compare=False, repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def inbox_sessions(self) -> sessionmaker[Session]:
        return self.queue or self.sessions

    def dispose(self) -> None:
        self.engine.dispose()
        if self.queue is not None:
            bind = self.queue.kw.get("bind")
            if bind is not None:
                bind.dispose()


def normalise_url(url: str) -> str:
    """Let people write postgresql:// and still get the psycopg 3 driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """WAL so readers never block the writer; NORMAL sync (durable at each WAL checkpoint, safe in WAL mode).

    The driver's own transaction handling is switched off so `_begin_immediate` decides when one starts.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class _Writer:
    """One writer at a time, taken at BEGIN: two transactions that both read then write would otherwise
    deadlock on the upgrade to a write lock, and SQLite answers one of them "database is locked" at once.

    Within a process the turn is a lock handed over the moment a transaction ends; SQLite's own busy
    handler sleeps in growing steps (up to 100 ms) and would make a short INSERT such as an inbox write
    wait behind them. BEGIN IMMEDIATE still guards against other processes.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def begin(self, connection) -> None:  # type: ignore[no-untyped-def]
        if not self.lock.acquire(timeout=30):
            raise TimeoutError("waited 30 s for the SQLite write lock")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise

    def end(self, _connection) -> None:  # type: ignore[no-untyped-def]
        if self.lock.locked():
            self.lock.release()


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    writer = _Writer()
    event.listen(engine, "begin", writer.begin)
    event.listen(engine, "commit", writer.end)
    event.listen(engine, "rollback", writer.end)
    return engine


def _inbox_file(url: str) -> sessionmaker[Session] | None:
    """SQLite has one write lock per file: the inbox (written in the request thread before each ack) gets a
    file of its own beside the database, so an ack never queues behind the turns the drain is writing."""
    from storage.models import InboxItem

    parsed = make_url(url)
    if not parsed.database or parsed.database == ":memory:":
        return None
    engine = _sqlite_engine(parsed.set(database=f"{parsed.database}-inbox").render_as_string(hide_password=False))
    InboxItem.__table__.create(engine, checkfirst=True)  # a queue, not a record: no migrations needed
    return sessionmaker(engine, expire_on_commit=False)


IDLE_BEFORE_PING = 10.0  # seconds a pooled connection may sit unused before it is checked on checkout


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled PostgreSQL connection only if it sat idle, instead of `pool_pre_ping` on every checkout.

    A connection in steady use has just proved itself, and the ping is a round trip on every transaction: on a
    busy bot, one in six of them. One that idled may have been dropped by a restart or a proxy, so it is pinged,
    and a dead one is replaced before anyone uses it (the pool retries on `DisconnectionError`).
    """

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", float("-inf")) < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("a pooled connection did not answer its ping") from error

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


def connect(url: str) -> Database:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url)
        return Database(engine, sessionmaker(engine, expire_on_commit=False), queue=_inbox_file(url))
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_when_idle(engine)
    return Database(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the schema to `revision` (every branch's head by default); safe to call on every start.

    Features add their tables on branches of their own from a common base, so they never fight over order.
    """
    command.upgrade(alembic_config(db), revision)


class _OnConflictDoNothing(ClauseElement):
    """`ON CONFLICT DO NOTHING` (SQLite and PostgreSQL alike), a clause with no state, so it can be cached.

    The dialects' own `insert(...).on_conflict_do_nothing()` opts out of SQLAlchemy's statement cache, so every
    execution was compiled anew (about 0.1-0.3 ms of Python, on the hot path of every ack and every turn).
    """

    _traverse_internals: ClassVar[list[Any]] = []  # nothing to traverse: every instance is the same clause
    inherit_cache = True


@compiles(_OnConflictDoNothing)
def _on_conflict_do_nothing(_element: _OnConflictDoNothing, _compiler: Any, **_kw: Any) -> str:
    return "ON CONFLICT DO NOTHING"


def insert_or_skip(table: Table) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` on any unique key, as a core insert that SQLAlchemy caches."""
    stmt = insert(table)
    stmt._post_values_clause = _OnConflictDoNothing()  # where the compiler puts a dialect's ON CONFLICT clause
    return stmt


def insert_new(session: Session, model: Any, values: dict[str, Any]) -> bool:
    """Insert a row unless its unique key exists; False means it was already there (a repeat).

    One statement, so two writers racing on the same key cannot both win, on SQLite or PostgreSQL.
    """
    stmt = insert_or_skip(model.__table__).values(values).returning(*model.__table__.primary_key)
    return session.execute(stmt).first() is not None
