"""The incident state machine: the table, every pair in and out of it, terminal states."""

from __future__ import annotations

import pytest

from actors.domain import incident_lifecycle as lc
from actors.domain.errors import IllegalTransitionError
from actors.domain.model import IncidentStatus as S
from actors.domain.model import UnitStatus

pytestmark = pytest.mark.timeout(30)

# The lifecycle as documented in incident_lifecycle.py, written out independently so a
# change to the table is a deliberate change to this test too.
EXPECTED: dict[S, set[S]] = {
    S.RECEIVED: {S.TRIAGED, S.DISPATCHED, S.CANCELLED},
    S.TRIAGED: {S.DISPATCHED, S.CLOSED, S.CANCELLED},
    S.DISPATCHED: {S.ON_SCENE, S.CANCELLED},
    S.ON_SCENE: {S.TRANSPORTING, S.CLOSED},
    S.TRANSPORTING: {S.AT_HOSPITAL},
    S.AT_HOSPITAL: {S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}

ALLOWED = [(a, b) for a in S for b in S if b in lc.TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a in S for b in S if b not in lc.TRANSITIONS[a]]


def _ids(pair: tuple[S, S]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_table_has_a_row_for_every_status() -> None:
    assert set(lc.TRANSITIONS) == set(S)


def test_table_is_the_documented_lifecycle() -> None:
    assert {k: set(v) for k, v in lc.TRANSITIONS.items()} == EXPECTED


def test_pairs_partition_every_status_pair() -> None:
    assert len(ALLOWED) == sum(len(v) for v in EXPECTED.values())
    assert len(ALLOWED) + len(FORBIDDEN) == len(S) ** 2


@pytest.mark.parametrize("pair", ALLOWED, ids=_ids)
def test_allowed_transition_returns_requested_status(pair: tuple[S, S]) -> None:
    current, requested = pair
    assert lc.transition("OSL-1", current, requested) is requested


@pytest.mark.parametrize("pair", FORBIDDEN, ids=_ids)
def test_forbidden_transition_raises(pair: tuple[S, S]) -> None:
    current, requested = pair
    with pytest.raises(IllegalTransitionError) as info:
        lc.transition("OSL-1", current, requested)
    err = info.value
    assert err.kind == "incident"
    assert err.entity_id == "OSL-1"
    assert err.current == current.value
    assert err.requested == requested.value
    assert current.value in str(err) and requested.value in str(err)


@pytest.mark.parametrize("status", list(S), ids=lambda s: s.value)
def test_no_status_transitions_to_itself(status: S) -> None:
    with pytest.raises(IllegalTransitionError):
        lc.transition("OSL-1", status, status)


def test_terminal_states_are_closed_and_cancelled() -> None:
    assert lc.TERMINAL == {S.CLOSED, S.CANCELLED}


@pytest.mark.parametrize("terminal", [S.CLOSED, S.CANCELLED], ids=lambda s: s.value)
def test_terminal_state_has_no_exit(terminal: S) -> None:
    assert not lc.TRANSITIONS[terminal]
    assert not lc.is_open(terminal)
    for requested in S:
        with pytest.raises(IllegalTransitionError):
            lc.transition("OSL-1", terminal, requested)


@pytest.mark.parametrize("status", sorted(set(S) - {S.CLOSED, S.CANCELLED}), ids=lambda s: s.value)
def test_non_terminal_states_are_open(status: S) -> None:
    assert lc.is_open(status)


def test_dispatched_never_goes_back_directly() -> None:
    # Back to triaged/received happens only by releasing the last unit (decide.release).
    for back in (S.RECEIVED, S.TRIAGED):
        with pytest.raises(IllegalTransitionError):
            lc.transition("OSL-1", S.DISPATCHED, back)


def _reachable(start: S) -> set[S]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in lc.TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_status_reachable_from_received() -> None:
    assert _reachable(S.RECEIVED) == set(S)


@pytest.mark.parametrize("status", list(S), ids=lambda s: s.value)
def test_every_status_can_end(status: S) -> None:
    assert _reachable(status) & lc.TERMINAL


def test_follows_unit_keys_are_unit_statuses_and_targets_advance_the_chain() -> None:
    assert set(lc.FOLLOWS_UNIT) <= {u.value for u in UnitStatus}
    assert lc.FOLLOWS_UNIT == {
        "on_scene": S.ON_SCENE,
        "transporting": S.TRANSPORTING,
        "at_hospital": S.AT_HOSPITAL,
    }
    # Each step a unit can drive must be a legal incident transition from the step before.
    assert S.ON_SCENE in lc.TRANSITIONS[S.DISPATCHED]
    assert S.TRANSPORTING in lc.TRANSITIONS[S.ON_SCENE]
    assert S.AT_HOSPITAL in lc.TRANSITIONS[S.TRANSPORTING]
