"""What was wrong with an imported file, line by line, so an admin can fix it in one pass."""

from __future__ import annotations

from dataclasses import dataclass


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
