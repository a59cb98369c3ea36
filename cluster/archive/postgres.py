"""The production archive: PostgreSQL through psycopg 3.

Same queries and behaviour as the SQLite archive (``SqlArchive``); what is particular:

- Migrations take a transaction-scoped advisory lock, so several centres starting at once
  migrate one after the other (DDL is transactional in PostgreSQL; the lock ends with it).
- The connection is opened at the first call, not at construction: a centre can start
  while the database is down, and the archiver's next pass connects.
- A broken connection (server restart, network cut) fails the call in flight with
  :class:`ArchiveError`, nothing confirmed; the next call connects again. Nothing is
  retried here: the archiver repeats the whole batch, which is idempotent.
- ``connect_timeout`` defaults to a few seconds (libpq waits forever by default), so an
  unreachable server gives an error instead of a hung archiver.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cluster.archive.base import ArchiveError
from cluster.archive.schema import POSTGRES, Dialect
from cluster.archive.sql_archive import SqlArchive

DEFAULT_CONNECT_TIMEOUT_S = 5  # libpq counts whole seconds, at least 2


def describe(params: dict[str, object]) -> str:
    """``postgresql://user@host:port/db`` for messages: never the password."""
    user = f"{params['user']}@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    host = params.get("host") or "localhost"
    return f"postgresql://{user}{host}{port}/{params.get('dbname') or ''}"


STATEMENT_TIMEOUT_S = 30.0  # a batch takes milliseconds; this only bounds a stuck one


class PostgresArchive(SqlArchive):
    """The archive in the PostgreSQL database at ``url`` (a libpq URL or conninfo).

    Parameters in the URL win over the defaults set here (``connect_timeout``,
    ``application_name``); ``?options=-csearch_path%3Dname`` puts the tables in a schema.
    """

    dialect: ClassVar[Dialect] = POSTGRES
    driver_errors: ClassVar[tuple[type[Exception], ...]] = (psycopg.Error,)
    migration_lock: ClassVar[str | None] = "SELECT pg_advisory_xact_lock(?)"
    migration_unbounded: ClassVar[str | None] = "SET LOCAL statement_timeout = 0"

    def __init__(self, url: str, *, connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S) -> None:
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            reason = str(exc).strip()
            raise ArchiveError(f"archive_url: not a valid PostgreSQL URL: {reason}") from None
        params.setdefault("connect_timeout", connect_timeout_s)
        params.setdefault("application_name", "amk-archive")
        self._conninfo = make_conninfo("", **params)
        super().__init__(describe(params))

    def _connect(self) -> psycopg.Connection:
        # autocommit: each call opens its own transaction with conn.transaction().
        conn = psycopg.connect(self._conninfo, autocommit=True)
        # put_batch promises durability before the archiver deletes from etcd: a server
        # (or role) defaulting to synchronous_commit=off would confirm a commit it could
        # still lose. Any other setting flushes locally at least; leave it as it is.
        if conn.execute("SHOW synchronous_commit").fetchone() == ("off",):
            conn.execute("SET synchronous_commit TO on")
        # A query stuck behind a lock or a half-open connection must not hold an
        # archiver pass (or a gateway read) for ever: it fails, and the next pass retries.
        conn.execute(f"SET statement_timeout TO {int(STATEMENT_TIMEOUT_S * 1000)}")
        return conn

    @contextmanager
    def _transaction(self, conn: psycopg.Connection, *, write: bool) -> Iterator[psycopg.Cursor]:
        with conn.transaction(), conn.cursor() as cur:
            yield cur

    def _usable(self, conn: psycopg.Connection) -> bool:
        return not (conn.broken or conn.closed)
