"""The small text formats inside an EIDO document, written and read back.

RFC 3339 times, jCard names (RFC 7095), tel: URIs (RFC 3966) and foreign free text. Each
writer sits next to its reader so the two stay inverse: the round-trip tests rely on it.
Readers raise :class:`InvalidArgumentError` naming the document path they were given and
append a warning for anything they had to change.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from actors.domain import validation
from actors.domain.eido.vocabulary import COUNTRY_CODE
from actors.domain.errors import InvalidArgumentError


def iso_time(t: float) -> str:
    """ISO 8601 / RFC 3339 in UTC with a ``Z``, to the microsecond."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: Any, path: str, warnings: list[str]) -> float:
    """An ISO 8601 date-time as epoch seconds; one without a zone is read as UTC."""
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(path, "must be an ISO 8601 date-time string")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgumentError(path, f"{value[:40]!r} is not an ISO 8601 date-time") from None
    if dt.tzinfo is None:
        warnings.append(f"{path}: {value!r} has no time zone; read as UTC")
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def jcard(name: str, *, kind: str) -> str:
    """A minimal jCard (RFC 7095) carrying a formatted name."""
    card = [
        "vcard",
        [["version", {}, "text", "4.0"], ["kind", {}, "text", kind], ["fn", {}, "text", name]],
    ]
    return json.dumps(card, ensure_ascii=False)


def jcard_name(card: Any) -> str:
    """The ``fn`` of a jCard string (RFC 7095); "" when absent or not a jCard."""
    if not isinstance(card, str):
        return ""
    try:
        parsed = json.loads(card)
    except ValueError:
        return ""
    if not (isinstance(parsed, list) and len(parsed) == 2 and isinstance(parsed[1], list)):
        return ""
    for prop in parsed[1]:
        if (
            isinstance(prop, list)
            and len(prop) >= 4
            and prop[0] == "fn"
            and isinstance(prop[3], str)
        ):
            return prop[3]
    return ""


def tel_uri(number: str) -> str:
    """RFC 3966: spaces become the ``-`` visual separator; a local number gets Norway's
    phone-context (a tel: URI must say where a local number is dialled)."""
    digits = number.replace(" ", "-")
    if digits.startswith("+"):
        return f"tel:{digits}"
    return f"tel:{digits};phone-context={COUNTRY_CODE}"


def number_from_uri(uri: str) -> str:
    """A tel: URI, or a sip: URI whose user part is a number, as our phone number."""
    scheme, _, rest = uri.partition(":")
    scheme = scheme.lower()
    if scheme in ("sip", "sips"):
        rest = rest.split("@", 1)[0] if "@" in rest else ""
    elif scheme != "tel":
        return ""
    # '-' is where our spaces were (see tel_uri); '.' and parentheses are dropped.
    number = rest.split(";", 1)[0].replace("-", " ").translate(str.maketrans("", "", ".()"))
    return number if validation.PHONE_RE.match(number) else ""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str, path: str, warnings: list[str]) -> str:
    """Foreign text made safe for our consoles: newlines normalised, controls replaced."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = _CONTROL.sub(" ", text)
    if cleaned != text:
        warnings.append(f"{path}: control characters replaced by spaces")
    return cleaned
