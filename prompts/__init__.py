"""Every sentence a person reads, as Jinja2 templates, rendered for one output format at a time.

A format supplies the escape applied to every `{{ value }}` (so user text cannot ping @channel on Slack)
and the look of a few filters such as `strong`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Format:
    name: str
    escape: Callable[[str], str]
    strong: Callable[[str], str]


def _plain(text: str) -> str:
    return text


def escape_mrkdwn(text: str) -> str:
    """Slack's control characters: with these escaped, <!channel> and <@U123> are shown, never acted on."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEAMS_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#~"})


def escape_teams(text: str) -> str:
    """Teams markdown: emphasis, code, link, heading and tag characters backslashed, so user text never
    formats, links or mentions anyone (`<at>` is shown, not acted on)."""
    return text.translate(_TEAMS_SPECIAL)


PLAIN = Format("plain", escape=_plain, strong=_plain)
TEAMS = Format("teams", escape=escape_teams, strong=lambda s: f"**{s}**")
MRKDWN = Format("mrkdwn", escape=escape_mrkdwn, strong=lambda s: f"*{s}*")


@cache
def environment(fmt: Format) -> Environment:
    def finalize(value: Any) -> Any:
        if isinstance(value, Markup):
            return str(value)
        return fmt.escape("" if value is None else str(value))

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters["strong"] = lambda v: Markup(fmt.strong(fmt.escape(str(v))))
    return env


def render(template: str, context: dict[str, Any], fmt: Format = PLAIN) -> str:
    """Render `templates/<template>.j2`; text from users in `context` is escaped for `fmt`."""
    return environment(fmt).get_template(f"{template}.j2").render(**context).strip()
