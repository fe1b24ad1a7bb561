"""Storage on SQLite and PostgreSQL: migrations, the UTC column type, event claims, optimistic locking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm.exc import StaleDataError

from storage.database import Database, alembic_config, upgrade
from storage.models import Base, Conversation, Goal, Workspace
from storage.types import UTCDateTime
from storage.unit_of_work import ConversationKey, unit_of_work
from tests.conftest import NOW

TABLES = set(Base.metadata.tables)  # every model's table: the migrations must create each one


def table_names(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def schema_version(db: Database) -> set[str]:
    """The revisions the database is at: one per branch (features add tables on branches of their own)."""
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


# -- migrations ----------------------------------------------------------------------------------------


def test_migrations_create_the_schema_on_an_empty_database(empty_database: Database) -> None:
    assert table_names(empty_database) == set()
    upgrade(empty_database)
    assert table_names(empty_database) == TABLES | {"alembic_version"}
    heads = set(ScriptDirectory.from_config(alembic_config(empty_database)).get_heads())
    assert schema_version(empty_database) == heads


def test_migrations_match_the_models(empty_database: Database) -> None:
    """What Alembic builds is what the models describe: no autogenerate differences at all."""
    upgrade(empty_database)
    with empty_database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_upgrade_is_idempotent_and_keeps_data(empty_database: Database) -> None:
    upgrade(empty_database)
    with unit_of_work(empty_database) as repos:
        repos.workspaces.ensure("console", "local", NOW)
    upgrade(empty_database)
    upgrade(empty_database, "heads")
    assert table_names(empty_database) == TABLES | {"alembic_version"}
    with unit_of_work(empty_database) as repos:
        assert [w.external_id for w in repos.session.scalars(select(Workspace))] == ["local"]


def test_downgrade_to_base_and_up_again(empty_database: Database) -> None:
    from alembic import command

    upgrade(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    assert table_names(empty_database) <= {"alembic_version"}
    assert schema_version(empty_database) == set()
    upgrade(empty_database)
    assert table_names(empty_database) == TABLES | {"alembic_version"}


def test_the_db_fixture_is_migrated_and_empty(db: Database) -> None:
    assert table_names(db) >= TABLES
    with db.engine.connect() as connection:
        for table in TABLES:
            assert connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0


# -- UTCDateTime ---------------------------------------------------------------------------------------


def test_utc_datetime_rejects_naive_datetimes() -> None:
    column = UTCDateTime()
    with pytest.raises(ValueError, match="naive datetime"):
        column.process_bind_param(datetime(2026, 11, 23, 15, 0), None)  # type: ignore[arg-type]


def test_utc_datetime_converts_aware_datetimes_to_utc() -> None:
    column = UTCDateTime()
    eastern = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    stored = column.process_bind_param(eastern, None)  # type: ignore[arg-type]
    assert stored == NOW
    assert stored is not None and stored.utcoffset() == timedelta(0)
    assert column.process_result_value(datetime(2026, 11, 23, 15, 0), None) == NOW  # type: ignore[arg-type]
    assert column.process_result_value(None, None) is None  # type: ignore[arg-type]


def test_a_naive_datetime_is_refused_by_the_database_layer(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), unit_of_work(db) as repos:
        repos.session.add(Workspace(platform="console", external_id="w", name="", created_at=datetime(2026, 1, 1)))
        repos.session.flush()
    with unit_of_work(db) as repos:
        assert repos.session.scalars(select(Workspace)).all() == []


def test_datetimes_come_back_aware_utc(db: Database) -> None:
    tokyo = datetime(2026, 11, 24, 0, 0, 0, 123456, tzinfo=timezone(timedelta(hours=9)))
    with unit_of_work(db) as repos:
        repos.workspaces.ensure("console", "local", tokyo)
    with unit_of_work(db) as repos:
        workspace = repos.session.scalars(select(Workspace)).one()
        assert workspace.created_at == tokyo
        assert workspace.created_at.utcoffset() == timedelta(0)
        assert workspace.created_at == datetime(2026, 11, 23, 15, 0, 0, 123456, tzinfo=UTC)


def test_datetime_comparisons_in_queries_use_the_instant(db: Database) -> None:
    """Conversations.expired compares stored UTC values with an aware `now` in another zone."""
    key = _key(db)
    with unit_of_work(db) as repos:
        repos.conversations.start(key, "goal", "goal_type", {}, NOW, NOW + timedelta(days=14))
    just_before = (NOW + timedelta(days=14) - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-5)))
    with unit_of_work(db) as repos:
        assert repos.conversations.expired(just_before) == []
        assert len(repos.conversations.expired(just_before + timedelta(seconds=1))) == 1


# -- Events.claim --------------------------------------------------------------------------------------


def test_claim_is_true_once_then_false_for_a_repeat(db: Database) -> None:
    with unit_of_work(db) as repos:
        assert repos.events.claim("slack", "Ev1", NOW) is True
        assert repos.events.claim("slack", "Ev1", NOW) is False
    with unit_of_work(db) as repos:
        assert repos.events.claim("slack", "Ev1", NOW + timedelta(minutes=5)) is False
        assert repos.events.claim("slack", "Ev2", NOW) is True
        assert repos.events.claim("teams", "Ev1", NOW) is True
        assert repos.events.count() == 3


def test_a_repeat_claim_does_not_add_a_row(db: Database) -> None:
    """Holds on both databases whatever claim returns: the unique key keeps one row per event."""
    with unit_of_work(db) as repos:
        repos.events.claim("slack", "Ev1", NOW)
        repos.events.claim("slack", "Ev1", NOW)
        repos.events.claim("slack", "Ev1", NOW)
    with unit_of_work(db) as repos:
        assert repos.events.count() == 1


def test_a_claim_rolled_back_can_be_made_again(db: Database) -> None:
    with pytest.raises(RuntimeError), unit_of_work(db) as repos:
        repos.events.claim("slack", "Ev1", NOW)
        raise RuntimeError("the handler failed")
    with unit_of_work(db) as repos:
        assert repos.events.count() == 0


def test_event_keys_are_cut_to_255_characters(db: Database) -> None:
    with unit_of_work(db) as repos:
        repos.events.claim("slack", "k" * 300, NOW)
        repos.events.claim("slack", "k" * 255 + "different tail", NOW)
        assert repos.events.count() == 1


def test_forget_before_drops_old_events(db: Database) -> None:
    with unit_of_work(db) as repos:
        repos.events.claim("slack", "old", NOW - timedelta(days=2))
        repos.events.claim("slack", "new", NOW)
    with unit_of_work(db) as repos:
        assert repos.events.forget_before(NOW - timedelta(days=1)) == 1
        assert repos.events.count() == 1


# -- conversations: optimistic concurrency -------------------------------------------------------------


def _key(db: Database) -> ConversationKey:
    with unit_of_work(db) as repos:
        workspace = repos.workspaces.ensure("console", "local", NOW)
        return ConversationKey("console", workspace.id, "console:alice", None, "alice")


def test_two_writers_of_one_conversation_the_second_gets_stale_data_error(db: Database) -> None:
    if db.dialect == "sqlite":
        pytest.skip("SQLite takes its one write lock at BEGIN, so two transactions never interleave there")
    key = _key(db)
    with unit_of_work(db) as repos:
        conversation_id = repos.conversations.start(key, "goal", "goal_type", {}, NOW, NOW).id

    first = db.sessions()
    second = db.sessions()
    try:
        mine = first.get(Conversation, conversation_id)
        theirs = second.get(Conversation, conversation_id)
        assert mine is not None and theirs is not None
        assert mine.version == theirs.version == 1

        mine.step = "data_reviewed"
        first.flush()
        first.commit()

        theirs.step = "specific"
        with pytest.raises(StaleDataError):
            second.flush()
        second.rollback()
    finally:
        first.close()
        second.close()

    with unit_of_work(db) as repos:
        stored = repos.conversations.get(conversation_id)
        assert stored is not None
        assert (stored.step, stored.version) == ("data_reviewed", 2)


def test_each_write_bumps_the_version(db: Database) -> None:
    key = _key(db)
    with unit_of_work(db) as repos:
        conversation = repos.conversations.start(key, "goal", "goal_type", {"answers": {}}, NOW, NOW)
        conversation_id = conversation.id
        assert conversation.version == 1
    for step in ("data_reviewed", "specific"):
        with unit_of_work(db) as repos:
            conversation = repos.conversations.get(conversation_id)
            assert conversation is not None
            conversation.step = step
    with unit_of_work(db) as repos:
        conversation = repos.conversations.get(conversation_id)
        assert conversation is not None
        assert conversation.version == 3


# -- repositories ----------------------------------------------------------------------------------------


def test_conversations_are_found_by_their_whole_key(db: Database) -> None:
    key = _key(db)
    with unit_of_work(db) as repos:
        repos.conversations.start(key, "goal", "goal_type", {}, NOW, NOW + timedelta(days=1))
        in_thread = ConversationKey(key.platform, key.workspace_id, key.channel, "T1", key.user_id)
        repos.conversations.start(in_thread, "goal", "specific", {}, NOW, NOW + timedelta(days=1))
    with unit_of_work(db) as repos:
        assert repos.conversations.open_for(key).step == "goal_type"  # type: ignore[union-attr]
        assert repos.conversations.open_for(in_thread).step == "specific"  # type: ignore[union-attr]
        bob = ConversationKey(key.platform, key.workspace_id, key.channel, None, "bob")
        assert repos.conversations.open_for(bob) is None
        assert repos.conversations.latest_closed_for(key) is None


def test_goals_belong_to_their_owner(db: Database) -> None:
    with unit_of_work(db) as repos:
        workspace = repos.workspaces.ensure("console", "local", NOW)
        alice = repos.people.ensure(workspace.id, "alice", NOW, "Alice", "America/New_York")
        bob = repos.people.ensure(workspace.id, "bob", NOW, "Bob", "America/New_York")
        assert repos.people.ensure(workspace.id, "alice", NOW, "Other", "UTC").id == alice.id
        goal = repos.goals.add(alice.id, {"specific": "x", "benchmarks": []}, "draft", NOW)
        goal_id, alice_id, bob_id = goal.id, alice.id, bob.id
    with unit_of_work(db) as repos:
        assert repos.goals.get_for(alice_id, goal_id) is not None
        assert repos.goals.get_for(bob_id, goal_id) is None
        assert [g.id for g in repos.goals.of_person(alice_id)] == [goal_id]
        assert repos.goals.of_person(bob_id) == []


def test_goal_benchmarks_round_trip_as_json(db: Database) -> None:
    benchmarks = [{"date": "2027-01-30", "check": "winter probe 📚"}, {"date": "2027-03-31", "check": ""}]
    with unit_of_work(db) as repos:
        workspace = repos.workspaces.ensure("console", "local", NOW)
        person = repos.people.ensure(workspace.id, "alice", NOW, "Alice", "America/New_York")
        goal_id = repos.goals.add(person.id, {"benchmarks": benchmarks}, "saved", NOW).id
    with unit_of_work(db) as repos:
        goal = repos.session.get(Goal, goal_id)
        assert goal is not None
        assert goal.benchmarks == benchmarks


def test_one_read_finds_the_workspace_the_person_and_their_open_conversation(db: Database) -> None:
    key = _key(db)
    with unit_of_work(db) as repos:
        repos.people.ensure(key.workspace_id, key.user_id, NOW, "Alice", "America/New_York")
        repos.conversations.start(key, "goal", "goal_type", {}, NOW, NOW + timedelta(days=1))
        in_thread = ConversationKey(key.platform, key.workspace_id, key.channel, "T1", key.user_id)
        repos.conversations.start(in_thread, "goal", "specific", {}, NOW, NOW + timedelta(days=1))
    with unit_of_work(db) as repos:
        workspace = repos.workspaces.ensure(key.platform, "local", NOW)
        for thread, step in ((None, "goal_type"), ("T1", "specific")):
            arrival = repos.arrivals.find(key.platform, workspace.external_id, key.user_id, key.channel, thread)
            assert arrival.workspace_id == key.workspace_id and arrival.person.display_name == "Alice"  # type: ignore[union-attr]
            found = repos.conversations.open_for(ConversationKey(key.platform, key.workspace_id, key.channel,
                                                                 thread, key.user_id))  # fmt: skip
            assert found is not None and found.step == step
        nobody = repos.arrivals.find(key.platform, workspace.external_id, "bob", key.channel, None)
        assert nobody.workspace_id == key.workspace_id and nobody.person is None
        assert repos.arrivals.find(key.platform, "T-unknown", key.user_id, key.channel, None).workspace_id is None


def test_a_conversation_closed_after_the_read_is_not_handed_out_as_open(db: Database) -> None:
    key = _key(db)
    with unit_of_work(db) as repos:
        repos.people.ensure(key.workspace_id, key.user_id, NOW, "Alice", "America/New_York")
        repos.conversations.start(key, "goal", "goal_type", {}, NOW, NOW + timedelta(days=1))
    with unit_of_work(db) as repos:
        repos.arrivals.find(key.platform, "local", key.user_id, key.channel, None)
        closing = repos.session.scalars(select(Conversation)).one()
        closing.status = "cancelled"
        assert repos.conversations.open_for(key) is None
        restarted = repos.conversations.start(key, "goal", "goal_type", {}, NOW, NOW + timedelta(days=1))
        assert repos.conversations.open_for(key) is restarted


@pytest.mark.postgresql
def test_a_pooled_connection_dropped_while_idle_is_replaced_before_use(
    postgres_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL restart or a proxy drops idle connections; the next transaction must not fail on one."""
    import storage.database

    db = storage.database.connect(postgres_database.engine.url.render_as_string(hide_password=False))
    try:
        with db.engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        with postgres_database.engine.begin() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(storage.database, "IDLE_BEFORE_PING", 0.0)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        db.dispose()
