"""What a restore writes back from the archive (``cluster.roll_forward.plan``): pure logic
over rows as the archive returns them."""

from __future__ import annotations

import pytest

from cluster.archive.base import ArchivedRecord, ArchivedSince, RecordVersion
from cluster.keys import Keys
from cluster.roll_forward import (
    ROLL_SLICE,
    ROLL_SLICE_BYTES,
    Step,
    numbered,
    plan,
    slices,
)

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


def test_a_number_counts_for_the_region_whose_code_issued_it():
    """An incident handed from Oslo to Innlandet keeps its OSL id: Oslo's counter must
    pass it, Innlandet's need not."""
    codes = {"oslo": "OSL", "innlandet": "INN"}
    got = plan(
        since(
            100,
            [
                version("incidents", "OSL-000031", 120, region="innlandet"),
                version("incidents", "INN-000005", 121, region="innlandet"),
                version("incidents", "XYZ-000900", 122),  # no region here issues XYZ
            ],
        ),
        100,
        {},
        REGIONS,
        KEYS,
        codes,
    )
    assert got.numbers == {"oslo": 31, "innlandet": 5}
    assert numbered("OSL-000031", "innlandet", None) == ("innlandet", 31)  # no codes given
    assert numbered("OSL-x", "oslo", codes) is None


def test_within_one_revision_the_later_entry_of_the_batch_wins():
    """One group commit may put a key twice (two commands' entries): etcd keeps the last."""
    got = plan(
        since(
            100,
            [
                version("units", "U1", 120, b'{"status":"first"}'),
                version("units", "U1", 120, b'{"status":"second"}'),
            ],
        ),
        100,
        {},
        REGIONS,
        KEYS,
    )
    assert steps_of(got) == [("U1", 120, b'{"status":"second"}')]


def test_a_unit_that_moved_region_is_kept_at_one_key():
    """Lent from Oslo to Innlandet in an entry the archive lacks, then from Innlandet to
    Vestfold in one it has (which deleted the Innlandet key only): the Oslo key the
    backup holds must go, or two centres would dispatch one vehicle."""
    oslo = key("units", "oslo", "U7").encode()
    got = plan(
        since(
            100,
            [
                version("units", "U7", 300, b'{"at":"vestfold"}', region="vestfold"),
                version("units", "U7", 300, None, region="innlandet"),
            ],
        ),
        100,
        {oslo: 90},
        (*REGIONS, "vestfold"),
        KEYS,
    )
    assert [(s.region, s.value) for s in got.steps] == [
        ("oslo", None),
        ("vestfold", b'{"at":"vestfold"}'),
    ]
    # The move the archive has whole: the new key written, the old one removed.
    moved = plan(
        since(
            100,
            [
                version("units", "U7", 200, b'{"at":"innlandet"}', region="innlandet"),
                version("units", "U7", 200, None),
            ],
        ),
        100,
        {oslo: 90},
        REGIONS,
        KEYS,
    )
    assert [(s.region, s.value) for s in moved.steps] == [
        ("innlandet", b'{"at":"innlandet"}'),
        ("oslo", None),
    ]
    # Moved to Innlandet in an entry the archive lacks, then taken out of the fleet
    # there: the entity's newest event is a removal, so the backup's Oslo key goes too.
    gone = plan(
        since(100, [version("units", "U7", 150, None, region="innlandet")]),
        100,
        {oslo: 90},
        REGIONS,
        KEYS,
    )
    assert [(s.region, s.value) for s in gone.steps] == [("oslo", None)]


def test_an_incident_handed_over_then_closed_and_archived_does_not_come_back():
    """Handed from Oslo to Innlandet (the entry not archived), then closed and archived
    in Innlandet: not open again in Oslo at the backup's state."""
    oslo = key("incidents", "oslo", "OSL-000004").encode()
    got = plan(
        since(
            100,
            [version("incidents", "OSL-000004", 300, b'{"closed":1}', region="innlandet")],
            [archived("incidents", "OSL-000004", 300, region="innlandet")],
        ),
        100,
        {oslo: 90},
        REGIONS,
        KEYS,
    )
    assert [(s.region, s.value) for s in got.steps] == [("oslo", None)]


def test_a_restore_writes_back_in_slices_etcd_takes():
    def step(n: int, size: int):
        return Step(f"k{n}".encode(), "incidents", "oslo", str(n), 101, b"x" * size)

    many = slices([step(i, 10) for i in range(2 * ROLL_SLICE + 1)])
    assert [len(p) for p in many] == [ROLL_SLICE, ROLL_SLICE, 1]
    big = slices([step(i, ROLL_SLICE_BYTES // 3) for i in range(7)])
    assert [len(p) for p in big] == [2, 2, 2, 1]
    assert all(sum(len(s.key) + len(s.value) for s in p) <= ROLL_SLICE_BYTES for p in big)
    huge = slices([step(0, 2 * ROLL_SLICE_BYTES), step(1, 10)])  # one record alone
    assert [len(p) for p in huge] == [1, 1]


def test_an_entity_with_a_key_in_a_region_not_served_is_left_out_whole():
    """Lent to a region this cluster does not serve: its served key is not removed (the
    entity would be lost here) and the other is not written (nobody serves it)."""
    oslo = key("units", "oslo", "U8").encode()
    got = plan(
        since(
            100,
            [
                version("units", "U8", 200, b'{"at":"vestfold"}', region="vestfold"),
                version("units", "U8", 200, None),
            ],
        ),
        100,
        {oslo: 90},
        REGIONS,
        KEYS,
    )
    assert got.steps == ()
    assert got.skipped == tuple(sorted((oslo.decode(), key("units", "vestfold", "U8"))))
