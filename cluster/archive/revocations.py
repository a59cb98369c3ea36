"""Revoked client certificates (``revoked_certificates``) and suspended people
(``person_suspensions``) in the archive database.

Kept here, not in etcd: a revocation is a security record kept as long as the access
log, written by the gateway that took the request (etcd's writes are the region owners',
each under its fencing token; a revocation belongs to no region). Every gateway reads
the whole table at start and every ``revocation_poll_s`` (a handful of rows a year);
``actors/gateway/revocations.py`` applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

_COLUMNS = "serial, at, common_name, not_after, reason, revoked_by, revoked_by_name"


class RevocationRow(NamedTuple):
    """One revoked certificate."""

    serial: str  # upper-case hex, no leading zeros (``actors.domain.revocation``)
    at: float
    common_name: str  # as stated by the revoker, or read from the certificate file
    not_after: float  # the certificate's expiry if known, else 0
    reason: str
    revoked_by: str  # the verified identity of the caller
    revoked_by_name: str


class RevocationStore:
    """Mixed into :class:`~cluster.archive.sql_archive.SqlArchive`."""

    def put_revocation(self, row: RevocationRow) -> RevocationRow:
        """Store a revocation; a serial already revoked keeps its first record, which is
        returned (the caller tells the two apart by comparing)."""
        stored = self._insert_once(  # type: ignore[attr-defined]
            "put_revocation", "revoked_certificates", _COLUMNS, tuple(row)
        )
        return _row(stored)

    def revocations(self) -> list[RevocationRow]:
        """Every revoked certificate, oldest first."""
        rows = self._select(  # type: ignore[attr-defined]
            "revocations",
            f"SELECT {_COLUMNS} FROM revoked_certificates ORDER BY at, serial",
            (),
        )
        return [_row(r) for r in rows]

    def put_suspension(self, row: SuspensionRow) -> SuspensionRow:
        """Store a decision to suspend or reinstate a person; a decision id already
        stored keeps its first row, which is returned (a retried request)."""
        values = (*row[:3], int(row.suspended), *row[4:])
        stored = self._insert_once(  # type: ignore[attr-defined]
            "put_suspension", "person_suspensions", _SUSPENSION_COLUMNS, values
        )
        return _suspension(stored)

    def suspensions(self) -> list[SuspensionRow]:
        """Every decision, oldest first (a person's state is their latest)."""
        rows = self._select(  # type: ignore[attr-defined]
            "suspensions",
            f"SELECT {_SUSPENSION_COLUMNS} FROM person_suspensions ORDER BY at, id",
            (),
        )
        return [_suspension(r) for r in rows]


_SUSPENSION_COLUMNS = "id, at, user_id, suspended, reason, decided_by, decided_by_name"


class SuspensionRow(NamedTuple):
    """One decision about a person: suspended (True) or reinstated (False)."""

    id: str  # the request id
    at: float
    user_id: str
    suspended: bool
    reason: str
    decided_by: str  # the verified identity of who decided
    decided_by_name: str


def _suspension(values: Sequence[Any]) -> SuspensionRow:
    v = list(values)
    return SuspensionRow(
        str(v[0]), float(v[1]), str(v[2]), bool(v[3]), str(v[4]), str(v[5]), str(v[6])
    )


def _row(values: Sequence[Any]) -> RevocationRow:
    v = list(values)
    return RevocationRow(
        str(v[0]), float(v[1]), str(v[2]), float(v[3]), str(v[4]), str(v[5]), str(v[6])
    )
