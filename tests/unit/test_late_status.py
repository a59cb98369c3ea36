"""A crew's status told on the radio and entered later: when it happened is bounded
(not before the unit's last status change nor the incident's receipt, not in the
future, not over 2 hours ago), only the desk enters it, the journal keeps it and the
on-scene KPI reads it; the CLI's times."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from actors.domain import decide, kpi, prenotify
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.model import (
    CrewLevel,
    Incident,
    IncidentStatus,
    Position,
    Unit,
    UnitKind,
    UnitStatus,
)
from actors.gateway import convert
from actors.gateway.unit_service import late_entry_allowed
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.kpi import parse_at
from cluster.errors import AccessDeniedError
from cluster.tokens import Claims

pytestmark = pytest.mark.timeout(30)

T0 = 1_700_000_000.0
HERE = Position(59.91, 10.75)


def dispatched() -> tuple[Unit, Incident]:
    inc = Incident("OSL-000001", "oslo", IncidentStatus.TRIAGED, HERE, T0, T0)
    unit = Unit("osl-11", "Oslo 11", "oslo", UnitKind.ROAD_AMBULANCE, CrewLevel.PARAMEDIC,
                UnitStatus.AVAILABLE_AT_STATION, HERE, "Ullevål", T0)  # fmt: skip
    inc, unit = decide.assign(inc, unit, T0 + 60)
    unit, _ = decide.change_unit_status(unit, UnitStatus.EN_ROUTE, inc, T0 + 90)
    return unit, inc


def test_the_time_it_happened_is_kept_and_bounded() -> None:
    unit, inc = dispatched()
    assert unit.status_at == T0 + 90  # the assignment and each change stamp it
    # Reported on the radio at T0+600, typed in at T0+900.
    there, new_inc = decide.change_unit_status(unit, UnitStatus.ON_SCENE, inc, T0 + 900, T0 + 600)
    assert (there.status_at, there.updated_at) == (T0 + 600, T0 + 900)
    assert new_inc is not None and new_inc.status is IncidentStatus.ON_SCENE
    with pytest.raises(PreconditionError, match="before the unit's last status change"):
        decide.change_unit_status(unit, UnitStatus.ON_SCENE, inc, T0 + 900, T0 + 80)
    older = Incident("OSL-000002", "oslo", IncidentStatus.DISPATCHED, HERE, T0 + 95, T0 + 95)
    unit.incident_id = older.id
    with pytest.raises(PreconditionError, match="before incident OSL-000002 was received"):
        decide.change_unit_status(unit, UnitStatus.ON_SCENE, older, T0 + 900, T0 + 91)
    assert Unit.decode(there.encode()).status_at == T0 + 600


def test_the_on_scene_kpi_reads_when_it_happened() -> None:
    entries = [
        {"command": kpi.UNIT_STATUS, "at": T0 + 900, "occurred_at": T0 + 600, "ids": ["i1"]},
        {"command": kpi.UNIT_STATUS, "at": T0 + 700, "ids": ["i2"]},
    ]
    assert kpi.first_on_scene(entries) == {"i1": T0 + 600, "i2": T0 + 700}
    # An earlier arrival entered after a later one: the earliest happening counts.
    entries.append({"command": kpi.UNIT_STATUS, "at": T0 + 950, "occurred_at": T0 + 500,
                    "ids": ["i2"]})  # fmt: skip
    assert kpi.first_on_scene(entries)["i2"] == T0 + 500


def test_a_hospital_arrival_entered_later_is_stamped_when_it_happened() -> None:
    inc = Incident("OSL-000001", "oslo", IncidentStatus.TRANSPORTING, HERE, T0, T0)
    assert prenotify.mark_arrived(inc, "osl-11", T0 + 900, T0 + 600) is inc  # none open


def request(at: float | None, **kw) -> pb.ChangeUnitStatusRequest:
    req = pb.ChangeUnitStatusRequest(
        request_id="r1", unit_id="osl-11", status=pb.UNIT_STATUS_ON_SCENE, **kw
    )
    if at is not None:
        req.occurred_at.FromNanoseconds(int(at * 1e9))
    return req


def test_the_gateway_bounds_the_time_and_only_the_desk_enters_it() -> None:
    now = T0 + 10_000
    assert convert.change_unit_status(request(None), "kari", now).occurred_at is None
    assert convert.change_unit_status(request(now - 300), "kari", now).occurred_at == now - 300
    for at, says in ((now + 60, "in the future"), (now - 7300, "more than 2 hours ago")):
        with pytest.raises(InvalidArgumentError, match=says) as err:
            convert.change_unit_status(request(at), "kari", now)
        assert err.value.field == "occurred_at"
    for role in ("dispatcher", "supervisor"):
        late_entry_allowed(Claims("kari", "Kari", role, "oslo"))
    with pytest.raises(AccessDeniedError, match="occurred_at"):
        late_entry_allowed(Claims("osl-11", "Oslo 11", "crew", "oslo", unit="osl-11"))
    late_entry_allowed(None)  # auth off: nothing is enforced


def test_the_cli_reads_a_time_of_day_or_a_while_ago() -> None:
    now = dt.datetime.now().astimezone()
    earlier = (now - dt.timedelta(minutes=2)).replace(second=0, microsecond=0)
    if earlier.date() == now.date():  # not across midnight
        assert parse_at(earlier.strftime("%H:%M")) == earlier.timestamp()
    assert abs(parse_at("5m") - (now.timestamp() - 300)) < 5
    later = now + dt.timedelta(minutes=5)
    if later.date() == now.date():
        with pytest.raises(argparse.ArgumentTypeError, match="still to come"):
            parse_at(later.strftime("%H:%M"))
