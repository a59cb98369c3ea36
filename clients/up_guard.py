"""What ``amk up`` checks so that it never shares a cluster and never guesses.

A second ``amk up`` on one machine once reported success while its etcd had died on a
taken port: its centres ran on the first cluster's etcd, among that cluster's data. So,
before anything starts:

- the state folder is locked (one ``amk up`` per folder: its etcd data, logs, up.json);
- every port it will listen on is free (embedded etcd client and peer, each gateway),
  else one line names each taken port and, where it can, the process holding it;
- a joined Ray must not already run this namespace's supervisor (a live ``amk up``:
  the supervisor is not detached, so it lives exactly as long as its launcher; stopping
  us would otherwise end the other cluster's actors, which share the namespace);

and after etcd starts: the member answering is the one we started (its per-folder
name), or the external cluster answers. "Up" is printed only once every gateway answers
its gRPC health check and every region is owned by one of this cluster's centres.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import grpc
import ray
from grpc_health.v1 import health_pb2, health_pb2_grpc

from actors.supervisor.handle import SUPERVISOR
from cluster.config import ClusterConfig
from cluster.errors import AmkError
from cluster.etcd import EtcdClient
from cluster.etcd_probe import probe, verify_member
from cluster.etcd_server import EmbeddedEtcd
from cluster.etcd_tls import etcd_client_for, etcd_tls
from cluster.keys import Keys
from cluster.ownership import Owner, read_owner
from cluster.ports import taken_ports
from cluster.sites import SiteLiveError, SiteRecord, live_sites, site_key
from cluster.tls import TlsFiles, open_channel, service_identity

EXIT_REFUSED = 2  # the setup is wrong: a port, the folder, the namespace, another etcd
EXIT_UNAVAILABLE = 3  # etcd or the cluster did not answer in time
READY_POLL_S = 0.1
HEALTH_TIMEOUT_S = 1.0


class UpRefused(Exception):
    """``amk up`` will not go on; the message is the one line the operator sees."""

    def __init__(self, message: str, exit_code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class StateLock:
    """An exclusive lock on a state folder for the life of one ``amk up``; the kernel
    drops it when the process dies, however it dies."""

    def __init__(self, home: Path) -> None:
        self.path = home / "up.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> StateLock:
        handle = open(self.path, "a+")  # held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise UpRefused(
                f"state folder {self.path.parent} is in use by another amk up (pid {holder}); "
                "give this cluster its own folder (--home or AMK_HOME)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._file.close()  # closing drops the lock
            self._file = None


def check_no_restore_left(home: Path) -> None:
    """Refuse to start the embedded etcd beside a restore that did not finish
    (``amk etcd restore`` makes ``etcd.restoring`` and puts it in place only when done):
    with the old folder already moved aside, etcd would start empty."""
    left = home / "etcd.restoring"
    if left.exists():
        raise UpRefused(
            f"{left} is left by a restore that did not finish: run amk etcd restore again "
            "(it starts over), or remove that folder if the restore is abandoned"
        )


def check_ports(config: ClusterConfig, *, embedded_etcd: bool) -> None:
    """Refuse when a port this cluster will listen on is listed twice or taken."""
    wanted = [("gateway", address) for address in config.gateways]
    if config.web_address:
        wanted.append(("web console (setting web_address, --web ADDRESS|off)", config.web_address))
    if embedded_etcd:
        wanted += [
            ("embedded etcd client", f"127.0.0.1:{config.etcd_client_port}"),
            ("embedded etcd peer", f"127.0.0.1:{config.embedded_etcd_peer_port()}"),
        ]
    addresses = [address for _, address in wanted]
    twice = sorted({a for a in addresses if addresses.count(a) > 1})
    if twice:
        raise UpRefused(f"{', '.join(twice)} is configured for two listeners")
    try:
        problems = taken_ports(wanted)
    except AmkError as exc:  # a malformed address, an address not on this machine
        raise UpRefused(exc.message) from exc
    if problems:
        raise UpRefused("; ".join(problems) + " (another amk up? stop it or use other ports)")


def check_ray_namespace(config: ClusterConfig) -> None:
    """In a joined Ray, refuse a namespace whose supervisor runs (another ``amk up``).

    Detached centres and gateways left by a launcher that was killed outright are not a
    reason to refuse: the new supervisor adopts them. A new local Ray has nobody in it.
    """
    if not config.ray_address:
        return
    for found in ray.util.list_named_actors(all_namespaces=True):
        if found.get("namespace") == config.ray_namespace and found.get("name") == SUPERVISOR:
            raise UpRefused(
                f"Ray namespace {config.ray_namespace!r} at {config.ray_address} already has "
                "a running supervisor (another amk up); give this cluster its own "
                "ray_namespace"
            )


def check_embedded_etcd(etcd: EmbeddedEtcd) -> None:
    """Refuse unless the member answering on our client port is the one we started."""
    try:
        asyncio.run(verify_member(etcd.endpoint, etcd.name, tls=etcd.tls, alive=etcd.alive))
    except AmkError as exc:
        raise UpRefused(exc.message) from exc


def check_site_free(config: ClusterConfig, endpoints: list[str]) -> None:
    """Refuse a site whose name is live in this etcd (another ``amk up --site`` of it),
    before Ray or anything else starts. ``Deployment.start`` takes the site's key for
    good (create-if-absent), so a race between two launchers is still refused there."""

    async def read() -> None:
        client = etcd_client_for(config, endpoints)
        try:
            raw = await client.get(site_key(Keys(config.key_prefix), config.site))
        finally:
            await client.close()
        if raw is not None:
            raise SiteLiveError(SiteRecord.decode(raw.value))

    try:
        asyncio.run(read())
    except AmkError as exc:
        code = EXIT_UNAVAILABLE if exc.retryable else EXIT_REFUSED
        raise UpRefused(exc.message, code) from exc


def check_external_etcd(config: ClusterConfig, endpoints: list[str]) -> list[str]:
    """Refuse an external etcd that does not answer; returns the endpoints that did not
    answer while the cluster as a whole did (the caller warns about them)."""
    try:
        return asyncio.run(probe(endpoints, tls=etcd_tls(config)))
    except AmkError as exc:
        code = EXIT_UNAVAILABLE if exc.retryable else EXIT_REFUSED
        raise UpRefused(exc.message, code) from exc


async def _serving(address: str, tls: TlsFiles | None) -> bool:
    async with open_channel(address, tls) as channel:
        try:
            resp = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=HEALTH_TIMEOUT_S
            )
        except grpc.aio.AioRpcError:
            return False
    return resp.status == health_pb2.HealthCheckResponse.SERVING


async def _not_owned(
    client: EtcdClient,
    keys: Keys,
    regions: list[str],
    ours: set[str],
    other_sites: frozenset[str] = frozenset(),
) -> tuple[list[str], dict[str, Owner]]:
    """Regions with no owner, or an owner that is neither one of this site's centre
    instances nor an instance in another live site of this deployment (``other_sites``:
    a site that starts while the others serve stands by); and the owners read."""
    missing = []
    owners: dict[str, Owner] = {}
    for region in regions:
        try:
            owner = await read_owner(client, keys, region)
        except AmkError as exc:
            missing.append(f"{region} (etcd: {exc.message})")
            continue
        if owner is None:
            missing.append(region)
            continue
        owners[region] = owner
        if owner.record.instance not in ours and owner.record.site not in other_sites:
            missing.append(f"{region} (held by {owner.record.instance}, not this cluster's)")
    return missing, owners


def away_from_home(owners: dict[str, Owner], config: ClusterConfig) -> list[str]:
    """The regions ``owners`` shows served by a centre other than their home centre, as
    warnings: at start-up that is a takeover nobody asked for (a centre that started
    slowly), and with automatic hand-back off (the default) the region stays away, its
    own centre's people refused it, until a supervisor hands it back."""
    away = []
    for region, owner in owners.items():
        home = config.seed.region(region).home
        if owner.record.centre != home:
            away.append(
                f"region {region} is served by {owner.record.centre}, not its home centre"
                f" {home}: a takeover during start-up; `amk handback region {region}`"
                " gives it back"
            )
    return away


