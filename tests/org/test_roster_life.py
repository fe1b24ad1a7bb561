"""The roster's whole life on the command line: list, deactivate, reactivate, import --deactivate-missing, whoami."""

from __future__ import annotations

from pathlib import Path

from handlers.org.demo import FILES
from tests.org.test_org_cli import growthbot


def test_list_filters_by_school_and_role_and_marks_who_left(tmp_path: Path) -> None:
    assert growthbot(tmp_path, "demo", "load").returncode == 0
    everyone = growthbot(tmp_path, "roster", "list")
    assert everyone.returncode == 0 and everyone.stdout.startswith("10 people on the roster of the terminal workspace:")
    teachers = growthbot(tmp_path, "roster", "list", "--school", "hillside elementary", "--role", "teacher")
    assert (
        teachers.stdout.splitlines()[0]
        == "4 people on the roster of the terminal workspace at hillside elementary with role teacher:"
    )
    assert "kim@demo.growthbot.example\tJoon Kim (demo)\tteacher\tHillside Elementary\tlopez@demo" in teachers.stdout

    gone = growthbot(tmp_path, "roster", "deactivate", "kim@demo.growthbot.example")
    assert gone.returncode == 0 and "Deactivated Joon Kim (demo)" in gone.stdout and "records kept" in gone.stdout
    assert "kim@demo.growthbot.example\tJoon Kim (demo)" in growthbot(tmp_path, "roster", "list").stdout
    assert "\tdeactivated" in growthbot(tmp_path, "roster", "list", "--role", "teacher").stdout
    assert "(deactivated" in growthbot(tmp_path, "whoami", "--user", "kim").stdout
    back = growthbot(tmp_path, "roster", "reactivate", "kim@demo.growthbot.example")
    assert "Reactivated Joon Kim (demo)" in back.stdout
    assert "deactivated" not in growthbot(tmp_path, "roster", "list").stdout


def test_the_last_admin_and_unknown_people_are_refused(tmp_path: Path) -> None:
    growthbot(tmp_path, "demo", "load")
    last = growthbot(tmp_path, "roster", "deactivate", "okafor@demo.growthbot.example")
    assert last.returncode == 1 and "no active admin" in last.stderr and "Nothing was saved." in last.stderr
    unknown = growthbot(tmp_path, "roster", "deactivate", "nobody@demo.growthbot.example")
    assert unknown.returncode == 1 and "is not on the roster" in unknown.stderr


def test_import_deactivate_missing_deactivates_whoever_the_file_leaves_out(tmp_path: Path) -> None:
    growthbot(tmp_path, "demo", "load")
    lines = (FILES / "staff.csv").read_text(encoding="utf-8").splitlines()
    staff = tmp_path / "staff.csv"
    staff.write_text("\n".join(line for line in lines if not line.startswith("baker@")) + "\n", encoding="utf-8")
    dry = growthbot(tmp_path, "roster", "import", str(staff), "--deactivate-missing", "--dry-run")
    assert "would deactivate 1\n  baker@demo.growthbot.example" in dry.stdout
    done = growthbot(tmp_path, "roster", "import", str(staff), "--deactivate-missing")
    assert done.returncode == 0 and "Deactivated Jordan Baker (demo)" in done.stdout
    assert (
        "baker@demo.growthbot.example\tJordan Baker (demo)\tpartnership_lead"
        in growthbot(tmp_path, "roster", "list").stdout
    )


def test_whoami_tells_a_newcomer_who_they_are_and_a_stranger_that_they_are_a_guest(tmp_path: Path) -> None:
    growthbot(tmp_path, "demo", "load")
    lopez = growthbot(tmp_path, "whoami", "--user", "lopez").stdout
    assert lopez.startswith("You are Maria Lopez (demo) (lopez@demo.growthbot.example): evaluator at Hillside")
    assert "observations as observer" in lopez
    guest = growthbot(tmp_path, "whoami", "--user", "zed").stdout
    assert '"zed" is a guest here, with no roster role' in guest


def test_the_demo_shows_every_after_visit_stage_in_the_terminal(tmp_path: Path) -> None:
    """What README's walkthrough promises `make run` shows, typed as a newcomer would."""
    assert growthbot(tmp_path, "demo", "load").returncode == 0
    lopez = growthbot(tmp_path, "console", "--user", "lopez", stdin="/observe list\n/observe show 4\nquit\n").stdout
    for stage in ("Feedback overdue:", "Evidence missing:", "Feedback to write:"):
        assert stage in lopez
    assert "shared" in lopez and "Formative ratings:" in lopez and "II-D" in lopez
    kim = growthbot(tmp_path, "console", "--user", "kim", stdin="/observe show 5\nquit\n").stdout
    assert "Strong questioning" in kim and "acknowledged" in kim.lower()
    again = growthbot(tmp_path, "demo", "load")
    assert again.returncode == 0 and "past visits" not in again.stdout  # loading twice adds no second set
