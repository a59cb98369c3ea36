"""Python's cycle collector kept off the tail of the request path.

A full (generation 2) collection walks every container object a process holds. A
gateway or centre worker carries Ray's, grpc's and protobuf's modules, the seed and its
start-up state for its whole life: hundreds of thousands of objects that never become
garbage. Measured under the watch fan-out benchmark (``bench/gc_trace``), a serving
gateway's full collections took up to 59-64 ms, and every event in flight waited for
them; 21-24 ms with this.

:func:`settle` runs once a process has started: one collection, then ``gc.freeze()``,
which moves every surviving object to the permanent generation, so later collections
never scan it again. Frozen objects are still freed by reference counting when dropped;
only a reference cycle among them would outlive its last use, and what is frozen (modules,
the seed, the actor's own objects) lives as long as the process anyway. It runs before
the gateway serves and before the centre claims, so what they build while starting is
not frozen; objects made afterwards are collected as before. The one collection takes
35-200 ms, with nothing served yet.

It also raises the young generation's threshold (:data:`YOUNG_THRESHOLD`). CPython
collects generation 0 every 700 net allocations of container objects: under load a
gateway or centre allocates that many in a handful of requests, so young collections ran
hundreds of times a second, each walking what was young and still alive at that moment
(the requests in flight), and promoting it to be walked again by generation 1. A young
collection's cost is the live young objects it walks, not the threshold: dead objects
were already freed by reference counting. Fewer collections, each of about the same size.
"""

from __future__ import annotations

import gc

#: Net container allocations between young collections (CPython's default is 700).
YOUNG_THRESHOLD = 10_000


def settle() -> int:
    """Collect once, then freeze what survived, and collect the young generation less
    often from now on. Returns the number of objects frozen."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