async def wait_ready(
    config: ClusterConfig,
    endpoints: list[str],
    instances: Callable[[], Awaitable[dict[str, str]]],
) -> list[str]:
    """Return once every gateway is SERVING and every region is owned by one of the
    instances ``instances()`` names (awaited each round: a centre may restart), with
    warnings for regions served away from home (:func:`away_from_home`); raise
    :class:`UpRefused` naming what is missing after ``config.up_ready_timeout_s``."""
    keys = Keys(config.key_prefix)
    regions = config.region_ids()
    deadline = time.monotonic() + config.up_ready_timeout_s
    client = etcd_client_for(config, endpoints)
    try:
        while True:
            tls = service_identity(config)
            serving = await asyncio.gather(*(_serving(a, tls) for a in config.gateways))
            down = [a for a, ok in zip(config.gateways, serving, strict=True) if not ok]
            try:
                ours = set((await instances()).values())
            except AmkError:
                ours = set()
            others = frozenset(
                r.name for r in await live_sites(client, keys) if r.name != config.site
            ) & frozenset(config.all_sites())
            unowned, owners = await _not_owned(client, keys, regions, ours, others)
            if not down and not unowned:
                return away_from_home(owners, config)
            if time.monotonic() > deadline:
                missing = []
                if down:
                    missing.append("gateway not serving: " + ", ".join(down))
                if unowned:
                    missing.append("region without an owner: " + ", ".join(unowned))
                raise UpRefused(
                    f"not up after {config.up_ready_timeout_s:g} s: " + "; ".join(missing),
                    EXIT_UNAVAILABLE,
                )
            await asyncio.sleep(READY_POLL_S)
    finally:
        await client.close()
