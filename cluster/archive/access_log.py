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


class ReviewRow(NamedTuple):
    """One signed-off review of a period of the access log."""

    id: str
    at: float
    reviewer: str
    reviewer_name: str
    period_from: float
    period_to: float
    rows_read: int
    findings: int
    note: str


class ReviewInputs(NamedTuple):
    """The period's rows added up, as the review's rules need them. Each person row
    starts (user, user name, role, centre); then break-glass: reason, records, first,
    last; volumes: records, first, last; callers: caller hash, incidents, first, last
    (the fields of ``actors.domain.access_review``'s inputs, in order)."""

    rows: int
    users: int
    break_glass: list[tuple[Any, ...]]
    volumes: list[tuple[Any, ...]]
    callers: list[tuple[Any, ...]]


_REVIEW_COLUMNS = (
    "id, at, reviewer, reviewer_name, period_from, period_to, rows_read, findings, note"
)
_PERSON = "user_id, MAX(user_name), role, MAX(centre)"
_PERIOD = "at >= ? AND at < ?"


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

    def access_logged_since(self) -> float | None:
        """The time of the oldest row kept (None: empty): where a first review starts."""
        ((first,),) = self._select(  # type: ignore[attr-defined]
            "access_logged_since", "SELECT MIN(at) FROM access_log", ()
        )
        return None if first is None else float(first)

    # ------------------------------------------------------------ reviews (Normen)

    def access_review_inputs(
        self, since: float, until: float, caller_min: int, chosen: Sequence[str]
    ) -> ReviewInputs:
        """The period ``[since, until)`` added up: rows and people, break-glass reads
        by person and reason; and, of the reads by the ``chosen`` methods only (what a
        person looked up, not what a board showed them), distinct records per person and
        people who looked up at least ``caller_min`` incidents or calls of one caller.
        Four grouped queries: the rows themselves never leave the database."""
        period = (since, until)
        methods = f"method IN ({', '.join('?' for _ in chosen)})" if chosen else "1 = 0"
        ((rows, users),) = self._select(  # type: ignore[attr-defined]
            "review_totals",
            f"SELECT COUNT(*), COUNT(DISTINCT user_id) FROM access_log WHERE {_PERIOD}",
            period,
        )
        glass = self._select(  # type: ignore[attr-defined]
            "review_break_glass",
            f"SELECT {_PERSON}, reason, COUNT(DISTINCT record_id), MIN(at), MAX(at)"
            f" FROM access_log WHERE why = ? AND {_PERIOD} GROUP BY user_id, role, reason",
            ("break-glass", *period),
        )
        volumes = self._select(  # type: ignore[attr-defined]
            "review_volumes",
            f"SELECT {_PERSON}, COUNT(DISTINCT record_id), MIN(at), MAX(at)"
            f" FROM access_log WHERE {_PERIOD} AND {methods} GROUP BY user_id, role",
            (*period, *chosen),
        )
        callers = self._select(  # type: ignore[attr-defined]
            "review_callers",
            f"SELECT {_PERSON}, caller_hash, COUNT(DISTINCT record_id), MIN(at), MAX(at)"
            f" FROM access_log WHERE caller_hash <> '' AND {_PERIOD} AND {methods}"
            " GROUP BY user_id, role, caller_hash HAVING COUNT(DISTINCT record_id) >= ?",
            (*period, *chosen, caller_min),
        )

        def person(r: Sequence[Any]) -> tuple[str, str, str, str]:
            return str(r[0]), str(r[1]), str(r[2]), str(r[3])

        def tail(r: Sequence[Any], text: bool) -> tuple[Any, ...]:
            """The group's own columns: [a text,] a count, first and last."""
            head = (str(r[4]),) if text else ()
            n = 5 if text else 4
            return (*head, int(r[n]), float(r[n + 1]), float(r[n + 2]))

        return ReviewInputs(
            int(rows),
            int(users),
            [(*person(r), *tail(r, text=True)) for r in glass],
            [(*person(r), *tail(r, text=False)) for r in volumes],
            [(*person(r), *tail(r, text=True)) for r in callers],
        )

    def put_access_review(self, review: ReviewRow) -> ReviewRow:
        """Store a signed-off review; a review id already stored is kept as it was
        (a retried sign-off), and the stored one is returned."""
        stored = self._insert_once(  # type: ignore[attr-defined]
            "put_access_review", "access_reviews", _REVIEW_COLUMNS, tuple(review)
        )
        return _review(stored)

    def access_reviews(self, limit: int = 100) -> list[ReviewRow]:
        """Signed-off reviews, newest first."""
        rows = self._select(  # type: ignore[attr-defined]
            "access_reviews",
            f"SELECT {_REVIEW_COLUMNS} FROM access_reviews ORDER BY at DESC, id LIMIT ?",
            (max(1, min(int(limit), MAX_ROWS)),),
        )
        return [_review(r) for r in rows]


def _review(values: Sequence[Any]) -> ReviewRow:
    v = list(values)
    return ReviewRow(
        str(v[0]),
        float(v[1]),
        str(v[2]),
        str(v[3]),
        float(v[4]),
        float(v[5]),
        int(v[6]),
        int(v[7]),
        str(v[8]),
    )
