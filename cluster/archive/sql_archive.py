"""What the SQLite and PostgreSQL archives share: every query, the migration runner, and
the one-connection-one-lock discipline.

The two backends differ only in how they connect, how they open a transaction and which
exceptions their driver raises (see ``sqlite`` and ``postgres``); the SQL is the same
text (``schema.Dialect`` converts the parameter markers). One connection per instance,
guarded by a lock: the archiver calls from ``asyncio.to_thread``, so two calls may come
from two threads, and neither driver lets two threads share a connection mid-transaction.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar

import structlog

from cluster.archive import board
from cluster.archive.access_log import AccessLogStore
from cluster.archive.base import (
    ArchivedRecord,
    ArchivedSince,
    ArchiveError,
    JournalRow,
    RecordVersion,
)
from cluster.archive.revocations import RevocationStore
from cluster.archive.schema import (
    CREATE_MIGRATIONS_TABLE,
    MIGRATIONS,
    MIGRATIONS_TABLE,
    Dialect,
    check_ordered,
    latest_version,
)

log = structlog.get_logger("amk.archive")

_RECORD_COLUMNS = "key, kind, region, id, revision, at, value"
_INSERT_RECORD = (
    "INSERT INTO records (key, kind, region, id, revision, at, value, archived_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_INSERT_JOURNAL = (
    "INSERT INTO journal (key, region, at, revision, entry, command)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_INSERT_VERSION = (
    "INSERT INTO record_versions (key, revision, kind, region, id, at, value, journal_key)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
# Journal rows (the inner query picks and orders them) with every version each wrote.
_JOURNAL_WITH_VERSIONS = (
    "SELECT j.key, j.region, j.at, j.revision, j.entry,"
    " v.key, v.kind, v.region, v.id, v.revision, v.at, v.value"
    " FROM ({inner}) j LEFT JOIN record_versions v ON v.journal_key = j.key"
    " ORDER BY j.at, j.key, v.key, v.revision"
)
_NOTE_REVISION = (
    "INSERT INTO etcd_revisions_seen (centre, revision, at) VALUES (?, ?, ?)"
    " ON CONFLICT (centre) DO UPDATE SET revision = excluded.revision, at = excluded.at"
    " WHERE excluded.revision >= etcd_revisions_seen.revision"
)
_JOURNAL_COLUMNS = "SELECT key, region, at, revision, entry FROM journal"
_INSERT_HELD = (
    "INSERT INTO held_live (key, region, revision, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def _where(conditions: Sequence[str]) -> str:
    return " WHERE " + " AND ".join(conditions) if conditions else ""


def _range(
    region: str | None, since: float | None, until: float | None
) -> tuple[list[str], list[Any]]:
    """Conditions and parameters for the common region / time-window filters."""
    conditions: list[str] = []
    params: list[Any] = []
    for condition, value in (("region = ?", region), ("at >= ?", since), ("at <= ?", until)):
        if value is not None:
            conditions.append(condition)
            params.append(value)
    return conditions, params


def _record(row: Sequence[Any]) -> ArchivedRecord:
    key, kind, region, id_, revision, at, value = row
    return ArchivedRecord(key, kind, region, id_, int(revision), float(at), bytes(value))


def _version(row: Sequence[Any]) -> RecordVersion:
    key, kind, region, id_, revision, at, value = row
    return RecordVersion(
        key, kind, region, id_, int(revision), float(at), None if value is None else bytes(value)
    )


def _group_journal(rows: Sequence[Sequence[Any]]) -> list[JournalRow]:
    """Fold the join's rows (one per version, in journal order) into JournalRows."""
    out: list[JournalRow] = []
    versions: dict[str, list[RecordVersion]] = {}
    for row in rows:
        key = row[0]
        if key not in versions:
            versions[key] = []
            out.append(JournalRow(key, row[1], float(row[2]), int(row[3]), bytes(row[4])))
        if row[5] is not None:  # LEFT JOIN: an entry that wrote nothing archived
            versions[key].append(_version(row[5:]))
    return [
        JournalRow(r.key, r.region, r.at, r.revision, r.entry, tuple(versions[r.key])) for r in out
    ]


