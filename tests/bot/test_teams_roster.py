"""A roster on Teams, end to end: imported into the tenant's workspace as pending, linked by email from the
members the Bot Connector lists (on install, on a first message, or when a notice is due), and then the roles
work: an evaluator in Teams schedules an observation and the teacher's notice reaches their 1:1 chat.

The signed-activity rig of test_teams.py; its fake Connector lists the members set in `connector.members`.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import org_commands
from bot.adapters.teams_members import member_of
from bot.cli import _parser
from storage import teams as teams_store
from storage.models import Person
from storage.teams import Member
from storage.unit_of_work import unit_of_work
from tests.bot.test_teams import BOT, TENANT_ID, TeamsRig, rig, text  # noqa: F401  (the rig fixture)

TEAM = "19:hillside-staff@thread.tacv2"
STAFF = """email,name,role,school,evaluator_email
lopez@district.org,Maria Lopez,evaluator,Hillside Elementary,
kim@district.org,Dana Kim,teacher,Hillside Elementary,lopez@district.org
never@district.org,Never Seen,teacher,Hillside Elementary,lopez@district.org
"""


def member(aad: str, email: str, name: str) -> dict[str, Any]:
    """A member as the Connector lists them (its `email` may differ in case from the roster's)."""
    return {"id": f"29:{aad}", "aadObjectId": aad, "name": name, "email": email, "userPrincipalName": email.lower()}


LOPEZ = member("aad-lopez", "Lopez@District.org", "Maria Lopez")
KIM = member("aad-kim", "kim@district.org", "Dana Kim")
GUEST = member("aad-guest", "visitor@elsewhere.example", "A Visitor")


def import_roster(
    rig: TeamsRig,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *options: str,
) -> str:
    path = tmp_path / "staff.csv"
    path.write_text(STAFF, encoding="utf-8")
    args = _parser(rig.runtime.bot.features).parse_args(["roster", "import", str(path), *options])
    assert org_commands.run(args, rig.runtime) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def install_in_team(rig: TeamsRig, members: list[dict[str, Any]]) -> None:  # noqa: F811
    """The bot added to a team: Teams sends conversationUpdate with the bot among membersAdded."""
    rig.connector.members[TEAM] = members
    activity = {
        "type": "conversationUpdate",
        "id": f"act-{uuid.uuid4().hex[:10]}",
        "channelId": "msteams",
        "serviceUrl": rig.connector.service_url,
        "from": {"id": "29:aad-admin", "aadObjectId": "aad-admin"},
        "recipient": {"id": BOT, "name": "growthbot"},
        "conversation": {"id": TEAM, "conversationType": "channel", "isGroup": True, "tenantId": TENANT_ID},
        "membersAdded": [{"id": BOT}],
        "channelData": {
            "team": {"id": TEAM, "name": "Hillside Staff"},
            "eventType": "teamMemberAdded",
            "tenant": {"id": TENANT_ID},
        },
    }
    assert rig.post(activity) == 200


def in_chat(rig: TeamsRig, raw: dict[str, Any]):  # type: ignore[no-untyped-def]  # noqa: F811
    """The person's 1:1 chat with the bot, whose members the Connector knows (just them)."""
    person = rig.person(raw["aadObjectId"])
    rig.connector.members[person.conversation] = [raw]
    return person


def people(rig: TeamsRig) -> dict[str, Person]:  # noqa: F811
    with unit_of_work(rig.runtime.db) as repos:
        found = list(repos.session.scalars(select(Person)))
        repos.session.expunge_all()
    return {p.platform_user_id: p for p in found}


def wait_until(check, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not linked in time")
        time.sleep(0.02)


def test_roster_in_the_teams_workspace_linked_on_install_then_an_evaluator_observes_and_the_notice_arrives(
    rig: TeamsRig,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = import_roster(rig, tmp_path, capsys)  # Teams configured, Slack not: the tenant's workspace
    assert f"staff.csv: 3 people for Teams tenant {TENANT_ID}" in report
    assert "unmatched on Teams 3 (saved as pending; linked when they first appear in Teams)" in report
    assert set(people(rig)) == {"pending:lopez@district.org", "pending:kim@district.org", "pending:never@district.org"}

    install_in_team(rig, [LOPEZ, KIM, GUEST])
    wait_until(lambda: {"aad-lopez", "aad-kim"} <= set(people(rig)))
    stored = people(rig)
    assert stored["aad-lopez"].roles == ["evaluator"] and stored["aad-kim"].email == "kim@district.org"
    assert "aad-guest" not in stored  # not on the roster: nothing is kept about them
    assert "pending:never@district.org" in stored

    lopez = in_chat(rig, LOPEZ)
    assert "Scheduled #1: announced observation of **Dana Kim**" in text(
        lopez.say("/observe @kim@district.org Dec 1 10am")[-1]
    )
    tick = rig.runtime.ticker({"teams": rig.sender}).tick()
    assert tick.failed == 0 and tick.sent >= 1
    [created] = [c for c in rig.connector.of("create") if c.body["members"] == [{"id": "aad-kim"}]]
    kim_chat = next(c for c, body in rig.connector.conversations.items() if body is created.body)
    assert any("**Maria Lopez** will observe your class" in text(a) for a in rig.sent_to(kim_chat))

    again = import_roster(rig, tmp_path, capsys, "--platform", "teams")  # a re-import keeps the links
    assert "unchanged 3" in again and "unmatched on Teams 1 " in again and "never@district.org (line 4)" in again
    assert {"aad-lopez", "aad-kim"} <= set(people(rig))


def test_someone_not_on_the_roster_stays_a_guest(rig: TeamsRig, tmp_path: Path, capsys) -> None:  # noqa: F811
    import_roster(rig, tmp_path, capsys)
    guest = in_chat(rig, GUEST)
    guest.say("/settings show")
    stored = people(rig)["aad-guest"]
    assert stored.roles == [] and stored.email is None
    assert "Scheduled" not in text(guest.say("/observe @kim@district.org Dec 1 10am")[-1])  # no evaluator role
    assert sum(p.platform_user_id.startswith("pending:") for p in people(rig).values()) == 3


def test_an_email_on_two_teams_accounts_and_someone_who_never_appears_stay_pending_and_the_report_says_so(
    rig: TeamsRig,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import_roster(rig, tmp_path, capsys)
    twin = member("aad-kim-2", "KIM@district.org", "Dana Kim (second account)")
    with caplog.at_level(logging.INFO):
        install_in_team(rig, [LOPEZ, KIM, twin])
        wait_until(lambda: "aad-lopez" in people(rig))
        time.sleep(0.2)
    stored = people(rig)
    assert "pending:kim@district.org" in stored and "aad-kim" not in stored and "aad-kim-2" not in stored
    assert any("2 Teams accounts share their email" in r.getMessage() for r in caplog.records)
    assert not any("@" in r.getMessage() and "district.org" in r.getMessage() for r in caplog.records)

    report = import_roster(rig, tmp_path, capsys, "--dry-run")
    assert "unmatched on Teams 2 (saved as pending; linked when they first appear in Teams)" in report
    assert "  kim@district.org (line 3)" in report and "  never@district.org (line 4)" in report


def test_a_members_outage_at_install_is_logged_and_retried_and_nothing_is_lost(
    rig: TeamsRig,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import_roster(rig, tmp_path, capsys)
    rig.connector.fail_next(503, times=2, kind="members")  # both tries of the install's listing
    with caplog.at_level(logging.INFO):
        install_in_team(rig, [LOPEZ, KIM])
        wait_until(lambda: len(rig.connector.of("members!503")) == 2)
        time.sleep(0.2)
        assert not {"aad-lopez", "aad-kim"} & set(people(rig))  # nobody linked yet, nothing crashed
        assert any("retried later" in r.getMessage() for r in caplog.records)

        lopez = in_chat(rig, LOPEZ)  # her first message: the Connector gives her, she is linked before handling
        assert "Scheduled #1" in text(lopez.say("/observe @kim@district.org Dec 1 10am")[-1])
        assert people(rig)["aad-lopez"].roles == ["evaluator"]

        rig.clock.advance(timedelta(minutes=2))
        tick = rig.runtime.ticker({"teams": rig.sender}).tick()  # Kim's notice is due: the team is listed again
    assert tick.failed == 0 and tick.sent >= 1
    assert "aad-kim" in people(rig)
    [created] = [c for c in rig.connector.of("create") if c.body["members"] == [{"id": "aad-kim"}]]
    kim_chat = next(c for c, body in rig.connector.conversations.items() if body is created.body)
    assert len([a for a in rig.sent_to(kim_chat) if "will observe your class" in text(a)]) == 1
    assert not any("district.org" in r.getMessage() for r in caplog.records)


def test_someone_who_chatted_before_the_import_is_linked_on_their_next_message_and_keeps_their_settings(
    rig: TeamsRig,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kim = in_chat(rig, KIM)
    kim.say("/settings show")  # a guest row under her AAD id
    with unit_of_work(rig.runtime.db) as repos:
        guest = repos.session.scalar(select(Person).where(Person.platform_user_id == "aad-kim"))
        assert guest is not None
        guest.quiet_start, guest.quiet_end = "08:00", "16:00"
    import_roster(rig, tmp_path, capsys)
    assert {"aad-kim", "pending:kim@district.org"} <= set(people(rig))

    kim.say("/settings show")  # her next message: looked up, the guest row folded into her roster row
    stored = people(rig)
    assert "pending:kim@district.org" not in stored
    merged = stored["aad-kim"]
    assert (merged.email, merged.roles, merged.quiet_start, merged.quiet_end) == (
        "kim@district.org",
        ["teacher"],
        "08:00",
        "16:00",
    )
    assert len([p for p in stored.values() if p.display_name == "Dana Kim"]) == 1


def test_a_personal_install_links_the_person_who_installed_it(rig: TeamsRig, tmp_path: Path, capsys) -> None:  # noqa: F811
    import_roster(rig, tmp_path, capsys)
    kim = in_chat(rig, KIM)
    installed = kim.activity(type="installationUpdate", action="add")
    installed.pop("text", None)
    assert rig.post(installed) == 200
    wait_until(lambda: "aad-kim" in people(rig))
    assert people(rig)["aad-kim"].roles == ["teacher"]
    assert [c.kind for c in rig.connector.calls] == ["members"]  # one listing of the 1:1 chat, nothing said


def test_members_are_read_from_what_the_connector_gives() -> None:
    assert member_of(LOPEZ) == Member("aad-lopez", ("lopez@district.org",), "Maria Lopez")
    assert member_of({"id": BOT, "name": "growthbot"}) is None  # no AAD id: the bot, never linked
    assert member_of({"aadObjectId": "x", "userPrincipalName": "not-an-email"}) == Member("x", (), "")


def test_paged_members_follow_the_continuation_token(rig: TeamsRig) -> None:  # noqa: F811
    rig.connector.members[TEAM] = [member(f"aad-{n}", f"p{n}@district.org", f"P {n}") for n in range(7)]
    listed = rig.sender.connector.members(rig.connector.service_url, TEAM, page_size=3)
    assert [m["aadObjectId"] for m in listed] == [f"aad-{n}" for n in range(7)]
    assert len(rig.connector.of("members")) == 3
    assert rig.sender.connector.member(rig.connector.service_url, TEAM, "nobody") is None
    assert teams_store.linked_emails(rig.runtime.db, TENANT_ID) == {}


def test_someone_joining_a_team_later_is_asked_about_alone(rig: TeamsRig, tmp_path: Path, capsys) -> None:  # noqa: F811
    import_roster(rig, tmp_path, capsys)
    install_in_team(rig, [LOPEZ])
    wait_until(lambda: "aad-lopez" in people(rig))
    rig.connector.members[TEAM].append(KIM)
    joined = {
        "type": "conversationUpdate",
        "id": f"act-{uuid.uuid4().hex[:10]}",
        "channelId": "msteams",
        "serviceUrl": rig.connector.service_url,
        "from": {"id": "29:aad-admin", "aadObjectId": "aad-admin"},
        "recipient": {"id": BOT, "name": "growthbot"},
        "conversation": {"id": TEAM, "conversationType": "channel", "isGroup": True, "tenantId": TENANT_ID},
        "membersAdded": [{"id": "29:aad-kim", "aadObjectId": "aad-kim"}],
        "channelData": {"team": {"id": TEAM}, "eventType": "teamMemberAdded", "tenant": {"id": TENANT_ID}},
    }
    assert rig.post(joined) == 200
    wait_until(lambda: "aad-kim" in people(rig))
    assert [c.kind for c in rig.connector.calls] == ["members", "member"]  # the team once, then Kim alone


def test_links_that_would_be_wrong_are_left_alone(rig: TeamsRig, tmp_path: Path, capsys) -> None:  # noqa: F811
    import_roster(rig, tmp_path, capsys)
    db = rig.runtime.db
    assert teams_store.link_members(db, TENANT_ID, [Member("aad-lopez", ("lopez@district.org",))]) != []
    # Lopez's account reports Kim's email too (a shared mailbox): Kim is not given Lopez's account.
    assert teams_store.link_members(db, TENANT_ID, [Member("aad-lopez", ("kim@district.org",))]) == []
    # Another account claims Lopez's email: she stays linked to her own.
    assert teams_store.link_members(db, TENANT_ID, [Member("aad-other", ("lopez@district.org",))]) == []
    assert teams_store.link_members(db, "another-tenant", [Member("aad-kim", ("kim@district.org",))]) == []
    stored = people(rig)
    assert stored["aad-lopez"].email == "lopez@district.org" and "pending:kim@district.org" in stored
    assert teams_store.linked_emails(db, TENANT_ID) == {"lopez@district.org": "aad-lopez"}
