"""Input checks at the API boundary. Each failure names the request field.

Limits are chosen for a dispatcher's console: an address fits on a line, a note on a
screen, a phone number is E.164 or a short service number.
"""

from __future__ import annotations

import math
import re

from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Position

MAX_REQUEST_ID = 128
MAX_ADDRESS = 500
MAX_NOTE = 2000
MAX_ID = 64
MAX_ACCURACY_M = 100_000.0
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ]{1,31}\Z")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]+\Z")


def request_id(value: str, field: str = "request_id") -> str:
    if not value:
        raise InvalidArgumentError(field, "is required (a client-chosen idempotency key)")
    if len(value) > MAX_REQUEST_ID:
        raise InvalidArgumentError(field, f"longer than {MAX_REQUEST_ID} characters")
    if not REQUEST_ID_RE.match(value):
        raise InvalidArgumentError(field, "may hold only letters, digits and . _ : -")
    return value


def entity_id(value: str, field: str) -> str:
    if not value:
        raise InvalidArgumentError(field, "is required")
    if len(value) > MAX_ID or "/" in value or not value.isprintable():
        raise InvalidArgumentError(field, f"{value[:MAX_ID]!r} is not a valid id")
    return value


def text(value: str, field: str, *, limit: int, required: bool = False) -> str:
    if required and not value.strip():
        raise InvalidArgumentError(field, "must not be empty")
    if len(value) > limit:
        raise InvalidArgumentError(field, f"longer than {limit} characters ({len(value)})")
    # C0, DEL and C1 controls (C1 holds the terminal escape introducer \x9b): a note is
    # shown on consoles and boards, and must not be able to drive the terminal.
    if any((ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F for ch in value):
        raise InvalidArgumentError(field, "contains control characters")
    return value


def caller_number(value: str, field: str = "caller_number") -> str:
    if value and not PHONE_RE.match(value):
        raise InvalidArgumentError(field, f"{value[:40]!r} is not a phone number")
    return value


def one_line(value: str, field: str) -> str:
    """``value`` if it has no line break or tab: a reason or note read in a list, or an
    address, on one line."""
    if "\n" in value or "\t" in value:
        raise InvalidArgumentError(field, "one line (no line breaks or tabs)")
    return value


def position(lat: float, lon: float, accuracy_m: float, field: str = "position") -> Position:
    for name, v in (("lat", lat), ("lon", lon), ("accuracy_m", accuracy_m)):
        if not math.isfinite(v):
            raise InvalidArgumentError(f"{field}.{name}", f"must be a finite number, got {v}")
    if not -90.0 <= lat <= 90.0:
        raise InvalidArgumentError(f"{field}.lat", f"{lat} is outside -90..90")
    if not -180.0 <= lon <= 180.0:
        raise InvalidArgumentError(f"{field}.lon", f"{lon} is outside -180..180")
    if not 0.0 <= accuracy_m <= MAX_ACCURACY_M:
        raise InvalidArgumentError(f"{field}.accuracy_m", f"{accuracy_m} is outside 0..100000")
    return Position(lat, lon, accuracy_m)


def chapter(
    value: int, known: set[int] | dict[int, object], field: str = "complaint_chapter"
) -> int:
    if value and value not in known:
        raise InvalidArgumentError(field, f"{value} is not a chapter of the criteria table")
    return value
