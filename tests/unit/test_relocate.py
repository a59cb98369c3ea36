"""An incident's place told better later in the call: a new position, a new address or
both while it is open, the old place kept in a note, a move to nowhere new refused; the
gateway's checks and the CLI."""

from __future__ import annotations

import pytest

from actors.domain import decide
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.model import Incident, IncidentStatus, Position
from actors.gateway import convert
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.cli import build_parser, main

pytestmark = pytest.mark.timeout(30)

T0 = 1_700_000_000.0
HANDSET = Position(59.91, 10.75, 800.0)


def incident(status: IncidentStatus = IncidentStatus.DISPATCHED) -> Incident:
    return Incident("OSL-000001", "oslo", status, HANDSET, T0, T0, address="Oslo sentrum")


def test_a_better_position_and_address_keep_the_old_place_in_a_note() -> None:
    inc = incident()
    there = Position(59.9226, 10.759, 10.0)
    moved = decide.relocate(inc, there, "Thorvald Meyers gate 10", "kari", T0 + 60)
    assert (moved.position, moved.address, moved.updated_at) == (
        there,
        "Thorvald Meyers gate 10",
        T0 + 60,
    )
    assert (inc.position, inc.address) == (HANDSET, "Oslo sentrum")  # given record unchanged
    (note,) = moved.notes
    assert (note.author, note.at) == ("kari", T0 + 60)
    assert note.text == (
        "Location changed from Oslo sentrum [59.91000, 10.75000 (±800 m)]"
        " to Thorvald Meyers gate 10 [59.92260, 10.75900 (±10 m)]"
    )
    drammen = decide.relocate(inc, Position(59.7439, 10.2045), None, "kari", T0 + 65)
    assert drammen.region == "oslo"  # a place in Vestre Viken: a move is not a hand-over
    only_address = decide.relocate(inc, None, "Storgata 1", "kari", T0 + 70)
    assert (only_address.position, only_address.address) == (HANDSET, "Storgata 1")
    only_position = decide.relocate(inc, there, None, "kari", T0 + 80)
    assert (only_position.position, only_position.address) == (there, "Oslo sentrum")
    cleared = decide.relocate(inc, there, "", "kari", T0 + 90)  # the old address was wrong
    assert cleared.address == ""
    assert cleared.notes[-1].text.endswith("to 59.92260, 10.75900 (±10 m)")


def test_a_closed_incident_or_no_change_is_refused() -> None:
    for status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED):
        with pytest.raises(PreconditionError, match=f"{status.value}; cannot move it"):
            decide.relocate(incident(status), Position(59.0, 10.0), None, "kari", T0)
    with pytest.raises(PreconditionError, match="there already"):
        decide.relocate(incident(), HANDSET, "Oslo sentrum", "kari", T0)


def request(**kw) -> pb.ChangeIncidentLocationRequest:
    return pb.ChangeIncidentLocationRequest(request_id="r1", incident_id="OSL-000001", **kw)


@pytest.mark.parametrize(
    ("req", "field"),
    [
        (request(), "position"),
        (request(address="   "), "position"),
        (request(address="two\nlines"), "address"),
        (request(address="x" * 501), "address"),
        (request(position=pb.Position(lat=95.0, lon=10.0)), "position.lat"),
        (request(position=pb.Position(lat=59.9)), "position.lon"),  # lon left out
        (request(position=pb.Position(lon=10.7)), "position.lat"),
        (request(address="Storgata 1", clear_address=True), "clear_address"),
        (request(position=pb.Position(lat=59.0, lon=10.0, accuracy_m=-1)), "position.accuracy_m"),
        (pb.ChangeIncidentLocationRequest(request_id="r1", address="x"), "incident_id"),
    ],
)
def test_the_gateway_names_the_bad_field(req, field) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        convert.change_incident_location(req, "kari")
    assert err.value.field == field


def test_the_request_and_the_cli(capsys) -> None:
    cmd = convert.change_incident_location(request(address=" Storgata 1 "), "kari")
    assert (cmd.position, cmd.address, cmd.who) == (None, "Storgata 1", "kari")
    assert convert.change_incident_location(request(clear_address=True), "kari").address == ""
    assert main(["incident", "move", "OSL-000001", "--lat", "59.9"]) == 2  # nothing sent
    assert "INVALID_ARGUMENT: --lat and --lon go together" in capsys.readouterr().err
    cmd = convert.change_incident_location(
        request(position=pb.Position(lat=59.9, lon=10.7, accuracy_m=5)), "kari"
    )
    assert (cmd.position, cmd.address) == (Position(59.9, 10.7, 5.0), None)
    args = build_parser().parse_args(
        ["incident", "move", "OSL-000001", "--lat", "59.9", "--lon", "10.7", "--address", "X"]
    )
    assert (args.id, args.lat, args.lon, args.accuracy, args.address) == (
        "OSL-000001",
        59.9,
        10.7,
        0.0,
        "X",
    )
