"""Earlier contacts from one number (pure): numbers in one canonical form, the window,
newest first, one copy per record, the call being talked on left out, what each came
to; the gateway's summary of a contact, and a contact logged as a read."""

from __future__ import annotations

import pytest

from actors.domain import caller_history as ch
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import (
    Call,
    CallOutcome,
    CallStatus,
    IncidentStatus,
    Position,
    Urgency,
)
from actors.gateway.access_log import records_of
from actors.gateway.call_service import _contact_pb
from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.unit.decide_support import T0, make_incident

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    "number", ["+47 912 34 567", "+4791234567", "0047 91234567", "91234567", "912 34 567"]
)
def test_one_number_written_many_ways_is_one_key(number: str) -> None:
    assert ch.number_key(number) == "+4791234567"


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("+46 70 123 45 67", "+46701234567"),
        ("0046 70 123 45 67", "+46701234567"),
        ("4791234567", "+4791234567"),
        ("+500 12345", "+50012345"),  # not a Norwegian 8-digit number
        ("02800", "02800"),  # a short number: as it is
        ("", ""),
    ],
)
def test_other_numbers(number: str, key: str) -> None:
    assert ch.number_key(number) == key


def call(cid: str, number: str, arrived: float, revision: int = 5, **kw) -> Call:
    return Call(
        id=cid,
        region="oslo",
        position=Position(59.9, 10.7, 10.0),
        caller_number=number,
        arrived_at=arrived,
        revision=revision,
        **kw,
    )


def incident(iid: str, number: str, created: float, revision: int = 41):
    inc = make_incident(IncidentStatus.CLOSED, inc_id=iid)
    inc.caller_number, inc.created_at, inc.revision = number, created, revision
    return inc


def test_the_window_the_order_and_what_each_came_to() -> None:
    incidents = [
        incident("OSL-1", "+47 912 34 567", T0 - 3600),
        incident("OSL-3", "+47 400 00 000", T0 - 30),  # another number
        incident("OSL-4", "91234567", T0 - 80 * 3600),  # before the window
    ]
    calls = [
        call(
            "OSL-C1",
            "0047 91234567",
            T0 - 3500,
            status=CallStatus.COMPLETED,
            outcome=CallOutcome.ADVICE,
        ),
        call("OSL-C2", "91234567", T0 - 10, status=CallStatus.ANSWERED),  # talked on now
        call("OSL-C3", "", T0 - 5),
    ]
    found = ch.contacts(
        incidents, calls, "+4791234567", T0 - 72 * 3600, current_call="OSL-C2", archived={"OSL-1"}
    )
    assert [(c.kind, c.id, c.archived) for c in found] == [
        ("call", "OSL-C1", False),
        ("incident", "OSL-1", True),
    ]
    assert found[0].outcome is CallOutcome.ADVICE
    assert (found[1].status, found[1].urgency) == (IncidentStatus.CLOSED, Urgency.HASTER)


def test_a_call_that_made_a_listed_incident_is_in_the_incidents_line() -> None:
    incidents = [incident("OSL-1", "91234567", T0 - 60)]
    calls = [
        call("OSL-C1", "91234567", T0 - 70, status=CallStatus.COMPLETED, incident_id="OSL-1"),
        call("OSL-C2", "91234567", T0 - 50, status=CallStatus.COMPLETED, incident_id="OSL-9"),
    ]
    found = ch.contacts(incidents, calls, "91234567", T0 - 3600)
    assert [c.id for c in found] == ["OSL-C2", "OSL-1"]  # OSL-9 is another region's


def test_a_record_read_live_and_archived_is_listed_once_as_its_newest() -> None:
    older, newer = incident("OSL-1", "91234567", T0, 41), incident("OSL-1", "91234567", T0, 50)
    (found,) = ch.contacts([older, newer], [], "91234567", T0 - 1)
    assert found.id == "OSL-1"
    assert ch._newest_per_id([older, newer])["OSL-1"] is newer


def test_a_hidden_number_is_not_searched() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        ch.contacts([incident("OSL-1", "", T0)], [call("OSL-C1", "", T0)], "", T0 - 1)
    assert info.value.field == "caller_number"


@pytest.mark.parametrize(("hours", "window"), [(0, 72), (1, 1), (168, 168)])
def test_the_window_in_hours(hours: int, window: int) -> None:
    assert ch.window_hours(hours) == window


@pytest.mark.parametrize("hours", [-1, 169])
def test_a_window_out_of_range_names_hours(hours: int) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        ch.window_hours(hours)
    assert info.value.field == "hours"


def test_a_contact_goes_out_as_a_summary_and_is_logged_as_a_read() -> None:
    (inc,) = ch.contacts([incident("OSL-1", "91234567", T0)], [], "91234567", T0 - 1)
    (c,) = ch.contacts(
        [], [call("OSL-C1", "91234567", T0, status=CallStatus.COMPLETED, incident_id="OSL-1")],
        "91234567", T0 - 1,
    )  # fmt: skip
    answer = pb.CallerHistory(contacts=[_contact_pb(inc), _contact_pb(c)], total=2)
    first, second = answer.contacts
    assert (first.kind, first.status, first.urgency) == (
        "incident", "INCIDENT_STATUS_CLOSED", pb.URGENCY_HASTER,
    )  # fmt: skip
    assert (second.kind, second.status, second.incident_id) == (
        "call", "CALL_STATUS_COMPLETED", "OSL-1",
    )  # fmt: skip
    assert records_of(answer) == [("incident", "OSL-1", "oslo", ""), ("call", "OSL-C1", "oslo", "")]


def test_the_cli_asks_by_the_call() -> None:
    from clients.cli import build_parser

    args = build_parser().parse_args(["call", "history", "OSL-C1a2b3c4d5", "--hours", "24"])
    assert (args.call, args.hours) == ("OSL-C1a2b3c4d5", 24)
