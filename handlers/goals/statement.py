"""Composes the goal statement from its parts: one sentence in the seeds' shape, plus benchmarks.

"By <date>, <who> will <result>, so that <further result>, as measured by <measure> (from <baseline> to
<target>), through <key actions>." The answers are typed separately, so each is fitted to its slot rather
than pasted in: a leading "By June 2027," or "as measured by" the teacher already wrote is not repeated,
"I will run daily groups" becomes "through daily groups", a baseline-to-target pair is lifted out of the
measure, and the first word is lower-cased only when it is an ordinary word ("My" → "my", never "DIBELS" or
"Ms. Rivera"). What cannot be fitted is kept as typed, so nothing the teacher wrote is lost. The fixed words
of the sentence live in prompts/templates/goals/statement.j2.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import prompts
from handlers.goals import reader

GOAL_TYPES = {
    "student_learning": "Student learning",
    "professional_practice": "Professional practice",
    "team": "Team",
}
STATEMENT_TEMPLATE = "goals/statement"


def clause(text: str | None) -> str:
    """A typed part made ready to sit inside a sentence: trimmed, without its closing full stop."""
    return (text or "").strip().rstrip(".!;, ")


def readable_date(iso: str | None) -> str:
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day:%B} {day.day}, {day.year}"


# -- small grammar ---------------------------------------------------------------------------------------

# Ordinary words that start a part but are not names, so they lose their capital inside the sentence.
LOWER_STARTERS = set(
    [
        "my",
        "our",
        "the",
        "all",
        "each",
        "every",
        "these",
        "those",
        "this",
        "that",
        "their",
        "his",
        "her",
        "its",
        "a",
        "an",
        "at",
        "most",
        "many",
        "some",
        "more",
        "students",
        "student",
        "learners",
        "children",
        "kids",
        "families",
        "parents",
        "teachers",
        "staff",
        "we",
        "by",
        "in",
        "on",
        "with",
        "through",
        "for",
        "to",
        "from",
        "using",
        "during",
        "after",
        "before",
        "within",
        "over",
        "and",
        "so",
        "as",
        "when",
        "while",
        "if",
        "reading",
        "writing",
        "math",
        "science",
        "daily",
        "weekly",
        "monthly",
        "kindergartners",
        "kindergarteners",
        "readers",
        "writers",
        "seniors",
        "juniors",
        "freshmen",
        "sophomores",
        "graders",
        "half",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "twenty",
        "fifty",
    ]
)
SUBJECT_AND_MODAL = re.compile(
    r"^(?:(?:and|then|also)\s+)?(?:[\w'’.&-]+\s+){0,6}?(?:will|shall|'ll|’ll|would|can|plan\s+to|intend\s+to|"
    r"am\s+going\s+to|"
    r"are\s+going\s+to|aim\s+to|want\s+to|hope\s+to|would\s+like\s+to)\s+(?:(?:also|then|continue\s+to|begin\s+to|"
    r"start\s+to)\s+)?",
    re.I,
)
LEAD_CONNECTOR = re.compile(
    r"^(?:so\s+that|so|that|resulting\s+in|which\s+will|in\s+order\s+to|to|as\s+measured\s+by|measured\s+by|"
    r"as\s+evidenced\s+by|by\s+means\s+of|through|via|thanks\s+to|using|by)\s+",
    re.I,
)
# Verbs that only carry their object ("run daily groups"): the object alone reads well after "through".
CARRIER_VERBS = {
    "run",
    "hold",
    "use",
    "implement",
    "provide",
    "give",
    "offer",
    "conduct",
    "deliver",
    "host",
    "facilitate",
    "utilize",
    "employ",
    "incorporate",
    "do",
    "have",
    "lead",
    "teach",
    "introduce",
}
DOUBLE_FINAL = {
    "confer",
    "refer",
    "prefer",
    "commit",
    "submit",
    "admit",
    "omit",
    "permit",
    "begin",
    "occur",
    "control",
    "patrol",
    "regret",
    "equip",
    "transfer",
    "compel",
    "excel",
    "propel",
    "rebut",
    "upset",
    "forget",
}
IRREGULAR_ING = {
    "be": "being",
    "see": "seeing",
    "lie": "lying",
    "die": "dying",
    "tie": "tying",
    "ski": "skiing",
    "agree": "agreeing",
    "guarantee": "guaranteeing",
}


def gerund(verb: str) -> str:
    """run → running, confer → conferring, use → using, co-plan → co-planning, model → modeling."""
    head, _, last = verb.rpartition("-")
    word = last.lower()
    if word.endswith("ing") and len(word) > 5:
        return verb
    if word in IRREGULAR_ING:
        ing = IRREGULAR_ING[word]
    elif word.endswith("ie"):
        ing = word[:-2] + "ying"
    elif word.endswith(("ee", "ye", "oe")):
        ing = word + "ing"
    elif word.endswith("e") and len(word) > 2:
        ing = word[:-1] + "ing"
    elif word in DOUBLE_FINAL or (
        len(re.findall(r"[aeiou]+", word)) == 1 and re.search(r"[^aeiou][aeiou][^aeiouwxy]$", word)
    ):
        ing = word + word[-1] + "ing"
    else:
        ing = word + "ing"
    if last[:1].isupper():
        ing = ing[:1].upper() + ing[1:]
    return f"{head}-{ing}" if head else ing


def lower_first(text: str) -> str:
    """Lower-case the first letter of an ordinary first word; names, acronyms and "I" keep theirs."""
    match = re.match(r"([A-Za-z][\w'’-]*)", text)
    if not match:
        return text
    first = match.group(1)
    ordinary = first.lower() in LOWER_STARTERS or first.lower() in reader.COMMON_VERBS or first.lower().endswith("ing")
    if ordinary and first[1:] == first[1:].lower() and first != "I":
        return first[0].lower() + text[1:]
    return text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def collapse_doubles(text: str) -> str:
    """ "the the", "will will": a word typed twice in a row, or where two answers meet."""
    return re.sub(r"\b([A-Za-z]+)(\s+)\1\b", r"\1", text, flags=re.I)


def first_sentence(text: str) -> str:
    """The sentence of an answer that carries the goal (the one with "will" if any), without the rest."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+", text) if p.strip()]
    if len(parts) <= 1:
        return clause(text)
    with_will = next((p for p in parts if re.search(r"\b(?:will|'ll|’ll)\b", p, re.I)), None)
    return clause(with_will or parts[0])


