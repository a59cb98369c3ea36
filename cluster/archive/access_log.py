"""The access log (Normen fact sheet 15): who read which patient record, when, why and
from where, in the archive database (never etcd: it is kept for years, and etcd holds
about a day of live work).

Rows are written in batches by the gateways' access-log writers (off the RPC path) and
read back by ``amk audit`` through the auditor-only ``AuditService``. Retention: rows
older than ``access_log_retention_days`` are pruned by the same writers.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

_COLUMNS = (
    "id, at, user_id, user_name, role, centre, method, record_kind, record_id, region,"
    " caller_hash, why, reason, peer, gateway"
)
_INSERT = (
    f"INSERT INTO access_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
MAX_ROWS = 10_000  # one query's answer at most


@functools.lru_cache(maxsize=4096)  # a streamed call is logged once per console
def caller_hash(number: str) -> str:
    """The stored form of a caller number: a hash of its digits (and a leading +), so
    the log answers "who read this caller's data" without holding the number itself."""
    digits = re.sub(r"[^0-9+]", "", number or "")
    if not digits:
        return ""
    return hashlib.sha256(f"amk-caller:{digits}".encode()).hexdigest()[:32]


class AccessRow(NamedTuple):
    """One record read by one request. A tuple, so a batch goes to the driver as it is:
    a watched event is one row per console, thousands a second at 500 consoles."""

    id: str
    at: float
    user_id: str
    user_name: str
    role: str
    centre: str
    method: str
    record_kind: str  # incident, call, board, region
    record_id: str
    region: str
    caller_hash: str
    why: str  # owner, partner, break-glass, cluster
    reason: str  # the break-glass reason, else ""
    peer: str
    gateway: str


def _row(values: Sequence[Any]) -> AccessRow:
    v = list(values)
    v[1] = float(v[1])
    return AccessRow(*(str(x) if i != 1 else x for i, x in enumerate(v)))


class AccessLogStore:
    """Mixed into :class:`~cluster.archive.sql_archive.SqlArchive`: the access log's SQL."""

    def put_access(self, rows: Sequence[AccessRow]) -> None:
        """Store rows in one durable transaction (a row id already stored is kept)."""
        if not rows:
            return
        for r in rows:
            if not isinstance(r, AccessRow):
                raise ValueError(f"access log: expected AccessRow, got {type(r).__name__}")
        with self._tx("put_access", write=True) as cur:  # type: ignore[attr-defined]
            self._require_schema(cur)  # type: ignore[attr-defined]
            cur.executemany(self._q(_INSERT), rows)  # type: ignore[attr-defined]

    def query_access(
        self,
        *,
        user: str | None = None,
        record_id: str | None = None,
        caller_number: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 1000,
    ) -> list[AccessRow]:
        """Rows matching every filter given, newest first (at most ``limit``)."""
        conditions: list[str] = []
        params: list[Any] = []
        for condition, value in (
            ("user_id = ?", user),
            ("record_id = ?", record_id),
            ("caller_hash = ?", caller_hash(caller_number) if caller_number else None),
            ("at >= ?", since),
            ("at <= ?", until),
        ):
            if value is not None:
                conditions.append(condition)
                params.append(value)
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        params.append(max(1, min(int(limit), MAX_ROWS)))
        rows = self._select(  # type: ignore[attr-defined]
            "query_access",
            f"SELECT {_COLUMNS} FROM access_log{where} ORDER BY at DESC, id LIMIT ?",
            params,
        )
        return [_row(r) for r in rows]

    def prune_access(self, before: float) -> int:
        """Delete rows older than ``before`` (the retention); returns how many."""
        with self._tx("prune_access", write=True) as cur:  # type: ignore[attr-defined]
            self._require_schema(cur)  # type: ignore[attr-defined]
            cur.execute(self._q("DELETE FROM access_log WHERE at < ?"), (before,))  # type: ignore[attr-defined]
            return int(cur.rowcount or 0)
