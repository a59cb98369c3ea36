"""The archive database: closed work moved out of etcd (see ``base``)."""

from __future__ import annotations

from cluster.archive.base import (
    ArchivedRecord,
    ArchiveError,
    ArchiveStore,
    JournalRow,
    RecordVersion,
)

__all__ = [
    "ArchiveError",
    "ArchiveStore",
    "ArchivedRecord",
    "JournalRow",
    "RecordVersion",
    "open_archive",
]


def open_archive(url: str) -> ArchiveStore:
    """The archive at ``url``: ``sqlite:///abs/path.db`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        from cluster.archive.sqlite import SqliteArchive

        return SqliteArchive(url.removeprefix("sqlite://"))
    if url.startswith(("postgresql://", "postgres://")):
        from cluster.archive.postgres import PostgresArchive

        return PostgresArchive(url)
    raise ArchiveError(f"archive_url: unsupported scheme in {url!r} (sqlite:/// or postgresql://)")
