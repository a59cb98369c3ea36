"""Test helpers: waiting for a condition without bare sleeps, free ports, configs, and the
session's etcd security (one local CA, one key root the etcd user is granted)."""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port
from cluster.pki import local_identities

T = TypeVar("T")

__all__ = [
    "TEST_KEY_ROOT",
    "assert_eventually",
    "find_free_port",
    "key_prefix_for",
    "make_config",
    "rid",
    "session_pki",
    "ts",
]

# The session etcd's user ``amk`` may read and write under this root only (its role is
# set up once, by tests/conftest.py's etcd_server): every test's key prefix lives here.
TEST_KEY_ROOT = "/amk-test/"


@functools.cache
def session_pki() -> Path:
    """The session's local CA and certificates (cluster/pki.py), made once: the session
    etcd trusts this CA only, so every test config points ``pki_dir`` here."""
    folder = Path(tempfile.mkdtemp(prefix="amk-test-pki-"))
    local_identities(folder)
    return folder


def key_prefix_for(kind: str) -> str:
    """A fresh key prefix under :data:`TEST_KEY_ROOT` (``/amk-test/{kind}/{random}/``)."""
    return f"{TEST_KEY_ROOT}{kind}/{uuid.uuid4().hex[:10]}/"


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
    and the session's certificates."""
    return ClusterConfig.load(
        home=home,
        pki_dir=session_pki(),
        key_prefix=prefix,
        ray_namespace=namespace,
        gateways=[f"127.0.0.1:{find_free_port()}" for _ in range(gateways)],
        metrics=[f"127.0.0.1:{find_free_port()}" for _ in range(gateways)],
        auth="off",  # issue #13: the suite still sends no tokens (tests/.../test_authz*: on)
    )