def check_batch(records: Sequence[ArchivedRecord], journal: Sequence[JournalRow]) -> None:
    """Refuse a malformed batch before it reaches the database, naming the bad item."""
    for r in records:
        if not isinstance(r, ArchivedRecord):
            raise ValueError(f"archive batch: expected ArchivedRecord, got {type(r).__name__}")
        if not isinstance(r.value, bytes):
            raise ValueError(f"archive batch: record {r.key} value is not bytes")
        if not isinstance(r.revision, int) or r.revision < 1:
            raise ValueError(f"archive batch: record {r.key} revision {r.revision!r} not >= 1")
    for j in journal:
        if not isinstance(j, JournalRow):
            raise ValueError(f"archive batch: expected JournalRow, got {type(j).__name__}")
        if not isinstance(j.entry, bytes):
            raise ValueError(f"archive batch: journal {j.key} entry is not bytes")
        for v in j.versions:
            if not isinstance(v, RecordVersion):
                raise ValueError(f"archive batch: journal {j.key} holds a {type(v).__name__}")
            if v.value is not None and not isinstance(v.value, bytes):
                raise ValueError(f"archive batch: version {v.key}@{v.revision} not bytes/None")


class SqlArchive(AccessLogStore, RevocationStore, ABC):
    """An :class:`~cluster.archive.base.ArchiveStore` over one DB-API connection.

    Subclasses give the dialect, the driver's exception base, ``_connect`` and
    ``_transaction``; everything else is here once. Every driver error leaves as an
    :class:`ArchiveError` naming the archive and the operation; bad arguments raise
    ``ValueError`` before anything is sent.
    """

    dialect: ClassVar[Dialect]
    driver_errors: ClassVar[tuple[type[Exception], ...]]
    # SQL taking one integer that serialises migrations across processes, for engines
    # whose write transaction does not already do it (PostgreSQL's advisory lock).
    migration_lock: ClassVar[str | None] = None
    # SQL lifting the statement time limit once the lock is held: a migration rewriting
    # a large table (version 9) takes what it takes; a waiter still gives up in time.
    migration_unbounded: ClassVar[str | None] = None
    MIGRATION_LOCK_ID: ClassVar[int] = 0x616D6B2D61726368  # "amk-arch"

    def __init__(self, where: str) -> None:
        check_ordered()
        self.where = where  # for messages and logs; never holds a password
        self._lock = threading.Lock()
        self._conn: Any = None
        self._closed = False
        self._schema_ok = False

    # -- what a backend supplies -------------------------------------------------------

    @abstractmethod
    def _connect(self) -> Any:
        """A new driver connection (raises one of ``driver_errors``)."""

    @abstractmethod
    def _transaction(self, conn: Any, *, write: bool) -> AbstractContextManager[Any]:
        """A cursor inside one transaction: committed on exit, rolled back on error."""

    def _usable(self, conn: Any) -> bool:
        """After a driver error: may this connection serve the next call?"""
        return True

    # -- connection and transaction ---------------------------------------------------

    def connect(self) -> None:
        """Open the connection now rather than at the first call (fails fast on a bad
        location); raises :class:`ArchiveError`."""
        with self._tx("connect"):
            pass

    @contextmanager
    def _tx(self, what: str, *, write: bool = False) -> Iterator[Any]:
        with self._lock:
            if self._closed:
                raise ArchiveError(f"archive {self.where}: {what} after close()")
            try:
                if self._conn is None:
                    self._conn = self._connect()
                with self._transaction(self._conn, write=write) as cur:
                    yield cur
            except self.driver_errors as exc:
                if self._conn is not None and not self._usable(self._conn):
                    self._drop_connection()
                log.warning("archive_error", archive=self.where, op=what, error=str(exc))
                raise ArchiveError(f"archive {self.where}: {what} failed: {exc}") from exc

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        try:
            conn.close()
        except self.driver_errors:  # already broken: nothing more to release
            pass

    def close(self) -> None:
        """Release the connection; later calls raise :class:`ArchiveError`."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._drop_connection()

    def _q(self, text: str) -> str:
        return self.dialect.sql(text)

    # -- schema -----------------------------------------------------------------------

    def _version_in(self, cur: Any) -> int:
        cur.execute(self._q(self.dialect.table_exists), (MIGRATIONS_TABLE,))
        if not cur.fetchone()[0]:
            return 0
        cur.execute("SELECT MAX(version) FROM schema_migrations")
        return int(cur.fetchone()[0] or 0)

    def schema_version(self) -> int:
        """The schema version the database is at (0: empty)."""
        with self._tx("schema_version") as cur:
            return self._version_in(cur)

    def migrate(self) -> int:
        """Apply the missing migrations in one transaction; returns the version reached.

        Safe when several processes call it at once: the write transaction (SQLite's
        ``BEGIN IMMEDIATE``) or an advisory lock (PostgreSQL) lets one through at a time,
        and the next finds the versions already recorded. A database newer than this
        code is refused rather than written with an old idea of the schema.
        """
        newest = latest_version()
        applied: list[int] = []
        with self._tx("migrate", write=True) as cur:
            if self.migration_lock:
                cur.execute(self._q(self.migration_lock), (self.MIGRATION_LOCK_ID,))
            if self.migration_unbounded:
                cur.execute(self.migration_unbounded)
            cur.execute(CREATE_MIGRATIONS_TABLE)
            cur.execute("SELECT version FROM schema_migrations")
            done = {int(row[0]) for row in cur.fetchall()}
            if done and max(done) > newest:
                raise ArchiveError(
                    f"archive {self.where}: database schema is version {max(done)}, this "
                    f"code knows up to {newest}: upgrade the code, do not downgrade the data"
                )
            for migration in MIGRATIONS:
                if migration.version in done:
                    continue
                for statement in migration.for_dialect(self.dialect):
                    cur.execute(statement)
                cur.execute(
                    self._q(
                        "INSERT INTO schema_migrations (version, description, applied_at)"
                        " VALUES (?, ?, ?)"
                    ),
                    (migration.version, migration.description, time.time()),
                )
                applied.append(migration.version)
        if applied:
            log.info("archive_migrated", archive=self.where, applied=applied, version=newest)
        self._schema_ok = True
        return newest

    def _require_schema(self, cur: Any) -> None:
        # Checked once per instance: a clear error instead of "no such table".
        if self._schema_ok:
            return
        version = self._version_in(cur)
        if version != latest_version():
            raise ArchiveError(
                f"archive {self.where}: schema is version {version}, this code needs "
                f"{latest_version()}: call migrate() first"
            )
        self._schema_ok = True

    # -- writes -----------------------------------------------------------------------

    def put_batch(
        self,
        records: Sequence[ArchivedRecord],
        journal: Sequence[JournalRow],
        *,
        still_live: Sequence[str] = (),
    ) -> None:
        """Store records, journal rows and their versions in one durable transaction;
        rows already stored (same key and revision) are left as they are. The records
        keyed in ``still_live`` stay in etcd for now: they are held (``held_live``)
        until the archiver deleted them there (``release``)."""
        check_batch(records, journal)
        held = set(still_live)
        unknown = held - {r.key for r in records}
        if unknown:
            raise ValueError(f"archive batch: still_live names no record: {sorted(unknown)[:3]}")
        now = time.time()
        rows = [(r.key, r.kind, r.region, r.id, r.revision, r.at, r.value, now) for r in records]
        versions = [
            (v.key, v.revision, v.kind, v.region, v.id, v.at, v.value, row.key)
            for row in journal
            for v in row.versions
        ]
        with self._tx("put_batch", write=True) as cur:
            self._require_schema(cur)
            if records:
                cur.executemany(self._q(_INSERT_RECORD), rows)
            if journal:
                cur.executemany(
                    self._q(_INSERT_JOURNAL),
                    [(j.key, j.region, j.at, j.revision, j.entry, j.command) for j in journal],
                )
            if versions:
                cur.executemany(self._q(_INSERT_VERSION), versions)
            if held:
                cur.executemany(
                    self._q(_INSERT_HELD),
                    [(r.key, r.region, r.revision, r.at) for r in records if r.key in held],
                )

    def held_live(self, region: str, until: float, limit: int) -> list[tuple[str, int]]:
        """(key, revision) of held records of ``region`` whose time is at or before
        ``until``, oldest first: the ones whose etcd copy may now go."""
        sql = "SELECT key, revision FROM held_live WHERE region = ? AND at <= ? ORDER BY at, key"
        rows = self._select("held_live", sql + " LIMIT ?", (region, until, int(limit)))
        return [(str(k), int(r)) for k, r in rows]

    def release(self, keys: Sequence[str]) -> None:
        """Forget held records whose etcd copy is gone (deleted, or never there)."""
        if not keys:
            return
        with self._tx("release", write=True) as cur:
            self._require_schema(cur)
            cur.executemany(self._q("DELETE FROM held_live WHERE key = ?"), [(k,) for k in keys])

    def _insert_once(self, what: str, table: str, columns: str, values: Sequence[Any]) -> Any:
        """Insert one row unless its key (the first column) is taken, and return the
        row stored under that key: the one given, or the first one (a retried request,
        or another with the same key). The security records use it: access-review
        sign-offs, revoked certificates, decisions about people."""
        marks = ", ".join("?" * len(values))
        with self._tx(what, write=True) as cur:
            self._require_schema(cur)
            cur.execute(
                self._q(f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"),
                tuple(values),
            )
        first = columns.split(",", 1)[0].strip()
        sql = f"SELECT {columns} FROM {table} WHERE {first} = ?"
        return self._select(f"get {what}", sql, (values[0],))[0]

    # -- reads ------------------------------------------------------------------------

    def _select(self, what: str, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._tx(what) as cur:
            self._require_schema(cur)
            cur.execute(self._q(sql), tuple(params))
            return list(cur.fetchall())

    def get_record(self, kind: str, id: str) -> ArchivedRecord | None:
        """The newest archived record of that kind and id (any region), or None."""
        rows = self._select(
            "get_record",
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE kind = ? AND id = ?"
            " ORDER BY revision DESC LIMIT 1",
            (kind, id),
        )
        return _record(rows[0]) if rows else None

    def records(
        self,
        kind: str,
        *,
        region: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[ArchivedRecord]:
        """Archived records of a kind, newest revision per key, ordered by ``at``.

        The filters apply to that newest revision; the inner ``key IN`` lets the
        (kind, at) index find the candidate keys instead of ranking the whole kind.
        """
        conditions, params = _range(region, since, until)
        inner = _where(["kind = ?", *conditions])
        outer = "".join(f" AND {c}" for c in conditions)
        sql = (
            f"SELECT {_RECORD_COLUMNS} FROM ("
            f" SELECT {_RECORD_COLUMNS},"
            "  ROW_NUMBER() OVER (PARTITION BY key ORDER BY revision DESC) AS newest"
            f" FROM records WHERE kind = ? AND key IN (SELECT key FROM records{inner})"
            f") ranked WHERE newest = 1{outer} ORDER BY at, key"
        )
        rows = self._select("records", sql, (kind, kind, *params, *params))
        return [_record(row) for row in rows]

    def stored(self, kind: str) -> list[ArchivedRecord]:
        """Every stored revision of every record of a kind, ordered by key and revision
        (an audit read: ``records`` keeps only the newest revision per key)."""
        rows = self._select(
            "stored",
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE kind = ? ORDER BY key, revision",
            (kind,),
        )
        return [_record(row) for row in rows]

    def _journal_rows(self, what: str, inner: str, params: Sequence[Any]) -> list[JournalRow]:
        rows = self._select(what, _JOURNAL_WITH_VERSIONS.format(inner=inner), params)
        return _group_journal(rows)

    def journal(
        self,
        *,
        region: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[JournalRow]:
        """Journal rows in time order (``since`` and ``until`` inclusive), each with the
        versions it wrote; ``limit`` keeps the earliest ones."""
        conditions, params = _range(region, since, until)
        inner = f"{_JOURNAL_COLUMNS}{_where(conditions)} ORDER BY at, key"
        if limit is not None:
            if not isinstance(limit, int) or limit < 0:
                raise ValueError(f"archive journal: limit must be an int >= 0, got {limit!r}")
            inner += " LIMIT ?"
            params.append(limit)
        return self._journal_rows("journal", inner, params)

    def journal_of_commands(
        self, commands: Sequence[str], *, region: str, since: float | None = None
    ) -> list[JournalRow]:
        """The rows of ``region`` whose command is one of ``commands``, in time order,
        without versions. By the (region, command, at) index: position reports are
        never read."""
        if isinstance(commands, str) or not all(isinstance(c, str) and c for c in commands):
            raise ValueError(
                f"archive journal_of_commands: commands must be names, got {commands!r}"
            )
        wanted = sorted(set(commands))
        conditions, params = _range(region, since, None)
        conditions.append(f"command IN ({', '.join('?' for _ in wanted)})")
        params += wanted
        sql = (
            "SELECT key, region, at, revision, entry, command FROM journal"
            f"{_where(conditions)} ORDER BY at, key"
        )
        return [
            JournalRow(key, reg, float(at), int(rev), bytes(entry), command=command)
            for key, reg, at, rev, entry, command in self._select(
                "journal_of_commands", sql, params
            )
        ]

    def prune_journal(self, command: str, *, region: str, before: float, limit: int) -> int:
        """Delete up to ``limit`` of ``region``'s oldest rows of ``command`` before
        ``before``: the versions each wrote, its idempotency record (the entry's request
        id at the entry's revision: other records of one group commit share the
        revision), then the row; one transaction. Returns how many rows went."""
        if not isinstance(command, str) or not command:
            raise ValueError(f"archive prune_journal: command must be a name: {command!r}")
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"archive prune_journal: limit must be an int >= 1: {limit!r}")
        with self._tx("prune_journal", write=True) as cur:
            self._require_schema(cur)
            cur.execute(
                self._q(
                    "SELECT key, revision, entry FROM journal"
                    " WHERE region = ? AND command = ? AND at < ? ORDER BY at, key LIMIT ?"
                ),
                (region, command, before, limit),
            )
            rows = cur.fetchall()
            keys = [str(key) for key, _, _ in rows]
            requests = [
                (str(rid), int(revision))
                for _, revision, entry in rows
                if (rid := json.loads(bytes(entry)).get("request_id"))
            ]
            delete_versions = "DELETE FROM record_versions WHERE journal_key = ?"
            cur.executemany(self._q(delete_versions), [(k,) for k in keys])
            if requests:
                cur.executemany(
                    self._q(
                        "DELETE FROM records WHERE kind = 'requests' AND id = ? AND revision = ?"
                    ),
                    requests,
                )
            deleted = 0  # rows another pruner deleted first are not counted twice
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ", ".join("?" for _ in chunk)
                cur.execute(self._q(f"DELETE FROM journal WHERE key IN ({marks})"), chunk)
                deleted += max(0, cur.rowcount)
        return deleted

    def history(self, kind: str, id: str) -> list[JournalRow]:
        """Every archived journal row that wrote or deleted that entity, in time order,
        each with all the versions it wrote (an entry may touch an incident and a unit)."""
        inner = (
            f"{_JOURNAL_COLUMNS} WHERE key IN"
            " (SELECT journal_key FROM record_versions WHERE kind = ? AND id = ?)"
        )
        return self._journal_rows("history", inner, (kind, id))

    def versions_at(self, at: float, kinds: Sequence[str] | None = None) -> list[RecordVersion]:
        """For each key, its newest version written at or before ``at`` (deletions as
        ``value=None``), ordered by key: the board as it stood then (see ``board``)."""
        if isinstance(kinds, str):
            raise ValueError(f"archive versions_at: kinds must be a list, got {kinds!r}")
        with self._tx("versions_at") as cur:
            self._require_schema(cur)
            if kinds is None:
                cur.execute(board.KINDS_SQL)
                kinds = [row[0] for row in cur.fetchall()]
            if not kinds:
                return []
            cur.execute(self._q(board.newest_sql(len(kinds))), (*kinds, at))
            return [_version(row[:7]) for row in board.newest(cur.fetchall())]

    def note_revision(self, centre: str, revision: int, at: float) -> None:
        with self._tx("note_revision", write=True) as cur:
            self._require_schema(cur)
            cur.execute(self._q(_NOTE_REVISION), (centre, revision, at))

    def max_revision(self) -> tuple[int, float]:
        best = 0
        with self._tx("max_revision") as cur:
            self._require_schema(cur)
            for table in ("records", "journal", "record_versions", "etcd_revisions_seen"):
                cur.execute(f"SELECT MAX(revision) FROM {table}")
                best = max(best, int(cur.fetchone()[0] or 0))
            cur.execute("SELECT MAX(at) FROM etcd_revisions_seen")
            told = float(cur.fetchone()[0] or 0.0)
        return best, told

    def since(self, revision: int) -> ArchivedSince:
        """Everything archived after ``revision``, read in one transaction. The scans
        are by revision, which no index covers: a restore's read, not a hot one."""
        if not isinstance(revision, int) or revision < 0:
            raise ValueError(f"archive since: revision must be an int >= 0, got {revision!r}")
        with self._tx("since") as cur:
            self._require_schema(cur)
            cur.execute(
                self._q(
                    f"SELECT {_RECORD_COLUMNS}, journal_key FROM record_versions WHERE revision > ?"
                ),
                (revision,),
            )
            rows = cur.fetchall()
            cur.execute(
                self._q(
                    f"SELECT {_RECORD_COLUMNS} FROM records WHERE revision > ?"
                    " ORDER BY revision, key"
                ),
                (revision,),
            )
            records = tuple(_record(row) for row in cur.fetchall())
            cur.execute(
                self._q(
                    "SELECT region, MAX(revision), MAX(at) FROM journal WHERE revision > ?"
                    " GROUP BY region"
                ),
                (revision,),
            )
            horizons = {str(r): (int(rev), float(at)) for r, rev, at in cur.fetchall()}
        # The order etcd applied them in: by revision, then by the journal key's stamp
        # (time, writer, sequence), which within one group commit is the batch's order,
        # whatever region's journal each entry went to; a later put of a key wins.
        rows.sort(key=lambda r: (int(r[4]), str(r[7]).rsplit("/", 1)[-1], r[0]))
        versions = tuple(_version(row[:7]) for row in rows)
        return ArchivedSince(revision, versions, records, horizons)

    def counts(self) -> dict[str, int]:
        """Rows per table: ``records`` (all kinds), ``records.{kind}`` for each kind,
        ``journal`` and ``record_versions``."""
        with self._tx("counts") as cur:
            self._require_schema(cur)
            cur.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind ORDER BY kind")
            by_kind = {f"records.{kind}": int(n) for kind, n in cur.fetchall()}
            out = {"records": sum(by_kind.values()), **by_kind}
            for table in ("journal", "record_versions", "held_live"):
                cur.execute(f"SELECT COUNT(*) FROM {table}")
                out[table] = int(cur.fetchone()[0])
            return out
