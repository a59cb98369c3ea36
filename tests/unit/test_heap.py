"""cluster.heap.settle: what a process holds at start-up is frozen out of full
collections; what it makes afterwards is collected as before."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from cluster import heap


class Node:
    """A container that can form a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()  # the rest of the suite runs with a normal heap
    gc.set_threshold(*threshold)


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_settle_freezes_what_lives_and_later_cycles_are_still_collected(unfrozen: None) -> None:
    before = _cycle()  # garbage already: settle's own collection frees it
    kept = Node()
    frozen = heap.settle()
    assert before() is None
    # A frozen object still goes when its last reference does (another thread of the
    # suite's process may drop one meanwhile): the count can only have fallen since.
    assert frozen > 0 and 0 < gc.get_freeze_count() <= frozen
    assert gc.is_tracked(kept) and all(o is not kept for o in gc.get_objects())  # frozen
    after = _cycle()
    gc.collect()
    assert after() is None  # made after start-up: collected as before


def test_settle_collects_the_young_generation_less_often(unfrozen: None) -> None:
    older = gc.get_threshold()[1:]
    heap.settle()
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, *older)
    assert heap.YOUNG_THRESHOLD > 700  # CPython's default
