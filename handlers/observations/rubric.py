"""The evaluation rubric as data, and the tagging of observation evidence with its indicator codes.

The rubric is YAML in `prompts/rubrics/` so a district can swap in its own without code. Evidence is
tagged by writing indicator codes in the notes: "II-A", "[II-A]", "(ii-a)", "II-A:" are all read, and an
element code ("II-A-1") is kept and counted under its indicator; the hyphen is required ("IIA" is not
read), because without it ordinary words such as "via" look like codes.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

import prompts

DEFAULT_RUBRIC = Path(prompts.__file__).parent / "rubrics" / "ma_teacher.yaml"
_ROMAN = r"[IVX]{1,4}"
_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-"})


class RubricError(ValueError):
    """A rubric file that cannot be used, with the reason a district admin needs to fix it."""


class Indicator(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    description: str

    @field_validator("code", "name", "description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class Standard(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    indicators: tuple[Indicator, ...]


class Rubric(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    levels: tuple[str, ...]  # lowest first
    standards: tuple[Standard, ...]

    def indicators(self) -> list[Indicator]:
        return [indicator for standard in self.standards for indicator in standard.indicators]

    def indicator(self, code: str) -> Indicator | None:
        """The indicator for `code`, written in any case and with any dash ("ii-a", "II–A")."""
        wanted = _normal(code)
        return next((i for i in self.indicators() if i.code.upper() == wanted), None)


def load_rubric(path: Path | None = None) -> Rubric:
    """The rubric at `path` (default: the Massachusetts model rubric shipped with growthbot)."""
    path = path or DEFAULT_RUBRIC
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RubricError(f"{path}: cannot be read ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        raise RubricError(f"{path}: is not valid YAML ({error})") from error
    if not isinstance(data, dict):
        raise RubricError(f"{path}: must be a mapping with name, levels and standards")
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = _location(first["loc"])
        reason = "missing" if first["type"] == "missing" else first["msg"]
        raise RubricError(f"{path}: {where}: {reason}") from error
    problem = _problem(rubric)
    if problem:
        raise RubricError(f"{path}: {problem}")
    return rubric


def tag_evidence(text: str, rubric: Rubric) -> tuple[list[str], list[str]]:
    """(indicator codes of `rubric` named in `text`, code-like words it does not have), each in order, once.

    Unknown codes ("II-Z", "V-A") are returned so the person can be asked about a likely typo. An element
    code ("II-A-1") counts as its indicator.
    """
    known, _elements, unknown = read_tags(text, rubric)
    return known, unknown


def read_tags(text: str, rubric: Rubric) -> tuple[list[str], list[str], list[str]]:
    """(indicators, element codes such as "II-A-1" as written, unknown codes) named in `text`, each once."""
    known: list[str] = []
    elements: list[str] = []
    unknown: list[str] = []
    for match in _code_pattern(rubric).finditer(text.translate(_DASHES)):
        code = f"{match.group(1)}-{match.group(2)}".upper()
        indicator = rubric.indicator(code)
        target, value = (known, indicator.code) if indicator else (unknown, code)
        if indicator is None and match.group(3):
            value = f"{code}-{match.group(3)}"
        if value not in target:
            target.append(value)
        if indicator is not None and match.group(3):
            element = f"{indicator.code}-{int(match.group(3))}"
            if element not in elements:
                elements.append(element)
    return known, elements, unknown


def rating_level(text: str, rubric: Rubric) -> str | None:
    """The rubric level `text` names, in any case ("proficient", "Needs improvement"), or None."""
    wanted = " ".join(text.split()).casefold()
    return next((level for level in rubric.levels if level.casefold() == wanted), None)


def _code_pattern(rubric: Rubric) -> re.Pattern[str]:
    """Roman numerals always (to catch typos like "V-A"), plus whatever standard codes the rubric uses."""
    heads = sorted({re.escape(s.code) for s in rubric.standards} | {_ROMAN}, key=len, reverse=True)
    return re.compile(rf"(?<![\w-])({'|'.join(heads)})-([A-Z])(?:-(\d{{1,2}}))?(?![\w-])", re.I)


def _normal(code: str) -> str:
    return code.translate(_DASHES).strip().strip("[]():").strip().upper()


def _problem(rubric: Rubric) -> str | None:
    if not rubric.name.strip():
        return "name: must not be blank"
    if not rubric.levels or len(set(rubric.levels)) != len(rubric.levels):
        return "levels: must list each level once"
    if not rubric.standards:
        return "standards: must list at least one standard"
    standard_codes = [s.code.upper() for s in rubric.standards]
    if len(set(standard_codes)) != len(standard_codes):
        return "standards: each standard code must appear once"
    seen: set[str] = set()
    for index, standard in enumerate(rubric.standards):
        if not standard.indicators:
            return f"standards[{index}] ({standard.code}): has no indicators"
        for indicator in standard.indicators:
            code = indicator.code.upper()
            if code in seen:
                return f"indicator code {indicator.code} appears more than once"
            seen.add(code)
            if not re.fullmatch(rf"{re.escape(standard.code.upper())}-[A-Z]", code):
                return f"indicator {indicator.code}: code must be {standard.code}, a hyphen and a letter"
    return None


def _location(loc: tuple[int | str, ...]) -> str:
    """('standards', 0, 'indicators', 2, 'name') -> 'standards[0].indicators[2].name'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "rubric"
