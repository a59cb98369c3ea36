"""Boundary validators: good values pass unchanged, bad ones name the field."""

from __future__ import annotations

import math

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from actors.domain import validation as v
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Position
from actors.gateway.convert import timestamp_s

pytestmark = pytest.mark.timeout(30)


def _refused(field: str, fn, /, *args, **kwargs) -> InvalidArgumentError:
    with pytest.raises(InvalidArgumentError) as info:
        fn(*args, **kwargs)
    assert info.value.field == field
    assert str(info.value).startswith(f"input: {field}: ")
    return info.value


# ------------------------------------------------------------------------ request id


@pytest.mark.parametrize(
    "value", ["r", "req-1", "abc.DEF_123:x-y", "0", "x" * v.MAX_REQUEST_ID, "0b7f-uuid-like"]
)
def test_request_id_good(value: str) -> None:
    assert v.request_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * (v.MAX_REQUEST_ID + 1),
        "a b",
        "a/b",
        "../etc",
        "æøå",
        "a\x00b",
        "abc\n",
        "\nabc",
        "tab\t",
        "a*",
    ],
    ids=repr,
)
def test_request_id_bad(value: str) -> None:
    _refused("request_id", v.request_id, value)


def test_request_id_names_the_given_field() -> None:
    _refused("batch.request_id", v.request_id, "a b", field="batch.request_id")


# ------------------------------------------------------------------------ entity ids


@pytest.mark.parametrize("value", ["osl-a11", "OSL-2026-000001", "x" * v.MAX_ID, "unit 7"])
def test_entity_id_good(value: str) -> None:
    assert v.entity_id(value, "unit_id") == value


@pytest.mark.parametrize(
    "value", ["", "x" * (v.MAX_ID + 1), "a/b", "a\nb", "a\x00b", "a\x1bb"], ids=repr
)
def test_entity_id_bad(value: str) -> None:
    _refused("unit_id", v.entity_id, value, "unit_id")


# ------------------------------------------------------------------------------ text


@pytest.mark.parametrize(
    "value", ["", "Storgata 1", "line one\nline two\tindent", "Ærlig øy på Åsgårdstrand", "x" * 10]
)
def test_text_good(value: str) -> None:
    assert v.text(value, "address", limit=len(value) or 1) == value


@pytest.mark.parametrize("value", ["a\x00b", "bell\x07", "esc\x1b[2J", "cr\r", "\x1f"], ids=repr)
def test_text_with_control_characters_is_refused(value: str) -> None:
    err = _refused("notes", v.text, value, "notes", limit=v.MAX_NOTE)
    assert "control" in err.problem


def test_text_over_the_limit_is_refused() -> None:
    assert v.text("x" * v.MAX_ADDRESS, "address", limit=v.MAX_ADDRESS)
    _refused("address", v.text, "x" * (v.MAX_ADDRESS + 1), "address", limit=v.MAX_ADDRESS)


@pytest.mark.parametrize("value", ["", "   ", "\n\t"], ids=repr)
def test_required_text_must_not_be_blank(value: str) -> None:
    _refused("note.text", v.text, value, "note.text", limit=v.MAX_NOTE, required=True)
    assert v.text(value, "note.text", limit=v.MAX_NOTE) == value


# --------------------------------------------------------------------- caller number


@pytest.mark.parametrize(
    "value", ["", "113", "12", "+4722334455", "22 33 44 55", "+47 22 33 44 55", "0" * 32]
)
def test_caller_number_good(value: str) -> None:
    assert v.caller_number(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "1",
        "+",
        "++4722334455",
        "abc",
        "22-33-44-55",
        "(22) 33 44 55",
        " 113",
        "0" * 33,
        "+4722334455\n",
        "113\n",
        "+47 22\t33",
    ],
    ids=repr,
)
def test_caller_number_bad(value: str) -> None:
    _refused("caller_number", v.caller_number, value)


# -------------------------------------------------------------------------- position


@pytest.mark.parametrize(
    ("lat", "lon", "acc"),
    [
        (0.0, 0.0, 0.0),
        (59.9139, 10.7522, 12.5),
        (90.0, 180.0, v.MAX_ACCURACY_M),
        (-90.0, -180.0, 0.0),
    ],
)
def test_position_good(lat: float, lon: float, acc: float) -> None:
    assert v.position(lat, lon, acc) == Position(lat, lon, acc)


@pytest.mark.parametrize(
    ("lat", "lon", "acc", "field"),
    [
        (90.0001, 10.0, 0.0, "position.lat"),
        (-91.0, 10.0, 0.0, "position.lat"),
        (math.nan, 10.0, 0.0, "position.lat"),
        (math.inf, 10.0, 0.0, "position.lat"),
        (-math.inf, 10.0, 0.0, "position.lat"),
        (59.0, 180.5, 0.0, "position.lon"),
        (59.0, -181.0, 0.0, "position.lon"),
        (59.0, math.nan, 0.0, "position.lon"),
        (59.0, -math.inf, 0.0, "position.lon"),
        (59.0, 10.0, -0.1, "position.accuracy_m"),
        (59.0, 10.0, v.MAX_ACCURACY_M + 1, "position.accuracy_m"),
        (59.0, 10.0, math.nan, "position.accuracy_m"),
        (59.0, 10.0, math.inf, "position.accuracy_m"),
    ],
)
def test_position_bad(lat: float, lon: float, acc: float, field: str) -> None:
    _refused(field, v.position, lat, lon, acc)


def test_position_names_a_nested_field() -> None:
    _refused("unit.position.lon", v.position, 0.0, 200.0, 0.0, field="unit.position")


# --------------------------------------------------------------------------- chapter


@pytest.mark.parametrize("known", [{1, 2, 3}, {1: "a", 2: "b", 3: "c"}], ids=["set", "dict"])
def test_chapter(known) -> None:
    assert v.chapter(0, known) == 0  # 0 = not given
    assert v.chapter(2, known) == 2
    _refused("complaint_chapter", v.chapter, 4, known)
    _refused("complaint_chapter", v.chapter, -1, known)
    _refused("incident.complaint_chapter", v.chapter, 9, known, field="incident.complaint_chapter")


def test_timestamps_outside_protobufs_range_are_invalid_arguments() -> None:
    assert timestamp_s(Timestamp(seconds=1_700_000_000, nanos=500_000_000), "since") == 1.7e9 + 0.5
    for bad in (
        Timestamp(seconds=-24, nanos=-7146),
        Timestamp(seconds=-(2**63)),
        Timestamp(seconds=2**63 - 1),
        Timestamp(seconds=0, nanos=1_000_000_000),
    ):
        with pytest.raises(InvalidArgumentError) as info:
            timestamp_s(bad, "since")
        assert info.value.field == "since"
