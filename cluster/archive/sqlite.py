"""The embedded archive: one SQLite file in the state folder (stdlib ``sqlite3``).

Several centre processes on one host write the same file, and the archiver deletes from
etcd as soon as ``put_batch`` returns, so the settings are chosen for that:

- WAL journal: readers do not block the writer, and a writer does not block readers.
- ``synchronous=FULL``: in WAL mode, NORMAL may lose the last transactions on a power
  cut; FULL syncs the WAL at every commit, so a confirmed batch survives a crash.
- A busy timeout, and ``BEGIN IMMEDIATE`` for writes: a writer waits for the file's write
  lock up front instead of failing with "database is locked" when it would upgrade a read.
- ``isolation_level=None``: the module does not open or commit transactions behind our
  back; ``SqlArchive`` does it, one transaction per call.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from cluster.archive.base import ArchiveError
from cluster.archive.schema import SQLITE, Dialect
from cluster.archive.sql_archive import SqlArchive

# Window functions (versions_at, records) arrived in 3.25, ON CONFLICT DO NOTHING in 3.24.
MIN_SQLITE = (3, 25, 0)


class SqliteArchive(SqlArchive):
    """The archive in the SQLite file at ``path`` (absolute; its folder must exist).

    The file is opened at construction, so a bad path fails at once. One connection per
    instance, shared by threads under the base class's lock.
    """

    dialect: ClassVar[Dialect] = SQLITE
    driver_errors: ClassVar[tuple[type[Exception], ...]] = (sqlite3.Error,)

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 30.0) -> None:
        if not Path(path).is_absolute():
            # Centres run with different working folders: a relative path would split
            # the archive into several files.
            raise ArchiveError(f"sqlite archive: path must be absolute, got {str(path)!r}")
        # ``sqlite:///abs/x.db`` gives "/abs/x.db", ``sqlite:////abs/x.db`` (the spelling
        # of ClusterConfig.archive_location and SQLAlchemy) "//abs/x.db": one file.
        self.path = Path("/" + str(path).lstrip("/"))
        if not self.path.parent.is_dir():
            raise ArchiveError(f"sqlite archive: folder {self.path.parent} does not exist")
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise ArchiveError(
                f"sqlite archive: SQLite {sqlite3.sqlite_version} is too old "
                f"(needs {'.'.join(map(str, MIN_SQLITE))} for window functions)"
            )
        self.busy_timeout_s = busy_timeout_s
        super().__init__(f"sqlite://{self.path}")
        self.connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_s,
            isolation_level=None,
            check_same_thread=False,  # to_thread may pick any worker; the lock serialises
        )
        try:
            (mode,) = self._wal(conn)
            if str(mode).lower() != "wal":
                raise ArchiveError(
                    f"archive {self.where}: SQLite refused WAL mode (got {mode!r}); "
                    "is the file on a network file system?"
                )
            conn.execute("PRAGMA synchronous=FULL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _wal(self, conn: sqlite3.Connection) -> tuple[str]:
        """Switch to WAL, waiting out other connections: SQLite answers "database is
        locked" at once, without its busy handler, when several connections change a
        new file's journal mode together (centres starting on one database; seen once
        in CI: test_two_archives_migrating_at_once_both_succeed[sqlite])."""
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.005
        while True:
            try:
                return conn.execute("PRAGMA journal_mode=WAL").fetchone()  # type: ignore[no-any-return]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(0.1, delay * 2)

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection, *, write: bool) -> Iterator[sqlite3.Cursor]:
        cur = conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield cur
            cur.execute("COMMIT")
        finally:
            # Anything short of a COMMIT that went through leaves no trace.
            if conn.in_transaction:
                conn.rollback()
            cur.close()
