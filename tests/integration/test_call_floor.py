"""113 load against the session's cluster (TLS and tokens on): the drill's call floor,
whose callers queue calls and every centre's call-takers answer them and make the
incidents (the call check finds each call stored once, answered once, by a centre that
could see it); and the load generator's ``--via-calls`` mode, the run the README's KPI
sample is made from, each call-taker answering as themselves."""

from __future__ import annotations

import asyncio

import pytest

from chaos import call_check
from clients.call_floor import CallFloor, FloorSpec
from clients.console_tokens import ConsoleRoom
from clients.loadgen import History, LoadGenerator, LoadSpec
from cluster.etcd_tls import etcd_client_for
from cluster.keys import Keys
from cluster.tls import console_identity
from tests.integration.support import owner_of

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(120),
]


async def test_every_queued_call_is_answered_once_and_becomes_an_incident(cluster) -> None:
    config = cluster.config
    history = History()
    spec = FloorSpec(rate=3.0, takers=1, talk_s=(0.1, 0.3), duration_s=4.0, seed=3)
    floor = CallFloor(
        config.gateways,
        config.seed,
        spec,
        history,
        tls=console_identity(config),
        room=ConsoleRoom(config),
    ).start()
    client = etcd_client_for(config, [cluster.endpoint], request_timeout_s=3.0)
    keys = Keys(config.key_prefix)
    try:
        owners = [  # each region's owner as the calls came (the test changes none)
            {"t": 0.0, "region": r, "centre": (await owner_of(client, keys, r))[0]}
            for r in config.region_ids()
        ]
        await asyncio.sleep(spec.duration_s)
        waited = await call_check.until_answered(client, keys, 30.0)
        await asyncio.to_thread(floor.stop)
        stored = await call_check.collect_calls(client, keys)
    finally:
        floor.stop()
        await client.close()
    ours = {r["call"] for r in history.records if r.get("ok") and r["op"] == "call"}
    assert len(ours) >= 8, history.records[:5]
    result = call_check.check_calls(
        history.records, [c for c in stored if c.id in ours], owners, config.seed
    )
    print("\n", result["counts"], result["answer_s"], f"drained in {waited} s")
    assert result["ok"], result
    assert result["counts"]["answered"] == len(ours)
    made = [r for r in history.records if r["op"] == "create"]
    assert made and all(r["ok"] for r in made), made[:3]
    assert {r["call"] for r in made} == ours


async def test_the_load_generators_incidents_start_as_answered_calls(cluster) -> None:
    config = cluster.config
    history = History()
    spec = LoadSpec(rate=20, concurrency=3, duration_s=4.0, seed=11, via_calls=True)
    gen = LoadGenerator(
        config.gateways,
        config.seed,
        spec,
        history,
        tls=console_identity(config),
        room=ConsoleRoom(config),
    )
    summary = await asyncio.to_thread(gen.run)
    refused = [r for r in history.records if r.get("code") == "PERMISSION_DENIED"]
    assert not refused, refused[:3]
    ok = {r["op"] for r in history.records if r["ok"]}
    assert {"call", "answer", "create"} <= ok, summary
