"""/plc in the terminal harness: a team set up by its lead, check-ins on the cadence, the log form, history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.database import Database
from tests.handlers.plc.harness import NY, District, district

MONDAY = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # Mon Nov 30, 09:00 in New York


@pytest.fixture
def town(db: Database) -> District:
    return district(db, MONDAY)


def new_team(town: District, cadence: str = "every Wednesday 3:15pm") -> str:
    chat = town.chat("rivera")
    chat.say("/plc new")
    chat.say("Grade 4 literacy PLC")
    chat.say("Hillside Elementary")
    chat.say("@nguyen, @kim")
    chat.say("#grade4-plc")
    chat.say(cadence)
    chat.say("Unit 3 fractions check, Dec 7, Dec 8")
    return chat.say("1")


def test_lead_sets_up_a_team_and_a_bad_cadence_lists_the_forms_that_work(town: District) -> None:
    chat = town.chat("rivera")
    chat.say("/plc new")
    for answer in ("Grade 4 literacy PLC", "Hillside Elementary", "@nguyen, @kim", "#grade4-plc"):
        chat.say(answer)
    refused = chat.say("whenever we can")
    assert 'I can\'t read "whenever we can" as a meeting cadence' in refused
    assert "every other Wednesday 3:15pm" in refused and "first and third Monday at 3" in refused
    chat.say("every other Wednesday 3:15pm")
    chat.say("Unit 3 fractions check, Dec 7, Dec 8")
    done = chat.say("1")
    assert "Created Grade 4 literacy PLC: meets every other Wednesday at 3:15 PM" in done
    assert "Members: Ana Rivera, Linh Nguyen, Joon Kim." in done
    assert "Next meetings: Wed Dec 2, 3:15 PM; Wed Dec 16, 3:15 PM; Wed Jan 13, 3:15 PM." in done  # Dec 30: vacation
    assert "Unit 3 fractions check: reviewed at the meeting on Wed Dec 16" in done
    assert "invite me there with /invite @growthbot" in done


def test_a_teacher_cannot_set_up_a_team(town: District) -> None:
    assert "Only PLC leads and admins set up teams" in town.chat("cole").say("/plc new")


def test_check_in_reminder_missed_and_history(town: District) -> None:
    new_team(town)
    town.walk_to(datetime(2026, 12, 4, 23, 0, tzinfo=UTC))
    items = town.inbox.take()
    got = [(i.to, i.local.strftime("%a %b %-d %H:%M"), i.first_line) for i in items]
    [posted] = [i for i in items if i.to == "#grade4-plc"]
    assert posted.text.endswith("Log data review: type /plc log Grade 4 literacy PLC")  # the button, to type
    window = (
        "Coming up for Grade 4 literacy PLC: Unit 3 fractions check is given Mon Dec 7 to Tue Dec 8. The team "
        "reviews it at the meeting on Wed Dec 9."
    )
    checkin = "PLC check-in for Grade 4 literacy PLC, Wed Dec 2 at 3:15 PM."
    assert got == [
        ("rivera", "Wed Dec 2 08:00", window),
        ("nguyen", "Wed Dec 2 08:00", window),
        ("kim", "Wed Dec 2 08:00", window),  # three school days before the window opens
        ("#grade4-plc", "Wed Dec 2 15:15", checkin),  # posted once in the team's channel
        (
            "rivera",
            "Wed Dec 2 16:30",
            "The Grade 4 literacy PLC data review from Wed Dec 2 isn't logged yet. Type "
            "/plc log to add it; if it's still missing by the end of the next school day, "
            "it will show as missed in /plc history.",
        ),
    ]  # one reminder, to the lead only; marked missed at the end of Thu Dec 3, with no message
    history = town.chat("kim").say("/plc history")
    assert "Missed check-ins (no review logged): Wed Dec 2" in history
    assert "No reviews logged yet." in history


def test_the_channel_post_keeps_the_districts_hours_not_the_away_or_hours_of_its_lead(town: District) -> None:
    new_team(town)
    town.chat("rivera").say("/away until Dec 4")
    with town.repos() as repos:  # the lead's own hours end at 2pm; the team still meets at 3:15
        lead = repos.people.find(town.workspace_id, "rivera")
        lead.quiet_start, lead.quiet_end = "07:00", "14:00"
    planned = [
        (who, when) for who, when, _kind in town.preview(town.clock.now(), datetime(2026, 12, 3, 5, 0, tzinfo=UTC))
    ]
    assert ("#grade4-plc", "Wed Dec 2 15:15") in planned
    town.walk_to(datetime(2026, 12, 2, 21, 0, tzinfo=UTC))
    posts = [i.local.strftime("%a %b %-d %H:%M") for i in town.inbox.take() if i.to == "#grade4-plc"]
    assert posts == ["Wed Dec 2 15:15"]


def log_review(town: District, user: str = "rivera", tier3: str = "5", steps: str = "") -> str:
    chat = town.chat(user)
    chat.say("/plc log")
    chat.say("keep")  # the team
    chat.say("Unit 3 fractions check")
    chat.say("Dec 8")
    chat.say("80")
    chat.say("62%")
    chat.say("14")
    reply = chat.say(tier3)
    if "Tier 3" not in reply and "more than the" in reply:
        return reply
    chat.say("English learners")
    reply = chat.say(steps or "Reteach fractions on a number line; @nguyen; Dec 15")
    if "Line 1" in reply:
        return reply
    return chat.say("1")


def test_log_form_saves_a_review_closes_the_check_in_and_nudges_the_step_owner(town: District) -> None:
    new_team(town)
    town.walk_to(datetime(2026, 12, 9, 20, 20, tzinfo=UTC))  # Wed Dec 9 15:20, just after the meeting's check-in
    town.inbox.take()
    done = log_review(town)
    assert "Logged the Grade 4 literacy PLC review of Unit 3 fractions check: 62% of 80 students at or above " \
           "target; Tier 2: 14, Tier 3: 5." in done  # fmt: skip
    assert "Reteach fractions on a number line: Linh Nguyen, due Tue Dec 15" in done
    town.walk_to(datetime(2026, 12, 15, 23, 0, tzinfo=UTC))
    got = [(i.to, i.local.strftime("%a %b %-d %H:%M"), i.first_line) for i in town.inbox.take()
           if "check-in" not in i.first_line]  # fmt: skip
    assert got == [("nguyen", "Mon Dec 14 08:00", 'Reminder from Grade 4 literacy PLC: your next step "Reteach '
                                                  'fractions on a number line" is due Tue Dec 15.')]  # fmt: skip
    history = town.chat("rivera").say("/plc history fractions")
    assert "Unit 3 fractions check: 62%" in history
    assert "Wed Dec 9" not in history.split("Missed check-ins")[-1] or "Missed" not in history


def test_bad_counts_and_owners_are_refused_and_the_form_stays_at_its_question(town: District) -> None:
    new_team(town)
    chat = town.chat("rivera")
    chat.say("/plc log")
    chat.say("keep")
    chat.say("Unit 3 fractions check")
    chat.say("Dec 1")
    chat.say("20")
    over = chat.say("140%")
    assert "140 is out of range: type a number from 0 to 100." in over
    chat.say("60")
    chat.say("15")
    too_many = chat.say("9")
    assert "24 students needing Tier 2 or Tier 3 intervention is more than the 20 assessed" in too_many
    assert "Tier 3" in too_many
    chat.say("5")
    chat.say("skip")
    stranger = chat.say("Small groups; @cole; Dec 15")
    assert "Line 1: @cole is not on this team. Owners must be members: Ana Rivera, Linh Nguyen, Joon Kim." in stranger
    saved = chat.say("Small groups; Kim; Dec 15")
    assert "Submit" in saved or "Log review" in saved


def test_the_same_review_twice_is_logged_once(town: District) -> None:
    new_team(town)
    town.clock.set(datetime(2026, 12, 9, 21, 0, tzinfo=UTC))
    assert "Logged the" in log_review(town)
    again = log_review(town)
    assert again.startswith("That review is already logged")
    assert "That review is already logged for Grade 4 literacy PLC" in again


def test_schedule_upcoming_agrees_with_what_the_tick_then_sends(town: District) -> None:
    new_team(town, "first and third Monday at 3")
    start, end = town.clock.now(), datetime(2027, 1, 31, 5, 0, tzinfo=UTC)
    planned = town.preview(start, end)
    town.walk_to(end)
    handles = {"rivera", "nguyen", "kim", "#grade4-plc"}
    sent = [(i.to, i.local.strftime("%a %b %-d %H:%M")) for i in town.inbox.take() if i.to in handles]
    assert [(who, when) for who, when, _kind in planned] == sent
    assert len(sent) == 3 + 3 + 3  # check-ins Dec 7, Dec 21, Jan 4 (not Jan 18: MLK), 3 reminders, the window
    assert all(NY.key for _ in sent)
