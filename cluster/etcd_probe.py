"""Is the etcd we are about to use the right one, and does it answer?

Two questions ``amk up`` asks before it starts any centre:

- **the embedded etcd**: is the member answering on our client port the one we started?
  Each state folder gives its member its own name (:func:`cluster.etcd_server.member_name`);
  a second cluster whose etcd died on a taken port would otherwise find the first
  cluster's etcd healthy on that port and work among its data.
- **an external etcd**: does it answer at all, within seconds (an unreachable endpoint
  must be one clear line, not a traceback from the first lease grant), are all the
  endpoints one cluster, and can it serve a linearizable read (a leader, a quorum)?
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cluster.errors import ConfigError, StoreUnavailableError
from cluster.etcd import EtcdClient
from cluster.pki import TlsFiles

PROBE_TIMEOUT_S = 2.0
POLL_S = 0.1


@dataclass(frozen=True, slots=True)
class Answer:
    """What one endpoint said to a Status call: its ids, or why it did not answer."""

    endpoint: str
    cluster_id: int = 0
    member_id: int = 0
    error: str = ""


async def _status(endpoint: str, timeout_s: float, tls: TlsFiles | None) -> Answer:
    client = EtcdClient([endpoint], tls=tls, request_timeout_s=timeout_s)
    try:
        status = await client.status()
    except StoreUnavailableError as exc:
        return Answer(endpoint, error=exc.message.removeprefix("status: "))
    finally:
        await client.close()
    return Answer(endpoint, status.header.cluster_id, status.header.member_id)


async def probe(
    endpoints: Sequence[str], *, tls: TlsFiles | None, timeout_s: float = PROBE_TIMEOUT_S
) -> list[str]:
    """Check an external etcd cluster; returns the endpoints that did not answer (the
    cluster still works without them, the caller warns). ``tls``: the certificate shown
    (:mod:`cluster.etcd_tls`), None only for an insecure cluster.

    Raises :class:`StoreUnavailableError` when no endpoint answers or the cluster cannot
    serve a read, :class:`ConfigError` when the endpoints are of different clusters.
    """
    answers = await asyncio.gather(*(_status(e, timeout_s, tls) for e in endpoints))
    up = [a for a in answers if not a.error]
    if not up:
        reasons = "; ".join(f"{a.endpoint}: {a.error}" for a in answers)
        raise StoreUnavailableError(f"etcd does not answer ({reasons})")
    clusters = {a.cluster_id for a in up}
    if len(clusters) > 1:
        listing = ", ".join(f"{a.endpoint} in cluster {a.cluster_id:x}" for a in up)
        raise ConfigError(f"the etcd endpoints belong to different clusters: {listing}")
    client = EtcdClient(endpoints, tls=tls, request_timeout_s=timeout_s)
    try:
        if not await client.healthy(timeout_s=timeout_s):
            raise StoreUnavailableError(
                f"etcd at {', '.join(endpoints)} answers but cannot serve a read "
                "(no leader or no quorum?)"
            )
    finally:
        await client.close()
    return [a.endpoint for a in answers if a.error]


async def member_name_at(
    endpoint: str, *, tls: TlsFiles | None, timeout_s: float = PROBE_TIMEOUT_S
) -> str:
    """The name of the member that answers at ``endpoint`` (as the cluster knows it)."""
    client = EtcdClient([endpoint], tls=tls, request_timeout_s=timeout_s)
    try:
        status = await client.status()
        members = await client.member_list()
    finally:
        await client.close()
    for member in members.members:
        if member.ID == status.header.member_id:
            return member.name
    return ""


async def verify_member(
    endpoint: str,
    name: str,
    *,
    tls: TlsFiles | None,
    alive: Callable[[], bool] = lambda: True,
    within_s: float = 10.0,
) -> None:
    """Return once the member answering at ``endpoint`` is named ``name``.

    A restarted member publishes its name a moment after it first answers, so an old
    name is waited out for ``within_s``; ``alive`` False (the process we started has
    exited) ends the wait at once. Raises :class:`ConfigError` naming what answers.
    """
    deadline = time.monotonic() + within_s
    found = ""
    while True:
        if not alive():
            raise ConfigError(
                f"the etcd this amk up started has exited; {endpoint} is answered by "
                f"another etcd (member {found or '?'}), not ours ({name})"
            )
        try:
            found = await member_name_at(endpoint, tls=tls)
        except StoreUnavailableError:
            found = ""
        if found == name:
            return
        if time.monotonic() > deadline:
            raise ConfigError(
                f"etcd at {endpoint} is not the one this amk up started: member "
                f"{found or '(no answer)'!s}, expected {name}"
            )
        await asyncio.sleep(POLL_S)
