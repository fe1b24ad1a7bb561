"""`/goal` and its subcommands: start the coach, list, show and reopen one's own goals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.engine import State
from handlers.features import Invocation, Port
from handlers.goals.check import answers_from, critique_message
from handlers.goals.dates import spoken
from handlers.goals.flow import PARTS, GoalCoach, state_from_goal
from handlers.goals.plan import GoalPlan
from handlers.goals.reader import critique
from handlers.goals.statement import GOAL_TYPES, compose, readable_date
from handlers.messages import Outbound, Reply
from storage.goals import GoalPlans
from storage.models import Goal, Person
from storage.unit_of_work import ConversationKey, Repos

USAGE = "goals/usage"


def goal_summary(goal: Goal) -> dict[str, object]:
    return {
        "id": goal.id,
        "type": GOAL_TYPES.get(goal.goal_type or "", "Type not chosen yet"),
        "status": goal.status,
        "by": readable_date(goal.completion_date.isoformat()) if goal.completion_date else "",
        "headline": (goal.specific or goal.data_reviewed or "")[:120],
    }


class GoalCommands:
    def __init__(self, port: Port, plan: GoalPlan) -> None:
        self.port = port
        self.plan = plan

    def run(self, invocation: Invocation) -> Reply:
        repos, person, key, args, now = (invocation.repos, invocation.person, invocation.key, invocation.args,
                                         invocation.now)  # fmt: skip
        words = args.split()
        verb = words[0].lower() if words else "new"
        if verb in ("new", "start"):
            return self.new(repos, person, key, now)
        if verb == "list":
            goals = [goal_summary(g) for g in repos.goals.of_person(person.id)]
            drafts = self.open_drafts(repos, person, key, now)
            return Reply(messages=[Outbound(template="goals/list", context={"goals": goals, "drafts": drafts})])
        if verb == "help":
            return Reply(messages=[Outbound(template=USAGE)])
        if verb in ("plan", "team"):
            today = now.astimezone(self.port.zone(person)).date()
            if verb == "plan":
                goals = self.plan.my_plan(repos, person, today)
                return Reply(messages=[Outbound(template="goals/plan", context={"goals": goals})])
            educators = self.plan.team(repos, person, today)
            return Reply(messages=[Outbound(template="goals/team", context={"educators": educators})])
        if verb == "checkin":
            return self.checkin(repos, person, words[1:], args, now)
        if verb == "check":
            return self.check(repos, person, key, args.strip()[len(words[0]) :].strip(), now)
        if verb in ("show", "edit"):
            goal_id = _number(words[1] if len(words) > 1 else "")
            if goal_id is None:
                return Reply(messages=[Outbound(template="goals/errors/need_number", context={"verb": verb})])
            goal = repos.goals.get_for(person.id, goal_id)
            if goal is None:
                return Reply(messages=[Outbound(template="goals/errors/not_found", context={"goal_id": goal_id})])
            if verb == "show":
                return Reply(messages=[self.show(goal)])
            return self.edit(repos, person, key, goal, now)
        return Reply(messages=[Outbound(template=USAGE, context={"unknown": args.strip()[:60]})])

    def checkin(self, repos: Repos, person: Person, rest: list[str], args: str, now: datetime) -> Reply:
        """`/goal checkin N on track|behind|done [note]`: the check-in's buttons type this, and so may a person."""
        goal_id = _number(rest[0]) if rest else None
        if goal_id is None:
            return Reply(messages=[Outbound(template="goals/errors/checkin_which")])
        goal = repos.goals.get_for(person.id, goal_id)
        if goal is None or goal.status != "saved":
            return Reply(messages=[Outbound(template="goals/errors/not_found", context={"goal_id": goal_id})])
        text = args.strip().split(None, 2)[2] if len(args.split(None, 2)) > 2 else ""
        today = now.astimezone(self.port.zone(person)).date()
        said = self.plan.answer(repos, goal, text, today, now)
        return Reply(messages=[Outbound(template=said["template"], context=said["context"])])

    def open_drafts(self, repos: Repos, person: Person, key: ConversationKey, now: datetime) -> list[dict[str, Any]]:
        """Drafts still open in the coach (in any thread), not yet stored as goals: where each stands."""
        zone = self.port.zone(person)
        found = []
        for conversation in GoalPlans(repos.session).open_drafts(key.platform, key.workspace_id, key.user_id):
            state = State.load(conversation.step, conversation.payload)
            if conversation.expires_at <= now or state.extra.get("goal_id"):
                continue  # an idle one is set aside as a draft goal; a reopened goal is listed already
            answers = state.answers
            found.append({
                "step": PARTS.get(state.step, "the review" if state.step == "review" else "the first question"),
                "answered": sum(1 for name in PARTS if answers.get(name) not in (None, "", [])),
                "headline": str(answers.get("specific") or answers.get("data_reviewed") or "")[:120],
                "since": spoken(conversation.updated_at.astimezone(zone).date()),
            })  # fmt: skip
        return found

    def show(self, goal: Goal) -> Outbound:
        context = goal_summary(goal)
        context.update(
            statement=goal.statement or compose(state_from_goal(goal).answers),
            data_reviewed=goal.data_reviewed or "",
            alignment=goal.alignment or "",
            benchmarks=[{"date": readable_date(b["date"]), "check": b.get("check", "")} for b in goal.benchmarks],
        )
        return Outbound(template="goals/show", context=context)

    def check(self, repos: Repos, person: Person, key: ConversationKey, text: str, now: datetime) -> Reply:
        """The verdicts on a whole goal, then an offer to coach only the missing parts (found parts filled in).

        The offer is a conversation at the `from_check` step; if another one is open, only the verdicts are given,
        so nothing the person is in the middle of is set aside.
        """
        if not text:
            return Reply(messages=[Outbound(template="goals/check/need_text")])
        calendar = repos.calendars.load(person.workspace_id)
        today = now.astimezone(self.port.zone(person)).date()
        result = critique(text, today, calendar)
        verdicts = critique_message(result)
        if not any(v.present for v in result.elements.values()):
            return Reply(messages=[verdicts])
        busy, notices = self._make_room(repos, person, key, now)
        if busy:
            return Reply(messages=[verdicts, Outbound(template="goals/check/busy")])
        state = State(step="from_check", answers=answers_from(result, today), extra={"from_check": True})
        reply = self.port.start(repos, key, GoalCoach.name, state, now)
        return Reply(messages=[*notices, verdicts, *reply.messages], conversation_id=reply.conversation_id,
                     new_thread=key.thread is None)  # fmt: skip

    def new(self, repos: Repos, person: Person, key: ConversationKey, now: datetime) -> Reply:
        return self._open(repos, person, key, State(step="goal_type"), Outbound(template="goals/intro"), now)

    def edit(self, repos: Repos, person: Person, key: ConversationKey, goal: Goal, now: datetime) -> Reply:
        intro = Outbound(template="goals/reopened", context={"goal_id": goal.id, "status": goal.status})
        return self._open(repos, person, key, state_from_goal(goal), intro, now)

    def _open(
        self, repos: Repos, person: Person, key: ConversationKey, state: State, intro: Outbound, now: datetime
    ) -> Reply:
        busy, notices = self._make_room(repos, person, key, now)
        if busy:
            return self._already_open(repos, key)
        reply = self.port.start(repos, key, GoalCoach.name, state, now)
        return Reply(messages=[*notices, intro, *reply.messages], conversation_id=reply.conversation_id,
                     new_thread=key.thread is None)  # fmt: skip

    def _make_room(self, repos: Repos, person: Person, key: ConversationKey, now: datetime) -> tuple[bool, list]:
        """Whether another conversation is in the way, and any notice from setting an idle one aside.

        In the terminal there is one conversation at a time; in a chat app each gets its own thread.
        """
        open_one = repos.conversations.open_for(key)
        if open_one is None:
            return False, []
        if key.platform != "console" and key.thread is None:
            open_one.status = "replaced"  # its thread was never opened; start afresh
            return False, []
        if open_one.expires_at <= now:
            return False, self.port.expire_conversation(repos, person, open_one, now)
        return True, []

    def _already_open(self, repos: Repos, key: ConversationKey) -> Reply:
        conversation = repos.conversations.open_for(key)
        assert conversation is not None
        flow = self.port.flow(conversation.flow)
        state = State.load(conversation.step, conversation.payload)
        return Reply(messages=[Outbound(template="goals/already_open"), flow.ask(state, state.step)],
                     conversation_id=conversation.id)  # fmt: skip


def _number(text: str) -> int | None:
    text = text.strip().lstrip("#")
    return int(text) if text.isdecimal() and text.isascii() and len(text) < 10 else None
