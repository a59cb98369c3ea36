"""The unit (ambulance) state machine: the table, every pair, ends_assignment."""

from __future__ import annotations

import pytest

from actors.domain import unit_lifecycle as lc
from actors.domain.errors import IllegalTransitionError
from actors.domain.model import UnitStatus as S

pytestmark = pytest.mark.timeout(30)

EXPECTED: dict[S, set[S]] = {
    S.AVAILABLE_AT_STATION: {S.AVAILABLE_MOBILE, S.OUT_OF_SERVICE},
    S.AVAILABLE_MOBILE: {S.AVAILABLE_AT_STATION, S.OUT_OF_SERVICE},
    S.ASSIGNED: {S.EN_ROUTE},
    S.EN_ROUTE: {S.ON_SCENE},
    S.ON_SCENE: {S.TRANSPORTING, S.AVAILABLE_MOBILE},
    S.TRANSPORTING: {S.AT_HOSPITAL},
    S.AT_HOSPITAL: {S.AVAILABLE_MOBILE, S.AVAILABLE_AT_STATION},
    S.OUT_OF_SERVICE: {S.AVAILABLE_AT_STATION, S.AVAILABLE_MOBILE},
}
EXPECTED_AVAILABLE = {S.AVAILABLE_AT_STATION, S.AVAILABLE_MOBILE}
EXPECTED_BUSY = {S.ASSIGNED, S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL}

ALLOWED = [(a, b) for a in S for b in S if b in lc.TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a in S for b in S if b not in lc.TRANSITIONS[a]]
ALL_PAIRS = [(a, b) for a in S for b in S]


def _ids(pair: tuple[S, S]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_table_has_a_row_for_every_status() -> None:
    assert set(lc.TRANSITIONS) == set(S)


def test_table_is_the_documented_lifecycle() -> None:
    assert {k: set(v) for k, v in lc.TRANSITIONS.items()} == EXPECTED


def test_available_and_busy_sets() -> None:
    assert lc.AVAILABLE == EXPECTED_AVAILABLE
    assert lc.BUSY == EXPECTED_BUSY
    assert not lc.AVAILABLE & lc.BUSY
    assert set(S) - lc.AVAILABLE - lc.BUSY == {S.OUT_OF_SERVICE}


@pytest.mark.parametrize("pair", ALLOWED, ids=_ids)
def test_allowed_transition_returns_requested_status(pair: tuple[S, S]) -> None:
    current, requested = pair
    assert lc.transition("osl-a11", current, requested) is requested


@pytest.mark.parametrize("pair", FORBIDDEN, ids=_ids)
def test_forbidden_transition_raises(pair: tuple[S, S]) -> None:
    current, requested = pair
    with pytest.raises(IllegalTransitionError) as info:
        lc.transition("osl-a11", current, requested)
    err = info.value
    assert (err.kind, err.entity_id) == ("unit", "osl-a11")
    assert (err.current, err.requested) == (current.value, requested.value)
    # The refusal says what may follow instead.
    nexts = sorted(s.value for s in lc.TRANSITIONS[current])
    assert str(err).endswith(f"(from {current.value}: {', '.join(nexts)})"), str(err)


def test_a_refused_step_names_the_allowed_one() -> None:
    with pytest.raises(IllegalTransitionError, match=r"\(from on_scene: .*available_mobile"):
        lc.transition("osl-a11", S.ON_SCENE, S.AVAILABLE_AT_STATION)


def test_assigned_is_never_entered_by_a_status_change() -> None:
    for current in S:
        assert S.ASSIGNED not in lc.TRANSITIONS[current]


def test_out_of_service_only_from_and_to_available() -> None:
    into = {a for a, nxt in lc.TRANSITIONS.items() if S.OUT_OF_SERVICE in nxt}
    assert into == EXPECTED_AVAILABLE
    assert lc.TRANSITIONS[S.OUT_OF_SERVICE] == EXPECTED_AVAILABLE


def _reachable(start: S) -> set[S]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in lc.TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.parametrize("status", sorted(EXPECTED_BUSY), ids=lambda s: s.value)
def test_every_busy_status_leads_back_to_available(status: S) -> None:
    assert _reachable(status) & EXPECTED_AVAILABLE


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=_ids)
def test_ends_assignment_is_busy_to_available(pair: tuple[S, S]) -> None:
    current, new = pair
    expected = current in EXPECTED_BUSY and new in EXPECTED_AVAILABLE
    assert lc.ends_assignment(current, new) is expected


def test_the_legal_changes_that_end_an_assignment() -> None:
    ending = {(a, b) for a, b in ALLOWED if lc.ends_assignment(a, b)}
    assert ending == {
        (S.ON_SCENE, S.AVAILABLE_MOBILE),  # treated on scene, no transport
        (S.AT_HOSPITAL, S.AVAILABLE_MOBILE),
        (S.AT_HOSPITAL, S.AVAILABLE_AT_STATION),
    }


def test_out_of_service_to_available_does_not_end_an_assignment() -> None:
    assert not lc.ends_assignment(S.OUT_OF_SERVICE, S.AVAILABLE_AT_STATION)
    assert not lc.ends_assignment(S.AVAILABLE_MOBILE, S.AVAILABLE_AT_STATION)
