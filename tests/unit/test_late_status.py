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
from tests.unit.test_prenotify import sent as prenotification_sent

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


def entry(at: float, records: list, details: dict) -> dict:
    """The journal entry the executor writes for a unit's status change: the ids of the
    records written, and the details given."""
    return {"command": kpi.UNIT_STATUS, "at": at, "ids": [r.id for r in records], **details}


def test_the_on_scene_kpi_reads_when_it_happened_also_for_a_second_unit() -> None:
    """Unit A's arrival is recorded live at T0+700 (it moves the incident on scene); unit
    B's, told on the radio as T0+600, is typed in at T0+900: it does not move the
    incident (already on scene), and still counts as the first arrival."""
    a, inc = dispatched()
    b = Unit("osl-12", "Oslo 12", "oslo", UnitKind.ROAD_AMBULANCE, CrewLevel.EMT,
             UnitStatus.AVAILABLE_AT_STATION, HERE, "Ullevål", T0)  # fmt: skip
    inc, b = decide.assign(inc, b, T0 + 70)
    b, _ = decide.change_unit_status(b, UnitStatus.EN_ROUTE, inc, T0 + 100)
    a2, on_scene = decide.change_unit_status(a, UnitStatus.ON_SCENE, inc, T0 + 700)
    assert on_scene is not None
    live = entry(T0 + 700, [a2, on_scene], decide.late_entry_details(a2, None, inc))
    b2, moved = decide.change_unit_status(b, UnitStatus.ON_SCENE, on_scene, T0 + 900, T0 + 600)
    assert moved is None  # the incident was on scene already: the entry names only B
    late = entry(T0 + 900, [b2], decide.late_entry_details(b2, T0 + 600, on_scene))
    assert late[kpi.OCCURRED_AT] == T0 + 600 and late[kpi.ON_SCENE_OF] == inc.id
    assert kpi.first_on_scene([live])[inc.id] == T0 + 700
    assert kpi.first_on_scene([live, late])[inc.id] == T0 + 600
    # A time a client's clock put ahead of the entry is taken as the entry's own.
    c2, _ = decide.change_unit_status(b2, UnitStatus.TRANSPORTING, on_scene, T0 + 950, T0 + 953)
    assert c2.status_at == T0 + 950
    # No time recorded for the unit's last change (a record from before status_at): the
    # bound is unknown, so no time entered later is taken.
    b.status_at = 0.0
    with pytest.raises(PreconditionError, match="no time is recorded"):
        decide.change_unit_status(b, UnitStatus.ON_SCENE, on_scene, T0 + 900, T0 + 600)


def test_a_hospital_arrival_entered_later_is_stamped_when_it_happened() -> None:
    inc, _, _ = prenotification_sent()  # sent at T0 (the same T0)
    arrived = prenotify.mark_arrived(inc, "u1", T0 + 900, T0 + 600)
    assert arrived.alerts[0].prenotification.arrived_at == T0 + 600
    assert arrived.updated_at == T0 + 900  # the record changes when it is entered
    assert prenotify.lead_time_s(arrived.alerts[0]) == 600.0


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
    local = dt.datetime.now().astimezone().tzinfo
    noon = dt.datetime(2026, 3, 28, 12, 0, tzinfo=local)
    assert parse_at("11:58", noon) == noon.timestamp() - 120
    # Just after midnight, a report from just before it: yesterday's.
    after_midnight = dt.datetime(2026, 3, 28, 0, 5, tzinfo=local)
    assert parse_at("23:55", after_midnight) == after_midnight.timestamp() - 600
    now = dt.datetime.now().astimezone()
    assert abs(parse_at("5m") - (now.timestamp() - 300)) < 5
    # A wrong time says which forms are taken, not which function failed.
    for wrong in ("25:99", "+5m", "soon"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"expected e\.g\. 14:32 \(today\)"):
            parse_at(wrong)
