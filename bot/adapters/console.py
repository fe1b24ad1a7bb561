"""The terminal as a first-class platform: the same flows, read from stdin and printed to stdout.

Everyone in the terminal workspace shares this screen, so a message the scheduler sends to someone else
(a teacher's observation notice, say) is printed under that person's name, and a calendar invite is
written to a file.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from bot.render.plain import render_plain
from handlers.messages import Inbound, Outbound, Reply
from handlers.router import Bot
from scheduling.tick import Recipient, Ticker

PLATFORM = "console"
WORKSPACE = "local"
PROMPT = "> "


def to_inbound(line: str, user: str, time_zone: str | None = None) -> Inbound:
    """`/goal list` is a command with arguments; anything else answers the current question.

    The terminal knows no one's zone: without `time_zone` the roster's (or the default) is kept.
    """
    text = line.strip()
    base = {"platform": PLATFORM, "workspace": WORKSPACE, "user_id": user, "user_name": user,
            "time_zone": time_zone, "channel": f"console:{user}"}  # fmt: skip
    if text.startswith("/") and len(text) > 1:
        command, _, args = text[1:].partition(" ")
        if command.lower() not in ("cancel", "back", "help", "skip", "keep"):
            return Inbound(command=command, text=args, **base)
        text = command
    return Inbound(text=text, **base)


class ConsoleSender:
    """Prints scheduled messages in the terminal and saves their attachments under `files_dir`."""

    def __init__(self, out: TextIO, files_dir: Path, user: str) -> None:
        self.out = out
        self.files_dir = files_dir
        self.user = user
        self.lock = threading.Lock()

    def send(self, recipient: Recipient, payload: dict[str, Any]) -> None:
        lines = [render_plain(Outbound.model_validate(m)) for m in payload.get("messages", [])]
        for attachment in payload.get("attachments") or []:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / safe_name(attachment["filename"])
            path.write_text(attachment["content"], encoding="utf-8")
            lines.append(f"(Calendar invite saved to {path})")
        who = "you" if recipient.user_id == self.user else (recipient.name or recipient.user_id)
        channel = str((payload.get("channel") or {}).get("name") or "")
        heading = f"posted in {channel}" if channel else f"message for {who}"  # one screen shows every channel too
        with self.lock:
            self.out.write(f"--- {heading} ---\n" + "\n\n".join(lines) + "\n\n")
            self.out.flush()


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "file"


def print_reply(reply: Reply, out: TextIO) -> None:
    for message in reply.messages:
        out.write(render_plain(message) + "\n\n")
    out.flush()


def run_console(
    bot: Bot,
    user: str,
    lines: Iterable[str],
    out: TextIO,
    interactive: bool,
    ticker: Ticker | None = None,
) -> None:
    """Read lines until end of input or `quit`; each line gets the bot's reply.

    Piped input ticks the scheduler after every line, so a scripted session is repeatable; an interactive
    one has a background tick (started by the caller) instead.
    """
    out.write(f"growthbot in the terminal, as {user}. Type /goal to draft a goal, help for more, quit to leave.\n\n")
    for delivery in bot.expire_idle():
        if delivery.user_id == user and delivery.platform == PLATFORM:
            print_reply(Reply(messages=delivery.messages), out)
    tick = ticker.tick if ticker is not None and not interactive else None
    if tick:
        tick()
    if interactive:
        out.write(PROMPT)
        out.flush()
    for line in lines:
        if line.strip().lower() in ("quit", "exit", "/quit"):
            break
        if not interactive:
            out.write(f"{PROMPT}{line.rstrip()}\n")
        print_reply(bot.handle(to_inbound(line, user)), out)
        if tick:
            tick()
        if interactive:
            out.write(PROMPT)
            out.flush()
