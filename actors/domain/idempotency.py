"""Request ids (idempotency keys): the same request sent again gets its first answer; a
different request under an id already used is refused.

Two references, and which we follow where:

- Google's AIP-155 (request identification): a retried request with the same request id
  is answered with the first response and applied once. We do that: the request id's
  record, written in the same transaction as the change, keeps the first answer.
- Stripe's idempotency keys: a key re-used for a request that does not match the first
  one's endpoint and parameters is an error, not a replay. AIP-155 does not say what a
  mismatch gets; we follow Stripe, because answering a different request with the first
  one's result tells a console its write succeeded when nothing was written (a silent
  loss: an edited form re-sent under its old id, a bug, ids colliding across consoles).

A request's fingerprint is its method and a hash of its fields other than the request
id, made where the API request is known (the gateway, ``actors.gateway.rpc``). It is
stored with the first answer (as a field of the stored JSON, so older records without
one still replay) and compared whenever an id is met again. Pure: no I/O.
"""

from __future__ import annotations

import json

from actors.domain.errors import InvalidArgumentError

FINGERPRINT_FIELD = "fingerprint"


def stored_fingerprint(raw: bytes) -> str:
    """The fingerprint kept in a request id's stored answer ("" if none was kept)."""
    try:
        stored = json.loads(raw)
    except ValueError:
        return ""
    value = stored.get(FINGERPRINT_FIELD, "") if isinstance(stored, dict) else ""
    return value if isinstance(value, str) else ""


def with_fingerprint(answer: bytes, fingerprint: str) -> bytes:
    """``answer`` (a JSON object) with the request's fingerprint added to keep."""
    if not fingerprint:
        return answer
    stored = json.loads(answer) if answer else {}
    stored[FINGERPRINT_FIELD] = fingerprint
    return json.dumps(stored, separators=(",", ":")).encode()


def check_same_request(request_id: str, stored: str, fingerprint: str) -> None:
    """Refuse ``request_id`` if it was first used for a different request.

    An empty fingerprint on either side (a record from before fingerprints, or a
    command made inside the cluster rather than from an API request) is not compared.
    """
    if stored and fingerprint and stored != fingerprint:
        raise InvalidArgumentError(
            "request_id", f"{request_id!r} already used for a different request"
        )
