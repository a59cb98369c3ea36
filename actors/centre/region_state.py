"""Where a centre stands with one region: a state machine with its transition table.

Pure: no I/O. The campaign loop (``actors/centre/ownership.py``) moves each region
through these states; an illegal move raises, so a bug in the loop shows at once
instead of leaving a region in a state nobody planned for. Leadership itself is never
this state: a centre serves a region only while it holds the region's fence, and every
write carries that fence.
"""

from __future__ import annotations

from enum import StrEnum


class RegionState(StrEnum):
    """One centre's view of one region of its claim line."""

    UNKNOWN = "unknown"  # not looked at yet
    FOLLOWING = "following"  # another centre holds it; watching its owner key
    WAITING = "waiting"  # it is free; waiting for this centre's turn in the line
    CLAIMING = "claiming"  # a create-if-absent claim is in flight
    LOADING = "loading"  # won: loading the region at the revision won
    SERVING = "serving"  # this centre serves it (its writes carry the fence)
    HANDING_OVER = "handing_over"  # a supervisor's hand-over is in flight


S = RegionState

TRANSITIONS: dict[RegionState, frozenset[RegionState]] = {
    S.UNKNOWN: frozenset({S.FOLLOWING, S.WAITING, S.LOADING}),
    S.FOLLOWING: frozenset({S.FOLLOWING, S.WAITING, S.LOADING}),
    S.WAITING: frozenset({S.FOLLOWING, S.WAITING, S.CLAIMING, S.LOADING}),
    S.CLAIMING: frozenset({S.FOLLOWING, S.WAITING, S.LOADING}),
    # LOADING again: a load that failed (etcd busy) is tried again on the next pass.
    S.LOADING: frozenset({S.LOADING, S.SERVING, S.FOLLOWING, S.WAITING}),
    S.SERVING: frozenset({S.FOLLOWING, S.WAITING, S.HANDING_OVER}),
    S.HANDING_OVER: frozenset({S.FOLLOWING, S.WAITING, S.SERVING}),
}


class IllegalRegionMove(RuntimeError):
    """A move the table does not allow: a bug in the campaign loop, not bad input."""


def move(current: RegionState, new: RegionState) -> RegionState:
    """The new state, or :class:`IllegalRegionMove` if the table forbids the move."""
    if new not in TRANSITIONS[current]:
        raise IllegalRegionMove(f"region state cannot go from {current} to {new}")
    return new
