"""Reading lists of people as typed ("@kim, @nguyen and lopez@school.org") against the roster."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from handlers.messages import clean_text
from storage.models import Person
from storage.unit_of_work import Repos

_SPLIT = re.compile(r"[,;\n]|\s+and\s+")


@dataclass
class Found:
    people: list[Person] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)


def split_refs(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text or "") if part.strip()]


def find_people(repos: Repos, workspace_id: int, text: str) -> Found:
    """Each name, @handle, mention or email in `text`, matched once; what matched nothing or many is listed."""
    found = Found()
    for ref in split_refs(clean_text(text)):
        matches = repos.people.resolve(workspace_id, ref[:120])
        if not matches:
            found.unknown.append(ref[:60])
        elif len(matches) > 1:
            found.ambiguous.append(ref[:60])
        elif all(p.id != matches[0].id for p in found.people):
            found.people.append(matches[0])
    return found


def one_of(people: list[Person], ref: str) -> Person | None:
    """The member `ref` names: a handle, an email, a full name or one part of it (unique), else None."""
    wanted = ref.strip().lstrip("@").strip().lower()
    mention = re.fullmatch(r"<@([a-z0-9]+)(?:\|[^>]*)?>", wanted)
    if mention:
        wanted = mention.group(1)
    if not wanted:
        return None
    for person in people:
        if wanted in (person.platform_user_id.lower(), (person.email or "").lower()):
            return person
    plain = [(p, re.sub(r"\s*\([^)]*\)\s*$", "", p.display_name).strip().lower()) for p in people]
    exact = [p for p, name in plain if name == wanted]
    if len(exact) == 1:
        return exact[0]
    parts = [p for p, name in plain if wanted in name.split()]
    return parts[0] if len(parts) == 1 else None
