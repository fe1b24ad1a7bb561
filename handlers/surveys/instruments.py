"""Survey instruments: YAML files in prompts/surveys/ (and a district's INSTRUMENTS_DIR), read and checked.

An instrument is words and structure only; the feature turns it into a neutral `Form`. Every problem is
reported with its file and line, so a district can fix a file it dropped in without reading code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from handlers.messages import Choice, Form, FormField

BUILT_IN = Path(__file__).resolve().parent.parent.parent / "prompts" / "surveys"
KINDS = ("likert", "single_choice", "multiple_choice", "rating", "number", "short_text", "long_text")
CHOICE_KINDS = ("likert", "single_choice", "multiple_choice")
TEXT_KINDS = ("short_text", "long_text")
FORM_PREFIX = "survey-"
_ID = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
_QUESTION_KEYS = {"id", "kind", "text", "required", "labels", "options", "scale", "min", "max", "max_length",
                  "show_if", "items"}  # fmt: skip
_TOP_KEYS = {"id", "title", "purpose", "source", "questions"}
LINE = "__line__"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Question:
    """One asked question (an `items` question in the YAML becomes one of these per item)."""

    id: str
    kind: str
    text: str
    required: bool = True
    options: tuple[Choice, ...] = ()
    scale: int = 5
    min: float | None = None
    max: float | None = None
    max_length: int = 3000
    show_if: tuple[str, tuple[str, ...]] | None = None  # (earlier question id, values that show this one)

    @property
    def open_text(self) -> bool:
        return self.kind in TEXT_KINDS

    def choices(self) -> list[Choice]:
        if self.kind == "rating":
            return [Choice(label=str(n), value=str(n)) for n in range(1, self.scale + 1)]
        return list(self.options)


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    purpose: str
    source: str
    questions: tuple[Question, ...]
    path: str = ""
    form_words: Form = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "form_words", self._form())

    @property
    def form_id(self) -> str:
        return FORM_PREFIX + self.id

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)

    def _form(self) -> Form:
        fields = []
        for question in self.questions:
            label = question.text
            if question.show_if is not None:
                earlier = self.question(question.show_if[0])
                labels = {c.value: c.label for c in earlier.choices()}
                wanted = " or ".join(labels.get(v, v) for v in question.show_if[1])
                label = f"{label} (only if you answered {wanted} above)"
            fields.append(
                FormField(
                    name=question.id,
                    kind=question.kind,  # type: ignore[arg-type]
                    label=label,
                    required=question.required and question.show_if is None,
                    options=list(question.options),
                    scale=question.scale,
                    min=question.min,
                    max=question.max,
                    max_length=question.max_length,
                )
            )
        return Form(id=self.form_id, title=self.title, intro=self.purpose, submit="Send my answers", fields=fields)


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "option"


class _Loader(yaml.SafeLoader):
    """Safe YAML that remembers the line of every mapping, for messages that point at it."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    return mapping  # type: ignore[return-value]


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def read(self, text: str) -> Instrument | None:
        try:
            data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            reason = getattr(error, "problem", None) or str(error).splitlines()[0]
            self.problem(mark.line + 1 if mark else 1, f"not valid YAML: {reason}")
            return None
        if not isinstance(data, dict):
            self.problem(1, "an instrument is a mapping with id, title, purpose and questions")
            return None
        line = data.get(LINE, 1)
        for key in sorted(set(data) - _TOP_KEYS - {LINE}):
            self.problem(line, f"unknown key {key!r} (use: {', '.join(sorted(_TOP_KEYS))})")
        ident = data.get("id")
        if not isinstance(ident, str) or not _ID.match(ident):
            self.problem(line, "id must be lower-case letters, digits and _, starting with a letter, at most 20")
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            self.problem(line, "title is missing")
        questions = data.get("questions")
        if not isinstance(questions, list) or not questions:
            self.problem(line, "questions must be a list of at least one question")
            return None
        asked: list[Question] = []
        for number, raw in enumerate(questions, start=1):
            asked.extend(self._question(number, raw, asked, line))
        if self.problems:
            return None
        return Instrument(
            id=str(ident), title=str(title).strip(), purpose=str(data.get("purpose") or "").strip(),
            source=str(data.get("source") or "").strip(), questions=tuple(asked), path=self.file,
        )  # fmt: skip

    def _question(self, number: int, raw: Any, earlier: list[Question], parent_line: int) -> list[Question]:
        if not isinstance(raw, dict):
            self.problem(parent_line, f"question {number} must be a mapping (id, kind, text, ...)")
            return []
        line = raw.get(LINE, parent_line)
        before = len(self.problems)
        for key in sorted(set(raw) - _QUESTION_KEYS - {LINE}):
            self.problem(line, f"question {number}: unknown key {key!r}")
        qid, kind, text = raw.get("id"), raw.get("kind"), raw.get("text")
        if not isinstance(qid, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", qid):
            self.problem(line, f"question {number}: id must be lower-case letters, digits and _")
            qid = f"q{number}"
        if kind not in KINDS:
            self.problem(line, f"question {qid}: unknown kind {kind!r} (use: {', '.join(KINDS)})")
            return []
        if not isinstance(text, str) or not text.strip():
            self.problem(line, f"question {qid}: text is missing")
        required = raw.get("required", True)
        if not isinstance(required, bool):
            self.problem(line, f"question {qid}: required must be true or false")
        options = self._options(qid, kind, raw, line)
        scale = raw.get("scale", 5)
        if kind == "rating" and scale not in (5, 10):
            self.problem(line, f"question {qid}: a rating's scale is 5 or 10, not {scale!r}")
        low, high = raw.get("min"), raw.get("max")
        for name, value in (("min", low), ("max", high)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                self.problem(line, f"question {qid}: {name} must be a number")
        if isinstance(low, int | float) and isinstance(high, int | float) and low >= high:
            self.problem(line, f"question {qid}: min ({low}) must be below max ({high})")
        limit = raw.get("max_length", 3000)
        if not isinstance(limit, int) or not 1 <= limit <= 3000:
            self.problem(line, f"question {qid}: max_length must be a whole number from 1 to 3000")
            limit = 3000
        show_if = self._show_if(qid, raw.get("show_if"), earlier, line)
        items = raw.get("items")
        if items is not None and (not isinstance(items, list) or not items):
            self.problem(line, f"question {qid}: items must be a list of {{id, text}}")
            items = None
        if len(self.problems) > before:
            return []
        base = {"kind": kind, "required": required, "options": options, "scale": scale if kind == "rating" else 5,
                "min": low, "max": high, "max_length": limit, "show_if": show_if}  # fmt: skip
        if items is None:
            return [Question(id=qid, text=str(text).strip(), **base)]
        made: list[Question] = []
        for item in items:
            item_line = item.get(LINE, line) if isinstance(item, dict) else line
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item.get("text"):
                self.problem(item_line, f"question {qid}: each item needs an id and a text")
                continue
            made.append(Question(id=f"{qid}_{item['id']}", text=f"{str(text).strip()} {item['text']}", **base))
        seen = [q.id for q in earlier]
        for question in made:
            if question.id in seen:
                self.problem(line, f"question {question.id} appears twice")
            seen.append(question.id)
        return made

    def _options(self, qid: str, kind: str, raw: dict[str, Any], line: int) -> tuple[Choice, ...]:
        if kind not in CHOICE_KINDS:
            return ()
        key = "labels" if kind == "likert" else "options"
        values = raw.get(key)
        if isinstance(values, list) and any(isinstance(v, bool) for v in values):
            self.problem(line, f'question {qid}: put Yes/No {key} in quotes ("Yes"), or YAML reads them as true/false')
            return ()
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            self.problem(line, f"question {qid}: {kind} needs {key}: a list of words")
            return ()
        if kind == "likert" and len(values) not in (4, 5):
            self.problem(line, f"question {qid}: a likert scale has 4 or 5 labels, not {len(values)}")
        if kind != "likert" and not 2 <= len(values) <= 10:
            self.problem(line, f"question {qid}: give from 2 to 10 options, not {len(values)}")
        choices = tuple(Choice(label=v.strip(), value=slug(v)) for v in values)
        if len({c.value for c in choices}) < len(choices):
            self.problem(line, f"question {qid}: two options read the same")
        return choices

    def _show_if(self, qid: str, raw: Any, earlier: list[Question], line: int) -> tuple[str, tuple[str, ...]] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
            self.problem(line, f"question {qid}: show_if is {{question: <earlier id>, in: [<option>, ...]}}")
            return None
        target = next((q for q in earlier if q.id == raw["question"]), None)
        if target is None or target.kind not in (*CHOICE_KINDS, "rating"):
            self.problem(line, f"question {qid}: show_if must name an earlier choice question, not {raw['question']!r}")
            return None
        wanted = raw.get("in") if "in" in raw else [raw.get("equals")]
        if not isinstance(wanted, list) or not wanted:
            self.problem(line, f"question {qid}: show_if needs in: [<option>, ...]")
            return None
        values = {c.value for c in target.choices()}
        picked = tuple(slug(str(v)) if slug(str(v)) in values else str(v) for v in wanted)
        unknown = [v for v in picked if v not in values]
        if unknown:
            self.problem(line, f"question {qid}: show_if value {unknown[0]!r} is not an option of {target.id}")
            return None
        return target.id, picked


def read_instrument(path: Path) -> tuple[Instrument | None, list[Problem]]:
    reader = _Reader(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [Problem(str(path), 1, f"cannot read the file: {type(error).__name__}")]
    instrument = reader.read(text)
    if instrument is not None and instrument.id != path.stem:
        reader.problem(1, f"the file name should be {instrument.id}.yaml, the instrument's id")
        instrument = None
    return instrument, reader.problems


def instrument_files(folders: Iterable[Path | None]) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        if folder is not None and folder.is_dir():
            files.extend(sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]))
    return files


def load_instruments(extra: Path | None = None) -> tuple[dict[str, Instrument], list[Problem]]:
    """Built-in instruments, then the district's (which may replace one by using its id); broken files skipped."""
    found: dict[str, Instrument] = {}
    problems: list[Problem] = []
    for path in instrument_files([BUILT_IN, extra]):
        instrument, trouble = read_instrument(path)
        problems.extend(trouble)
        if instrument is not None:
            found[instrument.id] = instrument
    return found, problems
