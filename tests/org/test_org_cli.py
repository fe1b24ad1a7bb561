"""The organisation commands as real processes: what `make run` does, and exit codes a script can rely on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from handlers.org.demo import FILES


def growthbot(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(("DATABASE_URL", "SLACK_", "DEFAULT_TIMEZONE", "LOG_LEVEL"))
    }
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'org.db'}", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,  # no stray .env from the checkout
        env=env,
        timeout=60,
        check=False,
    )


def test_make_run_sequence_loads_the_demo_once_then_chats_as_the_evaluator(tmp_path: Path):
    first = growthbot(tmp_path, "demo", "load", "--if-empty")
    second = growthbot(tmp_path, "demo", "load", "--if-empty")
    console = growthbot(tmp_path, "console", "--user", "lopez", stdin="help\n")

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Demo data loaded (Demo district — sample data): 10 people")
    assert first.stderr == ""
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    assert console.returncode == 0, console.stderr
    assert console.stdout.startswith("growthbot in the terminal, as lopez.")


def test_a_bad_roster_exits_1_with_the_problems_on_stderr(tmp_path: Path):
    (tmp_path / "staff.csv").write_text("email,name,role,school,evaluator_email\nx@d.org,X,principle,,\n")

    result = growthbot(tmp_path, "roster", "import", "staff.csv")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0].startswith('staff.csv line 2: unknown role "principle"; use one of: teacher')


def test_the_documented_example_files_import(tmp_path: Path):
    staff = growthbot(tmp_path, "roster", "import", str(FILES / "staff.csv"), "--dry-run")
    calendar = growthbot(tmp_path, "calendar", "import", str(FILES / "calendar.yaml"))
    shown = growthbot(tmp_path, "calendar", "show", "--month", "2027-02")

    assert staff.returncode == 0, staff.stderr
    assert "added 10" in staff.stdout
    assert calendar.returncode == 0, calendar.stderr
    assert calendar.stdout.startswith("School year 2026-2027: 2026-09-02 to 2027-06-22, 185 school days")
    assert "  Mon Feb 15 to Fri Feb 19: February vacation\n" in shown.stdout
