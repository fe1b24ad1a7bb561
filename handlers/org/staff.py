"""The staff CSV: read it into rows and check every row before anything is looked up or saved.

Pure functions over text, so the same checks serve the import, the dry run and the demo data.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

from handlers.org.problems import Problem, control_character, shown

ROLES = ("teacher", "evaluator", "plc_lead", "facilitator", "partnership_lead", "admin")
REQUIRED_COLUMNS = ("email", "name", "role", "school", "evaluator_email")
OPTIONAL_COLUMNS = ("time_zone",)
COLUMN_ALIASES = {"roles": "role", "timezone": "time_zone", "tz": "time_zone", "evaluator": "evaluator_email"}
ROLE_SEPARATORS = re.compile(r"[;|,]")  # `;` and `|` are documented; a comma inside quotes works too
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL, MAX_NAME = 254, 200  # the column sizes in storage/models.py


@dataclass(frozen=True, slots=True)
class StaffRow:
    """One person as the file describes them; empty strings where the file left a cell blank.

    Slots, and the repeated values (roles, schools, evaluators, zones) interned, keep 100,000 rows light.
    """

    line: int
    email: str
    name: str
    roles: tuple[str, ...]
    school: str
    evaluator_email: str
    time_zone: str


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def normal_email(value: str) -> str:
    return value.strip().lower()


def _column(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return COLUMN_ALIASES.get(key, key)


def _words(value: str) -> str:
    """Runs of whitespace as one space; other control characters are kept, to be refused by the checks."""
    return " ".join(value.split())


def _role(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def parse_staff(text: str, source: str) -> tuple[list[StaffRow], list[Problem]]:
    """Rows with their line numbers; problems for a missing header or a row with too many cells."""
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header: list[str] | None = None
    header_line = 1
    rows: list[StaffRow] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(Problem(start, f"not readable as CSV ({error})", source))
            break
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header, header_line = [_column(cell) for cell in cells], start
            problems += _check_header(header, header_line, source)
            if problems:
                return [], problems
            continue
        if len(cells) > len(header):
            problems.append(
                Problem(
                    start,
                    f"{len(cells)} values but the header has {len(header)} columns; "
                    'put "quotes" around a value that contains a comma',
                    source,
                )
            )
            continue
        value = dict(zip(header, [cell.strip() for cell in cells], strict=False))
        rows.append(
            StaffRow(
                line=start,
                email=normal_email(value.get("email", "")),
                name=_words(value.get("name", "")),
                roles=tuple(sys.intern(_role(r)) for r in ROLE_SEPARATORS.split(value.get("role", "")) if r.strip()),
                school=sys.intern(_words(value.get("school", ""))),
                evaluator_email=sys.intern(normal_email(value.get("evaluator_email", ""))),
                time_zone=sys.intern(value.get("time_zone", "")),
            )
        )
    if header is None:
        problems.append(Problem(1, f"the file is empty; the first line must be the header: {_header_hint()}", source))
    return rows, problems


def _header_hint() -> str:
    return ",".join(REQUIRED_COLUMNS) + " (and optionally " + ",".join(OPTIONAL_COLUMNS) + ")"


def _check_header(header: list[str], line: int, source: str) -> list[Problem]:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    problems: list[Problem] = []
    if missing:
        names = ", ".join(f'"{name}"' for name in missing)
        plural = "s" if len(missing) > 1 else ""
        problems.append(Problem(line, f"missing column{plural} {names}; the header must be: {_header_hint()}", source))
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        problems.append(Problem(line, f'column "{repeated[0]}" appears twice in the header', source))
    return problems


def check_staff(rows: list[StaffRow], on_roster: Collection[str], source: str) -> list[Problem]:
    """Every reason a row cannot be saved, with its line; `on_roster` are emails already stored."""
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for row in rows:
        if row.email:
            first_line.setdefault(row.email, row.line)
    for row in rows:
        problems += [Problem(row.line, reason, source) for reason in _row_reasons(row, first_line, on_roster)]
    return problems


def _row_reasons(row: StaffRow, first_line: dict[str, int], on_roster: Collection[str]) -> list[str]:
    reasons: list[str] = []
    if not row.email:
        reasons.append("missing email")
    elif not EMAIL.match(row.email) or len(row.email) > MAX_EMAIL or control_character(row.email):
        reasons.append(f'invalid email "{shown(row.email)}"')
    elif first_line[row.email] != row.line:
        reasons.append(f'duplicate email "{row.email}", also on line {first_line[row.email]}')
    if not row.name:
        reasons.append("empty name")
    elif len(row.name) > MAX_NAME:
        reasons.append(f"name longer than {MAX_NAME} characters")
    elif char := control_character(row.name):
        reasons.append(f"name contains a control character ({char}); remove it")
    if len(row.school) > MAX_NAME:
        reasons.append(f"school name longer than {MAX_NAME} characters")
    elif char := control_character(row.school):
        reasons.append(f"school name contains a control character ({char}); remove it")
    if not row.roles:
        reasons.append(f"missing role; use one or more of: {', '.join(ROLES)} (separated by ;)")
    for role in row.roles:
        if role not in ROLES:
            reasons.append(f'unknown role "{shown(role)}"; use one of: {", ".join(ROLES)}')
    if row.time_zone and row.time_zone not in known_zones():
        reasons.append(f'unknown time zone "{shown(row.time_zone)}"; use an IANA name such as America/New_York')
    evaluator = row.evaluator_email
    if evaluator:
        if not EMAIL.match(evaluator) or control_character(evaluator):
            reasons.append(f'invalid evaluator_email "{shown(evaluator)}"')
        elif evaluator == row.email:
            reasons.append(f'"{row.email}" cannot be their own evaluator')
        elif evaluator not in first_line and evaluator not in on_roster:
            reasons.append(f'evaluator_email "{evaluator}" is not in this file or on the roster')
    return reasons


def canonical_roles(roles: tuple[str, ...]) -> list[str]:
    """Roles in one fixed order without repeats, so a reordered cell is not reported as a change."""
    return [role for role in ROLES if role in roles]
