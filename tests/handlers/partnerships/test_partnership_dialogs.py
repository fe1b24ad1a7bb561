"""/partnership in the terminal harness: set-up, plan forms and import, monthly reminders with an agenda."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handlers.features import CliEnv
from handlers.partnerships.commands import run_import_plan
from handlers.partnerships.service import PartnershipService
from storage.database import Database
from tests.handlers.plc.harness import District, district, is_school_day

START = datetime(2026, 12, 14, 14, 0, tzinfo=UTC)  # Mon Dec 14, 09:00 in New York


@pytest.fixture
def town(db: Database) -> District:
    return district(db, START)


def new_partnership(town: District, leadership: str = "first Monday 3:30pm", channel: str = "skip") -> str:
    chat = town.chat("baker")
    chat.say("/partnership new")
    for answer in ("Riverside and State U", "Riverside Public Schools", "State University",
                   "@okafor: principal\n@patel: liaison", "1", "Every new teacher learned to teach here.",
                   leadership, "skip", "skip", channel):  # fmt: skip
        chat.say(answer)
    return chat.say("1")


def add_step(town: District, step: str, start: str, due: str, who: str = "@okafor", impact: str = "2",
             lift: str = "2") -> str:  # fmt: skip
    chat = town.chat("baker")
    chat.say("/partnership plan add")
    chat.say(step)
    chat.say(start)
    chat.say(due)
    reply = chat.say(who)
    if "not a member" in reply:
        return reply
    for answer in ("skip", "skip", "skip", "skip", impact, lift, "keep"):
        reply = chat.say(answer)
    return chat.say("1")


def test_set_up_members_roles_and_meetings(town: District) -> None:
    done = new_partnership(town)
    assert "Created Riverside and State U. Members: Jordan Baker (lead), Grace Okafor (principal), Priya Patel " \
           "(liaison)." in done  # fmt: skip
    assert "leadership meeting: first Monday 3:30pm" in done
    shown = town.chat("patel").say("/partnership show")
    assert "next Mon Jan 4, 3:30 PM" in shown  # Jan 4 2027 is the first Monday; it is a school day


def test_plan_form_refuses_a_stranger_and_a_due_date_before_the_start(town: District) -> None:
    new_partnership(town)
    assert "cole is not a member of the partnership" in add_step(town, "Recruit mentors", "Jan 4", "Jan 29", "@cole")
    chat = town.chat("baker")
    chat.say("cancel")
    chat.say("/partnership plan add")
    chat.say("Recruit mentors")
    chat.say("Jan 20")
    chat.say("Jan 8")
    for answer in ("@okafor", "skip", "skip", "skip", "skip", "1", "3", "keep"):
        chat.say(answer)
    refused = chat.say("1")
    assert "The due date, Fri Jan 8, is before the start, Wed Jan 20." in refused
    chat.say("Jan 29")  # the form stayed at the due date
    assert 'Added step #1 "Recruit mentors", due Fri Jan 29.' in chat.say("1")
    assert "done" in town.chat("baker").say("/partnership plan done 1")
    assert "There is no step #7" in town.chat("baker").say("/partnership plan done 7")


def import_plan(town: District, tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "plan.csv"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    env = CliEnv(town.runtime.db, town.clock.now(), "America/New_York", out, err)
    args = argparse.Namespace(file=path, partnership="", platform="console", workspace="local")
    code = run_import_plan(args, env, PartnershipService("America/New_York"))
    return code, out.getvalue() + err.getvalue()


def test_import_plan_is_all_or_nothing_with_line_and_column(town: District, tmp_path: Path) -> None:
    new_partnership(town)
    code, said = import_plan(town, tmp_path, "step,due\nRecruit,Jan 8\n")
    assert code == 1 and "line 1: missing column responsible" in said
    bad = "step,start,due,responsible,impact,lift\nRecruit,Jan 4,Jan 29,@okafor,1,3\nTrain,Jan 20,Jan 8,@cole,4,2\n"
    code, said = import_plan(town, tmp_path, bad)
    assert code == 1
    assert "line 3, column due: Jan 8 is before the start, Jan 20" in said
    assert "line 3, column responsible: @cole is not a member of the partnership" in said
    assert "line 3, column impact: should be 1 (high), 2 (moderate) or 3 (lower)" in said
    assert "Nothing was imported." in said
    assert "no action steps yet" in town.chat("baker").say("/partnership plan")
    code, said = import_plan(town, tmp_path, bad.replace("Jan 20,Jan 8,@cole,4", "Jan 4,Feb 8,@patel,2"))
    assert code == 0 and "Imported 2 action steps" in said


PLAN = (
    "step,start,due,responsible,impact,lift,status\n"
    "Sign the compact,2026-11-02,2026-12-01,@baker,1,3,done\n"
    "Review pipeline data,2026-11-02,2026-12-10,@okafor,1,2,in progress\n"
    "Agree on selection criteria,2026-11-16,2026-12-22,@patel,1,2,not started\n"
    "Set up liaison calendar,2026-12-14,2027-01-12,@baker,1,3,not started\n"
    "Align methods course,2027-01-04,2027-03-01,@okafor,2,1,not started\n"
)


def test_a_month_of_reminders_with_an_agenda_of_real_overdue_steps(town: District, tmp_path: Path) -> None:
    new_partnership(town)
    assert import_plan(town, tmp_path, PLAN)[0] == 0
    end = datetime(2027, 2, 2, 5, 0, tzinfo=UTC)
    planned = town.preview(town.clock.now(), end)
    town.walk_to(end)
    got = town.inbox.take()
    sent = [(i.to, i.local.strftime("%a %b %-d %H:%M")) for i in got]
    assert [(who, when) for who, when, _ in planned] == sent
    reminders = [(i.to, i.local.strftime("%a %b %-d %H:%M")) for i in got if "Agenda" in i.text]
    members = ("baker", "okafor", "patel")
    # Mon Jan 4 meeting: 5 school days before is Thu Dec 17 (winter break closes Dec 24 to Jan 1)
    # Mon Feb 1 meeting: Mon Jan 25; mornings at 07:30
    assert reminders == [(m, "Thu Dec 17 08:00") for m in members] + [(m, "Mon Jan 4 07:30") for m in members] + [
        (m, "Mon Jan 25 08:00") for m in members] + [(m, "Mon Feb 1 07:30") for m in members]  # fmt: skip
    first = next(i for i in got if "Agenda" in i.text and i.to == "okafor")
    assert first.first_line == "Coming up: Riverside and State U leadership meeting, Mon Jan 4 at 3:30 PM."
    overdue = first.text.split("1. Overdue steps")[1].split("2.")[0]
    assert "#2 Review pipeline data: Grace Okafor, due Thu Dec 10 (in progress)" in overdue
    assert "#1" not in overdue and "#3" not in overdue  # done; not due yet on Dec 17
    assert "#4 Set up liaison calendar: Jordan Baker" in first.text.split("5. High impact, low lift")[1]
    asked = [i for i in got if i.to == "baker" and i.first_line.startswith("How did the")]
    assert [i.local.strftime("%a %b %-d %H:%M") for i in asked] == ["Mon Jan 4 16:30", "Mon Feb 1 16:30"]
    nudges = [(i.to, i.local.strftime("%a %b %-d")) for i in got if i.first_line.startswith("Reminder from")]
    assert nudges == [("patel", "Mon Dec 21"), ("baker", "Mon Jan 11")]
    assert all(is_school_day(i.local.date()) and 7 <= i.local.hour < 18 for i in got)


def test_reminders_go_to_the_partnership_channel_once_when_it_has_one(town: District) -> None:
    done = new_partnership(town, channel="#riverside-partnership")
    assert "A reminder is posted in #riverside-partnership 5 school days before each meeting" in done
    assert "invite me there with /invite @growthbot" in done
    town.walk_to(datetime(2027, 1, 5, 5, 0, tzinfo=UTC))
    got = town.inbox.take()
    agendas = [(i.to, i.local.strftime("%a %b %-d %H:%M")) for i in got if "Agenda" in i.text]
    assert agendas == [("#riverside-partnership", "Thu Dec 17 08:00"), ("#riverside-partnership", "Mon Jan 4 07:30")]
    asked = [i.to for i in got if i.first_line.startswith("How did the")]
    assert asked == ["baker"]  # the lead's notes form stays in the lead's DM


def test_a_meeting_on_a_holiday_moves_and_the_reminder_says_so(town: District) -> None:
    new_partnership(town, "third Monday 3:30pm")  # Jan 18 is Martin Luther King Jr. Day
    town.walk_to(datetime(2027, 1, 19, 23, 0, tzinfo=UTC))
    morning = [i for i in town.inbox.take() if i.to == "patel" and i.first_line.startswith("Today:")
               and i.local.month == 1]  # fmt: skip
    assert morning[0].local.strftime("%a %b %-d %H:%M") == "Tue Jan 19 07:30"
    assert "Moved from Mon Jan 18 (Martin Luther King Jr. Day): there is no school that day." in morning[0].text


def test_notes_after_the_meeting_feed_the_next_agenda(town: District, tmp_path: Path) -> None:
    new_partnership(town)
    import_plan(town, tmp_path, PLAN)
    chat = town.chat("baker")
    chat.say("/partnership notes")
    for answer in ("Dec 14", "Pipeline data", "Pilot two placements at Hillside", "Draft criteria", "2 done"):
        chat.say(answer)
    assert "Updated: #2 done" in chat.say("1")
    agenda = town.chat("okafor").say("/partnership agenda")
    assert "Decisions: Pilot two placements at Hillside" in agenda
    assert "#2" not in agenda.split("2. Due before")[0]
