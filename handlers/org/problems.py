"""What was wrong with an imported file, line by line, so an admin can fix it in one pass."""

from __future__ import annotations

import re
from dataclasses import dataclass

SHOWN = 60  # characters of a bad value echoed back: enough to recognise it, never a megabyte
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # Unicode categories Cc and Cs


@dataclass(frozen=True)
class Problem:
    """`line` 0 means the problem is with the file as a whole or with a command-line option."""

    line: int
    reason: str
    source: str = ""

    def __str__(self) -> str:
        where = " ".join(part for part in (self.source, f"line {self.line}" if self.line else "") if part)
        return f"{where}: {self.reason}" if where else self.reason


class ImportFailed(Exception):
    """The file had problems; nothing was saved. Every problem is listed, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.source, p.line))
        super().__init__("\n".join(str(p) for p in self.problems))


class DirectoryError(Exception):
    """The chat platform could not answer who someone is (bad token, missing scope, network)."""


def check(problems: list[Problem]) -> None:
    if problems:
        raise ImportFailed(problems)


def control_character(value: str) -> str | None:
    """The first control character (Unicode Cc) or lone surrogate in `value`, as U+XXXX, or None.

    They cannot be stored on PostgreSQL (NUL) or encoded (surrogates), they can drive the terminal that
    shows a report, and they never belong in a name.
    """
    found = CONTROL.search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def shown(value: str) -> str:
    """A value from a file as a problem may echo it: control characters escaped, long values cut."""
    cut = value if len(value) <= SHOWN else value[: SHOWN - 1] + "…"
    return CONTROL.sub(lambda found: ascii(found.group())[1:-1], cut)
