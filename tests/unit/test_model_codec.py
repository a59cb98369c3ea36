"""Records to JSON bytes and back, as stored in etcd; Outcome with its revision."""

from __future__ import annotations

import json
import random

import pytest

from actors.domain.model import (
    CrewLevel,
    Incident,
    IncidentStatus,
    Note,
    Outcome,
    Position,
    Unit,
    UnitKind,
    UnitStatus,
    Urgency,
    UrgencyChange,
)

pytestmark = pytest.mark.timeout(30)

# hypothesis is not installed in the venv: a seeded generator gives the same variety
# on every run.
TEXTS = ["", "Storgata 1", "Østre Aker vei 7, 0581 Oslo", 'quote " and \\ slash', "ny\nlinje", "😷"]


def _incident(rng: random.Random, i: int) -> Incident:
    urgency = rng.choice([None, *Urgency])
    return Incident(
        id=f"OSL-2026-{i:06d}",
        region=rng.choice(["oslo", "innlandet", "sorlandet"]),
        status=rng.choice(list(IncidentStatus)),
        position=Position(rng.uniform(-90, 90), rng.uniform(-180, 180), rng.uniform(0, 1e5)),
        created_at=rng.uniform(0, 2e9),
        updated_at=rng.uniform(0, 2e9),
        urgency=urgency,
        address=rng.choice(TEXTS),
        caller_number=rng.choice(["", "+4722334455", "113"]),
        complaint_chapter=rng.randint(0, 40),
        criteria_code=rng.choice(["", "A.01.01", "V.40.02"]),
        notes=[
            Note(rng.choice(TEXTS), rng.choice(["console", "op-1"]), rng.random())
            for _ in range(rng.randint(0, 3))
        ],
        assigned_unit_ids=[f"u-{rng.randint(0, 99)}" for _ in range(rng.randint(0, 3))],
        urgency_history=[
            UrgencyChange(rng.choice(list(Urgency)), "H.02.01", rng.random())
            for _ in range(rng.randint(0, 3))
        ],
        revision=rng.randint(0, 10**9),
    )


def _unit(rng: random.Random, i: int) -> Unit:
    region = rng.choice(["oslo", "innlandet"])
    return Unit(
        id=f"unit-{i}",
        call_sign=f"Oslo {i}",
        region=region,
        kind=rng.choice(list(UnitKind)),
        crew=rng.choice(list(CrewLevel)),
        status=rng.choice(list(UnitStatus)),
        position=Position(rng.uniform(-90, 90), rng.uniform(-180, 180), rng.uniform(0, 50)),
        station=rng.choice(TEXTS),
        updated_at=rng.uniform(0, 2e9),
        incident_id=rng.choice(["", "OSL-1"]),
        home_region=rng.choice([region, "vestre-viken"]),
        revision=rng.randint(0, 10**9),
    )


INCIDENTS = [_incident(random.Random(1000 + i), i) for i in range(60)]
UNITS = [_unit(random.Random(2000 + i), i) for i in range(60)]


@pytest.mark.parametrize("inc", INCIDENTS, ids=lambda x: x.id)
def test_incident_round_trip(inc: Incident) -> None:
    raw = inc.encode()
    assert isinstance(raw, bytes)
    back = Incident.decode(raw, inc.revision)
    assert back == inc
    assert type(back.status) is IncidentStatus
    assert back.urgency is None or type(back.urgency) is Urgency
    assert all(type(h.urgency) is Urgency for h in back.urgency_history)


@pytest.mark.parametrize("unit", UNITS, ids=lambda x: x.id)
def test_unit_round_trip(unit: Unit) -> None:
    back = Unit.decode(unit.encode(), unit.revision)
    assert back == unit
    assert (type(back.kind), type(back.crew), type(back.status)) == (
        UnitKind,
        CrewLevel,
        UnitStatus,
    )


def test_revision_is_not_stored() -> None:
    inc = INCIDENTS[0]
    assert "revision" not in json.loads(inc.encode())
    assert "revision" not in json.loads(UNITS[0].encode())
    assert Incident.decode(inc.encode()).revision == 0
    assert Incident.decode(inc.encode(), 12).revision == 12


def test_encoding_ignores_revision() -> None:
    a = INCIDENTS[1]
    b = Incident.decode(a.encode(), a.revision + 5)
    assert a.encode() == b.encode()


def test_incident_decode_fills_defaults() -> None:
    d = {
        "id": "OSL-1",
        "region": "oslo",
        "status": "received",
        "position": {"lat": 59.9, "lon": 10.7},
        "created_at": 1.0,
        "updated_at": 2.0,
    }
    inc = Incident.from_dict(d, 3)
    assert inc == Incident(
        id="OSL-1",
        region="oslo",
        status=IncidentStatus.RECEIVED,
        position=Position(59.9, 10.7, 0.0),
        created_at=1.0,
        updated_at=2.0,
        revision=3,
    )
    assert inc.urgency is None


def test_unit_without_home_region_is_home_in_its_region() -> None:
    d = {
        "id": "osl-a11",
        "call_sign": "Oslo 11",
        "region": "oslo",
        "kind": "road_ambulance",
        "crew": "paramedic",
        "status": "available_at_station",
        "position": {"lat": 59.9, "lon": 10.7, "accuracy_m": 1.0},
        "updated_at": 5.0,
    }
    unit = Unit.from_dict(d)
    assert unit.home_region == "oslo"
    assert unit.station == "" and unit.incident_id == ""
    d["home_region"] = ""
    assert Unit.from_dict(d).home_region == "oslo"


def test_unknown_enum_value_is_refused() -> None:
    raw = json.loads(INCIDENTS[0].encode())
    raw["status"] = "teleported"
    with pytest.raises(ValueError):
        Incident.from_dict(raw)


@pytest.mark.parametrize("status", list(UnitStatus), ids=lambda s: s.value)
def test_unit_available_property(status: UnitStatus) -> None:
    unit = UNITS[0]
    unit = Unit.decode(unit.encode())
    unit.status = status
    assert unit.available is (
        status in (UnitStatus.AVAILABLE_AT_STATION, UnitStatus.AVAILABLE_MOBILE)
    )


@pytest.mark.parametrize(
    ("inc", "unit"),
    [(INCIDENTS[2], UNITS[2]), (INCIDENTS[3], None), (None, UNITS[3]), (None, None)],
    ids=["both", "incident", "unit", "empty"],
)
def test_outcome_round_trip_takes_the_commit_revision(
    inc: Incident | None, unit: Unit | None
) -> None:
    raw = Outcome(inc, unit).encode()
    assert b"revision" not in raw
    back = Outcome.decode(raw, 777)
    if inc is None:
        assert back.incident is None
    else:
        assert back.incident is not None
        assert back.incident.revision == 777
        assert back.incident.to_dict() == inc.to_dict()
    if unit is None:
        assert back.unit is None
    else:
        assert back.unit is not None
        assert back.unit.revision == 777
        assert back.unit.to_dict() == unit.to_dict()


def test_outcome_encoding_ignores_record_revisions() -> None:
    inc = INCIDENTS[4]
    other = Incident.decode(inc.encode(), inc.revision + 1)
    assert Outcome(inc).encode() == Outcome(other).encode()
