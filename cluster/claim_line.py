"""When a centre claims a free region: its place in the region's claim line.

A region's line is its home centre, then its backups in seed order. When the owner key
goes, the centres of the line claim in turn: the first at once, each later one a
stagger after the one before, and only if the region is still free by then (the caller
checks that; see ``cluster.election.Election.stays_free``). Two rules refine the order:

- The owner that just lost the region goes to the back of the line. It lost the region
  for a reason (a crash, a hang, a lease it could not renew), so it should not be the
  first to take it back.
- A centre that has never seen the region owned since it started adds a startup grace
  before claiming, unless it is the home centre: at cluster start the home centre may
  simply be slower to come up, and a backup must not rob it.

Pure: no etcd, no clock. The campaign loop supplies what it has seen.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["claim_delay", "claim_order"]


def claim_order(line: Sequence[str], last_owner: str) -> list[str]:
    """The line in claim order: every centre but ``last_owner`` in line order, then
    ``last_owner`` if it is in the line. An empty or unknown ``last_owner`` leaves the
    line as it is."""
    return [c for c in line if c != last_owner] + [c for c in line if c == last_owner]


def claim_delay(
    line: Sequence[str],
    me: str,
    *,
    last_owner: str,
    seen_owned: bool,
    stagger_s: float,
    grace_s: float,
) -> float | None:
    """Seconds ``me`` waits, with the region free, before claiming it; None when ``me``
    is not in the region's line (it never claims that region).

    ``line`` is home first, then backups; ``last_owner`` the centre that held the region
    last ('' if none is known); ``seen_owned`` whether this centre has seen the region
    owned since it started.
    """
    if stagger_s < 0 or grace_s < 0:
        raise ValueError(f"claim timings must not be negative: {stagger_s=}, {grace_s=}")
    order = claim_order(line, last_owner)
    if me not in order:
        return None
    delay = order.index(me) * stagger_s
    if not seen_owned and me != line[0]:
        delay += grace_s
    return delay
