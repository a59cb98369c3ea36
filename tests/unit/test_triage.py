"""Triage: the shipped criteria table and the checks CriteriaTable makes on any table."""

from __future__ import annotations

import tomllib
from collections import Counter

import pytest

from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Urgency
from actors.domain.triage import (
    DEFAULT_TABLE,
    Chapter,
    CriteriaTable,
    Criterion,
    default_table,
)

pytestmark = pytest.mark.timeout(30)

LETTER = {"A": Urgency.AKUTT, "H": Urgency.HASTER, "V": Urgency.VANLIG}
RAW = tomllib.loads(DEFAULT_TABLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def table() -> CriteriaTable:
    return CriteriaTable.load()


def test_shipped_table_loads(table: CriteriaTable) -> None:
    assert table.version == RAW["meta"]["version"] != ""
    assert len(table.chapters) == len(RAW["chapters"]) > 0
    assert len(table.criteria) == len(RAW["criteria"]) > 0


def test_default_table_is_loaded_once() -> None:
    assert default_table() is default_table()
    assert default_table().criteria.keys() == CriteriaTable.load(DEFAULT_TABLE).criteria.keys()


def test_chapters_are_numbered_without_gaps(table: CriteriaTable) -> None:
    assert sorted(table.chapters) == list(range(1, len(table.chapters) + 1))
    for ch in table.chapters.values():
        assert ch.title.strip() and ch.title_no.strip()


def test_every_code_is_listed_once_in_the_file() -> None:
    counts = Counter(c["code"] for c in RAW["criteria"])
    assert [code for code, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("raw", RAW["criteria"], ids=lambda c: c["code"])
def test_code_maps_to_the_urgency_of_its_letter(table: CriteriaTable, raw: dict) -> None:
    code = raw["code"]
    letter, chapter, number = code.split(".")
    crit = table.lookup(code)
    assert crit.code == code
    assert crit.urgency is LETTER[letter]
    assert table.urgency_of(code) is LETTER[letter]
    assert crit.chapter == int(chapter) == raw["chapter"]
    assert crit.chapter in table.chapters
    assert len(number) == 2 and number.isdigit()
    assert crit.text.strip()


@pytest.mark.parametrize("chapter", sorted({c["number"] for c in RAW["chapters"]}))
def test_every_chapter_has_every_level(table: CriteriaTable, chapter: int) -> None:
    levels = {c.urgency for c in table.criteria.values() if c.chapter == chapter}
    assert levels == set(Urgency), f"chapter {chapter} lacks {set(Urgency) - levels}"


@pytest.mark.parametrize("code", ["A.01.99", "H.99.01", "V.00.00", "A.41.01"])
def test_unknown_code_is_invalid_argument(table: CriteriaTable, code: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        table.lookup(code)
    assert info.value.field == "criteria_code"


@pytest.mark.parametrize(
    "code",
    [
        "",
        "A",
        "A.1.01",
        "A.01.1",
        "A.001.01",
        "a.01.01",
        "X.01.01",
        "A-01-01",
        "A0101",
        " A.01.01",
        "A.01.01 ",
        "A.01.01\n",
        "A.01.01.01",
    ],
)
def test_malformed_code_is_invalid_argument(table: CriteriaTable, code: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        table.lookup(code)
    assert info.value.field == "criteria_code"
    with pytest.raises(InvalidArgumentError) as info:
        table.urgency_of(code)
    assert info.value.field == "criteria_code"


def test_lookup_names_the_field_it_is_given(table: CriteriaTable) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        table.lookup("nonsense", field="incident.criteria_code")
    assert info.value.field == "incident.criteria_code"


# --------------------------------------------------------------- small hand-built tables

CHAPTERS = [Chapter(1, "One", "En"), Chapter(2, "Two", "To")]


def _crit(code: str, chapter: int, urgency: Urgency) -> Criterion:
    return Criterion(code, chapter, urgency, f"text of {code}", f"tekst til {code}")


def test_small_table_builds_and_looks_up() -> None:
    t = CriteriaTable(
        CHAPTERS,
        [
            _crit("A.01.01", 1, Urgency.AKUTT),
            _crit("H.01.01", 1, Urgency.HASTER),
            _crit("V.02.01", 2, Urgency.VANLIG),
        ],
        "test",
    )
    assert t.urgency_of("A.01.01") is Urgency.AKUTT
    assert t.urgency_of("H.01.01") is Urgency.HASTER
    assert t.lookup("V.02.01").chapter == 2
    with pytest.raises(InvalidArgumentError):
        t.lookup("A.02.01")


def test_table_with_duplicate_code_is_refused() -> None:
    crits = [_crit("A.01.01", 1, Urgency.AKUTT), _crit("A.01.01", 1, Urgency.AKUTT)]
    with pytest.raises(ValueError, match="twice"):
        CriteriaTable(CHAPTERS, crits, "test")


@pytest.mark.parametrize(
    ("code", "urgency"),
    [
        ("A.01.01", Urgency.HASTER),
        ("A.01.01", Urgency.VANLIG),
        ("H.01.01", Urgency.AKUTT),
        ("V.01.01", Urgency.HASTER),
    ],
)
def test_table_with_wrong_letter_is_refused(code: str, urgency: Urgency) -> None:
    with pytest.raises(ValueError, match="level disagrees"):
        CriteriaTable(CHAPTERS, [_crit(code, 1, urgency)], "test")


def test_table_with_unknown_chapter_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown chapter"):
        CriteriaTable(CHAPTERS, [_crit("A.03.01", 3, Urgency.AKUTT)], "test")


def test_table_whose_code_and_chapter_disagree_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown chapter"):
        CriteriaTable(CHAPTERS, [_crit("A.01.01", 2, Urgency.AKUTT)], "test")


@pytest.mark.parametrize("code", ["A.1.01", "Q.01.01", "A.01.01\n", "a.01.01", ""])
def test_table_with_malformed_code_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="malformed"):
        CriteriaTable(CHAPTERS, [_crit(code, 1, Urgency.AKUTT)], "test")


def test_load_reads_a_table_file(tmp_path) -> None:
    path = tmp_path / "criteria.toml"
    path.write_text(
        """
[meta]
version = "t1"

[[chapters]]
number = 7
title = "Seven"
title_no = "Sju"

[[criteria]]
code = "H.07.02"
chapter = 7
urgency = "haster"
text = "something"
text_no = "noe"
""",
        encoding="utf-8",
    )
    t = CriteriaTable.load(path)
    assert t.version == "t1"
    assert t.lookup("H.07.02") == Criterion("H.07.02", 7, Urgency.HASTER, "something", "noe")


def test_load_refuses_a_file_with_a_wrong_letter(tmp_path) -> None:
    path = tmp_path / "criteria.toml"
    path.write_text(
        '[meta]\nversion = "t1"\n'
        '[[chapters]]\nnumber = 7\ntitle = "Seven"\ntitle_no = "Sju"\n'
        '[[criteria]]\ncode = "V.07.01"\nchapter = 7\nurgency = "akutt"\ntext = "x"\n'
        'text_no = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="level disagrees"):
        CriteriaTable.load(path)


def test_load_refuses_a_criterion_without_its_norwegian_text(tmp_path) -> None:
    """The console shows a Norwegian dispatcher ``text_no``: a criterion without one
    would show English in the middle of a Norwegian list."""
    path = tmp_path / "criteria.toml"
    path.write_text(
        '[meta]\nversion = "t1"\n'
        '[[chapters]]\nnumber = 7\ntitle = "Seven"\ntitle_no = "Sju"\n'
        '[[criteria]]\ncode = "V.07.01"\nchapter = 7\nurgency = "vanlig"\ntext = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"V\.07\.01 needs both text and text_no"):
        CriteriaTable.load(path)
