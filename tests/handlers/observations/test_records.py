"""Observation records a district can run a year on: history that never overwrites, notice that holds,
invites that keep secrets, evidence as the teacher sees it, visits logged after the fact, small misses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from handlers.observations.export import observation_rows
from storage.unit_of_work import unit_of_work
from tests.handlers.observations.test_observe_dialogs import Org

AFTER_VISIT = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Tue Dec 1, 11:00 New York: the 10:00 visit is over


def shared_visit(org: Org, feedback: str = "Strong questioning.") -> None:
    """#1: Lopez observes Kim Dec 1 10:00, notes evidence, shares feedback; the clock is after the visit."""
    lopez = org.chat("lopez")
    lopez.say("/observe @kim Dec 1 10am")
    org.clock.set(AFTER_VISIT)
    lopez.say("/observe evidence 1 II-A: students explained their reasoning")
    lopez.say(f"/observe feedback 1 {feedback}")
    lopez.say("/observe share 1")
    org.ticker.tick()


# -- 1. records that never overwrite -------------------------------------------------------------------


def test_a_second_reply_is_added_to_the_thread_and_show_gives_all_of_it(org: Org) -> None:
    shared_visit(org)
    kim = org.chat("kim")
    kim.say("/observe reply 1 Thanks, I'll try it Monday.")
    org.clock.advance(timedelta(hours=1))
    kim.say("/observe reply 1 Update: it worked with group B.")
    for viewer in ("kim", "lopez"):
        shown = org.chat(viewer).say("/observe show 1")
        assert "Dana Kim: replied: Thanks, I'll try it Monday." in shown
        assert "Dana Kim: replied: Update: it worked with group B." in shown
    assert "shared feedback version 1" in org.chat("lopez").say("/observe show 1")


def test_feedback_versions_are_kept_and_a_change_after_sharing_tells_the_teacher(org: Org) -> None:
    lopez = org.chat("lopez")
    lopez.say("/observe @kim Dec 1 10am")
    org.clock.set(AFTER_VISIT)
    lopez.say("/observe feedback 1 First draft.")
    lopez.say("/observe feedback 1 Second draft.")
    lopez.say("/observe share 1")
    org.ticker.tick()
    org.inbox.take()
    assert "Sent version 3" in lopez.say("/observe feedback 1 Corrected: wait time was 3 seconds.")
    org.ticker.tick()
    told = org.inbox.of("kim")
    assert len(told) == 1 and "revised the written feedback" in told[0].text and "version 3" in told[0].text
    history = lopez.say("/observe show 1")
    assert "feedback version 1: First draft." in history and "feedback version 2: Second draft." in history
    teacher = org.chat("kim").say("/observe show 1")
    assert "Second draft." in teacher and "Corrected: wait time" in teacher and "First draft." not in teacher


# -- 2. notice and secrecy -----------------------------------------------------------------------------


def test_an_announced_visit_during_or_just_after_time_away_is_refused_naming_the_earliest_day(org: Org) -> None:
    org.chat("kim").say("/away until Dec 10")
    refused = org.chat("lopez").say("/observe @kim Dec 9 10am announced")
    assert "Dana Kim is away until Thu Dec 10, 2026, 12:00 AM EST" in refused
    assert "a notice would reach them only at Thu Dec 10, 2026, 7:00 AM EST" in refused
    assert "the earliest day is Mon Dec 14" in refused
    assert "Upcoming" not in org.chat("lopez").say("/observe list")
    assert "Scheduled #1" in org.chat("lopez").say("/observe @kim Dec 14 10am announced")
    assert "Scheduled #2" in org.chat("lopez").say("/observe @kim Dec 9 10am unannounced")  # no notice owed


def test_notice_counts_from_the_teachers_working_day(org: Org) -> None:
    org.clock.set(datetime(2026, 11, 23, 23, 30, tzinfo=UTC))  # Mon 18:30: Kim's notice waits for Tue 07:00
    refused = org.chat("lopez").say("/observe @kim Nov 25 10am")
    assert "A notice would reach Dana Kim only at Tue Nov 24, 2026, 7:00 AM EST" in refused
    assert "the earliest day is Thu Nov 26" not in refused and "the earliest day is Mon Nov 30" in refused


