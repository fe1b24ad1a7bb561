"""/observe in the terminal harness, with the scheduler's tick called directly as the clock walks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.app import Runtime, assemble
from bot.settings import Settings
from scheduling.clock import FakeClock
from scheduling.tick import Ticker
from storage.database import Database
from storage.models import ClosedDay, SchoolYear
from storage.unit_of_work import unit_of_work
from tests.harness import Chat, Inbox

NY = ZoneInfo("America/New_York")
OVERDUE = "Overdue: written feedback for Dana Kim (#1)"


@dataclass
class Org:
    runtime: Runtime
    clock: FakeClock
    inbox: Inbox
    ticker: Ticker

    def chat(self, user: str) -> Chat:
        return Chat(self.runtime.bot, user=user)

    def walk_to(self, when: datetime, step: timedelta = timedelta(minutes=15)) -> None:
        """Tick now, then move the clock forward in steps, ticking at each, as the background tick would."""
        self.ticker.tick()
        while self.clock.now() < when:
            self.clock.advance(min(step, when - self.clock.now()))
            self.ticker.tick()


def person(repos, workspace_id: int, handle: str, name: str, roles: list[str], zone: str = "America/New_York"):  # type: ignore[no-untyped-def]
    found = repos.people.ensure(workspace_id, handle, datetime(2026, 9, 1, tzinfo=UTC), name, zone)
    found.roles = roles
    found.email = f"{handle}@demo.example"
    return found


@pytest.fixture
def org(db: Database, clock: FakeClock) -> Org:
    """Lopez evaluates Kim (New York) and Reyes (Los Angeles); Patel is evaluated by Okafor; Ames is an admin.

    The calendar closes Thanksgiving (Nov 26-27) and winter break.
    """
    with unit_of_work(db) as repos:
        ws = repos.workspaces.ensure("console", "local", clock.now())
        lopez = person(repos, ws.id, "lopez", "Maria Lopez", ["evaluator"])
        okafor = person(repos, ws.id, "okafor", "Ben Okafor", ["evaluator"])
        person(repos, ws.id, "ames", "Jo Ames", ["admin"])
        person(repos, ws.id, "cole", "Sam Cole", ["teacher"])
        kim = person(repos, ws.id, "kim", "Dana Kim", ["teacher"])
        reyes = person(repos, ws.id, "reyes", "Luis Reyes", ["teacher"], "America/Los_Angeles")
        patel = person(repos, ws.id, "patel", "Ana Patel", ["teacher"])
        repos.session.flush()
        kim.evaluator_id = reyes.evaluator_id = lopez.id
        patel.evaluator_id = okafor.id
        repos.session.add(SchoolYear(workspace_id=ws.id, name="2026-2027", first_day=date(2026, 8, 31),
                                     last_day=date(2027, 6, 17)))  # fmt: skip
        for day, label in [(date(2026, 11, 26), "Thanksgiving"), (date(2026, 11, 27), "Thanksgiving")] + [
            (date(2026, 12, 24) + timedelta(days=n), "Winter vacation") for n in range(9)
        ]:
            if day.weekday() < 5:
                repos.session.add(ClosedDay(workspace_id=ws.id, day=day, label=label))
    runtime = assemble(Settings(_env_file=None), db, clock)
    inbox = Inbox(clock)
    return Org(runtime, clock, inbox, runtime.ticker({"console": inbox}))


def test_announced_observation_notice_evidence_prompt_and_reminders_at_school_day_times(org: Org) -> None:
    """Monday Nov 23: Lopez schedules Kim for Tue Dec 1 10:00; feedback due in 5 school days (Tue Dec 8)."""
    reply = org.chat("lopez").say("/observe @kim Dec 1 10am announced 30")
    assert "Scheduled #1: announced observation of Dana Kim, 30 minutes." in reply
    assert "Tue Dec 1, 2026, 10:00 AM EST" in reply
    assert "Written feedback is due Tue Dec 8" in reply

    org.ticker.tick()  # 10:00 on a school day: both hear at once
    now = org.inbox.take()
    notice = next(item for item in now if item.to == "kim")
    assert "Maria Lopez will observe your class (announced observation #1)" in notice.text
    invite = Calendar.from_ical(notice.attachments[0]["content"])
    event = invite.walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert str(invite["method"]) == "REQUEST"
    assert any(item.to == "lopez" and "Calendar invite" in item.text for item in now)

    org.walk_to(datetime(2026, 12, 10, 23, 0, tzinfo=UTC))
    got = [(item.to, item.local.strftime("%a %b %-d %H:%M"), item.text.split("\n")[0]) for item in org.inbox.take()]
    assert got == [
        ("lopez", "Tue Dec 1 10:30", "Your announced observation of Dana Kim (#1) is over. While it is fresh, "
                                     "record what you saw:"),
        ("lopez", "Fri Dec 4 08:00", "Written feedback for Dana Kim (#1) is due in 2 school days (Tue Dec 8)."),
        ("lopez", "Mon Dec 7 08:00", "Due tomorrow (Tue Dec 8): written feedback for Dana Kim (#1)."),
        ("lopez", "Tue Dec 8 08:00", "Due today: written feedback for Dana Kim (#1)."),
        ("lopez", "Wed Dec 9 08:00", f"{OVERDUE} was due Tue Dec 8, 1 school day ago."),
        ("lopez", "Thu Dec 10 08:00", f"{OVERDUE} was due Tue Dec 8, 2 school days ago."),
    ]  # fmt: skip
    assert "Feedback overdue:\n- #1 Dana Kim" in org.chat("lopez").say("/observe list")


def test_feedback_shared_stops_reminders_and_the_teacher_can_acknowledge_or_reply(org: Org) -> None:
    lopez, kim = org.chat("lopez"), org.chat("kim")
    lopez.say("/observe @kim Dec 1 10am")
    assert "hasn't happened yet" in lopez.say("/observe evidence 1 II-A: questions")
    org.walk_to(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    org.inbox.take()

    assert "V-A is not in the rubric" in lopez.say("/observe evidence 1 V-A: something")
    assert "as general evidence" in lopez.say("/observe evidence 1 nice lesson")
    saved = lopez.say("/observe evidence 1 II-A: students explained their reasoning; [II-B] calm transitions")
    assert "Saved note 2" in saved and "tagged II-A Instruction, II-B Learning Environment" in saved
    assert "There is no feedback draft" in lopez.say("/observe share 1")
    draft = lopez.say("/observe feedback 1 Strong questioning <!channel>; next, try wait time.")
    assert "not shared yet" in draft
    assert org.inbox.take() == []  # a draft goes nowhere
    assert "Shared your feedback with Dana Kim" in lopez.say("/observe share 1")
    org.ticker.tick()
    shared = org.inbox.of("kim")
    assert len(shared) == 1 and "Strong questioning <!channel>; next, try wait time." in shared[0].text

    assert "Only the educator observed" in lopez.say("/observe ack 1")
    assert "Acknowledged #1" in kim.say("/observe ack 1")
    assert "Sent your reply on #1" in kim.say("/observe reply 1 Thanks, I'll try it Monday.")
    org.inbox.take()
    org.walk_to(datetime(2026, 12, 12, 0, 0, tzinfo=UTC))
    assert [item.text.split("\n")[0] for item in org.inbox.of("lopez")] == [
        "Dana Kim acknowledged your feedback on #1.",
        "Dana Kim replied to your feedback on #1:",
    ]
    assert "Feedback overdue" not in lopez.say("/observe list")


def test_unannounced_observation_is_hidden_from_the_teacher_until_it_is_over(org: Org) -> None:
    reply = org.chat("lopez").say("/observe kim Nov 24 1:30pm unannounced 20")
    assert "will not be told until the observation is over" in reply
    org.ticker.tick()
    assert org.inbox.of("kim") == []
    assert "You have no observation #1" in org.chat("kim").say("/observe show 1")
    assert "Observations of you" not in org.chat("kim").say("/observe list")
    org.walk_to(datetime(2026, 11, 24, 18, 50, tzinfo=UTC))  # 13:50 New York: the visit ends at 13:50
    after = org.inbox.of("kim")
    assert len(after) == 1 and "observed your class today" in after[0].text
    assert "Observations of you:\n- #1 unannounced by Maria Lopez" in org.chat("kim").say("/observe list")


def test_a_notice_scheduled_after_hours_waits_for_the_teachers_morning(org: Org) -> None:
    org.clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=UTC))  # Tue 18:30 New York, 15:30 Los Angeles
    reply = org.chat("lopez").say("/observe reyes Dec 2 10:00")
    assert "Luis Reyes gets a notice and a calendar invite now" in reply
    assert "Your calendar invite comes in a separate message at Wed Nov 25, 2026, 7:00 AM EST" in reply
    org.walk_to(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))
    notices = org.inbox.of("reyes")
    assert len(notices) == 1
    assert notices[0].at.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%a %H:%M") == "Tue 15:30"
    lopez = org.inbox.of("lopez")
    assert [item.local.strftime("%a %H:%M") for item in lopez] == ["Wed 07:00"]  # 18:30 is past Lopez's day


def test_times_are_confirmed_in_both_zones_and_a_weekday_says_which_date_it_took(org: Org) -> None:
    reply = org.chat("lopez").say("/observe @reyes Friday 1pm")  # Friday Nov 27 is Thanksgiving
    assert "Fri Nov 27, 2026 is not a school day. The next school day is Mon Nov 30, 2026" in reply
    reply = org.chat("lopez").say("/observe @reyes next Monday 1pm 45")
    assert "Mon Nov 30, 2026, 1:00 PM EST (Mon Nov 30, 2026, 10:00 AM PST for Luis Reyes)" in reply
    assert "That is the date I took" in reply
    assert "45 minutes" in reply


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/observe @kim yesterday 10am", "has already passed"),
        ("/observe @kim Dec 1 8pm", "is outside school hours"),
        ("/observe @kim Tuesday 10am", "needs 2 school days' notice, so the earliest day is Wed Nov 25"),
        ("/observe @nobody Dec 1 10am", 'I don\'t know "@nobody"'),
        ("/observe @patel Dec 1 10am", "Ana Patel is not one of your educators"),
        ("/observe @lopez Dec 1 10am", "You can't observe yourself"),
        ("/observe @kim Dec 1 10am 500", "from 5 to 240"),
        ("/observe @kim someday", "couldn't read"),
        ("/observe @kim", "Add when the observation is"),
        ("/observe show 99", "You have no observation #99"),
        ("/observe cancel", "Which observation?"),
    ],
)
def test_bad_input_gets_a_clear_message_and_saves_nothing(org: Org, line: str, expected: str) -> None:
    assert expected in org.chat("lopez").say(line)
    assert "Upcoming" not in org.chat("lopez").say("/observe list")


def test_admins_may_schedule_anyone_and_peers_may_visit_without_evaluating(org: Org) -> None:
    assert "Scheduled #1" in org.chat("ames").say("/observe @patel Dec 1 10am")
    reply = org.chat("cole").say("/observe @kim Dec 2 9am peer")
    assert "non-evaluative" in reply and "Written feedback is due" not in reply
    assert "Walkthroughs are scheduled by evaluators" in org.chat("cole").say("/observe @kim Dec 2 11am walkthrough")
    org.ticker.tick()
    assert "non-evaluative" in org.inbox.of("kim")[0].text


def test_double_booking_either_person_is_warned(org: Org) -> None:
    org.chat("lopez").say("/observe @kim Dec 1 10am 30")
    reply = org.chat("lopez").say("/observe @reyes Dec 1 10:15am 30")
    assert "Heads up: this overlaps #1 (Dana Kim with Maria Lopez" in reply


def test_move_and_cancel_update_both_people_and_stop_the_old_reminders(org: Org) -> None:
    lopez = org.chat("lopez")
    lopez.say("/observe @kim Dec 1 10am")
    org.ticker.tick()
    org.inbox.take()
    assert "Moved #1 (Dana Kim) to Wed Dec 2, 2026, 11:00 AM EST" in lopez.say("/observe move 1 Dec 2 11am")
    org.ticker.tick()
    updates = org.inbox.take()
    assert {item.to for item in updates} == {"kim", "lopez"}
    event = Calendar.from_ical(updates[0].attachments[0]["content"]).walk("VEVENT")[0]
    assert int(event["sequence"]) == 1
    assert event.decoded("dtstart") == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert "Cancelled #1" in lopez.say("/observe cancel 1")
    org.ticker.tick()
    cancels = org.inbox.take()
    assert {item.to for item in cancels} == {"kim", "lopez"}
    assert str(Calendar.from_ical(cancels[0].attachments[0]["content"])["method"]) == "CANCEL"
    org.walk_to(datetime(2026, 12, 12, tzinfo=UTC), step=timedelta(hours=1))
    assert org.inbox.take() == []  # no evidence prompt, no reminders for a cancelled visit


def test_the_guided_form_schedules_step_by_step(org: Org) -> None:
    lopez = org.chat("lopez")
    assert "What kind of visit is it?" in lopez.say("/observe")
    assert "Who will you observe?" in lopez.say("1")
    assert "is not one of your educators" in lopez.say("Ana Patel")
    assert "When?" in lopez.say("Dana Kim")
    assert "is not a school day" in lopez.say("Nov 27 9am")
    assert "How long" in lopez.say("Dec 1 9am")
    confirm = lopez.say("15 min")
    assert "Announced observation of Dana Kim, 15 minutes:\nTue Dec 1, 2026, 9:00 AM EST" in confirm
    assert "Scheduled #1: announced observation of Dana Kim, 15 minutes." in lopez.say("1")


def test_away_pauses_nudges_but_notices_wait(org: Org) -> None:
    kim = org.chat("kim")
    assert "Away until Wed Dec 2, 2026" in kim.say("/away until Dec 2")
    refused = org.chat("lopez").say("/observe @kim Dec 3 10am")
    assert "Dana Kim is away until" in refused and "the earliest day is Fri Dec 4" in refused
    assert "Scheduled #1" in org.chat("lopez").say("/observe @kim Dec 4 10am")
    org.walk_to(datetime(2026, 12, 2, 14, 0, tzinfo=UTC), step=timedelta(hours=1))
    notices = org.inbox.of("kim")
    assert [item.local.strftime("%a %b %-d %H:%M") for item in notices] == ["Wed Dec 2 07:00"]
    assert "I couldn't read" in kim.say("/away until whenever")
    assert "Welcome back" in kim.say("/away off")


def test_either_person_books_a_pre_conference_before_an_announced_observation(org: Org) -> None:
    org.chat("lopez").say("/observe @kim Dec 1 10am")
    kim = org.chat("kim")
    assert "must end before the observation starts" in kim.say("/observe preconf 1 Dec 1 9:50am")
    assert "Pre-conference for #1 booked: Mon Nov 30, 2026, 3:15 PM EST" in kim.say("/observe preconf 1 Nov 30 3:15pm")
    org.ticker.tick()
    invites = [item for item in org.inbox.take() if "Pre-conference for announced" in item.text]
    assert {item.to for item in invites} == {"kim", "lopez"}
    event = Calendar.from_ical(invites[0].attachments[0]["content"]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 11, 30, 20, 15, tzinfo=UTC)
    assert "Pre-conference: Mon Nov 30, 2026, 3:15 PM EST." in org.chat("lopez").say("/observe show 1")
    assert "You have no observation #1" in org.chat("patel").say("/observe preconf 1 Nov 30 3pm")


def test_export_observations_has_evidence_and_feedback(org: Org) -> None:
    from handlers.export import as_csv
    from handlers.observations.export import OBSERVATION_COLUMNS, observation_rows

    lopez = org.chat("lopez")
    lopez.say("/observe @kim Dec 1 10am")
    org.clock.set(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    lopez.say("/observe evidence 1 I-B: exit tickets checked mid-lesson")
    lopez.say("/observe feedback 1 Good checks for understanding.")
    rows = observation_rows(org.runtime.db)
    assert len(rows) == 1
    row = rows[0]
    assert row["teacher_email"] == "kim@demo.example" and row["mode"] == "announced"
    assert row["starts_at"] == "2026-12-01T15:00:00+00:00" and row["feedback_due"] == "2026-12-08"
    assert row["evidence"][0]["indicators"] == ["I-B"] and row["feedback"] == "Good checks for understanding."
    assert as_csv(rows, OBSERVATION_COLUMNS).splitlines()[0] == ",".join(OBSERVATION_COLUMNS)


def test_no_one_learns_of_an_unannounced_visit_early_through_a_double_booking_warning(org: Org) -> None:
    org.chat("lopez").say("/observe @kim Dec 1 10am unannounced 30")
    reply = org.chat("kim").say("/observe @cole Dec 1 10:10am peer")
    assert "Scheduled" in reply and "overlaps" not in reply and "Maria Lopez" not in reply
    org.chat("lopez").say("/observe cancel 1")
    org.clock.set(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    assert "You have no observation #1" in org.chat("kim").say("/observe show 1")  # cancelled: it never happened


def test_feedback_is_shared_only_after_the_visit_and_a_finished_one_cannot_be_cancelled(org: Org) -> None:
    lopez = org.chat("lopez")
    lopez.say("/observe @kim Nov 24 1:30pm unannounced 60")
    org.clock.set(datetime(2026, 11, 24, 18, 35, tzinfo=UTC))  # 13:35: the visit is on
    lopez.say("/observe evidence 1 II-A: live note")
    lopez.say("/observe feedback 1 Good start.")
    assert "is not over yet" in lopez.say("/observe share 1")
    org.clock.set(datetime(2026, 11, 24, 19, 31, tzinfo=UTC))
    assert "Shared your feedback" in lopez.say("/observe share 1")
    assert "already shared" in lopez.say("/observe cancel 1")


def test_booking_a_pre_conference_keeps_the_evidence_prompt_and_reminders(org: Org) -> None:
    org.chat("lopez").say("/observe @kim Dec 1 10am")
    org.chat("kim").say("/observe preconf 1 Nov 30 3:15pm")
    org.walk_to(datetime(2026, 12, 4, 14, 0, tzinfo=UTC), step=timedelta(minutes=30))
    texts = [item.text for item in org.inbox.of("lopez")]
    assert any("is over. While it is fresh" in text for text in texts)
    assert any("is due in 2 school days" in text for text in texts)
    org.chat("lopez").say("/observe cancel 1")  # the pre-conference is past; nothing to cancel there
    assert "Pre-conference cancelled" not in " ".join(i.text for i in org.inbox.take())


def test_peer_notes_stay_between_the_two_educators(org: Org) -> None:
    from handlers.observations.export import observation_rows

    org.chat("cole").say("/observe @kim Dec 2 9am peer")
    org.clock.set(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    org.chat("cole").say("/observe evidence 1 private note about questioning")
    shown = org.chat("ames").say("/observe show 1")
    assert "private note" not in shown
    assert observation_rows(org.runtime.db)[0]["evidence"] == []
