"""Confidential answers cannot be linked back to people: the whole database is dumped after ten people answer
in a known order, and neither a column, a key, a time nor the order of the rows ties an answer to its author."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text

from storage.database import Database
from storage.unit_of_work import unit_of_work
from tests.handlers.observations.test_observe_dialogs import Org, org, person  # noqa: F401  (the org fixture)
from tests.handlers.surveys.test_survey_dialogs import answer_exit_slip

ORDER = [f"t{n}" for n in range(10)]  # the order in which they answer


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as the database hands them out with no ORDER BY (its stored order)."""
    tables = inspect(db.engine).get_table_names()
    with db.engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(text(f'SELECT * FROM "{name}"'))] for name in tables}


def sealed(db: Database) -> list[tuple[str, str]]:
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT key, answers FROM survey_sealed_answers"))
        return [(key, str(answers)) for key, answers in rows]


def test_confidential_answers_cannot_be_matched_to_people_by_keys_times_or_order(org: Org, db: Database) -> None:  # noqa: F811
    with unit_of_work(db) as repos:
        ws = repos.workspaces.ensure("console", "local", org.clock.now())
        for handle in ORDER:
            person(repos, ws.id, handle, f"Teacher {handle}", ["teacher"])
    org.chat("lopez").say("/survey send exit_slip to " + " ".join("@" + h for h in ORDER) + " confidential")
    keys_before: set[str] = set()
    for handle in ORDER:
        assert "are in" in answer_exit_slip(org, handle, "3", try_=f"idea from {handle}")
        rows = sealed(db)
        keys = {key for key, _answers in rows}
        assert not keys & keys_before  # every answer gives every row a fresh key: no key outlives a write
        keys_before = keys

    tables = dump(db)
    columns = {c["name"] for c in inspect(db.engine).get_columns("survey_sealed_answers")}
    assert columns == {"key", "survey_id", "answers", "answered_on"}  # no person, no time finer than the day
    assert {c["name"] for c in inspect(db.engine).get_columns("survey_invitations")} == {
        "id", "survey_id", "person_id", "answered"}  # fmt: skip
    assert [fk["referred_table"] for fk in inspect(db.engine).get_foreign_keys("survey_sealed_answers")] == ["surveys"]

    in_dump = [next(h for h in ORDER if f"idea from {h}" in str(row)) for row in tables["survey_sealed_answers"]]
    assert sorted(in_dump) == sorted(ORDER)
    assert in_dump not in (ORDER, ORDER[::-1])  # stored order is not answer order (chance: 2 in 3.6 million)
    keys = [row[0] for row in tables["survey_sealed_answers"]]
    by_key = [next(h for h in ORDER if f"idea from {h}" in str(row)) for row in sorted(tables["survey_sealed_answers"])]
    assert by_key not in (ORDER, ORDER[::-1]) and len(set(keys)) == 10
    days = {row[3] for row in tables["survey_sealed_answers"]}
    assert len(days) == 1  # one day, no hours: the same for all ten

    # Nothing else in the database carries an answer (conversations are closed with their answers dropped).
    leaks = [
        (name, row) for name, rows in tables.items() if name != "survey_sealed_answers" for row in rows
        if any("idea from" in str(cell) for cell in row)
    ]  # fmt: skip
    assert leaks == []

    if db.engine.dialect.name == "postgresql":  # the row's writing transaction: the same for every answer
        with db.engine.connect() as connection:
            xmins = set(connection.scalars(text("SELECT xmin::text FROM survey_sealed_answers")))
        assert len(xmins) == 1
