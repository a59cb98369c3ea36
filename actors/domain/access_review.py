"""The periodic review of the access log (Normen: logs are to be checked, not only kept).

An auditor reviews a period: what in it calls for a closer look, then signs the period off
with a note. The access log already answers single questions ("who read incident X",
"whose records did Y read"); a review asks what nobody thought to ask. What is flagged,
and why each is only a flag (a person reads the records behind it; nothing here is a
verdict):

- **every break-glass use**, by person and stated reason, with how many records it
  opened: break-glass is allowed without anyone's approval, so each use is to be
  checked afterwards against what happened that day;
- **a person looking up far more records than the others with their role at their
  centre** (more than :data:`HEAVY_FACTOR` times their median, and at least
  :data:`HEAVY_MIN` records);
- **one caller's incidents looked up by one person** (at least :data:`SAME_CALLER_MIN`
  with the same caller number): a frequent caller is the usual reason, looking up a
  person one knows is the one to find.

The last two count only the reads a person chose to make (:data:`CHOSEN_READS`: one
incident, its history, the board at a past moment, a search, an air mission, an
export), not what a live board or a queue shows them (a call-taker answers the calls
the queue gives).
Every console on duty receives its centre's incidents over the Watch stream (logged
once an hour each): counted, they would flag every dispatcher for every frequent caller
and hide a lookup among thousands of board reads. A role's usual is its centre's:
Oslo's dispatchers are not measured against Sørlandet's.

Not flagged, because the log cannot know it: reads outside a person's shift (no shift
data), reads of one's own or a colleague's records (no link from callers to staff).

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
#: Reads a person asks for one by one (the access log's ``method``), unlike a board's.
CHOSEN_READS = tuple(
    f"/amk.{service}/{method}"
    for service, method in (
        ("dispatch.v1.DispatchService", "GetIncident"),
        ("dispatch.v1.DispatchService", "GetIncidentHistory"),
        ("dispatch.v1.DispatchService", "GetBoardAt"),
        ("dispatch.v1.DispatchService", "SearchIncidents"),
        ("dispatch.v1.DispatchService", "AirGetMission"),
        ("coordination.v1.CoordinationService", "ExportIncident"),
    )
)


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
    """People far above the median of the *others* with their role at their centre, so
    one heavy reader does not raise the bar they are measured against. A role with one
    person at a centre in the period has nobody to compare with and flags nobody."""
    by_role: dict[tuple[str, str], list[ReaderVolume]] = {}
    for v in volumes:
        by_role.setdefault((v.role, v.centre), []).append(v)
    out = []
    for (role, _), people in sorted(by_role.items()):
        for v in people:
            others = [o.records for o in people if o.user != v.user]
            if not others or v.records < HEAVY_MIN:
                continue
            usual = statistics.median(others)
            if v.records > HEAVY_FACTOR * max(usual, 1):
                detail = (
                    f"{v.records} records looked up; others with role {role} at "
                    f"{v.centre} looked up {usual:g} (median of {len(others)})"
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
            f"{c.incidents} incidents of one caller ({c.caller_hash[:8]}…) looked up",
        )
        for c in sorted(callers, key=lambda c: (c.first, c.user))
        if c.incidents >= SAME_CALLER_MIN
    ]
    return out


def due(
    reviewed_until: float | None,
    interval_days: float,
    now: float,
    logged_since: float | None = None,
) -> tuple[float, bool]:
    """When the next review is due, and whether it is overdue: an interval after the
    end of the latest period signed off (not after the signing: signing off last hour
    must not clear a month nobody looked at). Never reviewed: an interval after the
    oldest read still logged (``logged_since``), as if a review had covered everything
    before it; nothing logged yet: nothing to review, due an interval from now. So a new
    installation is not overdue (and paging) an hour after it starts, and a log nobody
    has looked at for an interval is."""
    start = reviewed_until if reviewed_until is not None else logged_since
    if start is None:
        return now + interval_days * 86400.0, False
    at = start + interval_days * 86400.0
    return at, now > at
