"""Revoked client certificates: the rules, with no I/O (issue #13's leftover).

A client certificate from the cluster's CA is good for a year (``cluster/pki.py``): a
crew's certificate alone lets a tablet report its unit's status and read the incident
it is sent to, and a console's carries people's tokens. When one is lost or stolen it
must stop working at once, not when it expires. An engineer or a supervisor revokes it
by its serial number, with a reason; every gateway then refuses any call made with it
(UNAUTHENTICATED, saying so), and ends the streams it had open.

A person can be suspended the same way (a supervisor's suspicion from the access log's
review, a staff member leaving): their tokens are refused however recently issued, until
the suspension is lifted, because a new login would otherwise give a new token at once.

What is decided here: how a serial is read (as ``openssl x509 -serial`` prints it, or
with colons as browsers show it), what a reason must be, and what the refused caller
is told. Where revocations are kept and how gateways learn them:
``actors/gateway/revocations.py``.
"""

from __future__ import annotations

import datetime as dt
import string

from actors.domain.errors import InvalidArgumentError

# RFC 5280 4.1.2.2: a serial is a positive integer of at most 20 octets.
MAX_SERIAL_OCTETS = 20
MIN_REASON = 10  # characters: "lost" is not a record anyone can act on later
MAX_REASON = 500
MAX_COMMON_NAME = 64  # the X.520 upper bound of a common name
_HEX = frozenset(string.hexdigits)


def serial_hex(serial: int) -> str:
    """A serial as it is kept and shown: upper-case hex, no leading zeros (as
    ``openssl x509 -noout -serial`` prints it)."""
    return format(serial, "X")


def parse_serial(text: str, field: str = "serial") -> str:
    """The canonical form of a serial given in hex, with or without ``0x``, colons or
    spaces between its octets; InvalidArgumentError naming ``field`` otherwise."""
    raw = "".join(text.split()).replace(":", "")
    if raw[:2].lower() == "0x":
        raw = raw[2:]
    if not raw:
        raise InvalidArgumentError(field, "is required: the certificate's serial number in hex")
    if not set(raw) <= _HEX:
        raise InvalidArgumentError(field, f"{text[:60]!r} is not a serial number in hex")
    serial = int(raw, 16)
    if serial <= 0:
        raise InvalidArgumentError(field, "a certificate's serial number is positive")
    if serial.bit_length() > 8 * MAX_SERIAL_OCTETS:
        raise InvalidArgumentError(field, f"longer than {MAX_SERIAL_OCTETS} octets (RFC 5280)")
    return serial_hex(serial)


def reason(text: str, field: str = "reason", why: str = "why the certificate is revoked") -> str:
    """Why it is revoked (or ``why`` names what else it explains), kept with the decision
    and shown to the refused caller: whitespace runs become one space; at least
    ``MIN_REASON`` characters, at most ``MAX_REASON``, no control characters."""
    cleaned = " ".join(text.split())
    if not cleaned.isprintable():  # control and format characters (bidi overrides too)
        raise InvalidArgumentError(field, "contains control or format characters")
    if len(cleaned) < MIN_REASON:
        raise InvalidArgumentError(field, f"is required: {why} (at least {MIN_REASON} characters)")
    if len(cleaned) > MAX_REASON:
        raise InvalidArgumentError(field, f"longer than {MAX_REASON} characters")
    return cleaned


def common_name(text: str, field: str = "common_name") -> str:
    """The certificate's common name as the revoker states it (a record for people: the
    serial alone decides); may be empty."""
    cleaned = text.strip()
    if len(cleaned) > MAX_COMMON_NAME:
        raise InvalidArgumentError(field, f"longer than {MAX_COMMON_NAME} characters")
    if not cleaned.isprintable():
        raise InvalidArgumentError(field, "contains control characters")
    return cleaned


def utc_minute(at: float) -> str:
    """A time as people read it in a refusal or a record: to the minute, in UTC."""
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def refusal(serial: str, name: str, at: float, why: str) -> str:
    """What a caller with a revoked certificate is told: which, when and why, so that
    a crew revoked by mistake can say what to undo. Not who revoked it: the caller may
    be the thief (who did is in the list and the log)."""
    whose = f" ({name})" if name else ""
    return (
        f"client certificate {serial}{whose} was revoked {utc_minute(at)}: {why}; ask for a new one"
    )


MAX_USER = 128  # characters of a token's subject


def person(text: str, field: str = "user") -> str:
    """The subject of a person's tokens (``sub``), as ``amk audit`` and the journal show
    it: required, printable, at most ``MAX_USER`` characters."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidArgumentError(field, "is required: the person's user id (token subject)")
    if len(cleaned) > MAX_USER or not cleaned.isprintable():
        raise InvalidArgumentError(field, f"{cleaned[:60]!r} is not a user id")
    return cleaned


def suspension_refusal(user: str, at: float, why: str) -> str:
    """What a suspended person is told (not who suspended them, as for a certificate)."""
    return (
        f"{user}: access suspended {utc_minute(at)}: {why}; a supervisor or engineer can "
        "lift it (amk user reinstate)"
    )
