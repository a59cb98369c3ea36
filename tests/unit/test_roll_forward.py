"""What a restore writes back from the archive (``cluster.roll_forward.plan``): pure logic
over rows as the archive returns them."""

from __future__ import annotations

import pytest

from cluster.archive.base import ArchivedRecord, ArchivedSince, RecordVersion
from cluster.keys import Keys
from cluster.roll_forward import incident_number, plan

KEYS = Keys()
REGIONS = ("oslo", "innlandet")


def key(kind: str, region: str, id_: str) -> str:
    return f"{KEYS.prefix}{kind}/{region}/{id_}"


def version(kind: str, id_: str, revision: int, value: bytes | None = b"{}", region: str = "oslo"):
    return RecordVersion(key(kind, region, id_), kind, region, id_, revision, 1.0, value)


def archived(kind: str, id_: str, revision: int, region: str = "oslo") -> ArchivedRecord:
    return ArchivedRecord(key(kind, region, id_), kind, region, id_, revision, 1.0, b"{}")


def since(revision: int, versions=(), records=(), horizons=None) -> ArchivedSince:
    return ArchivedSince(revision, tuple(versions), tuple(records), dict(horizons or {}))


def steps_of(p) -> list[tuple[str, int, bytes | None]]:
    return [(s.id, s.revision, s.value) for s in p.steps]


def test_the_newest_version_of_each_key_after_the_restore_is_written_back():
    got = plan(
        since(
            100,
            [
                version("incidents", "OSL-000005", 101, b'{"v":1}'),
                version("incidents", "OSL-000005", 130, b'{"v":2}'),
                version("units", "U1", 120, b'{"u":1}'),
                version("units", "U1", 90, b'{"old":1}'),  # the backup has it already
            ],
        ),
        100,
        {},
        REGIONS,
        KEYS,
    )
    assert steps_of(got) == [("OSL-000005", 130, b'{"v":2}'), ("U1", 120, b'{"u":1}')]
    assert got.counts() == {"written": {"incidents": 1, "units": 1}, "removed": {}}


def test_work_archived_after_the_restore_leaves_the_store_unless_written_again():
    live = {key("incidents", "oslo", "OSL-000001").encode(): 80}
    got = plan(
        since(
            100,
            [version("incidents", "OSL-000001", 110, b'{"closed":1}')],
            # closed at 110 (its final state archived at that revision), and gone
            [archived("incidents", "OSL-000001", 110), archived("incidents", "OSL-000002", 120)],
        ),
        100,
        live,
        REGIONS,
        KEYS,
    )
    # OSL-000001 is live in the restored store: removed; OSL-000002 was never in it.
    assert steps_of(got) == [("OSL-000001", 110, None)]
    assert got.counts() == {"written": {}, "removed": {"incidents": 1}}
    reopened = plan(
        since(
            100,
            [version("incidents", "OSL-000001", 150, b'{"reopened":1}')],
            [archived("incidents", "OSL-000001", 110)],
        ),
        100,
        live,
        REGIONS,
        KEYS,
    )
    assert steps_of(reopened) == [("OSL-000001", 150, b'{"reopened":1}')]


def test_a_journaled_deletion_removes_only_what_the_store_holds():
    live = {key("calls", "oslo", "c1").encode(): 99}
    got = plan(
        since(
            100,
            [
                version("calls", "c1", 105, None),
                version("calls", "c2", 106, b"{}"),
                version("calls", "c2", 107, None),
            ],
        ),
        100,
        live,
        REGIONS,
        KEYS,
    )
    assert steps_of(got) == [("c1", 105, None)]


def test_numbers_count_every_incident_the_archive_knows_after_the_backup():
    got = plan(
        since(
            100,
            [
                version("incidents", "OSL-000007", 101),
                version("incidents", "INN-000003", 102, region="innlandet"),
                version("incidents", "OSL-000002", 50),  # before the backup: the counter has it
            ],
            [archived("incidents", "OSL-000011", 140), archived("calls", "C-000099", 141)],
        ),
        100,
        {},
        REGIONS,
        KEYS,
    )
    assert got.numbers == {"oslo": 11, "innlandet": 3}


def test_other_regions_and_keys_that_are_not_entities_are_left_out():
    # The journal's derived owner versions carry the owner key itself.
    owner = RecordVersion(KEYS.owner("oslo").decode(), "owners", "oslo", "oslo", 120, 1.0, b"{}")
    took = RecordVersion(
        KEYS.takeover("oslo").decode(), "regions", "oslo", "takeover", 120, 1.0, b"{}"
    )
    shared = RecordVersion(
        KEYS.sharing("oslo").decode(), "regions", "oslo", "sharing", 122, 1.0, None
    )
    got = plan(
        since(
            100,
            [owner, took, shared, version("units", "V1", 121, region="vestfold")],
            horizons={"oslo": (121, 5.0)},
        ),
        100,
        {KEYS.sharing("oslo"): 90},
        REGIONS,
        KEYS,
    )
    assert got.steps == ()
    assert got.skipped == (key("units", "vestfold", "V1"),)
    assert got.horizons == {"oslo": (121, 5.0)}


def test_the_archive_read_from_an_earlier_revision_skips_what_the_restore_holds():
    """The manifest names the revision before its snapshot: the store may be further."""
    got = plan(
        since(100, [version("units", "U1", 104), version("units", "U1", 108, b'{"n":2}')]),
        105,
        {},
        REGIONS,
        KEYS,
    )
    assert steps_of(got) == [("U1", 108, b'{"n":2}')]
    with pytest.raises(ValueError, match="past"):
        plan(since(110), 105, {}, REGIONS, KEYS)


def test_incident_number():
    assert incident_number("OSL-000123") == 123
    assert incident_number("no-number") == 0
