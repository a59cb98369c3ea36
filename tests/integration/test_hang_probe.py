"""The supervisor's liveness probe against real etcd and Ray: a centre hung by SIGSTOP
is suspected after consecutive missed pings, its leases are revoked (a ``HangEvent``
naming it), a backup serves its region, and once resumed it writes nothing: its region
is dropped and every write it still tries is refused. The probe does not restart it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid

import pytest

from actors.domain.commands import CreateIncident
from actors.domain.model import Position
from actors.supervisor.records import DeathEvent, HangEvent
from cluster.errors import AmkError
from cluster.keys import Keys
from tests.helpers import assert_eventually
from tests.integration.support import Writer, check_nothing_lost, owner_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]

REGION = "innlandet"
BACKUP = "oslo"  # first in Innlandet's backup line (seed)


async def test_hung_owner_is_suspected_revoked_and_fenced_after_it_wakes(cluster, stub, etcd):
    keys = Keys(cluster.config.key_prefix)
    line = cluster.config.seed.region(REGION)
    assert line.backups[0] == BACKUP
    centre, old_instance, old_token = await owner_of(etcd, keys, REGION)
    assert centre == REGION
    handle = cluster.deployment.centres[REGION]
    pid = await handle.pid()
    supervisor = cluster.deployment.supervisor
    assert not [e for e in await supervisor.events() if e.instance == old_instance]

    # The probe answers while the centre is healthy (it would be suspected otherwise).
    async def pinged() -> None:
        assert (await supervisor.probe_stats()).latency.count > 0

    await assert_eventually(pinged, timeout_s=30)
    writer = Writer(stub, REGION)
    writer.start(2)

    async def some_acked() -> None:
        assert len(writer.acked) >= 10

    await assert_eventually(some_acked, timeout_s=30)

    # Commands sent straight to the hung centre (bypassing the gateway): they wait in
    # its mailbox and run when it wakes, holding the fence it had before the pause.
    async def direct() -> object:
        cmd = CreateIncident(
            request_id=f"direct-{uuid.uuid4().hex}",
            region=REGION,
            position=Position(60.795, 11.07),
        )
        try:
            return await handle.execute(REGION, cmd, timeout_s=60)
        except AmkError as err:
            return err

    stopped_at = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        pending = [asyncio.create_task(direct()) for _ in range(5)]

        async def backup_took_over() -> None:
            now_centre, _, _ = await owner_of(etcd, keys, REGION)
            assert now_centre == BACKUP

        # Generous bound: the assert is that it happens, not how fast (bench/ times it).
        await assert_eventually(backup_took_over, timeout_s=30)
        print(f"\nSIGSTOP -> {BACKUP} owns {REGION} after {time.monotonic() - stopped_at:.2f} s")
        events = [e for e in await supervisor.events() if e.instance == old_instance]
    finally:
        # Woken as soon as the region moved: its session may still look valid to it,
        # so a queued write can reach etcd, where the fence must refuse it.
        os.kill(pid, signal.SIGCONT)
    _, new_instance, new_token = await owner_of(etcd, keys, REGION)
    assert new_instance != old_instance and new_token > old_token

    # The probe's event names the hung instance and the region it revoked.
    hangs = [e for e in events if isinstance(e, HangEvent)]
    assert len(hangs) == 1, events
    hang = hangs[0]
    assert hang.centre == REGION
    assert REGION in hang.revoked_regions
    assert hang.misses >= cluster.config.probe_misses
    assert hang.last_tokens.get(REGION) == old_token
    assert not [e for e in events if isinstance(e, DeathEvent)]

    # Every write the woken centre tried was refused; none reached etcd after the move.
    results = await asyncio.gather(*pending)
    assert all(isinstance(r, AmkError) for r in results), results
    print("woken centre's queued writes:", sorted({type(r).__name__ for r in results}))
    journal, _ = await etcd.get_prefix(keys.journal_prefix(REGION))
    late = [
        entry
        for entry in (json.loads(j.value) for j in journal if j.mod_revision > new_token)
        if entry["writer"] == old_instance or entry["tokens"].get(REGION) == old_token
    ]
    assert late == []
    await writer.stop()
    assert writer.failed == []
    await check_nothing_lost(etcd, keys, writer)

    # It woke as the same process (the probe restarts nothing), dropped the region, and
    # serves as a standby on a new lease; a write sent to it now is refused.
    async def woken_as_standby() -> None:
        status = await handle.status(timeout_s=2)
        assert status.pid == pid and status.instance == old_instance
        assert REGION not in status.regions
        assert status.lease_valid_for_s > 0

    await assert_eventually(woken_as_standby, timeout_s=30)
    assert isinstance(await direct(), AmkError)
    assert (await owner_of(etcd, keys, REGION))[1] == new_instance
    assert not [
        e
        for e in await supervisor.events()
        if e.instance == old_instance and isinstance(e, DeathEvent)
    ]
