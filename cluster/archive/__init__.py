"""The archive database: closed work moved out of etcd (see ``base``)."""

from __future__ import annotations

import asyncio

from cluster.archive.base import (
    ArchivedRecord,
    ArchivedSince,
    ArchiveError,
    ArchiveStore,
    JournalRow,
    RecordVersion,
)

__all__ = [
    "ArchiveError",
    "ArchiveStore",
    "ArchivedRecord",
    "ArchivedSince",
    "JournalRow",
    "RecordVersion",
    "open_archive",
    "open_migrated",
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


async def open_migrated(url: str) -> ArchiveStore:
    """The archive at ``url`` with its schema brought up to date, for async callers: the
    drivers block, so the migration runs in a thread, off the event loop."""
    store = open_archive(url)
    await asyncio.to_thread(store.migrate)
    return store
