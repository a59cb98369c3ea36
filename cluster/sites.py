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

import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field

from cluster.errors import AmkError, ConfigError
from cluster.etcd import EtcdClient, cmp_create_revision, op_get, op_put
from cluster.keys import Keys
from cluster.session import Session


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


def sites_prefix(keys: Keys) -> bytes:
    return f"{keys.prefix}sites/".encode()


async def live_sites(client: EtcdClient, keys: Keys) -> list[SiteRecord]:
    """Every live site, by name."""
    kvs, _ = await client.get_prefix(sites_prefix(keys))
    return sorted((SiteRecord.decode(kv.value) for kv in kvs), key=lambda r: r.name)


class SiteLease:
    """The running site's lease and key (``amk up`` holds one while the site runs)."""

    def __init__(self, client: EtcdClient, keys: Keys, session: Session, record: SiteRecord):
        self.client = client
        self.keys = keys
        self.session = session
        self.record = record

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
        session = await Session(client, ttl_s).open()
        record = SiteRecord(
            name=name,
            gateways=list(gateways),
            started=time.time(),
            pid=os.getpid(),
            host=socket.gethostname(),
            ray_address=ray_address,
            lease=session.lease_id,
            centres=list(centres),
        )
        key = site_key(keys, name)
        try:
            resp = await client.txn(
                [cmp_create_revision(key, 0)],
                [op_put(key, record.encode(), lease=session.lease_id)],
                [op_get(key)],
            )
        except AmkError:
            await session.close()
            raise
        if not resp.succeeded:
            await session.close()
            kvs = resp.responses[0].response_range.kvs
            if kvs:
                raise SiteLiveError(SiteRecord.decode(kvs[0].value))
            raise ConfigError(f"site {name!r}: its key changed while registering; try again")
        return cls(client, keys, session, record)

    async def close(self) -> None:
        """Stop the site: revoke the lease, which deletes the key."""
        await self.session.close()