@pytest.mark.parametrize("mode", ["announced", "unannounced", "peer", "walkthrough"])
def test_each_invite_imports_with_the_method_and_attendees_its_secrecy_allows(org: Org, mode: str) -> None:
    observer = "cole" if mode == "peer" else "lopez"
    with unit_of_work(org.runtime.db) as repos:
        cole = repos.people.find(1, "cole")
        assert cole is not None
        cole.roles = ["teacher", "plc_lead"]
    assert "Scheduled #1" in org.chat(observer).say(f"/observe @kim Dec 2 10am {mode}")
    org.chat(observer).say("/observe move 1 Dec 3 10am")
    org.chat(observer).say("/observe cancel 1")
    org.ticker.tick()
    invites = [(item.to, a["content"]) for item in org.inbox.take() for a in item.attachments]
    assert invites
    for to, content in invites:
        calendar = Calendar.from_ical(content)
        event = calendar.walk("VEVENT")[0]
        attendees = event.get("attendee")
        attendees = [] if attendees is None else attendees if isinstance(attendees, list) else [attendees]
        if mode in ("unannounced", "walkthrough"):
            assert to == observer
            assert str(calendar["method"]) == "PUBLISH"
            assert attendees == [] and event.get("organizer") is None and "RSVP" not in content
        else:
            assert str(calendar["method"]) in ("REQUEST", "CANCEL")
            assert [str(a) for a in attendees] == ["mailto:kim@demo.example"]


def test_invite_uids_carry_a_random_id_of_the_install(org: Org) -> None:
    org.chat("lopez").say("/observe @kim Dec 2 10am")
    org.ticker.tick()
    uids = {
        str(Calendar.from_ical(a["content"]).walk("VEVENT")[0]["uid"]) for i in org.inbox.take() for a in i.attachments
    }
    with unit_of_work(org.runtime.db) as repos:
        install = repos.observations.install_id(org.clock.now())
    assert len(install) == 16 and uids == {f"observation-1-{install}@growthbot"}


# -- 3. evidence as the teacher sees it ----------------------------------------------------------------


def test_the_teacher_sees_evidence_and_ratings_only_with_the_shared_feedback(org: Org) -> None:
    lopez, kim = org.chat("lopez"), org.chat("kim")
    lopez.say("/observe @kim Dec 1 10am")
    org.clock.set(AFTER_VISIT)
    saved = lopez.say("/observe evidence 1 II-A-1: the lesson's aim was on the board")
    assert "tagged II-A Instruction (elements II-A-1)" in saved
    assert "as general evidence" in lopez.say("/observe evidence 1 students arrived late from lunch")
    assert "not a level of the rubric" in lopez.say("/observe rate 1 II-A Great")
    assert "not an indicator" in lopez.say("/observe rate 1 V-Z Proficient")
    assert "Rated II-A Instruction: Proficient" in lopez.say("/observe rate 1 ii-a proficient")
    lopez.say("/observe feedback 1 Clear aims.")
    before = kim.say("/observe show 1")
    assert "the lesson's aim" not in before and "Proficient" not in before and "Clear aims." not in before
    lopez.say("/observe share 1")
    org.ticker.tick()
    notice = org.inbox.of("kim")[0].text
    assert "1. II-A-1: the lesson's aim was on the board (Instruction)" in notice
    assert "2. students arrived late from lunch (general evidence)" in notice
    assert "II-A Instruction: Proficient" in notice
    after = kim.say("/observe show 1")
    assert "II-A-1: the lesson's aim was on the board (Instruction)" in after and "Proficient" in after
    assert after.count("II-A-1") == 1  # the code is shown once, as written


