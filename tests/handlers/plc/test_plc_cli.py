"""`growthbot plc import` (all or nothing, line and column) and `growthbot schedule upcoming` as an admin sees it."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from handlers.features import CliEnv, Setup
from handlers.plc.commands import run_import
from handlers.plc.service import PlcService
from handlers.schedule_preview.feature import feature as schedule_preview
from storage.database import Database
from tests.conftest import test_settings
from tests.handlers.plc.harness import District, district

MONDAY = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
HEADER = "name,school,lead,members,channel,cadence,assessments\n"


def run_plc_import(town: District, tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "teams.csv"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    env = CliEnv(town.runtime.db, town.clock.now(), "America/New_York", out, err)
    args = argparse.Namespace(file=path, platform="console", workspace="local")
    return run_import(args, env, PlcService("America/New_York")), out.getvalue() + err.getvalue()


def test_plc_import_reports_every_bad_cell_and_saves_nothing(db: Database, tmp_path: Path) -> None:
    town = district(db, MONDAY)
    code, said = run_plc_import(town, tmp_path, "name,lead\nGrade 4,@rivera\n")
    assert code == 1 and "line 1: missing columns members, cadence" in said
    bad = (HEADER + "Grade 4 PLC,@rivera,@rivera,@nguyen;@kim,#g4,every Wednesday 3:15pm,\n"
           "Grade 5 PLC,,@nobody,@kim,#g5,whenever,\n")  # fmt: skip
    code, said = run_plc_import(town, tmp_path, bad)
    assert code == 1
    assert "line 3, column lead: no one on the roster is '@nobody'" in said
    assert "line 3, column cadence: can't read 'whenever' (no time of day)" in said
    assert "Nothing was imported." in said
    assert "not on a PLC team" in town.chat("kim").say("/plc list")
    good = bad.replace("@nobody", "@rivera").replace("whenever", "first and third Monday at 3")
    code, said = run_plc_import(town, tmp_path, good)
    assert code == 0, said
    listed = town.chat("kim").say("/plc list")
    assert "Grade 4 PLC: every Wednesday 3:15pm, 3 members; next meeting Wed Dec 2, 3:15 PM" in listed
    assert "Grade 5 PLC: first and third Monday at 3, 2 members; next meeting Mon Dec 7, 3:00 PM" in listed


def test_schedule_upcoming_lists_check_ins_in_text_and_json(db: Database, tmp_path: Path) -> None:
    town = district(db, MONDAY)
    run_plc_import(town, tmp_path, HEADER + "Grade 4 PLC,,@rivera,@nguyen,#g4,every Wednesday 3:15pm,\n")
    verb = schedule_preview(Setup(port=None, settings=test_settings())).cli[0]  # type: ignore[arg-type]
    parser = argparse.ArgumentParser()
    verb.configure(parser)
    out = io.StringIO()
    env = CliEnv(town.runtime.db, town.clock.now(), "America/New_York", out, io.StringIO())
    assert verb.run(parser.parse_args(["upcoming", "--days", "3"]), env) == 0
    text = out.getvalue()
    assert "Wed 2026-12-02 15:15 America/New_York  plc.checkin  to #g4 (for Ana Rivera)" in text  # the channel
    assert "    PLC check-in for Grade 4 PLC, Wed Dec 2 at 3:15 PM." in text
    assert "Wed 2026-12-02 16:30 America/New_York  plc.review_reminder  to Ana Rivera" in text
    assert text.strip().endswith("2 messages.")
    out.seek(0)
    out.truncate()
    assert (
        verb.run(parser.parse_args(["upcoming", "--from", "2026-12-07", "--days", "7", "--format", "json"]), env) == 0
    )
    items = json.loads(out.getvalue())
    assert [(i["local"], i["kind"], i["recipient"]) for i in items] == [
        ("2026-12-09 15:15", "plc.checkin", "#g4 (for Ana Rivera)"),
        ("2026-12-09 16:30", "plc.review_reminder", "Ana Rivera"),
    ]  # fmt: skip
    with town.repos() as repos:  # previewing changed nothing
        assert repos.plc.checkins(repos.plc.in_workspace(town.workspace_id)[0].id) == []
