"""Earlier contacts from one number (pure): numbers compared by their digits, the window,
newest first, one copy per record, a hidden number refused."""

from __future__ import annotations

import pytest

from actors.domain import caller_history as ch
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Call, CallStatus, IncidentStatus, Position
from tests.unit.decide_support import T0, make_incident

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    "number", ["+47 912 34 567", "+4791234567", "0047 91234567", "91234567", "912 34 567"]
)
def test_one_number_written_many_ways_is_one_key(number: str) -> None:
    assert ch.number_key(number) == "91234567"


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("+46 70 123 45 67", "46701234567"),  # Swedish: kept whole
        ("4791234567", "91234567"),
        ("47123456", "47123456"),  # an 8-digit Norwegian number starting 47: not a code
        ("", ""),
    ],
)
def test_other_numbers_keep_their_digits(number: str, key: str) -> None:
    assert ch.number_key(number) == key


def call(cid: str, number: str, arrived: float, revision: int = 5) -> Call:
    return Call(
        id=cid,
        region="oslo",
        status=CallStatus.WAITING,
        position=Position(59.9, 10.7, 10.0),
        caller_number=number,
        arrived_at=arrived,
        revision=revision,
    )


def incident(iid: str, number: str, created: float, revision: int = 41):
    inc = make_incident(IncidentStatus.CLOSED, inc_id=iid)
    inc.caller_number, inc.created_at, inc.revision = number, created, revision
    return inc


def test_the_window_and_the_order_newest_first() -> None:
    incidents = [
        incident("OSL-1", "+47 912 34 567", T0 - 3600),
        incident("OSL-2", "91234567", T0 - 60),
        incident("OSL-3", "+47 400 00 000", T0 - 30),  # another number
        incident("OSL-4", "91234567", T0 - 80 * 3600),  # before the window
    ]
    calls = [call("OSL-C1", "0047 91234567", T0 - 10), call("OSL-C2", "", T0 - 5)]
    found, rang = ch.earlier(incidents, calls, "+4791234567", T0 - 72 * 3600)
    assert [i.id for i in found] == ["OSL-2", "OSL-1"]
    assert [c.id for c in rang] == ["OSL-C1"]


def test_a_record_read_live_and_archived_is_listed_once_as_its_newest() -> None:
    older, newer = incident("OSL-1", "91234567", T0, 41), incident("OSL-1", "91234567", T0, 50)
    found, _ = ch.earlier([newer, older], [], "91234567", T0 - 1)
    assert found == [newer]


def test_a_hidden_number_matches_nothing_it_is_refused() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        ch.earlier([incident("OSL-1", "", T0)], [call("OSL-C1", "", T0)], "", T0 - 1)
    assert info.value.field == "caller_number"


@pytest.mark.parametrize(("hours", "window"), [(0, 72), (1, 1), (168, 168)])
def test_the_window_in_hours(hours: int, window: int) -> None:
    assert ch.window_hours(hours) == window


@pytest.mark.parametrize("hours", [-1, 169])
def test_a_window_out_of_range_names_hours(hours: int) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        ch.window_hours(hours)
    assert info.value.field == "hours"
