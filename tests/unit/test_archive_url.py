"""Choosing and checking an archive from its URL, and the migration list's shape: no
server needed (nothing here connects)."""

from __future__ import annotations

import pytest

from cluster.archive import ArchiveError, open_archive
from cluster.archive.postgres import PostgresArchive
from cluster.archive.schema import MIGRATIONS, POSTGRES, SQLITE, Migration, check_ordered


@pytest.mark.parametrize(
    "url",
    ["mysql://amk@db/amk", "sqlite://relative.db", "archive.db", "", "http://x/"],
)
def test_open_archive_rejects_an_unknown_scheme(url):
    with pytest.raises(ArchiveError, match=r"unsupported scheme.*\(sqlite:/// or postgresql://\)"):
        open_archive(url)


def test_a_malformed_postgres_url_is_refused_at_construction():
    with pytest.raises(ArchiveError, match=r"not a valid PostgreSQL URL: .*%zz"):
        open_archive("postgresql://%zz@db/amk")


def test_postgres_defaults_a_connect_timeout_and_the_url_wins():
    assert "connect_timeout=5" in PostgresArchive("postgresql://amk@db/amk")._conninfo
    own = PostgresArchive("postgresql://amk@db/amk?connect_timeout=9")._conninfo
    assert "connect_timeout=9" in own and "connect_timeout=5" not in own


def test_the_archive_name_in_messages_never_holds_the_password():
    store = PostgresArchive("postgresql://amk:s3cret@db:6543/amk")
    assert store.where == "postgresql://amk@db:6543/amk"


def test_migrations_are_numbered_from_one_without_gaps():
    check_ordered()
    assert MIGRATIONS[0].version == 1
    with pytest.raises(ValueError, match=r"got \[1, 3\]"):
        check_ordered((Migration(1, "a", ()), Migration(3, "b", ())))


def test_each_dialect_gets_its_own_byte_type_and_markers():
    first = MIGRATIONS[0]
    assert any("BLOB" in s for s in first.for_dialect(SQLITE))
    assert any("BYTEA" in s for s in first.for_dialect(POSTGRES))
    assert not any("{" in s for d in (SQLITE, POSTGRES) for s in first.for_dialect(d))
    assert POSTGRES.sql("a = ? AND b = ?") == "a = %s AND b = %s"
    assert SQLITE.sql("a = ?") == "a = ?"
    with pytest.raises(ValueError, match="must not contain '%'"):
        POSTGRES.sql("name LIKE 'a%'")
