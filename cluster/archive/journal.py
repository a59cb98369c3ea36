"""Journal entries as archive rows: what each entry wrote, as versions of records.

The fenced store writes one journal entry per accepted command, in the command's own
transaction, with the records it put (``"records"``) and the keys it deleted
(``"deleted"``). Read back, an entry becomes a :class:`JournalRow` whose versions say
which record had which value from that moment on; the board at any past moment is the
newest version of every record at or before it, live entries and archived ones alike.

Region ownership is derived the same way, as versions of the owner key: a ``TakeOver``
entry carries the takeover record (centre, instance, token), a ``HandOverRegion`` entry
names the receiving centre and commits at the new token's revision.
"""

from __future__ import annotations

import json
from typing import Any

from cluster.archive.base import JournalRow, RecordVersion
from cluster.keys import Keys

OWNERS = "owners"  # the kind of the derived owner versions


def journal_row(keys: Keys, key: bytes, value: bytes, revision: int) -> JournalRow:
    """The archive row of one journal entry as etcd holds it."""
    entry = json.loads(value)
    return JournalRow(
        key=key.decode(),
        region=str(entry.get("region", "")),
        at=float(entry.get("at", 0.0)),
        revision=revision,
        entry=value,
        versions=tuple(versions_of(keys, entry, revision)),
        command=str(entry.get("command", "")),
    )


def versions_of(keys: Keys, entry: dict[str, Any], revision: int) -> list[RecordVersion]:
    """The record versions one decoded journal entry wrote (empty for old entries that
    carry only keys: they count for history, not for the board)."""
    at = float(entry.get("at", 0.0))
    out: list[RecordVersion] = []
    for key, record in (entry.get("records") or {}).items():
        parsed = keys.parse(key.encode())
        if parsed is None:
            continue
        kind, region, id_ = parsed
        out.append(RecordVersion(key, kind, region, id_, revision, at, json.dumps(record).encode()))
    for key in entry.get("deleted") or ():
        parsed = keys.parse(key.encode())
        if parsed is not None:
            out.append(RecordVersion(key, parsed[0], parsed[1], parsed[2], revision, at, None))
    owner = _owner_version(keys, entry, revision, at)
    if owner is not None:
        out.append(owner)
    return out


def _owner_version(
    keys: Keys, entry: dict[str, Any], revision: int, at: float
) -> RecordVersion | None:
    region = str(entry.get("region", ""))
    command = entry.get("command")
    if command == "TakeOver":
        took = (entry.get("records") or {}).get(keys.takeover(region).decode())
        if not took:
            return None
        owner = {"centre": took["centre"], "instance": took["instance"], "token": took["token"]}
    elif command == "HandOverRegion":
        owner = {
            "centre": entry.get("to_centre", ""),
            "instance": entry.get("to_instance", ""),
            "token": revision,
        }
    else:
        return None
    owner["since"] = at
    owner["how"] = command
    key = keys.owner(region).decode()
    return RecordVersion(key, OWNERS, region, region, revision, at, json.dumps(owner).encode())


def touches(entry: dict[str, Any], kind: str, id_: str) -> bool:
    """Whether a decoded journal entry wrote or deleted the ``kind`` record ``id_``."""
    needle = f"/{kind}/"
    for key in [*entry.get("keys", ()), *entry.get("deleted", ())]:
        if needle in key and key.rsplit("/", 1)[-1] == id_:
            return True
    return False
