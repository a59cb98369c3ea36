"""The gateway -> centre link's codec rebuilds only what it must (actors/centre/wire.py),
and owner records carry the link's address without breaking older records."""

from __future__ import annotations

import pickle

import pytest

from actors.centre import wire
from actors.domain.commands import ChangeUnitStatus, CreateIncident
from actors.domain.decide import create_incident
from actors.domain.errors import InvalidArgumentError, NotFoundError
from actors.domain.model import Outcome, Position, UnitStatus
from actors.domain.triage import default_table
from cluster.errors import CentreUnavailableError, FencedError
from cluster.ownership import OwnerRecord
from cluster.store import StaleRecordError


def test_commands_cross_whole() -> None:
    items = [
        ("oslo", CreateIncident("r1", "oslo", Position(59.9, 10.7, 25), fingerprint="f")),
        ("oslo", ChangeUnitStatus("r2", "U1", UnitStatus.ASSIGNED)),
    ]
    assert wire.loads(wire.dumps(items)) == items


def test_outcomes_and_errors_cross_typed() -> None:
    cmd = CreateIncident("r1", "oslo", Position(59.9, 10.7, 25))
    inc = create_incident(cmd, "OSL-000001", 1000.0, default_table())
    envelopes = [
        ("ok", Outcome(incident=inc)),
        ("err", FencedError("oslo", 3, 4)),
        ("err", StaleRecordError([b"/amk/v1/incidents/oslo/OSL-000001"])),
        ("err", NotFoundError("incident", "OSL-9")),
        ("err", InvalidArgumentError("position", "out of range")),
        ("err", CentreUnavailableError("oslo", "gone")),
    ]
    back = wire.loads(wire.dumps(envelopes))
    assert back[0][1] == Outcome(incident=inc)
    for (_, sent), (_, got) in zip(envelopes[1:], back[1:], strict=True):
        assert type(got) is type(sent)
        assert got.__dict__ == sent.__dict__ and str(got) == str(sent)
    assert back[1][1].retryable and back[4][1].field == "position"


def _global(module: str, name: str) -> bytes:
    """A pickle that names ``module.name`` (GLOBAL opcode), built by hand: pickling the
    object itself fails when a test run has replaced it (``print`` under capture)."""
    return f"c{module}\n{name}\n.".encode()


@pytest.mark.parametrize(
    "payload",
    [
        _global("os", "system"),
        _global("builtins", "print"),
        _global("pickle", "loads"),
        pickle.dumps(ValueError("not ours")),
        pickle.dumps({1, 2}.__class__),
        pickle.dumps(OwnerRecord),
    ],
    ids=["os.system", "print", "pickle.loads", "foreign exception", "builtins.set", "other"],
)
def test_anything_else_is_refused(payload: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.loads(payload)


def test_garbage_is_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.loads(b"\x80\x05not a pickle")


def test_owner_record_address_is_optional_both_ways() -> None:
    old = b'{"centre": "oslo", "instance": "oslo-1", "lease": 7, "since": 900.0}'
    assert OwnerRecord.decode(old) == OwnerRecord("oslo", "oslo-1", 7, 900.0)
    assert OwnerRecord("oslo", "oslo-1", 7, 900.0).encode() == old  # no address: as before
    rec = OwnerRecord("oslo", "oslo-1", 7, 900.0, "127.0.0.1:4711")
    assert OwnerRecord.decode(rec.encode()) == rec
    newer = b'{"centre": "oslo", "instance": "oslo-1", "lease": 7, "since": 9.0, "x": 1}'
    assert OwnerRecord.decode(newer).centre == "oslo"


def test_a_long_name_is_refused_and_not_remembered() -> None:
    wire._allowed.cache_clear()
    with pytest.raises(wire.WireError):
        wire.loads(_global("actors.domain.model", "x" * 10_000))
    assert wire._allowed.cache_info().currsize == 0
    wire.loads(wire.dumps(Outcome()))  # a name of ours is checked once, then remembered
    assert wire._allowed.cache_info().currsize == 1
