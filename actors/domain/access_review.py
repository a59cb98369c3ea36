"""The periodic review of the access log (Normen: logs are to be checked, not only kept).

An auditor reviews a period: what in it calls for a closer look, then signs the period off
with a note. The access log already answers single questions ("who read incident X",
"whose records did Y read"); a review asks what nobody thought to ask. What is flagged,
and why each is only a flag (a person reads the records behind it; nothing here is a
verdict):

- **every break-glass use**, by person and stated reason, with how many records it
  opened: break-glass is allowed without anyone's approval, so each use is to be
  checked afterwards against what happened that day;
- **a person reading far more records than their role's usual** in the period (more
  than :data:`HEAVY_FACTOR` times the median of the others with that role, and at least
  :data:`HEAVY_MIN` records): a console left open on a large board is the usual reason,
  browsing is the one to find;
- **one caller's records over several incidents read by one person** (at least
  :data:`SAME_CALLER_MIN` incidents with the same caller number): a frequent caller is
  the usual reason, looking up a person one knows is the one to find.

Pure: the archive adds up the rows (``cluster/archive/access_log.py``), this decides.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

HEAVY_FACTOR = 3.0
HEAVY_MIN = 50
SAME_CALLER_MIN = 3
MAX_PERIOD_S = 366 * 86400.0  # one review covers at most a year
NOTE_MAX = 2000


@dataclass(frozen=True, slots=True)
class BreakGlassUse:
    """The break-glass reads of one person with one stated reason."""

    user: str
    user_name: str
    role: str
    centre: str
    reason: str
    records: int
    first: float
    last: float


@dataclass(frozen=True, slots=True)
class ReaderVolume:
    """How many distinct records one person read in the period."""

    user: str
    user_name: str
    role: str
    centre: str
    records: int
    first: float
    last: float


@dataclass(frozen=True, slots=True)
class SameCaller:
    """One person's reads of one caller's incidents (the caller as the log's hash)."""

    user: str
    user_name: str
    role: str
    centre: str
    caller_hash: str
    incidents: int
    first: float
    last: float


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing for the auditor to look into."""

    kind: str  # break-glass, heavy-reader, same-caller
    user: str
    user_name: str
    role: str
    centre: str
    records: int
    first: float
    last: float
    detail: str
    reason: str = ""  # break-glass: the stated reason


def heavy_readers(volumes: list[ReaderVolume]) -> list[Finding]:
    """People far above their role's median: the median of the *others* with that
    role, so one heavy reader does not raise the bar they are measured against. A role
    with one person in the period has nobody to compare with and flags nobody."""
    by_role: dict[str, list[ReaderVolume]] = {}
    for v in volumes:
        by_role.setdefault(v.role, []).append(v)
    out = []
    for role, people in sorted(by_role.items()):
        for v in people:
            others = [o.records for o in people if o.user != v.user]
            if not others or v.records < HEAVY_MIN:
                continue
            usual = statistics.median(others)
            if v.records > HEAVY_FACTOR * max(usual, 1):
                detail = (
                    f"{v.records} records read; others with role {role} read {usual:g} "
                    f"(median of {len(others)})"
                )
                out.append(
                    Finding(
                        "heavy-reader",
                        v.user,
                        v.user_name,
                        v.role,
                        v.centre,
                        v.records,
                        v.first,
                        v.last,
                        detail,
                    )
                )
    return out


def findings(
    uses: list[BreakGlassUse], volumes: list[ReaderVolume], callers: list[SameCaller]
) -> list[Finding]:
    """What the review flags, break-glass first, each kind in time order."""
    out = [
        Finding(
            "break-glass",
            u.user,
            u.user_name,
            u.role,
            u.centre,
            u.records,
            u.first,
            u.last,
            f"break-glass: {u.records} records opened",
            u.reason,
        )
        for u in sorted(uses, key=lambda u: (u.first, u.user))
    ]
    out += sorted(heavy_readers(volumes), key=lambda f: (-f.records, f.user))
    out += [
        Finding(
            "same-caller",
            c.user,
            c.user_name,
            c.role,
            c.centre,
            c.incidents,
            c.first,
            c.last,
            f"{c.incidents} incidents of one caller ({c.caller_hash[:8]}…) read",
        )
        for c in sorted(callers, key=lambda c: (c.first, c.user))
        if c.incidents >= SAME_CALLER_MIN
    ]
    return out


def due(last_signed_at: float | None, interval_days: float, now: float) -> tuple[float, bool]:
    """When the next review is due, and whether it is overdue. Never reviewed: due now."""
    if last_signed_at is None:
        return now, True
    at = last_signed_at + interval_days * 86400.0
    return at, now > at
