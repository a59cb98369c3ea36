"""etcd with TLS, certificate users and RBAC on our key prefix (issue #13), against the
session's etcd (secured as ``amk up`` secures it: tests/conftest.py) and, for peer TLS,
a three-member cluster of the test's own.

Who may do what: a client without a certificate from our CA gets no connection at all;
the user ``amk`` (every cluster process's certificate) may read and write the key root
its role grants and nothing else; only ``root`` may administer users, roles and auth.
Each refusal is paired with the same call allowed where it should be, so none of these
tests passes because etcd simply did not answer.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from aetcd import rpc

from chaos.drill_etcd import drill_pki, start_cluster
from cluster import ownership
from cluster.errors import ConfigError, FencedError, StoreUnavailableError
from cluster.etcd import REVISION_PROBE_KEY, EtcdClient, op_put
from cluster.etcd_auth import ensure_etcd_auth
from cluster.etcd_server import EmbeddedEtcd, healthy
from cluster.etcd_tls import identity_files
from cluster.keys import Keys
from cluster.pki import LocalCa, TlsFiles
from cluster.session import Session
from cluster.store import FencedStore, Write
from tests.helpers import TEST_KEY_ROOT, session_pki

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

USER = identity_files(session_pki(), "user")
ROOT = identity_files(session_pki(), "root")
OUTSIDE = [
    b"/amk/v1/regions/oslo/owner",  # the production prefix: not the test role's
    b"/other/k",
    TEST_KEY_ROOT.rstrip("/").encode() + b"-sibling/k",  # shares the root's letters
    TEST_KEY_ROOT.rstrip("/").encode(),  # the root without its slash
]


@pytest_asyncio.fixture(loop_scope="session")
async def root_client(etcd_server: EmbeddedEtcd) -> AsyncIterator[EtcdClient]:
    client = EtcdClient([etcd_server.endpoint], tls=ROOT)
    yield client
    await client.close()


def _other_ca(folder: Path, cn: str) -> TlsFiles:
    """A certificate from a CA etcd does not trust (with our CA to check the server by,
    so only the client side is wrong)."""
    foreign = LocalCa(folder / "other-ca").issue("intruder", cn)
    return TlsFiles(USER.ca, foreign.cert, foreign.key)


async def test_a_plaintext_client_gets_nothing(etcd_server: EmbeddedEtcd, etcd) -> None:
    plain = EtcdClient([etcd_server.endpoint], tls=None, request_timeout_s=1.0)
    try:
        with pytest.raises(StoreUnavailableError, match=r"UNAVAILABLE|DEADLINE_EXCEEDED"):
            await plain.range(f"{TEST_KEY_ROOT}k".encode())
        assert not await plain.healthy(timeout_s=1.0)
    finally:
        await plain.close()
    assert not healthy(etcd_server.endpoint, None)  # plain HTTP to /health: no answer
    assert healthy(etcd_server.endpoint, USER)  # the same with a certificate
    assert await etcd.healthy()


async def test_tls_without_a_client_certificate_is_refused(etcd_server: EmbeddedEtcd) -> None:
    creds = grpc.ssl_channel_credentials(USER.ca.read_bytes())  # trusts the server only
    async with grpc.aio.secure_channel(etcd_server.endpoint, creds) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await rpc.KVStub(channel).Range(rpc.RangeRequest(key=b"/k"), timeout=2.0)
    assert refused.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


@pytest.mark.parametrize("cn", ["amk", "root"])
async def test_a_certificate_from_another_ca_is_refused(
    etcd_server: EmbeddedEtcd, tmp_path: Path, cn: str
) -> None:
    # Even with the right common name: the CN names a user only once the chain is ours.
    client = EtcdClient([etcd_server.endpoint], tls=_other_ca(tmp_path, cn), request_timeout_s=1.0)
    try:
        with pytest.raises(StoreUnavailableError, match=r"UNAVAILABLE|DEADLINE_EXCEEDED"):
            await client.range(f"{TEST_KEY_ROOT}k".encode())
        assert not healthy(etcd_server.endpoint, _other_ca(tmp_path, cn))
    finally:
        await client.close()


async def test_the_amk_user_reads_and_writes_its_prefix_and_nothing_else(
    etcd: EtcdClient, root_client: EtcdClient, prefix: str
) -> None:
    inside = f"{prefix}secure/k".encode()
    await etcd.txn([], [op_put(inside, b"v")])
    kv = await etcd.get(inside)
    assert kv is not None and kv.value == b"v"
    before = await etcd.revision()  # the revision probe: readable by the user
    for key in OUTSIDE:
        with pytest.raises(ConfigError, match="PERMISSION_DENIED"):
            await etcd.txn([], [op_put(key, b"x")])
        with pytest.raises(ConfigError, match="PERMISSION_DENIED"):
            await etcd.get(key)
    with pytest.raises(ConfigError, match="PERMISSION_DENIED"):  # starts inside, ends outside
        await etcd.range(prefix.encode(), b"\xff")
    with pytest.raises(ConfigError, match="PERMISSION_DENIED"):  # readable, not writable
        await etcd.txn([], [op_put(REVISION_PROBE_KEY, b"x")])
    with pytest.raises(StoreUnavailableError, match="permission denied"):
        async for _ in etcd.watch_prefix(b"/other/"):
            pass
    assert await etcd.revision() == before, "a refused write changed nothing"
    for key in OUTSIDE:  # root sees every key: none was written
        assert await root_client.get(key) is None


async def test_a_fenced_write_works_with_the_user_certificate(
    etcd: EtcdClient, prefix: str
) -> None:
    keys = Keys(prefix)
    session = await Session(etcd, 2).open()  # leases and keepalives: allowed to the user
    try:
        record = ownership.now_record("oslo", "oslo-1", session.lease_id)
        fence, _ = await ownership.claim(etcd, keys, "oslo", record)
        assert fence is not None
        store = FencedStore(etcd, keys, writer="oslo-1")
        key = keys.incident("oslo", "OSL-1")
        write = Write((fence,), [(key, json.dumps({"id": "OSL-1"}).encode())], "Create", "t")
        rev = await store.commit(write)
        kv = await etcd.get(key)
        assert kv is not None and kv.mod_revision == rev
        stale = ownership.Fence(fence.region, fence.key, fence.token - 1, fence.record)
        with pytest.raises(FencedError):  # fencing still decides, not the role
            await store.commit(Write((stale,), [(key, b"{}")], "Create", "t"))
    finally:
        await session.close()


async def test_only_root_administers_users_roles_and_auth(
    etcd_server: EmbeddedEtcd, etcd: EtcdClient
) -> None:
    ca, cert, key = USER.read()
    creds = grpc.ssl_channel_credentials(ca, key, cert)
    async with grpc.aio.secure_channel(etcd_server.endpoint, creds) as channel:
        auth = rpc.AuthStub(channel)
        grant = rpc.Permission(permType=rpc.Permission.READWRITE, key=b"/", range_end=b"\0")
        for call in (
            auth.RoleGrantPermission(rpc.AuthRoleGrantPermissionRequest(name="amk", perm=grant)),
            auth.UserGrantRole(rpc.AuthUserGrantRoleRequest(user="amk", role="root")),
            auth.AuthDisable(rpc.AuthDisableRequest()),
            rpc.MaintenanceStub(channel).Defragment(rpc.DefragmentRequest()),
        ):
            with pytest.raises(grpc.aio.AioRpcError, match="permission denied"):
                await call
        # Users have no password: nobody logs in as them, a certificate is the only way.
        for name in ("amk", "root"):
            with pytest.raises(grpc.aio.AioRpcError, match="authentication failed"):
                await auth.Authenticate(rpc.AuthenticateRequest(name=name, password=""))
    with pytest.raises(ConfigError, match="root identity"):
        await ensure_etcd_auth([etcd_server.endpoint], USER, TEST_KEY_ROOT)
    # The setup is idempotent with root, and auth stays on.
    await ensure_etcd_auth([etcd_server.endpoint], ROOT, TEST_KEY_ROOT)
    with pytest.raises(ConfigError, match="PERMISSION_DENIED"):
        await etcd.get(b"/other/k")


def _peer_get(url: str, tls: TlsFiles) -> bytes:
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.load_cert_chain(str(tls.cert), str(tls.key))
    with urllib.request.urlopen(url, timeout=2.0, context=context) as resp:
        return resp.read()


def _plain_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=2.0) as resp:
        return resp.read()


async def test_three_members_form_a_cluster_over_https_peers(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path, 3, TEST_KEY_ROOT)
    user = identity_files(drill_pki(tmp_path), "user")
    server = identity_files(drill_pki(tmp_path), "server")
    try:
        first, *others = cluster.members
        client = EtcdClient([first.endpoint], tls=user)
        try:
            members = (await client.member_list()).members
            assert len(members) == 3
            assert all(u.startswith("https://") for m in members for u in m.peerURLs)
            assert all(u.startswith("https://") for m in members for u in m.clientURLs)
            key = f"{TEST_KEY_ROOT}peers".encode()
            await client.txn([], [op_put(key, b"v")])  # replicated over the peer links
        finally:
            await client.close()
        for m in others:  # each member has it: a linearizable read on each
            other = EtcdClient([m.endpoint], tls=user)
            try:
                kv = await other.get(key)
                assert kv is not None and kv.value == b"v"
            finally:
                await other.close()
        peer = f"https://127.0.0.1:{first.peer_port}/members"
        assert b"peerURLs" in _peer_get(peer, server)  # a member's certificate: let in
        with pytest.raises(OSError):  # another CA's: not even to the peer port
            _peer_get(peer, _other_ca(tmp_path, "etcd-server"))
        with pytest.raises(OSError):  # plaintext: no
            _plain_get(f"http://127.0.0.1:{first.peer_port}/members")
    finally:
        cluster.stop()
