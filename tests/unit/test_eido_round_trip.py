"""EIDO round trip: export, import and export again gives the same, valid document."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest

from actors.domain.eido import import_incident
from actors.domain.model import Incident, IncidentStatus, Note, Position, Urgency, UrgencyChange
from tests.unit.eido_samples import export, minimal_incident, rebuild, rich_incident
from tests.unit.eido_schema import Validate, load_spec, schema_validator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def validate() -> Validate:
    """See :func:`tests.unit.eido_schema.schema_validator`."""
    return schema_validator(load_spec())


def test_round_trip_rich_incident(validate: Callable[[dict[str, Any]], None]) -> None:
    inc, units = rich_incident()
    first = export(inc, units)
    imp, warnings = import_incident(first, region="oslo")

    assert imp.source_id == first["$id"] and imp.source_local_id == inc.id
    assert (imp.created_at, imp.updated_at) == (inc.created_at, inc.updated_at)
    assert imp.position == inc.position
    assert imp.notes == tuple((n.text, n.author, n.at) for n in inc.notes)
    assert imp.urgency_history == tuple(inc.urgency_history)
    # Units travel in the document but are assigned locally at the receiving centre.
    assert len(warnings) == 2, warnings
    assert any("Oslo 1-12" in w and "Lima 03" in w for w in warnings)
    assert any("dispatchComponent" in w for w in warnings)

    again = rebuild(imp, inc)
    assert again.to_dict() == inc.to_dict()
    second = export(again, units)
    validate(second)
    assert second == first


def test_round_trip_minimal_incident() -> None:
    inc = minimal_incident()
    first = export(inc)
    imp, warnings = import_incident(first, region="oslo")
    assert warnings == []
    assert (imp.urgency, imp.criteria_code, imp.complaint_chapter) == (None, "", 0)
    assert imp.caller_number == "" and imp.notes == () and imp.urgency_history == ()
    again = rebuild(imp, inc)
    assert again.to_dict() == inc.to_dict()
    assert export(again) == first


def _random_incident(rng: random.Random, i: int) -> Incident:
    code = rng.choice(["", "A.01.01", "H.11.02", "V.40.02"])
    chapter = int(code[2:4]) if code else rng.choice([0, 7])
    urgency = {"": None, "A": Urgency.AKUTT, "H": Urgency.HASTER, "V": Urgency.VANLIG}[code[:1]]
    texts = ["", " ", "Storgata 1", 'quote " & <tag> \\', "ny\nlinje\ttab", "😷", "x" * 500]
    return Incident(
        id=f"OSL-2026-{i:06d}",
        region=rng.choice(["oslo", "innlandet"]),
        status=rng.choice(list(IncidentStatus)),
        position=Position(rng.uniform(-90, 90), rng.uniform(-180, 180), rng.uniform(0, 1e5)),
        created_at=rng.uniform(0, 2e9),
        updated_at=rng.uniform(0, 2e9),
        urgency=urgency,
        address=rng.choice(texts),
        caller_number=rng.choice(["", "+4722334455", "113", "22 33  44 55 ", "+47 22"]),
        complaint_chapter=chapter,
        criteria_code=code,
        notes=[
            Note(rng.choice(texts), rng.choice(["", "console", "op 1", "a@b"]), rng.uniform(0, 2e9))
            for _ in range(rng.randint(0, 4))
        ],
        urgency_history=[
            UrgencyChange(rng.choice(list(Urgency)), "H.02.01", rng.uniform(0, 2e9))
            for _ in range(rng.randint(0, 3))
        ],
    )


@pytest.mark.parametrize("seed", range(40))
def test_round_trip_random_incidents(validate: Callable[[dict[str, Any]], None], seed: int) -> None:
    inc = _random_incident(random.Random(seed), seed)
    inc.notes.sort(key=lambda n: n.at)
    inc.urgency_history.sort(key=lambda u: u.at)
    first = export(inc)
    validate(first)
    imp, warnings = import_incident(first, region=inc.region)
    assert warnings == []
    assert imp.address == inc.address and imp.caller_number == inc.caller_number
    assert [n[:2] for n in imp.notes] == [(n.text, n.author) for n in inc.notes]
    assert imp.position == inc.position
    for got, want in zip(imp.notes, inc.notes, strict=True):
        assert math.isclose(got[2], want.at, abs_tol=1e-6)
    assert export(rebuild(imp, inc)) == first
