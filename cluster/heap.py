"""Python's cycle collector kept off the tail of the request path.

A full (generation 2) collection walks every container object a process holds. A
gateway or centre worker carries Ray's, grpc's and protobuf's modules, the seed and its
start-up state for its whole life: hundreds of thousands of objects that never become
garbage. Measured under the watch fan-out benchmark, one full collection paused the
gateway's event loop for 67 ms, and every event in flight waited for it.

:func:`settle` runs once a process has started: one collection, then ``gc.freeze()``,
which moves every surviving object to the permanent generation, so later collections
never scan it again. Frozen objects are still freed by reference counting when dropped;
only a reference cycle among them would outlive its last use, and start-up state (modules,
the seed, servers) lives as long as the process anyway. Objects made afterwards are
collected as before.
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect once, then freeze what survived. Returns the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
