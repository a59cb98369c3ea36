"""etcd's users and roles for our cluster, and auth on (issue #13): run by ``amk up``.

With ``--client-cert-auth`` etcd takes a request's user from its client certificate's
common name. Once auth is on, a user may do only what its roles grant:

- ``root`` (user and role): etcd's administrator; etcd refuses ``auth enable`` without
  it. Its certificate (CN ``root``) is used for this setup and ``amk etcd defrag`` only.
- ``amk`` (the CN of every cluster process's certificate) with the role ``amk``:
  read and write on ``[prefix, prefix_end)``, the configured key prefix, and nothing
  else; plus *read* of the one key :meth:`cluster.etcd.EtcdClient.revision` asks for
  (a fixed, never written key outside any prefix: the store's revision and the
  linearizable health read of ``healthy()`` for any client, without the client having
  to know the prefix). Maintenance calls etcd leaves to every user (Status, MemberList,
  leases) still work; a defragment does not (root only).

Users are made **without a password** (``UserAddOptions.no_password``, which Debian's
etcd 3.4.23 supports): nobody can log in as them with a password, only present the
certificate. Everything is idempotent: users, roles and grants that exist are left, and
``amk up`` runs it on every start (a changed prefix adds its grant; the old prefix's is
revoked only by hand, ``etcdctl role revoke-permission``, since another deployment
sharing the etcd and the CN may still use it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from concurrent.futures import ThreadPoolExecutor

import grpc
import structlog
from aetcd import rpc

from cluster.config import ClusterConfig
from cluster.errors import ConfigError, StoreUnavailableError
from cluster.etcd import REVISION_PROBE_KEY, EtcdClient
from cluster.etcd_tls import FILE_NAMES, etcd_tls
from cluster.keys import prefix_range_end
from cluster.pki import ETCD_ROOT_CN, ETCD_USER_CN, TlsFiles

log = structlog.get_logger("amk.etcd")

ROOT = "root"  # etcd's own names: the user and the role auth enable asks for
SETUP_TIMEOUT_S = 5.0


def _exists(exc: grpc.aio.AioRpcError) -> bool:
    return exc.code() == grpc.StatusCode.FAILED_PRECONDITION and "already" in (exc.details() or "")


async def _call(what: str, call: Awaitable[object], *, may_exist: bool = False) -> bool:
    """One Auth RPC; True when it did something, False when it already existed."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        if may_exist and _exists(exc):
            return False
        if exc.code() == grpc.StatusCode.PERMISSION_DENIED:
            raise ConfigError(
                f"etcd auth setup: {what}: permission denied (the root certificate's CN must "
                f"be {ETCD_ROOT_CN!r}, and a user 'root' with role 'root' must exist)"
            ) from exc
        raise StoreUnavailableError(
            f"etcd auth setup: {what}: {exc.code().name} {exc.details()}"
        ) from exc
    return True


def _permissions(prefix: str) -> list[rpc.Permission]:
    key = prefix.encode()
    return [
        rpc.Permission(permType=rpc.Permission.READWRITE, key=key, range_end=prefix_range_end(key)),
        rpc.Permission(permType=rpc.Permission.READ, key=REVISION_PROBE_KEY),
    ]


async def ensure_etcd_auth(
    endpoints: Sequence[str],
    root: TlsFiles,
    prefix: str,
    *,
    user: str = ETCD_USER_CN,
    timeout_s: float = SETUP_TIMEOUT_S,
) -> None:
    """Make the root user and role, ``user`` with the role ``user`` granted ``prefix``,
    and turn auth on, over a client showing the ``root`` certificate. Idempotent.

    Raises :class:`ConfigError` when the root certificate is not etcd's root (auth on
    already, and this CN may not administer it), :class:`StoreUnavailableError` when
    etcd does not answer.
    """
    if root.common_name() != ETCD_ROOT_CN:
        raise ConfigError(
            f"etcd auth setup needs the root identity (CN {ETCD_ROOT_CN!r}); "
            f"{root.cert} is {root.common_name()!r}"
        )
    if not prefix.startswith("/") or not prefix.endswith("/"):
        raise ConfigError(f"etcd auth setup: key prefix {prefix!r} must start and end with '/'")
    client = EtcdClient(endpoints, tls=root, request_timeout_s=timeout_s)
    auth = client.stub(rpc.AuthStub)
    t = timeout_s
    try:
        made: list[str] = []
        for name in (ROOT, user):
            options = rpc.UserAddOptions(no_password=True)
            add = auth.UserAdd(rpc.AuthUserAddRequest(name=name, options=options), timeout=t)
            if await _call(f"add user {name}", add, may_exist=True):
                made.append(f"user {name}")
            role = auth.RoleAdd(rpc.AuthRoleAddRequest(name=name), timeout=t)
            if await _call(f"add role {name}", role, may_exist=True):
                made.append(f"role {name}")
        for perm in _permissions(prefix):
            grant = rpc.AuthRoleGrantPermissionRequest(name=user, perm=perm)
            await _call(
                f"grant role {user} {perm.key!r}", auth.RoleGrantPermission(grant, timeout=t)
            )
        for name in (ROOT, user):
            grant_role = rpc.AuthUserGrantRoleRequest(user=name, role=name)
            await _call(
                f"grant user {name} role {name}",
                auth.UserGrantRole(grant_role, timeout=t),
                may_exist=True,
            )
        await _call("auth enable", auth.AuthEnable(rpc.AuthEnableRequest(), timeout=t))
    finally:
        await client.close()
    log.info("etcd_auth_ready", prefix=prefix, user=user, made=made)


async def setup_for(config: ClusterConfig, endpoints: Sequence[str], *, embedded: bool) -> str:
    """``amk up``'s setup step; returns what it found, for the console's etcd line.

    The embedded etcd is ours: its root certificate is in the PKI folder (made with the
    local CA) and the setup always runs. An external etcd's root certificate is the
    operator's to give: with ``etcd-root.crt`` in the PKI folder the setup runs (the
    same idempotent steps), without it ``amk up`` trusts the users and roles to exist.
    Nothing to do for an insecure cluster (plaintext, auth off).
    """
    if config.insecure:
        return "INSECURE: plaintext, no auth (--insecure: development only)"
    root_cert = config.pki_folder() / f"{FILE_NAMES['root']}.crt"
    if not embedded and not root_cert.exists():
        return f"TLS; users and roles left to the operator (no {root_cert.name} here)"
    root = etcd_tls(config, "root")
    assert root is not None  # not insecure
    await ensure_etcd_auth(endpoints, root, config.key_prefix)
    return f"TLS, auth on, user {ETCD_USER_CN!r} limited to {config.key_prefix}"


def ensure_etcd_auth_sync(
    endpoints: Sequence[str], root: TlsFiles, prefix: str, *, user: str = ETCD_USER_CN
) -> None:
    """:func:`ensure_etcd_auth` from synchronous code (test fixtures, drill and bench
    launchers), on a thread of its own: callable whether or not an event loop runs
    here, and it leaves this thread's event loop alone (``asyncio.run`` would unset it,
    under pytest-asyncio's session loop)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, ensure_etcd_auth(endpoints, root, prefix, user=user)).result()
