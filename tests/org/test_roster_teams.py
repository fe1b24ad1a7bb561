"""Which workspace `growthbot roster|calendar` is for: Slack if its token is set, else the Teams tenant when Teams
is configured, else the terminal; `--platform` says it outright. A Teams import saves everyone as pending."""

from __future__ import annotations

from pathlib import Path

from storage.database import Database
from tests.org.helpers import Growthbot, people

TENANT = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
TEAMS = {"teams_app_id": "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "teams_tenant_id": TENANT}
STAFF = """email,name,role,school,evaluator_email
Lopez@District.org,Maria Lopez,evaluator;admin,Hillside Elementary,
rivera@district.org,Ana Rivera,teacher,Hillside Elementary,lopez@district.org
"""


def staff(tmp_path: Path) -> Path:
    path = tmp_path / "staff.csv"
    path.write_text(STAFF, encoding="utf-8")
    return path


def test_with_teams_configured_and_no_slack_the_roster_goes_to_the_tenant_as_pending(
    growthbot: Growthbot, tmp_path: Path, db: Database
) -> None:
    result = growthbot("roster", "import", staff(tmp_path), **TEAMS)
    assert result.code == 0, result.err
    assert f"staff.csv: 2 people for Teams tenant {TENANT}" in result.out
    assert "unmatched on Teams 2 (saved as pending; linked when they first appear in Teams)" in result.out
    assert {(p["workspace"], p["user_id"]) for p in people(db)} == {
        (TENANT, "pending:lopez@district.org"),
        (TENANT, "pending:rivera@district.org"),
    }
    listed = growthbot("roster", "list", "--platform", "teams", **TEAMS)
    assert listed.out.startswith(f"2 people on the roster of Teams tenant {TENANT}:")
    off = growthbot("roster", "deactivate", "rivera@district.org", "--platform", "teams", **TEAMS)
    assert off.code == 0 and off.out.startswith("Deactivated Ana Rivera")


def test_platform_option_picks_the_workspace_and_says_what_is_missing(
    growthbot: Growthbot, tmp_path: Path, db: Database
) -> None:
    terminal = growthbot("roster", "import", staff(tmp_path), "--platform", "terminal", **TEAMS)
    assert terminal.code == 0 and "for the terminal workspace" in terminal.out
    explicit = growthbot("roster", "import", staff(tmp_path), "--platform", "teams", "--dry-run")
    assert explicit.code == 1 and "--platform teams needs TEAMS_TENANT_ID" in explicit.err
    slack = growthbot("roster", "list", "--platform", "slack")
    assert slack.code == 1 and "--platform slack needs SLACK_BOT_TOKEN" in slack.err
    assert {p["workspace"] for p in people(db)} == {"local"}
