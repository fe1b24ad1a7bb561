"""`python -m bot` as a person runs it: a goal typed into the console, then exported as JSON and CSV."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.harness import GOOD_ANSWERS

TIME_ZONE = "America/New_York"


def spoken(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


@pytest.fixture
def dates() -> dict[str, date]:
    """Real dates relative to the wall clock, which the CLI uses: an end date and two benchmarks."""
    today = datetime.now(ZoneInfo(TIME_ZONE)).date()
    return {
        "first": today + timedelta(days=60),
        "second": today + timedelta(days=120),
        "end": today + timedelta(days=300),
    }


def run_bot(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in ("DATABASE_URL", "DEFAULT_TIMEZONE", "DRAFT_IDLE_DAYS", "LOG_LEVEL")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        DEFAULT_TIMEZONE=TIME_ZONE,
        PYTHONIOENCODING="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,  # no stray .env or growthbot.db from the checkout
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_console_dialog_then_export(tmp_path: Path, dates: dict[str, date]) -> None:
    specific = "my 4th graders 📚 will read grade-level text fluently and with understanding"
    benchmarks = f"{spoken(dates['second'])}: running records; {dates['first'].isoformat()}: winter probe"
    lines = [
        "/goal",
        "2",
        GOOD_ANSWERS["data_reviewed"],
        specific,
        GOOD_ANSWERS["measurable"],
        GOOD_ANSWERS["action"],
        GOOD_ANSWERS["results"],
        spoken(dates["end"]),
        benchmarks,
        GOOD_ANSWERS["alignment"],
        "1",
        "/goal list",
        "quit",
        "this line comes after quit and is never read",
    ]
    console = run_bot(tmp_path, "console", "--user", "bob", stdin="\n".join(lines) + "\n")
    out = console.stdout
    assert out.startswith("growthbot in the terminal, as bob.")
    assert "> /goal\nLet's draft a S.M.A.R.T. goal together" in out
    assert "Saved as goal #1:\n" in out
    assert f"By {spoken(dates['end'])}, {specific}, so that" in out
    assert "#1 [saved] Professional practice" in out
    assert "never read" not in out
    assert (tmp_path / "cli.db").exists()

    exported = run_bot(tmp_path, "export", "goals", "--format", "json")
    [goal] = json.loads(exported.stdout)
    expected_benchmarks = [
        {"date": dates["first"].isoformat(), "check": "winter probe"},
        {"date": dates["second"].isoformat(), "check": "running records"},
    ]
    assert goal == {
        "id": 1,
        "platform": "console",
        "workspace_id": "local",
        "user_id": "bob",
        "goal_type": "professional_practice",
        "data_reviewed": GOOD_ANSWERS["data_reviewed"],
        "specific": specific,
        "measurable": GOOD_ANSWERS["measurable"],
        "action": GOOD_ANSWERS["action"],
        "results": GOOD_ANSWERS["results"],
        "completion_date": dates["end"].isoformat(),
        "benchmarks": expected_benchmarks,
        "alignment": GOOD_ANSWERS["alignment"],
        "statement": goal["statement"],
        "status": "saved",
        "created_at": goal["created_at"],
    }
    assert goal["statement"].startswith(f"By {spoken(dates['end'])}, {specific}, so that")
    assert f"Supports: {GOOD_ANSWERS['alignment']}." in goal["statement"]
    assert datetime.fromisoformat(goal["created_at"]).utcoffset() == timedelta(0)

    out_file = tmp_path / "goals.csv"
    written = run_bot(tmp_path, "export", "goals", "--format", "csv", "--out", str(out_file))
    assert written.stdout == ""
    assert f"Wrote 1 goal to {out_file}" in written.stderr
    with out_file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == list(goal)
    assert json.loads(row["benchmarks"]) == expected_benchmarks
    assert row["id"] == "1"
    assert row["alignment"] == GOOD_ANSWERS["alignment"]
    assert {k: v for k, v in row.items() if k not in ("id", "benchmarks")} == {
        k: str(v) for k, v in goal.items() if k not in ("id", "benchmarks")
    }


def test_export_of_an_empty_database(tmp_path: Path) -> None:
    assert json.loads(run_bot(tmp_path, "export", "goals").stdout) == []
    csv_text = run_bot(tmp_path, "export", "goals", "--format", "csv").stdout
    assert csv_text.splitlines() == [
        "id,platform,workspace_id,user_id,goal_type,data_reviewed,specific,measurable,action,results,"
        "completion_date,benchmarks,alignment,statement,status,created_at"
    ]


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "db", "upgrade")
    assert "Database is up to date." in result.stdout
    assert (tmp_path / "cli.db").exists()
