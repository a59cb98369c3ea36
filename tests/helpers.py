"""Test helpers: waiting for a condition without bare sleeps, free ports, configs."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port

T = TypeVar("T")

__all__ = ["assert_eventually", "find_free_port", "make_config", "rid", "ts"]


def rid() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


def ts(seconds: float) -> Timestamp:
    """A protobuf Timestamp of Unix ``seconds``."""
    t = Timestamp()
    t.FromNanoseconds(int(seconds * 1e9))
    return t


async def assert_eventually(
    check: Callable[[], Awaitable[T]], *, timeout_s: float = 10.0, interval_s: float = 0.02
) -> T:
    """Run ``check`` until it returns without AssertionError, or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(interval_s)


def make_config(home: Path, prefix: str, namespace: str, gateways: int = 1) -> ClusterConfig:
    """A config for one test deployment: its own key prefix, namespace and ports (the
    metrics ports too: free ports, not an offset, which could land on another module's),
    and the session's CA (``AMK_PKI``, set by the ``pki`` fixture of tests/conftest.py)."""
    pki = os.environ.get("AMK_PKI")
    return ClusterConfig.load(
        home=home,
        pki_dir=Path(pki) if pki else None,
        key_prefix=prefix,
        ray_namespace=namespace,
        gateways=[f"127.0.0.1:{find_free_port()}" for _ in range(gateways)],
        metrics=[f"127.0.0.1:{find_free_port()}" for _ in range(gateways)],
    )
