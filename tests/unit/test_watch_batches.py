"""WatchBatches: the board's stream, several events to a message when a console is
behind, framed from events already serialized."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from actors.domain.model import Incident, IncidentStatus, Position
from actors.gateway.watch_hub import WatchHub
from actors.gateway.watch_service import MAX_BATCH_EVENTS, WatchRpcs, frame_batch
from amk.dispatch.v1 import dispatch_pb2 as pb
from tests.unit.test_watch_hub import FakeEtcd, K, put, settle

pytestmark = pytest.mark.timeout(30)


def _incident(n: int, note: str = "") -> bytes:
    inc = Incident(f"OSL-{n:06d}", "oslo", IncidentStatus.RECEIVED, Position(59.9, 10.7), 1, 1)
    inc.address = note
    return inc.encode()


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300, 16_383, 16_384, 70_000])
def test_a_framed_batch_parses_as_the_events_it_was_made_of(size: int) -> None:
    events = [
        pb.WatchEvent(kind=pb.WatchEvent.KIND_INCIDENT_REMOVED, revision=r, removed_id="x" * size)
        for r in (5, 6, 7)
    ]
    batch = pb.WatchEventBatch.FromString(frame_batch([e.SerializeToString() for e in events]))
    assert list(batch.events) == events


def _service(etcd: FakeEtcd, hub: WatchHub) -> WatchRpcs:
    gw = SimpleNamespace(hub=hub, client=etcd, keys=K, regions={"oslo"})
    return WatchRpcs(gw)  # type: ignore[arg-type]


async def _behind_by(n: int, *, batched: bool) -> list[int]:
    """Sizes of the messages a stream sends for ``n`` changes that queued up while it
    was busy sending (all fed before it reads)."""
    etcd = FakeEtcd()
    hub = WatchHub(etcd, K, linger_s=0)  # type: ignore[arg-type]
    rpcs = _service(etcd, hub)
    request = pb.WatchRequest(regions=["oslo"], from_revision=etcd.rev + 1)
    method = rpcs.WatchBatches if batched else rpcs.Watch
    stream = method(request, None).__aiter__()
    first = asyncio.ensure_future(stream.__anext__())
    await settle()  # subscribed, waiting for its first batch
    for i in range(n):
        key = K.incident("oslo", f"OSL-{i:06d}")
        etcd.feed.put_nowait((etcd.rev + 1 + i, [put(key, _incident(i), etcd.rev + 1 + i)]))
    sizes = []
    message = await first
    while True:
        sizes.append(len(pb.WatchEventBatch.FromString(message).events) if batched else 1)
        if sum(sizes) >= n:
            break
        message = await stream.__anext__()
    await stream.aclose()
    await hub.stop()
    return sizes


async def test_a_console_behind_gets_what_piled_up_in_one_message() -> None:
    assert await _behind_by(20, batched=True) == [20]


async def test_a_message_carries_at_most_its_limit() -> None:
    sizes = await _behind_by(MAX_BATCH_EVENTS + 10, batched=True)
    assert sizes == [MAX_BATCH_EVENTS, 10]


async def test_watch_still_sends_one_event_per_message() -> None:
    assert await _behind_by(5, batched=False) == [1, 1, 1, 1, 1]
