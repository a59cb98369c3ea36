"""Journal entries as archive rows (pure): what each entry wrote, and who owned what."""

from __future__ import annotations

import json

from cluster.archive.journal import OWNERS, journal_row, touches, versions_of
from cluster.keys import Keys
from cluster.ownership import Fence
from cluster.store import FencedStore, Write

KEYS = Keys("/p/")


def entry_of(write: Write, at: float = 100.0) -> tuple[bytes, bytes]:
    store = FencedStore(None, KEYS, writer="oslo-abc", clock=lambda: at)  # type: ignore[arg-type]
    return store.journal_put(write)


def test_entry_carries_the_records_it_put_and_the_keys_it_deleted():
    fence = Fence("oslo", KEYS.owner("oslo"), 7, b"{}")
    inc = json.dumps({"id": "OSL-000001", "status": "received"}).encode()
    key, value = entry_of(
        Write(
            (fence,),
            [(KEYS.incident("sorlandet", "OSL-000001"), inc), (KEYS.counter("oslo"), b"1")],
            "HandOverIncident",
            "kari",
            request_id="r1",
            deletes=[KEYS.incident("oslo", "OSL-000001")],
        )
    )
    body = json.loads(value)
    assert body["records"] == {KEYS.incident("sorlandet", "OSL-000001").decode(): json.loads(inc)}
    assert body["deleted"] == [KEYS.incident("oslo", "OSL-000001").decode()]
    row = journal_row(KEYS, key, value, 42)
    assert (row.region, row.at, row.revision, row.command) == (
        "oslo",
        100.0,
        42,
        "HandOverIncident",
    )
    by_key = {v.key: v for v in row.versions}
    moved = by_key[KEYS.incident("sorlandet", "OSL-000001").decode()]
    assert (moved.kind, moved.region, moved.id, moved.revision) == (
        "incidents",
        "sorlandet",
        "OSL-000001",
        42,
    )
    assert json.loads(moved.value or b"") == json.loads(inc)
    assert by_key[KEYS.incident("oslo", "OSL-000001").decode()].value is None
    assert KEYS.counter("oslo").decode() not in by_key  # not a record: no version
    assert touches(body, "incidents", "OSL-000001")
    assert not touches(body, "incidents", "OSL-000002")
    assert not touches(body, "units", "OSL-000001")


def test_entry_without_records_is_plain_json():
    fence = Fence("oslo", KEYS.owner("oslo"), 7, b"{}")
    _, value = entry_of(Write((fence,), [], "HandOverRegion", "sup", details={"to_centre": "x"}))
    assert "records" not in json.loads(value)


def test_takeover_and_handover_are_owner_versions():
    took = {"region": "oslo", "centre": "vestre-viken", "instance": "vv-1", "token": 55}
    takeover = {
        "at": 10.0,
        "command": "TakeOver",
        "region": "oslo",
        "records": {KEYS.takeover("oslo").decode(): took},
    }
    owner = [v for v in versions_of(KEYS, takeover, 55) if v.kind == OWNERS]
    assert len(owner) == 1 and owner[0].key == KEYS.owner("oslo").decode()
    assert json.loads(owner[0].value or b"") == {
        "centre": "vestre-viken",
        "instance": "vv-1",
        "token": 55,
        "since": 10.0,
        "how": "TakeOver",
    }
    handover = {
        "at": 20.0,
        "command": "HandOverRegion",
        "region": "oslo",
        "to_centre": "oslo",
        "to_instance": "oslo-2",
    }
    (back,) = versions_of(KEYS, handover, 60)
    assert json.loads(back.value or b"")["token"] == 60  # the hand-over's commit revision
    assert versions_of(KEYS, {"at": 1.0, "command": "AddIncidentNote", "region": "oslo"}, 3) == []
