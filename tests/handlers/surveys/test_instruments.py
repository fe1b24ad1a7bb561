"""Instruments are YAML a district can add to: the shipped ones are valid, a broken one is reported by file
and line, and `growthbot instruments list|check` say so."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handlers.features import CliEnv, Setup
from handlers.surveys.feature import feature
from handlers.surveys.instruments import load_instruments, read_instrument
from tests.conftest import test_settings


def test_the_shipped_instruments_are_valid_and_hold_what_the_issue_lists() -> None:
    found, problems = load_instruments()
    assert problems == []
    assert set(found) == {"exit_slip", "pl_needs", "pulse", "partnership_self", "vision"}
    partnership = found["partnership_self"]
    assert len(partnership.questions) == 10 and partnership.source.startswith("Adapted from")
    assert {len(q.options) for q in partnership.questions} == {4}
    vision = found["vision"]
    assert [q.kind for q in vision.questions] == ["rating"] * 6 + ["long_text"]
    assert found["exit_slip"].question("why_not").show_if == ("useful", ("strongly_disagree", "disagree"))
    assert {q.kind for q in found["pulse"].questions} >= {"likert", "rating", "number", "long_text"}


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        ("id: bad\ntitle: T\nquestions:\n  - id: a\n    kind: slider\n    text: Q\n", 4, "unknown kind 'slider'"),
        ("id: bad\ntitle: T\nquestions:\n  - id: a\n    kind: likert\n    text: Q\n    labels: [Low, Mid, Top]\n",
         4, "a likert scale has 4 or 5 labels, not 3"),
        ("id: bad\ntitle: T\nquestions:\n  - id: a\n    kind: single_choice\n    text: Q\n    options: [Yes, No]\n",
         4, "put Yes/No options in quotes"),
        ("id: bad\ntitle: T\nquestions:\n  - id: a\n    kind: short_text\n    text: Q\n"
         "  - id: b\n    kind: long_text\n    text: R\n    show_if: {question: a, in: [x]}\n",
         7, "show_if must name an earlier choice question"),
        ("id: bad\ntitle: T\nquestions:\n  - id: a\n    kind: number\n    text: Q\n    min: 5\n    max: 1\n",
         4, "min (5) must be below max (1)"),
        ("id: bad\ntitle: [unclosed\n", 3, "not valid YAML"),
        ("id: bad\ntitle: T\nquestions: []\n", 1, "questions must be a list"),
    ],
)  # fmt: skip
def test_a_broken_instrument_is_reported_with_its_file_and_line(
    tmp_path: Path, body: str, line: int, says: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    instrument, problems = read_instrument(path)
    assert instrument is None
    assert any(p.line == line and says in p.message and p.file == str(path) for p in problems), problems


def run_cli(verb: str, *argv: str, instruments_dir: Path | None = None) -> tuple[int, str, str]:
    described = feature(Setup(port=None, settings=test_settings(instruments_dir=instruments_dir)))  # type: ignore[arg-type]
    command = next(v for v in described.cli if v.name == verb)
    parser = argparse.ArgumentParser()
    command.configure(parser)
    out, err = io.StringIO(), io.StringIO()
    code = command.run(parser.parse_args(list(argv)), CliEnv(None, datetime.now(UTC), "UTC", out, err))  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_instruments_list_and_check_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "walkthrough.yaml").write_text(
        "id: walkthrough\ntitle: Walkthrough debrief\nquestions:\n"
        "  - id: seen\n    kind: multiple_choice\n    text: What did you see?\n    options: [Groups, Exit tickets]\n",
        encoding="utf-8",
    )
    code, out, _err = run_cli("instruments", "list", instruments_dir=tmp_path)
    assert code == 0 and "walkthrough" in out and "exit_slip" in out and "Walkthrough debrief" in out
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: broken\ntitle: B\nquestions:\n  - id: q\n    kind: rating\n    text: Q\n    scale: 7\n")
    code, _out, err = run_cli("instruments", "check", str(broken))
    assert code == 1 and f"{broken}:4: question q: a rating's scale is 5 or 10, not 7" in err
    code, out, _err = run_cli("instruments", "check")
    assert code == 0 and "All instruments are valid." in out
