"""Earlier contacts from one telephone number: a caller who rings 113 again within hours.

A repeated call is a known risk in medical dispatch: the first assessment may have been
too low (a "just advice" call followed by a collapse), and the second call-taker should
know before triaging. Given the incidents and calls a centre may read (live and
archived), this finds the ones from the same number in a window, newest first.

Numbers are compared by their digits, with the Norwegian country code and an
international prefix dropped (``+47 912 34 567``, ``0047 91234567`` and ``91234567``
are one number). A hidden number (no digits) matches nothing: the caller is refused,
not shown every anonymous call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Call, Incident

DEFAULT_HOURS = 72
MAX_HOURS = 168  # a week: beyond it the review searches the archive, not the desk
NATIONAL_DIGITS = 8
COUNTRY_CODE = "47"

R = TypeVar("R", Incident, Call)


def number_key(number: str) -> str:
    """The digits that identify ``number`` ("" for none)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits.startswith("00"):
        digits = digits[2:]
    if len(digits) == NATIONAL_DIGITS + len(COUNTRY_CODE) and digits.startswith(COUNTRY_CODE):
        digits = digits[len(COUNTRY_CODE) :]
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
    the moment the archiver moves it)."""
    kept: dict[str, R] = {}
    for rec in records:
        if rec.id not in kept or rec.revision > kept[rec.id].revision:
            kept[rec.id] = rec
    return kept


def earlier(
    incidents: Iterable[Incident], calls: Iterable[Call], number: str, since: float
) -> tuple[list[Incident], list[Call]]:
    """The incidents (created since) and calls (arrived since) from ``number``, newest
    first. InvalidArgumentError (``caller_number``) for a number with no digits."""
    key = number_key(number)
    if not key:
        raise InvalidArgumentError("caller_number", "must name a number (digits)")
    found_incidents = [
        i
        for i in _newest_per_id(incidents).values()
        if i.created_at >= since and number_key(i.caller_number) == key
    ]
    found_calls = [
        c
        for c in _newest_per_id(calls).values()
        if c.arrived_at >= since and number_key(c.caller_number) == key
    ]
    found_incidents.sort(key=lambda i: (i.created_at, i.id), reverse=True)
    found_calls.sort(key=lambda c: (c.arrived_at, c.id), reverse=True)
    return found_incidents, found_calls
