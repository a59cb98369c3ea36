"""Revoked certificates and decisions about people in the archive database (migrations
5 and 6), on SQLite and on a real PostgreSQL: each kept once by its key, the first one
returned to a second writer, and read back in order."""

from __future__ import annotations

import pytest

from cluster.archive import ArchiveStore
from cluster.archive.revocations import RevocationRow, SuspensionRow

pytestmark = pytest.mark.integration


def test_a_serial_is_revoked_once_and_the_first_record_kept(archive: ArchiveStore) -> None:
    archive.migrate()
    first = RevocationRow("A1B2", 100.0, "osl-a11", 2e9, "nettbrett mistet", "ola", "Ola")
    assert archive.put_revocation(first) == first
    again = first._replace(at=200.0, reason="meldt en gang til", revoked_by="kari")
    assert archive.put_revocation(again) == first
    other = RevocationRow("FF", 150.0, "console", 0.0, "nøkkel stjålet", "kari", "Kari")
    archive.put_revocation(other)
    assert archive.revocations() == [first, other]  # by time


def test_decisions_about_people_are_kept_by_id_with_their_truth(archive: ArchiveStore) -> None:
    archive.migrate()
    suspend = SuspensionRow("d1", 100.0, "kari", True, "oppslag uten behov", "sjef", "Sjef")
    lift = SuspensionRow("d2", 200.0, "kari", False, "gjennomgått med leder", "sjef", "Sjef")
    assert archive.put_suspension(suspend) == suspend
    assert archive.put_suspension(lift) == lift
    assert archive.put_suspension(suspend._replace(suspended=False, at=300.0)) == suspend
    assert archive.suspensions() == [suspend, lift]
    assert [type(r.suspended) for r in archive.suspensions()] == [bool, bool]
