"""Test helpers: waiting for a condition without bare sleeps, free ports, configs, and the
session's etcd security (one local CA, one key root the etcd user is granted)."""

from __future__ import annotations

import asyncio
import functools
import re
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from actors.domain.access import DEFAULT_TABLE
from chaos import processes
from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port
from cluster.pki import TlsFiles, local_identities
from cluster.tls import https_client_context
from cluster.tokens import LocalIssuer

T = TypeVar("T")

__all__ = [
    "TEST_ACCESS_TABLE",
    "TEST_KEY_ROOT",
    "TEST_ROLE",
    "assert_eventually",
    "find_free_port",
    "key_prefix_for",
    "make_config",
    "rid",
    "session_pki",
    "session_token",
    "ts",
]

# The session etcd's user ``amk`` may read and write under this root only (its role is
# set up once, by tests/conftest.py's etcd_server): every test's key prefix lives here.
TEST_KEY_ROOT = "/amk-test/"


#: The suite's role table: the shipped one (every method, its scope) plus TEST_ROLE, which
#: may call every method on every region. The functional tests call across all regions
#: and roles; the policy itself is tested against the shipped table (test_authz.py).
TEST_ACCESS_TABLE = Path(__file__).resolve().parent / "data" / "access_tests.toml"
TEST_ROLE = "test-console"
SESSION_TOKEN_S = 24 * 3600.0  # outlives any session; the gateway checks exp as always


def access_table_for_tests(shipped: str) -> str:
    """The text of :data:`TEST_ACCESS_TABLE`, made from the shipped table's text: the
    role added, and named first in every method's roles (public methods list none)."""
    role = (
        f"[roles.{TEST_ROLE}]\n"
        'description = "the test suite\'s console: every method, every region"\n'
        'regions = "all"\n'
        "break_glass = false\n\n"
    )
    header = (
        "# GENERATED from actors/domain/data/access.toml by tests.helpers.access_table_for_tests"
        "\n# (python -m tests.helpers): the suite's role table. Do not edit.\n\n"
    )
    text = re.sub(r'^roles = \["', f'roles = ["{TEST_ROLE}", "', shipped, flags=re.M)
    first_role = text.index("[roles.")
    return header + text[:first_role] + role + text[first_role:]


@functools.cache
def session_token() -> str:
    """One bearer token of :data:`TEST_ROLE` from the session CA's local issuer (every
    deployment of the session verifies it: they share ``pki_dir``)."""
    config = ClusterConfig.load(home=session_pki(), pki_dir=session_pki())
    issuer = LocalIssuer.for_config(config)
    return issuer.issue("test-suite", TEST_ROLE, "oslo", lifetime_s=SESSION_TOKEN_S)


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


def one(items: Iterable[T]) -> T:
    """The only item of ``items``, else an AssertionError: inside a check that
    :func:`assert_eventually` repeats, "not there yet" must be an AssertionError. A
    tuple unpacking (``(doc,) = ...``) raises ValueError, which ends the wait at once:
    a pre-notification's withdrawal, posted to the hospital after the commit, failed a
    full run that way (test_prenotification, 2026-11-27).
    """
    found = list(items)
    assert len(found) == 1, found
    return found[0]


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


async def kill_gateway(deployment: Any, address: str, *, timeout_s: float = 30.0) -> None:
    """Kill the gateway on ``address`` and return once its process has ended.

    Ray's kill only asks for the end: for a few milliseconds the old process can still
    answer, and a test that calls at once may be served by the gateway it meant to kill.
    """
    handle = await deployment.gateway(address)
    pid = await handle.pid()
    handle.kill()

    async def ended() -> None:
        state = processes.state(pid)
        assert state in (None, "Z", "X"), f"gateway {address} (pid {pid}) still {state}"

    await assert_eventually(ended, timeout_s=timeout_s)


def make_config(
    home: Path, prefix: str, namespace: str, gateways: int = 1, **settings: Any
) -> ClusterConfig:
    """A config for one test deployment: its own key prefix, namespace and ports (the
    metrics ports too: free ports, not an offset, which could land on another module's),
    and the session's certificates; ``settings`` on top (validated like any config)."""
    return ClusterConfig.load(
        home=home,
        pki_dir=session_pki(),
        key_prefix=prefix,
        ray_namespace=namespace,
        gateways=[f"127.0.0.1:{find_free_port()}" for _ in range(gateways)],
        metrics=[f"127.0.0.1:{find_free_port()}" for _ in range(gateways)],
        access_table=TEST_ACCESS_TABLE,
        **settings,
    )


async def scrape_metrics(address: str, files: TlsFiles) -> tuple[int, str]:
    """``https://{address}/metrics`` with the certificate ``files``: the status and the
    body (an HTTP error's too), off the event loop."""

    def get() -> tuple[int, str]:
        url = f"https://{address}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=10, context=https_client_context(files)) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    return await asyncio.to_thread(get)


if __name__ == "__main__":  # regenerate the suite's role table after editing the shipped one
    TEST_ACCESS_TABLE.parent.mkdir(exist_ok=True)
    TEST_ACCESS_TABLE.write_text(access_table_for_tests(DEFAULT_TABLE.read_text()))
