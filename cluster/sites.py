"""Sites (issue #11): which sites are live, and the one key that says so.

A site is one Ray cluster with its own supervisor, gateways and an instance of every
centre; several sites share one etcd. ``sites/{name}`` holds a :class:`SiteRecord` on
the site's own lease, kept alive by the ``amk up`` that runs the site. While the key
exists the site is live: a second ``amk up --site`` of that name is refused (two
launchers for one site would fight over its Ray and its ports), and ``amk status`` lists
it. The key is created only if absent (``create_revision == 0`` in the same
transaction), so two launchers racing for one name cannot both win; it goes when the
site stops (lease revoked) or dies (lease expired).

Only ``amk up`` writes the key; nothing is fenced by it: region ownership stays with the
centres' own leases and owner keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field, replace

import structlog

from cluster.errors import AmkError, ConfigError
from cluster.etcd import EtcdClient, cmp_create_revision, op_get, op_put
from cluster.keys import Keys
from cluster.session import Session

log = structlog.get_logger("amk.sites")


class SiteLiveError(ConfigError):
    """A site of this name is already live: its ``amk up`` runs (or ran within the
    lease's TTL)."""

    def __init__(self, record: SiteRecord) -> None:
        self.record = record
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.started))
        super().__init__(
            f"site {record.name!r} is already live: started {since} by pid {record.pid} on "
            f"{record.host}, gateways {', '.join(record.gateways) or 'none'}; stop it first "
            "or give this one another --site"
        )


@dataclass(frozen=True)
class SiteRecord:
    """What ``sites/{name}`` says: who runs the site and where to reach it."""

    name: str
    gateways: list[str]
    started: float  # wall clock, for people
    pid: int
    host: str
    ray_address: str = ""  # empty: a local Ray started by the launcher
    lease: int = 0
    centres: list[str] = field(default_factory=list)  # an instance of each runs here

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> SiteRecord:
        d = json.loads(raw)
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def site_key(keys: Keys, name: str) -> bytes:
    return f"{keys.prefix}sites/{name}".encode()


def heartbeat_key(keys: Keys, name: str) -> bytes:
    """Where a site's supervisor beats (``actors.supervisor.site_watch``)."""
    return f"{keys.prefix}site-heartbeats/{name}".encode()


def heartbeats_prefix(keys: Keys) -> bytes:
    return f"{keys.prefix}site-heartbeats/".encode()


def sites_prefix(keys: Keys) -> bytes:
    return f"{keys.prefix}sites/".encode()


async def live_sites(client: EtcdClient, keys: Keys) -> list[SiteRecord]:
    """Every live site, by name."""
    kvs, _ = await client.get_prefix(sites_prefix(keys))
    return sorted((SiteRecord.decode(kv.value) for kv in kvs), key=lambda r: r.name)


class SiteLease:
    """The running site's lease and key (``amk up`` holds one while the site runs).

    If the lease is lost while the site runs (the launcher's event loop stalled past
    the TTL, etcd unreachable for that long), the key is taken again on a new lease as
    soon as etcd answers: the site is still live, and a name left free would let a
    second ``amk up`` of it start. Taken by another launcher meanwhile, it is left to
    that one and the loss is logged."""

    def __init__(self, client: EtcdClient, keys: Keys, record: SiteRecord, ttl_s: int):
        self.client = client
        self.keys = keys
        self.record = record
        self.ttl_s = ttl_s
        self.session: Session | None = None
        self.retakes = 0
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def register(
        cls,
        client: EtcdClient,
        keys: Keys,
        name: str,
        *,
        gateways: list[str],
        centres: list[str],
        ray_address: str = "",
        ttl_s: int = 2,
    ) -> SiteLease:
        """Take ``sites/{name}`` for this process, or raise :class:`SiteLiveError`."""
        record = SiteRecord(
            name=name,
            gateways=list(gateways),
            started=time.time(),
            pid=os.getpid(),
            host=socket.gethostname(),
            ray_address=ray_address,
            centres=list(centres),
        )
        lease = cls(client, keys, record, ttl_s)
        await lease._take()
        lease._task = asyncio.get_running_loop().create_task(lease._keep())
        return lease

    async def _take(self) -> None:
        session = await Session(
            self.client, self.ttl_s, on_expired=lambda _: self._lost.set()
        ).open()
        record = replace(self.record, lease=session.lease_id)
        key = site_key(self.keys, record.name)
        try:
            resp = await self.client.txn(
                [cmp_create_revision(key, 0)],
                [op_put(key, record.encode(), lease=session.lease_id)],
                [op_get(key)],
            )
        except BaseException:
            await session.close()
            raise
        if not resp.succeeded:
            await session.close()
            kvs = resp.responses[0].response_range.kvs
            if kvs:
                raise SiteLiveError(SiteRecord.decode(kvs[0].value))
            raise ConfigError(f"site {record.name!r}: its key changed while registering")
        self.session, self.record = session, record
        self._lost.clear()

    async def _keep(self) -> None:
        while True:
            await self._lost.wait()
            old, self.session = self.session, None
            if old is not None:
                await old.close()  # revoke: the key goes now if etcd still had it
            delay = 0.1
            while True:
                try:
                    await self._take()
                    self.retakes += 1
                    log.warning("site_key_retaken", site=self.record.name, lease=self.record.lease)
                    break
                except SiteLiveError as exc:
                    log.error("site_key_taken_by_another", site=self.record.name, error=str(exc))
                    return
                except AmkError as exc:
                    log.warning("site_key_retake_failed", site=self.record.name, error=str(exc))
                    await asyncio.sleep(delay)
                    delay = min(2.0, delay * 2)

    async def close(self) -> None:
        """Stop the site: revoke the lease, which deletes the key."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.session is not None:
            await self.session.close()