def test_evidence_can_be_edited_or_removed_before_sharing_and_the_history_keeps_the_old_text(org: Org) -> None:
    lopez = org.chat("lopez")
    lopez.say("/observe @kim Dec 1 10am")
    org.clock.set(AFTER_VISIT)
    lopez.say("/observe evidence 1 II-B: calm transitons")
    lopez.say("/observe evidence 1 I-B: exit tickets")
    assert "Changed note 1" in lopez.say("/observe evidence 1 edit 1 II-B: calm transitions")
    assert "Removed note 2" in lopez.say("/observe evidence 1 remove 2")
    assert 'has no note "7"' in lopez.say("/observe evidence 1 edit 7 II-A: x")
    shown = lopez.say("/observe show 1")
    assert "1. II-B: calm transitions (Learning Environment)" in shown and "2. I-B" not in shown
    assert "note 1: II-B: calm transitons" in shown and "removed note 2" in shown
    lopez.say("/observe feedback 1 Good routines.")
    lopez.say("/observe share 1")
    assert "can't be changed now" in lopez.say("/observe evidence 1 edit 1 II-B: other")
    assert "can't be changed now" in lopez.say("/observe evidence 1 II-A: late note")
    assert "can't be changed now" in lopez.say("/observe rate 1 II-B Exemplary")
    assert "calm transitions" in org.chat("kim").say("/observe show 1")


# -- 4. visits after the fact --------------------------------------------------------------------------


def test_a_walkthrough_is_logged_after_the_fact_and_the_after_visit_steps_start_at_once(org: Org) -> None:
    lopez = org.chat("lopez")
    logged = lopez.say("/observe log @kim Friday 10am walkthrough 15")  # Mon Nov 23: last Friday, Nov 20
    assert "Logged #1: walkthrough visit to Dana Kim, Fri Nov 20, 2026, 10:00 AM EST, 15 minutes" in logged
    org.ticker.tick()
    told = org.inbox.of("kim")
    assert len(told) == 1 and "did a walkthrough in your class on" in told[0].text
    assert "Saved note 1" in lopez.say("/observe evidence 1 looked for: student talk")
    lopez.say("/observe feedback 1 Lots of partner talk.")
    assert "Shared your notes" in lopez.say("/observe share 1")


def test_an_unannounced_visit_logged_yesterday_owes_feedback(org: Org) -> None:
    org.clock.set(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    logged = org.chat("lopez").say("/observe log @kim yesterday 9:30am unannounced 20")
    assert "Logged #1" in logged and "Written feedback is due" in logged
    assert "Evidence missing:\n- #1 Dana Kim" in org.chat("lopez").say("/observe list")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/observe log @kim tomorrow 10am walkthrough", "hasn't happened yet"),
        ("/observe log @kim today 9:50am walkthrough 30", "is not over yet"),
        ("/observe log @kim yesterday 10am announced", "is planned ahead, not logged"),
        ("/observe log @kim yesterday 10am", "Log a visit that already happened like this"),
        ("/observe log @kim Saturday 10am walkthrough", "is not a school day"),
    ],
)
def test_logging_a_visit_refuses_what_cannot_be_logged(org: Org, line: str, expected: str) -> None:
    assert expected in org.chat("lopez").say(line)
    assert "#1" not in org.chat("lopez").say("/observe list")


# -- 6. small misses -----------------------------------------------------------------------------------


def test_what_time_on_a_day_accepts_a_time_alone(org: Org) -> None:
    lopez = org.chat("lopez")
    lopez.say("/observe")
    lopez.say("1")
    lopez.say("Dana Kim")
    assert "What time on Fri Dec 4, 2026?" in lopez.say("Fri Dec 4")
    assert "How long" in lopez.say("10:15")
    assert "Fri Dec 4, 2026, 10:15 AM EST" in lopez.say("30")


def test_a_past_day_without_a_time_is_refused_not_asked_about(org: Org) -> None:
    reply = org.chat("lopez").say("/observe @kim 11/20")
    assert "has already passed" in reply and "What time" not in reply


