"""etcd backend hygiene: how big each member's database is, and defragmentation.

Compaction (on in the embedded etcd: ``--auto-compaction-mode periodic``) frees space
inside the database file but does not shrink it; ``dbSize`` grows until a defragment
rewrites the file, and the backend quota counts ``dbSize``. Defragmenting blocks the
member until it is done (no reads, no writes, no heartbeats answered), so we
defragment **one member at a time, never all at once**: every member must answer
before we begin, the leader goes last (defragmenting it stalls commits and may start an
election, which we want at most once), and each member must answer a linearizable read
again before the next one is touched. A member that does not come back stops the run.

etcd lets only its root role defragment (auth on, issue #13): ``amk etcd defrag`` shows
the root certificate (``tls``, :mod:`cluster.etcd_tls`); the sizes need any of ours.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from cluster.errors import StoreUnavailableError
from cluster.etcd import EtcdClient
from cluster.pki import TlsFiles

log = structlog.get_logger("amk.etcd")

STATUS_TIMEOUT_S = 2.0  # one Status call on one member
DEFRAG_TIMEOUT_S = 300.0  # a multi-GiB backend takes tens of seconds to rewrite
HEALTHY_WITHIN_S = 30.0  # after a defragment, the member answers again within this
HEALTH_POLL_S = 0.1


@dataclass(frozen=True, slots=True)
class MemberUsage:
    """One member's database size as it reports it."""

    endpoint: str
    member_id: int
    is_leader: bool
    db_size: int  # bytes of the database file (what the quota counts)
    db_size_in_use: int | None  # bytes holding live data; None where etcd does not say (<3.4)


@dataclass(frozen=True, slots=True)
class DefragResult:
    """One defragmented member: its size before and after, and how long it took."""

    before: MemberUsage
    after: MemberUsage
    took_s: float

    @property
    def endpoint(self) -> str:
        return self.before.endpoint


async def member_usage(
    endpoint: str, *, tls: TlsFiles | None, timeout_s: float = STATUS_TIMEOUT_S
) -> MemberUsage:
    """The database size of the member at ``endpoint`` (that member alone answers)."""
    client = EtcdClient([endpoint], tls=tls, request_timeout_s=timeout_s)
    try:
        status = await client.status()
    except StoreUnavailableError as exc:
        raise StoreUnavailableError(f"etcd member {endpoint}: {exc.message}") from exc
    finally:
        await client.close()
    return MemberUsage(
        endpoint=endpoint,
        member_id=status.header.member_id,
        is_leader=status.leader == status.header.member_id,
        db_size=status.dbSize,
        db_size_in_use=status.dbSizeInUse or None,
    )


async def db_usage(
    endpoints: Sequence[str], *, tls: TlsFiles | None, timeout_s: float = STATUS_TIMEOUT_S
) -> list[MemberUsage]:
    """Each member's database size, in the order of ``endpoints``; raises
    :class:`StoreUnavailableError` naming the first member that does not answer."""
    return list(
        await asyncio.gather(*(member_usage(e, tls=tls, timeout_s=timeout_s) for e in endpoints))
    )


async def wait_member_healthy(
    endpoint: str, *, tls: TlsFiles | None, within_s: float = HEALTHY_WITHIN_S
) -> None:
    """Return once the member at ``endpoint`` answers a linearizable read (which needs
    it to be in the cluster and to reach the leader), or raise after ``within_s``."""
    client = EtcdClient([endpoint], tls=tls, request_timeout_s=STATUS_TIMEOUT_S)
    deadline = time.monotonic() + within_s
    try:
        while not await client.healthy(timeout_s=STATUS_TIMEOUT_S):
            if time.monotonic() > deadline:
                raise StoreUnavailableError(
                    f"etcd member {endpoint} not healthy within {within_s:g} s"
                )
            await asyncio.sleep(HEALTH_POLL_S)
    finally:
        await client.close()


async def defragment(
    endpoints: Sequence[str],
    *,
    tls: TlsFiles | None,
    defrag_timeout_s: float = DEFRAG_TIMEOUT_S,
    healthy_within_s: float = HEALTHY_WITHIN_S,
    on_member: Callable[[DefragResult], None] | None = None,
) -> list[DefragResult]:
    """Defragment each member in turn (followers first, the leader last), waiting for
    each to be healthy again before the next; ``on_member`` hears of each as it is done.

    Raises :class:`StoreUnavailableError` before touching anything if a member does not
    answer, and stops at the first member that fails or does not come back.
    """
    if len(set(endpoints)) != len(endpoints):
        raise ValueError(f"an etcd endpoint is listed twice: {', '.join(endpoints)}")
    before_all = await db_usage(endpoints, tls=tls)
    for usage in before_all:
        await wait_member_healthy(usage.endpoint, tls=tls, within_s=STATUS_TIMEOUT_S)
    results: list[DefragResult] = []
    for before in sorted(before_all, key=lambda u: u.is_leader):  # the leader last
        started = time.monotonic()
        log.info("etcd_defrag_start", endpoint=before.endpoint, db_size=before.db_size)
        client = EtcdClient([before.endpoint], tls=tls)
        try:
            await client.defragment(timeout_s=defrag_timeout_s)
        except StoreUnavailableError as exc:
            raise StoreUnavailableError(f"etcd member {before.endpoint}: {exc.message}") from exc
        finally:
            await client.close()
        await wait_member_healthy(before.endpoint, tls=tls, within_s=healthy_within_s)
        after = await member_usage(before.endpoint, tls=tls)
        result = DefragResult(before, after, round(time.monotonic() - started, 3))
        log.info(
            "etcd_defrag_done",
            endpoint=before.endpoint,
            db_size_before=before.db_size,
            db_size_after=after.db_size,
            took_s=result.took_s,
        )
        results.append(result)
        if on_member is not None:
            on_member(result)
    return results
