"""Domain errors: bad input, unknown ids, illegal transitions, conflicts.

They derive from the project's one root, :class:`cluster.errors.AmkError` (a pure
module with no I/O), and are mapped to gRPC status codes in ``actors/gateway/status_codes.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from enum import Enum
from typing import TypeVar

from cluster.errors import AmkError


class InvalidArgumentError(AmkError):
    """Bad input; ``field`` names the request field (dotted for nested ones)."""

    component = "input"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFoundError(AmkError):
    """No incident, unit or region with that id."""

    component = "lookup"

    def __init__(self, kind: str, entity_id: str) -> None:
        super().__init__(f"{kind} {entity_id!r} not found")
        self.kind = kind
        self.entity_id = entity_id


class IllegalTransitionError(AmkError):
    """A lifecycle change the state machine does not allow from the current state."""

    component = "lifecycle"

    def __init__(
        self,
        kind: str,
        entity_id: str,
        current: str,
        requested: str,
        allowed: Iterable[str] = (),
    ) -> None:
        # What may follow, so that a dispatcher refused "on_scene -> available_at_station"
        # reads that available_mobile is the step (the crew is not at the station yet).
        nexts = sorted(allowed)
        then = f" (from {current}: {', '.join(nexts)})" if nexts else f" ({current} is final)"
        super().__init__(f"{kind} {entity_id}: cannot go from {current} to {requested}{then}")
        self.kind = kind
        self.entity_id = entity_id
        self.current = current
        self.requested = requested


E = TypeVar("E", bound=Enum)


def checked_step(
    kind: str, entity_id: str, table: Mapping[E, Collection[E]], current: E, requested: E
) -> E:
    """``requested`` when the lifecycle ``table`` allows it from ``current``; else an
    :class:`IllegalTransitionError` naming the steps that may follow. Each lifecycle
    module keeps its own table and its ``transition``; this is their one check."""
    if requested not in table[current]:
        raise IllegalTransitionError(
            kind, entity_id, current.value, requested.value, (s.value for s in table[current])
        )
    return requested


class PreconditionError(AmkError):
    """The command is well formed but the current state forbids it (e.g. unit busy)."""

    component = "dispatch"

    def __init__(self, entity_id: str, reason: str) -> None:
        super().__init__(f"{entity_id}: {reason}")
        self.entity_id = entity_id
        self.reason = reason


class NotBuiltError(AmkError):
    """A feature the API names but this version does not provide yet (UNIMPLEMENTED)."""

    component = "feature"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not built yet")
        self.what = what
