"""Earlier contacts from one telephone number: a caller who rings 113 again within hours.

A repeated call is a known risk in medical dispatch: the first assessment may have been
too low (a "just advice" call followed by a collapse), and the second call-taker should
know before triaging. Given the incidents and calls the search may read (live and
archived), this finds the ones from the same number in a window, newest first, as
summaries: what each came to, not its notes (the record itself is one GetIncident away,
logged as such).

Numbers are compared in one canonical form: ``+`` and the digits for an international
number (``+`` or ``00``), ``+47`` and the digits for a Norwegian one of 8 digits, the
digits alone otherwise (short numbers). ``+47 912 34 567``, ``0047 91234567`` and
``91234567`` are one number. A hidden number (no digits) is not searched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TypeVar

from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Call, CallOutcome, CallStatus, Incident, IncidentStatus, Urgency

DEFAULT_HOURS = 72
MAX_HOURS = 168  # a week: beyond it the review searches the archive, not the desk
MAX_CONTACTS = 20  # shown at the desk; ``total`` counts the rest
NATIONAL_DIGITS = 8
COUNTRY_CODE = "47"

R = TypeVar("R", Incident, Call)


@dataclass(frozen=True, slots=True)
class Contact:
    """One earlier incident or call, as the desk needs it."""

    kind: str  # "incident" or "call"
    id: str
    region: str
    at: float  # an incident's creation, a call's arrival
    urgency: Urgency | None
    status: IncidentStatus | CallStatus
    criteria_code: str = ""
    outcome: CallOutcome | None = None
    incident_id: str = ""
    archived: bool = False


def number_key(number: str) -> str:
    """The canonical form of ``number`` ("" for none)."""
    text = number.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return ""
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if len(digits) == NATIONAL_DIGITS:
        return "+" + COUNTRY_CODE + digits
    if len(digits) == NATIONAL_DIGITS + len(COUNTRY_CODE) and digits.startswith(COUNTRY_CODE):
        return "+" + digits
    return digits


def window_hours(hours: int) -> int:
    """``hours`` (0: the default), or InvalidArgumentError naming ``hours``."""
    if hours == 0:
        return DEFAULT_HOURS
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidArgumentError("hours", f"must be 1..{MAX_HOURS} (0: {DEFAULT_HOURS})")
    return hours


def _newest_per_id(records: Iterable[R]) -> dict[str, R]:
    """One copy per id, the highest revision (a record read live and archived alike, in
    the moment the archiver moves it; on a tie the first given)."""
    kept: dict[str, R] = {}
    for rec in records:
        if rec.id not in kept or rec.revision > kept[rec.id].revision:
            kept[rec.id] = rec
    return kept


def contacts(
    incidents: Iterable[Incident],
    calls: Iterable[Call],
    number: str,
    since: float,
    *,
    current_call: str = "",
    archived: Collection[str] = (),
) -> list[Contact]:
    """The incidents (created since) and calls (arrived since, but ``current_call``)
    from ``number``, newest first; ``archived``: the ids read from the archive."""
    key = number_key(number)
    if not key:
        raise InvalidArgumentError("caller_number", "must name a number (digits)")
    found = [
        Contact(
            "incident",
            i.id,
            i.region,
            i.created_at,
            i.urgency,
            i.status,
            criteria_code=i.criteria_code,
            archived=i.id in archived,
        )
        for i in _newest_per_id(incidents).values()
        if i.created_at >= since and number_key(i.caller_number) == key
    ]
    made = {c.id for c in found}  # a call that made a listed incident is in its line
    found += [
        Contact(
            "call",
            c.id,
            c.region,
            c.arrived_at,
            c.urgency_hint,
            c.status,
            outcome=c.outcome,
            incident_id=c.incident_id,
            archived=c.id in archived,
        )
        for c in _newest_per_id(calls).values()
        if c.arrived_at >= since
        and c.id != current_call
        and c.incident_id not in made
        and number_key(c.caller_number) == key
    ]
    found.sort(key=lambda c: (c.at, c.id), reverse=True)
    return found
