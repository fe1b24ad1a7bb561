"""The rubric file and evidence tagging: the shipped rubric, a district's broken copy, codes in notes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handlers.observations.rubric import DEFAULT_RUBRIC, Rubric, RubricError, load_rubric, tag_evidence

EXPECTED_CODES = [
    "I-A", "I-B", "I-C",
    "II-A", "II-B", "II-C", "II-D",
    "III-A", "III-B", "III-C",
    "IV-A", "IV-B", "IV-C", "IV-D", "IV-E", "IV-F",
]  # fmt: skip


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return load_rubric()


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "rubric.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def small() -> dict:
    return {
        "name": "Tiny rubric",
        "levels": ["Developing", "Skilled"],
        "standards": [
            {
                "code": "I",
                "name": "Planning",
                "indicators": [{"code": "I-A", "name": "Plans", "description": "Plans."}],
            },
            {
                "code": "II",
                "name": "Teaching",
                "indicators": [{"code": "II-A", "name": "Teaches", "description": "T."}],
            },
        ],
    }


# -- the shipped Massachusetts rubric --------------------------------------------------------------------


def test_the_massachusetts_rubric_ships_with_its_four_standards_and_sixteen_indicators(rubric: Rubric) -> None:
    assert rubric.levels == ("Unsatisfactory", "Needs Improvement", "Proficient", "Exemplary")
    assert [(s.code, s.name) for s in rubric.standards] == [
        ("I", "Curriculum, Planning, and Assessment"),
        ("II", "Teaching All Students"),
        ("III", "Family and Community Engagement"),
        ("IV", "Professional Culture"),
    ]
    assert [i.code for i in rubric.indicators()] == EXPECTED_CODES
    assert all(i.description.endswith(".") and "\n" not in i.description for i in rubric.indicators())


def test_default_path_is_the_packaged_file() -> None:
    assert DEFAULT_RUBRIC.is_file()
    assert load_rubric(DEFAULT_RUBRIC) == load_rubric()


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("II-A", "Instruction"),
        ("ii-a", "Instruction"),
        (" iv–f ", "Professional Responsibilities"),
        ("[III-B]", "Collaboration"),
    ],
)
def test_indicators_are_found_however_the_code_is_written(rubric: Rubric, code: str, name: str) -> None:
    indicator = rubric.indicator(code)
    assert indicator is not None
    assert indicator.name == name


@pytest.mark.parametrize("code", ["II-Z", "V-A", "IIA", "", "II"])
def test_unknown_codes_find_nothing(rubric: Rubric, code: str) -> None:
    assert rubric.indicator(code) is None


# -- tagging evidence -----------------------------------------------------------------------------------


def test_codes_are_found_in_order_once_each_in_the_forms_people_write(rubric: Rubric) -> None:
    notes = "[II-A] clear objective posted. ii-b: calm transitions. (IV-C) co-planned with team; II-A again, I-A."
    assert tag_evidence(notes, rubric) == (["II-A", "II-B", "IV-C", "I-A"], [])


def test_code_like_words_the_rubric_lacks_are_reported_as_unknown(rubric: Rubric) -> None:
    assert tag_evidence("II-Z and V-A, also v-a and II-A", rubric) == (["II-A"], ["II-Z", "V-A"])


def test_en_dashes_from_phones_and_word_processors_count(rubric: Rubric) -> None:
    assert tag_evidence("III–C and IV—E", rubric) == (["III-C", "IV-E"], [])


@pytest.mark.parametrize(
    "text",
    [
        "IIA without a hyphen is not read",  # documented: a hyphen is required
        "sent via email, x-ray, a T-shirt",
        "II-AB and XII-AA are not codes",
        "grade K-2 and room 3-D",
        "well-being, in-class, I - A",
        "",
    ],
)
def test_ordinary_words_are_not_codes(rubric: Rubric, text: str) -> None:
    assert tag_evidence(text, rubric) == ([], [])


def test_a_districts_own_codes_are_read(tmp_path: Path) -> None:
    data = small()
    data["standards"][0]["code"] = "P"
    data["standards"][0]["indicators"][0]["code"] = "P-A"
    district = load_rubric(write(tmp_path, data))
    assert tag_evidence("[P-A] and p-a and II-A and P-Q", district) == (["P-A", "II-A"], ["P-Q"])


# -- a district's broken file ---------------------------------------------------------------------------


def test_a_valid_district_file_loads(tmp_path: Path) -> None:
    district = load_rubric(write(tmp_path, small()))
    assert district.name == "Tiny rubric"
    assert [i.code for i in district.indicators()] == ["I-A", "II-A"]


def test_extra_keys_such_as_elements_are_allowed(tmp_path: Path) -> None:
    data = small()
    data["standards"][0]["indicators"][0]["elements"] = ["I-A-1 Subject Matter Knowledge"]
    assert load_rubric(write(tmp_path, data)).indicator("I-A") is not None


def test_a_missing_key_names_where_it_is_missing(tmp_path: Path) -> None:
    data = small()
    del data["standards"][1]["indicators"][0]["description"]
    with pytest.raises(RubricError, match=r"standards\[1\]\.indicators\[0\]\.description: missing"):
        load_rubric(write(tmp_path, data))


def test_a_missing_top_level_key_is_named(tmp_path: Path) -> None:
    data = small()
    del data["levels"]
    with pytest.raises(RubricError, match=r": levels: missing"):
        load_rubric(write(tmp_path, data))


def test_a_duplicate_indicator_code_is_refused(tmp_path: Path) -> None:
    data = small()
    data["standards"][0]["indicators"].append({"code": "i-a", "name": "Again", "description": "Twice."})
    with pytest.raises(RubricError, match="indicator code i-a appears more than once"):
        load_rubric(write(tmp_path, data))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["standards"][1]["indicators"][0].update(code="I-B"), "indicator I-B: code must be II"),
        (lambda d: d["standards"][0]["indicators"][0].update(code="IA"), "indicator IA: code must be I"),
        (lambda d: d["standards"][1].update(code="I"), "each standard code must appear once"),
        (lambda d: d["standards"][1].update(indicators=[]), r"standards\[1\] \(II\): has no indicators"),
        (lambda d: d.update(levels=["A", "A"]), "levels: must list each level once"),
        (lambda d: d.update(standards=[]), "standards: must list at least one standard"),
        (lambda d: d["standards"][0]["indicators"][0].update(name="  "), r"indicators\[0\]\.name"),
    ],
)
def test_rules_a_district_file_must_follow(tmp_path: Path, change, message: str) -> None:
    data = small()
    change(data)
    with pytest.raises(RubricError, match=message):
        load_rubric(write(tmp_path, data))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed", "is not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("", "must be a mapping"),
    ],
)
def test_a_file_that_is_not_a_rubric_says_why(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RubricError, match=message) as raised:
        load_rubric(path)
    assert str(path) in str(raised.value)


def test_a_missing_file_is_a_rubric_error(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="cannot be read"):
        load_rubric(tmp_path / "nope.yaml")