def strip_lead_date(text: str) -> str:
    """ "By June 2027, my students will ..." → "my students will ...": the date has its own slot."""
    today = date.today()
    for mention in reader.find_dates(text, today):
        lead = re.match(
            r"\s*(?:(?:by|before|no\s+later\s+than|until|within|in|during|"
            r"over)\s+)?(?:the\s+)?(?:end\s+of\s+(?:the\s+)?)?$",
            text[: mention.start],
            re.I,
        )
        if lead and mention.start < 40:
            rest = text[mention.end :]
            rest = re.sub(r"^\s*(?:school\s+year|benchmark\s+window|window)?\s*[,:;-]?\s*", "", rest, flags=re.I)
            return rest
        break
    return text


def strip_connector(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = LEAD_CONNECTOR.sub("", text.strip())
    return text


# -- the parts -------------------------------------------------------------------------------------------


def _main(specific: str) -> tuple[str, str]:
    """The "<who> will <result>" part and its kind: "clause" as typed, "verb" (add "I will"), or "focus"."""
    text = first_sentence(strip_lead_date(clause(specific)))
    if not text:
        return "", ""
    if re.search(r"\b(?:will|shall|'ll|’ll|can)\b", text, re.I):
        return lower_first(text), "clause"
    bare = re.sub(r"^(?:to|i\s+want\s+to|my\s+goal\s+is\s+to|goal:)\s+", "", text, flags=re.I)
    first = (reader.words(bare) or [""])[0]
    if first in reader.COMMON_VERBS and not re.match(r"[\w-]+\s+(?:will|is|are)\b", bare, re.I):
        return lower_first(bare), "verb"
    return lower_first(text), "focus"


RESULT_VERBS = reader._wordset(
    """read write close reach score meet pass show use cite solve explain master know name complete attend feel
    make produce demonstrate apply identify move earn turn submit choose engage"""
)
_FINITE = re.compile(
    r"\b(?:will|can|would|is|are|was|were|has|have|do|does|"
    + "|".join(sorted(reader.COMMON_VERBS | RESULT_VERBS, key=len, reverse=True))
    + r")s?\b",
    re.I,
)


def _result(results: str, main: str) -> tuple[str, str]:
    """The further result and how it joins: a clause after "so that", a participle, or "resulting in"."""
    text = first_sentence(strip_lead_date(clause(results)))
    text = re.sub(r"^(?:so\s+that|so|that|resulting\s+in|which\s+will)\s+", "", text, flags=re.I)
    if not text or text.lower() in main.lower():
        return "", ""
    lowered = lower_first(text)
    head = reader.words(text)[:1]
    starts_with_who = bool(head) and (
        head[0] in reader.STUDENT_HEADS | reader.FAMILY_HEADS | reader.EDUCATOR_HEADS | reader.TEAM_HEADS
        or head[0] in ("my", "our", "all", "the", "each", "every", "most", "at", "more", "their", "these", "i", "we")
        or bool(re.match(r"\d", text))
    )
    if re.match(r"to\s+\w", text, re.I):
        return lowered[3:], "purpose"
    if re.match(r"[A-Za-z-]+ing\b", text) and not starts_with_who:
        return lowered, "participle"
    if starts_with_who and _FINITE.search(" ".join(text.split()[1:])):
        return lowered, "clause"
    return lowered, "noun"


_FROM_TO = re.compile(
    r"\(?\s*\bfrom\s+(?:a\s+baseline\s+of\s+)?(?P<base>[^,;()]{1,40}?)\s+(?:to|->|"
    r"→)\s+(?:a\s+target\s+of\s+)?(?P<target>[^,;()]{1,40}?)\s*\)?"
    r"(?=[,;.)]|\s*$|\s+(?:on|in|by|for|as|at)\b)",
    re.I,
)
_ARROW = re.compile(r"(?P<base>\d[\d.,]*\s*%?)\s*(?:->|→)\s*(?P<target>\d[\d.,]*\s*%?)")
_LABELLED = re.compile(
    r"\bbaseline\s*(?:of|is|was|:|=)?\s*(?P<base>\d[\d.,]*(?:\s*%|"
    r"(?:\s+[a-z]+){0,4}))[,;]?\s*(?:and\s+)?(?:a\s+)?target\s*(?:of|is|:|=)?\s*"
    r"(?P<target>\d[\d.,]*\s*%?)",
    re.I,
)


def _measure(measurable: str) -> tuple[str, str, str]:
    """What to say after "as measured by", the "(from X to Y)" to add, or a whole clause to join on."""
    text = first_sentence(strip_lead_date(clause(measurable)))
    text = re.sub(
        r"^(?:as\s+measured\s+by|measured\s+by|as\s+evidenced\s+by|using|by|with|on|via|the\s+measure\s+is)\s+",
        "",
        text,
        flags=re.I,
    )
    if not text:
        return "", "", ""
    if re.search(r"\b(?:will|'ll|’ll)\b", text, re.I):
        return "", "", lower_first(text)
    change = ""
    for pattern in (_FROM_TO, _LABELLED, _ARROW):
        match = pattern.search(text)
        if match:
            base, target = match.group("base").strip(), match.group("target").strip()
            unit = re.match(r"\d[\d.,]*\s*(.*)$", base)
            if unit and unit.group(1) and re.fullmatch(r"\d[\d.,]*", target):
                target = f"{target}{'' if unit.group(1) == '%' else ' '}{unit.group(1)}"  # "from 40 wpm to 90 wpm"
            change = f"from {base} to {target}"
            text = (text[: match.start()] + " " + text[match.end() :]).strip()
            break
    text = re.sub(r"\s{2,}", " ", text).strip(" ,;:-")
    text = re.sub(r"^(?:on|in|using|by|with)\s+", "", text, flags=re.I)
    if change and re.match(r"(?:at|above|below|on\s+grade|scoring|meeting|reading|proficient)\b", text, re.I):
        return "", f"{change} {text}", ""  # "38% -> 70% at benchmark": the rest belongs to the numbers
    if re.match(r"\d", text) and not change:
        split = re.search(r"\s(?:on|in|using|according\s+to)\s+(?P<what>(?:the|a|an|our|my)\b.*)$", text, re.I)
        if split:
            return split.group("what"), text[: split.start()].strip(" ,"), ""
        return "", text, ""
    return with_article(lower_first(text)), change, ""


_BARE_MEASURE = re.compile(
    r"(?:share|percentage|percent|proportion|number|rate|count|average|mean|median|ratio|frequency)\s+(?:of|at|on|in|who|scoring|meeting|reading)\b",
    re.I,
)


def with_article(text: str) -> str:
    """ "share at benchmark on DIBELS" -> "the share at benchmark on DIBELS": "as measured by share" is not English."""
    return f"the {text}" if _BARE_MEASURE.match(text) else text


def _split_actions(text: str) -> list[str]:
    """The key actions one by one: sentences, then verbs joined by commas and "and"."""
    pieces: list[str] = []
    for sentence in re.split(r"(?<=[.!?;])\s+|\n+", text):
        sentence = clause(sentence)
        if not sentence:
            continue
        sentence = strip_connector(SUBJECT_AND_MODAL.sub("", strip_lead_date(sentence), count=1))
        parts = re.split(
            r",\s*(?:and\s+)?(?=(?:also\s+)?[a-z][\w-]*\b)|\s+and\s+(?=(?:also\s+|will\s+)?[a-z][\w-]*\b)", sentence
        )
        current = ""
        for part in parts:
            lead = (reader.words(part) or [""])[0]
            verb_like = lead in reader.COMMON_VERBS and (
                lead not in reader.NOUN_OR_VERB or bool(reader.OBJECT_FOLLOWS.match(part.strip()))
            )
            if current and verb_like:
                pieces.append(current)
                current = part.strip()
            else:
                current = f"{current}{' and ' if current else ''}{part.strip()}"
        if current:
            pieces.append(current)
    return [p for p in (clause(p) for p in pieces) if p]


def _actions(action: str) -> str:
    """ "I will run daily groups and confer weekly" → "running daily groups and conferring weekly"."""
    pieces = _split_actions(clause(action))
    if not pieces:
        return ""
    shaped: list[tuple[str, bool]] = []  # (text, starts with a verb)
    for piece in pieces:
        piece = re.sub(r"^will\s+", "", piece, flags=re.I)
        first = (reader.words(piece) or [""])[0]
        starts_with_verb = first in reader.COMMON_VERBS and not first.endswith("ing") and not re.match(r"\d", piece)
        shaped.append((lower_first(piece), starts_with_verb))
    carried_only = all(not verb or (reader.words(text) or [""])[0] in CARRIER_VERBS for text, verb in shaped)
    out: list[str] = []
    for text, verb in shaped:
        if not verb:
            out.append(text)
            continue
        first, rest = re.match(r"([\w-]+)(.*)", text, re.S).groups()
        if carried_only and re.match(r"\s+(?!(?:with|to|for|on|in|at|up|them|it|him|her)\b)\S", rest):
            out.append(rest.strip())  # "run daily groups" → "daily groups"
        else:
            out.append(gerund(first) + rest)
    if len(out) == 1:
        return out[0]
    return ", ".join(out[:-1]) + " and " + out[-1]


def compose(answers: dict[str, Any]) -> str:
    """The goal as one sentence a teacher can paste into an educator plan, with its benchmarks."""
    by = readable_date(answers.get("completion_date"))
    main, main_kind = _main(answers.get("specific") or "")
    result, result_kind = _result(answers.get("results") or "", main)
    measure, change, measure_clause = _measure(answers.get("measurable") or "")
    actions = _actions(answers.get("action") or "")
    context = {
        "by": by,
        "main": main,
        "main_kind": main_kind,
        "result": result,
        "result_kind": result_kind,
        "measure": measure,
        "change": change,
        "measure_clause": measure_clause,
        "actions": actions,
        "benchmarks": [
            {"date": readable_date(b["date"]), "check": clause(b.get("check"))} for b in answers.get("benchmarks") or []
        ],
        "alignment": clause(answers.get("alignment")),
    }
    if not (main or result or measure or change or measure_clause or actions):
        context["main"], context["main_kind"] = "", ""
        if not by:
            return ""
    text = prompts.render(STATEMENT_TEMPLATE, context)
    lines = text.split("\n")
    sentence = re.sub(r"\s+([,.])", r"\1", re.sub(r" {2,}", " ", lines[0]))
    sentence = re.sub(r",(?:\s*,)+", ",", sentence).replace(",.", ".")
    lines[0] = upper_first(collapse_doubles(sentence))
    return "\n".join(lines)
