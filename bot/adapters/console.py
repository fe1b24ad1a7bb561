"""The terminal as a first-class platform: the same flows, read from stdin and printed to stdout."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from bot.render.plain import render_plain
from handlers.messages import Inbound, Reply
from handlers.router import Bot

PLATFORM = "console"
WORKSPACE = "local"
PROMPT = "> "


def to_inbound(line: str, user: str, time_zone: str) -> Inbound:
    """`/goal list` is a command with arguments; anything else answers the current question."""
    text = line.strip()
    base = {"platform": PLATFORM, "workspace": WORKSPACE, "user_id": user, "user_name": user,
            "time_zone": time_zone, "channel": f"console:{user}"}  # fmt: skip
    if text.startswith("/") and len(text) > 1:
        command, _, args = text[1:].partition(" ")
        if command.lower() not in ("cancel", "back", "help", "skip", "keep"):
            return Inbound(command=command, text=args, **base)
        text = command
    return Inbound(text=text, **base)


def print_reply(reply: Reply, out: TextIO) -> None:
    for message in reply.messages:
        out.write(render_plain(message) + "\n\n")
    out.flush()


def run_console(bot: Bot, user: str, time_zone: str, lines: Iterable[str], out: TextIO, interactive: bool) -> None:
    """Read lines until end of input or `quit`; each line gets the bot's reply."""
    out.write(f"growthbot in the terminal, as {user}. Type /goal to draft a goal, help for more, quit to leave.\n\n")
    for delivery in bot.expire_idle():
        if delivery.user_id == user and delivery.platform == PLATFORM:
            print_reply(Reply(messages=delivery.messages), out)
    if interactive:
        out.write(PROMPT)
        out.flush()
    for line in lines:
        if line.strip().lower() in ("quit", "exit", "/quit"):
            break
        if not interactive:
            out.write(f"{PROMPT}{line.rstrip()}\n")
        print_reply(bot.handle(to_inbound(line, user, time_zone)), out)
        if interactive:
            out.write(PROMPT)
            out.flush()
