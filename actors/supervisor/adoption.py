"""Adopting actors a dead supervisor left running (they are detached, so they outlive it).

The rule, the same for centres and gateways: of the incarnations found by name, keep
the first that answers ready within the deadline and end every other one (dead, hung,
never started, or one too many), so none runs unwatched. Ending a live centre is safe:
fencing stops any write it still tries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

H = TypeVar("H")

ADOPT_TIMEOUT_S = 2.0  # a candidate must answer ready this fast to be adopted


async def adopt_one(
    candidates: Iterable[H],
    ready: Callable[[H], Awaitable[bool]],
    end: Callable[[H], Awaitable[None]],
) -> H | None:
    """The first candidate ``ready`` says yes to; ``end`` every other one."""
    adopted: H | None = None
    for handle in candidates:
        ok = False
        with contextlib.suppress(Exception):
            ok = adopted is None and await ready(handle)
        if ok:
            adopted = handle
            continue
        with contextlib.suppress(Exception):
            await end(handle)
    return adopted