def test_peer_visit_wording(org: Org) -> None:
    assert "A peer visit needs 2 school days' notice" in org.chat("cole").say("/observe @kim Nov 24 10am peer")
    assert "An announced visit needs" in org.chat("lopez").say("/observe @kim Nov 24 10am")
    assert "You can write feedback once it has started" in (
        org.chat("lopez").say("/observe @kim Dec 1 10am") and org.chat("lopez").say("/observe feedback 1 x")
    )
    org.chat("cole").say("/observe @kim Dec 2 9am peer")
    org.ticker.tick()
    notice = org.inbox.of("kim")[-1].text
    assert "will visit your class for a peer observation (#2)" in notice and "a peer (" not in notice


def test_a_moved_peer_visit_reads_as_moved(org: Org) -> None:
    org.chat("cole").say("/observe @kim Dec 2 9am peer")
    org.ticker.tick()
    org.inbox.take()
    org.chat("cole").say("/observe move 1 Dec 3 9am")
    org.ticker.tick()
    moved = org.inbox.of("kim")[0].text
    assert "Sam Cole moved their peer visit (#1) to a new time: Thu Dec 3, 2026, 9:00 AM EST" in moved


def test_a_peer_visit_overlapping_an_announced_one_is_warned_without_its_details(org: Org) -> None:
    org.chat("lopez").say("/observe @kim Dec 1 10am announced 30")
    reply = org.chat("cole").say("/observe @kim Dec 1 10:15am peer")
    assert "Heads up: Dana Kim already has a visit booked then (Tue Dec 1, 2026, 10:00 AM EST)" in reply
    assert "Maria Lopez" not in reply


def test_exports_carry_names_emails_and_a_derived_status(org: Org) -> None:
    lopez = org.chat("lopez")
    lopez.say("/observe @kim Dec 1 10am")  # 1: will be shared and acknowledged
    lopez.say("/observe @reyes Dec 1 1pm")  # 2: over, feedback due
    lopez.say("/observe @kim Dec 2 1pm")  # 3: cancelled
    lopez.say("/observe @reyes Dec 10 1pm")  # 4: still ahead
    org.chat("cole").say("/observe @kim Dec 1 2pm peer")  # 5: over, non-evaluative: happened
    lopez.say("/observe cancel 3")
    org.clock.set(datetime(2026, 12, 1, 20, 0, tzinfo=UTC))
    lopez.say("/observe feedback 1 Fine.")
    lopez.say("/observe share 1")
    org.chat("kim").say("/observe ack 1")
    rows = observation_rows(org.runtime.db, org.clock.now())
    assert [row["status"] for row in rows] == ["acknowledged", "feedback due", "cancelled", "scheduled", "happened"]
    assert rows[0]["teacher"] == "Dana Kim" and rows[0]["observer_email"] == "lopez@demo.example"
    org.clock.set(datetime(2026, 12, 1, 15, 30, tzinfo=UTC))
    assert observation_rows(org.runtime.db, org.clock.now())[1]["status"] == "scheduled"


def test_deactivating_someone_lists_and_cancels_their_visits_ahead_with_notices(org: Org) -> None:
    from bot.org_commands import _leaver
    from handlers.org.roster import console_directory, set_active

    org.chat("lopez").say("/observe @kim Dec 1 10am")
    org.ticker.tick()
    org.inbox.take()
    said = set_active(org.runtime.db, org.clock, console_directory("console", "local"), "kim@demo.example", False,
                      _leaver(org.runtime.settings))  # fmt: skip
    assert "Deactivated Dana Kim" in said and "cancelled #1 announced visit, Dana Kim with Maria Lopez" in said
    org.ticker.tick()
    assert [item.to for item in org.inbox.take()] == ["lopez"]  # the observer is told; the leaver is not
    assert "Upcoming" not in org.chat("lopez").say("/observe list")
    assert "Reactivated" in set_active(org.runtime.db, org.clock, console_directory("console", "local"),
                                       "kim@demo.example", True)  # fmt: skip
