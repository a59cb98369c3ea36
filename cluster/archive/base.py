"""The archive database's contract: what the archiver writes and the readers ask.

Closed work leaves etcd for an archive database (SQLite embedded, PostgreSQL in
production) so etcd holds about a day of live data however long the service runs. The
archive is written before etcd lets go of anything, and every write is idempotent, keyed
by the etcd key and the revision the value had there: an archiver that dies mid-batch and
runs the batch again changes nothing the second time (nothing lost, nothing doubled).

The API is synchronous (the archiver calls it through ``asyncio.to_thread``): both
drivers are synchronous, and one archive batch a few seconds apart needs no more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cluster.errors import AmkError

if TYPE_CHECKING:
    from cluster.archive.access_log import AccessRow
    from cluster.archive.revocations import RevocationRow, SuspensionRow


class ArchiveError(AmkError):
    """The archive database refused or could not be reached; nothing was confirmed.

    Retryable: the archiver's next pass tries the batch again (its write is idempotent),
    and a read through a gateway answers UNAVAILABLE."""

    component = "archive"
    retryable = True


@dataclass(frozen=True, slots=True)
class ArchivedRecord:
    """The final state of an entity when it left etcd.

    ``kind`` is the key's family (``incidents``, ``calls``, ``requests``); ``revision``
    the value's mod revision in etcd; ``at`` the record's own reference time (an
    incident's creation, a call's arrival, a request's commit) for range queries.
    """

    key: str
    kind: str
    region: str
    id: str
    revision: int
    at: float
    value: bytes


@dataclass(frozen=True, slots=True)
class RecordVersion:
    """One state of an entity as a journal entry wrote it (``value`` None: deleted)."""

    key: str
    kind: str
    region: str
    id: str
    revision: int
    at: float
    value: bytes | None


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One journal entry (``entry`` is its JSON as etcd held it) and what it wrote.

    ``command`` is the entry's command, kept in its own column so a read of a few
    commands (the KPIs') need not parse every position report; "" from reads that do
    not select it."""

    key: str
    region: str
    at: float
    revision: int
    entry: bytes
    versions: tuple[RecordVersion, ...] = ()
    command: str = ""


@dataclass(frozen=True, slots=True)
class ArchivedSince:
    """What the archive holds of etcd's history after one revision (a backup's): what a
    restore of that backup rolls forward (``cluster.roll_forward``).

    ``versions`` are every record version a journal entry wrote after ``revision``, in
    the order etcd applied them (by revision, then by journal entry within one group
    commit); ``records`` the final states of entities that left etcd after it (closed
    work, by revision); ``horizons`` each region's newest archived journal entry after
    it, as (revision, time): how far its journal reached the archive.
    """

    revision: int
    versions: tuple[RecordVersion, ...]
    records: tuple[ArchivedRecord, ...]
    horizons: dict[str, tuple[int, float]]


class ArchiveStore(Protocol):
    """One archive database. Every method raises :class:`ArchiveError` on failure."""

    def migrate(self) -> int:
        """Bring the schema to the newest version (idempotent); returns that version."""

    def schema_version(self) -> int:
        """The schema version the database is at (0: empty)."""

    def put_batch(
        self,
        records: Sequence[ArchivedRecord],
        journal: Sequence[JournalRow],
        *,
        still_live: Sequence[str] = (),
    ) -> None:
        """Store records, journal rows and their versions in one database transaction.

        Idempotent: a (key, revision) already stored is left as it is. Returns only once
        the transaction is durable, so the caller may then delete the originals. The
        records keyed in ``still_live`` keep their etcd copy for now (idempotency
        records until their retention): they are held until :meth:`release`.
        """

    def held_live(self, region: str, until: float, limit: int) -> list[tuple[str, int]]:
        """(key, revision) of held records of ``region`` with ``at <= until``."""

    def release(self, keys: Sequence[str]) -> None:
        """Forget held records whose etcd copy is gone."""

    def get_record(self, kind: str, id: str) -> ArchivedRecord | None:
        """The newest archived record of that kind and id (any region), or None."""

    def records(
        self,
        kind: str,
        *,
        region: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[ArchivedRecord]:
        """Archived records of a kind, newest revision per key, ordered by ``at``."""

    def stored(self, kind: str) -> list[ArchivedRecord]:
        """Every stored revision of every record of a kind, by key and revision: for
        audits (the archive drill's checker), where ``records`` shows only the newest."""

    def journal(
        self,
        *,
        region: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[JournalRow]:
        """Journal rows in time order (``since`` inclusive, ``until`` inclusive)."""

    def journal_of_commands(
        self, commands: Sequence[str], *, region: str, since: float | None = None
    ) -> list[JournalRow]:
        """The journal rows of ``region`` (``since`` inclusive) whose command is one of
        ``commands``, in time order, without their versions: a read of a few commands
        among many position reports."""

    def prune_journal(self, command: str, *, region: str, before: float, limit: int) -> int:
        """Delete up to ``limit`` of ``region``'s oldest journal rows of ``command``
        written before ``before``, with the versions they wrote and their idempotency
        records, in one transaction; returns how many rows went."""

    def history(self, kind: str, id: str) -> list[JournalRow]:
        """Every archived journal row that wrote or deleted that entity, in time order."""

    def versions_at(self, at: float, kinds: Sequence[str] | None = None) -> list[RecordVersion]:
        """For each key, its newest version written at or before ``at`` (deletions as
        ``value=None``), from archived journal rows: the board as it stood then."""

    def put_access(self, rows: Sequence[AccessRow]) -> None:
        """Store access-log rows (Normen) in one durable transaction; idempotent by id."""

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
        """Access-log rows matching every filter given, newest first."""

    def prune_access(self, before: float) -> int:
        """Delete access-log rows older than ``before``; returns how many."""

    def access_logged_since(self) -> float | None:
        """The time of the oldest access-log row kept (None: the log is empty)."""

    def put_revocation(self, row: RevocationRow) -> RevocationRow:
        """Store a revoked certificate; a serial already revoked keeps its first row,
        which is returned."""

    def revocations(self) -> list[RevocationRow]:
        """Every revoked certificate, oldest first."""

    def put_suspension(self, row: SuspensionRow) -> SuspensionRow:
        """Store a decision to suspend or reinstate a person (idempotent by id)."""

    def suspensions(self) -> list[SuspensionRow]:
        """Every such decision, oldest first."""

    def counts(self) -> dict[str, int]:
        """Rows per table (records by kind, journal), for status and benchmarks."""

    def note_revision(self, centre: str, revision: int, at: float) -> None:
        """Remember that ``centre`` saw etcd at ``revision`` (kept only if higher)."""

    def max_revision(self) -> tuple[int, float]:
        """The highest etcd revision the archive holds or was told of (0 when none), and
        when a centre last told it one (0.0 when never): a restore of etcd moves etcd's
        revision past it (cluster/restore.py)."""

    def since(self, revision: int) -> ArchivedSince:
        """Everything archived of etcd's history after ``revision``, in one read."""

    def close(self) -> None:
        """Release the connection."""
