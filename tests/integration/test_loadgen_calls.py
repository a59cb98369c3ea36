"""The load generator's ``--via-calls`` mode against the session's cluster (TLS and
tokens on): each incident starts as a 113 call that a call-taker of the region's home
centre answers as themselves, the run the README's KPI sample is made from."""

from __future__ import annotations

import asyncio

import pytest

from clients.console_tokens import ConsoleRoom
from clients.loadgen import History, LoadGenerator, LoadSpec
from cluster.tls import console_identity

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(120),
]


async def test_incidents_start_as_answered_calls_with_tokens_on(cluster) -> None:
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
    ops = [r for r in history.records if r["op"] in ("call", "answer", "create")]
    refused = [r for r in history.records if r.get("code") == "PERMISSION_DENIED"]
    assert not refused, refused[:3]
    answered = [r for r in ops if r["op"] == "answer" and r["ok"]]
    assert answered and any(r["op"] == "create" and r["ok"] for r in ops), summary
