"""The launcher behind ``amk up``: etcd, Ray, every centre actor and the gateways.

Order: the embedded etcd (unless ``--etcd`` names a cluster), then Ray (a local Ray by
default; ``--ray-address`` joins an existing cluster), then one centre actor per AMK
centre (each claims its home regions), then the gateways. Ctrl-C or SIGTERM stops them
in reverse: gateways, centres (each steps down and revokes its lease), Ray, etcd. The
embedded etcd also dies with this process if it is killed outright (PDEATHSIG).

:class:`Deployment` is the part that needs Ray and etcd already running; the tests use
it to start a cluster inside their own session-wide Ray and etcd.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import ray
import structlog

from actors.centre.handle import CentreHandle
from actors.gateway.handle import GatewayHandle
from actors.supervisor import actor as supervisor_actor
from actors.supervisor.handle import SupervisorHandle
from clients import up_tls
from clients.ray_join import apply as apply_join
from clients.ray_join import niceness_warnings, plan_join, worker_niceness
from clients.up_guard import (
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    StateLock,
    UpRefused,
    check_embedded_etcd,
    check_external_etcd,
    check_no_restore_left,
    check_ports,
    check_ray_namespace,
    check_site_free,
    wait_ready,
)
from clients.web.server import start_web, stop_web, url_of
from cluster.config import ClusterConfig
from cluster.errors import AmkError, ConfigError
from cluster.etcd_auth import setup_for as etcd_setup_for
from cluster.etcd_server import EmbeddedEtcd, member_name
from cluster.etcd_tls import embedded_etcd_tls, etcd_client_for
from cluster.keys import Keys
from cluster.logs import configure as configure_logs
from cluster.ray_local import loopback_only, services_first
from cluster.sites import SiteLease
from cluster.tls import INSECURE_WARNING

log = structlog.get_logger("amk.launcher")

GATEWAY_POLL_S = 0.05  # how often a waiter looks whether a gateway is back


class Deployment:
    """The supervisor (which owns the centre, gateway and major-incident actors) of one
    cluster, in a Ray that is already up; it starts the supervisor again if it dies."""

    def __init__(self, config: ClusterConfig, endpoints: list[str]) -> None:
        self.config = config
        self.endpoints = endpoints
        self.supervisor: SupervisorHandle | None = None
        self.centres: dict[str, CentreHandle] = {}
        self.supervisor_restarts = 0
        self.site: SiteLease | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        """Take the site's key (refused if the site is live elsewhere: SiteLiveError,
        before anything starts), then the supervisor, which starts everything else.
        The certificates come first: every actor reads them from the pki folder."""
        up_tls.ensure(self.config)
        if self.config.insecure:
            log.warning("deployment_insecure", warning=INSECURE_WARNING)
        self.site = await self._register_site()
        try:
            await self._start_supervisor()
        except BaseException:
            await self.stop()  # whatever was started is detached: end it
            raise
        self.centres = {
            c.id: CentreHandle(c.id, self.config.ray_namespace) for c in self.config.seed.centres
        }
        self._keeper = asyncio.create_task(self._keep_supervisor())

    async def _register_site(self) -> SiteLease:
        config = self.config
        client = etcd_client_for(config, self.endpoints)
        try:
            return await SiteLease.register(
                client,
                Keys(config.key_prefix),
                config.site,
                gateways=config.gateways,
                centres=config.centre_ids(),
                ray_address=config.ray_address or "",
                ttl_s=config.site_lease_ttl_s,
            )
        except BaseException:
            await client.close()
            raise

    async def _start_supervisor(self) -> None:
        supervisor = supervisor_actor.spawn(self.config, self.endpoints)
        try:
            await supervisor.start()
        except BaseException:
            with contextlib.suppress(Exception):
                supervisor.kill()
            raise
        self.supervisor = supervisor

    async def _keep_supervisor(self) -> None:
        """Start the supervisor again when it dies (it adopts the live actors)."""
        while not self._stopping:
            assert self.supervisor is not None
            try:
                await self.supervisor.wait_stopped()
                return  # stopped on purpose
            except AmkError as exc:
                if self._stopping:
                    return
                log.warning("supervisor_died", error=str(exc))
            died = time.monotonic()
            # Tell Ray it is dead: its name is released only once Ray's control store
            # marks it so, which on its own took over a minute here.
            with contextlib.suppress(Exception):
                self.supervisor.kill()
            delays = self.config.supervisor_restart_retry.delays()
            while not self._stopping:
                try:
                    await self._start_supervisor()
                    break
                except Exception as exc:  # its name not yet released, Ray busy, a bug
                    log.warning("supervisor_restart_failed", error=repr(exc))
                    await asyncio.sleep(next(delays))
            self.supervisor_restarts += 1
            log.info("supervisor_restarted", after_s=round(time.monotonic() - died, 3))

    async def gateway(self, address: str) -> GatewayHandle:
        """The current incarnation of the gateway on ``address`` (it changes on restart)."""
        assert self.supervisor is not None
        for state in await self.supervisor.gateways():
            if state.address == address and state.incarnation:
                return GatewayHandle(
                    address, self.config.ray_namespace, incarnation=state.incarnation
                )
        raise ConfigError(f"no gateway on {address}")

    async def gateway_states(self) -> list[Any]:
        """Each gateway's ``GatewayState`` (alive, pid, restarts, last restart)."""
        assert self.supervisor is not None
        return await self.supervisor.gateways()

    async def gateway_state(self, address: str) -> Any:
        """The ``GatewayState`` of the gateway on ``address``."""
        for state in await self.gateway_states():
            if state.address == address:
                return state
        raise ConfigError(f"no gateway on {address}")

    async def wait_gateway_restarted(
        self, address: str, restarts_before: int, *, timeout_s: float = 30.0
    ) -> Any | None:
        """The gateway's state once the supervisor has started it again (alive, with
        more restarts than ``restarts_before``); None if not within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(AmkError):
                state = await self.gateway_state(address)
                if state.alive and state.restarts > restarts_before:
                    return state
            await asyncio.sleep(GATEWAY_POLL_S)
        return None

    async def stop(self) -> None:
        self._stopping = True
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(BaseException):
                await self._keeper
        if self.supervisor is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.supervisor.stop(), 20)
            with contextlib.suppress(Exception):
                self.supervisor.kill()
        # The actors are detached; anything the supervisor did not stop (it died just
        # now, or a stop timed out) is ended here, so nothing outlives the deployment.
        await asyncio.to_thread(kill_named_actors, self.config.ray_namespace)
        self.centres.clear()
        site, self.site = self.site, None
        if site is not None:  # last: the site is live until everything of it stopped
            with contextlib.suppress(Exception):
                await site.close()
            with contextlib.suppress(Exception):
                await site.client.close()


def kill_named_actors(namespace: str) -> int:
    """Kill every named actor of one deployment's namespace; returns how many."""
    killed = 0
    for found in ray.util.list_named_actors(all_namespaces=True):
        if found.get("namespace") != namespace:
            continue
        with contextlib.suppress(Exception):
            ray.kill(ray.get_actor(found["name"], namespace=namespace), no_restart=True)
            killed += 1
    return killed


def _config_from_args(args: argparse.Namespace) -> ClusterConfig:
    overrides: dict[str, Any] = {}
    if getattr(args, "home", None):
        overrides["home"] = Path(args.home).resolve()
    if getattr(args, "etcd", None):
        overrides["etcd_endpoints"] = [e.strip() for e in args.etcd.split(",") if e.strip()]
    if getattr(args, "ray_address", None):
        overrides["ray_address"] = args.ray_address
    if getattr(args, "site", None):
        overrides["site"] = args.site
    if getattr(args, "ray_tls", False):
        overrides["ray_tls"] = True
    if getattr(args, "ray_token_file", None):
        overrides["ray_auth_token_file"] = Path(args.ray_token_file).resolve()
    if getattr(args, "gateway", None):
        overrides["gateways"] = [g.strip() for g in args.gateway.split(",") if g.strip()]
    if getattr(args, "insecure", False):
        overrides["insecure"] = True
    if getattr(args, "pki", None):
        overrides["pki_dir"] = Path(args.pki).resolve()
    if getattr(args, "web", None) is not None:
        overrides["web_address"] = args.web  # "off": no web console
    if getattr(args, "web_dev_login", False):
        overrides["web_dev_login"] = True
    if getattr(args, "seed", None):
        overrides["seed_file"] = Path(args.seed).resolve()
    config_path = getattr(args, "config", None)
    return ClusterConfig.load(Path(config_path) if config_path else None, **overrides)


async def _serve(config: ClusterConfig, endpoints: list[str], ready_file: Path) -> None:
    deployment = Deployment(config, endpoints)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = time.monotonic()
    web: Any = None  # the web console's runner, once it serves
    try:
        await deployment.start()
        assert deployment.supervisor is not None
        # "Up" means serving: every gateway answers its health check and every region
        # has one of our centres as owner. A stop asked for meanwhile wins.
        ready = asyncio.create_task(wait_ready(config, endpoints, deployment.supervisor.instances))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({ready, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not ready.done():
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ready
            print("stopping: gateways, centres, Ray, etcd ...", flush=True)
            return
        ready.result()  # raises UpRefused when it was not up in time
        if config.web_address:  # the console talks to the gateways: they answer now
            web = await start_web(config)
        info = {
            "pid": os.getpid(),
            "gateways": config.gateways,
            "metrics": [config.metrics_address(g) for g in config.gateways],
            "etcd": endpoints,
            "centres": sorted(deployment.centres),
            "ray_namespace": config.ray_namespace,
            "site": config.site,
            "started_in_s": round(time.monotonic() - started, 2),
            "insecure": config.insecure,
            "pki": None if config.insecure else str(config.pki_folder()),
            "web": url_of(config) if web is not None else None,
            "seed": str(config.seed_file) if config.seed_file else None,
        }
        ready_file.write_text(json.dumps(info, indent=2))  # noqa: ASYNC240 - tiny, once
        site = f"site {config.site}: " if len(config.all_sites()) > 1 else ""
        console = f"Web console {info['web']}. " if web is not None else ""
        print(
            f"AMK cluster up in {info['started_in_s']} s: {site}{len(deployment.centres)} centres, "
            f"gateway {', '.join(config.gateways)}, etcd {', '.join(endpoints)}. "
            f"{console}Ctrl-C stops it.",
            flush=True,
        )
        if config.seed_file is not None and os.environ.get("AMK_SEED", "").strip() == "":
            # Consoles read the seed too (regions, centres): they must read this one.
            print(f"Consoles of this cluster: export AMK_SEED={config.seed_file}", flush=True)
        if web is not None and config.web_dev_login:
            print(
                "WARNING: web console dev login is on (development only): anyone who "
                "reaches the port can pick a role",
                flush=True,
            )
        if config.insecure:
            print(f"WARNING: {INSECURE_WARNING}", flush=True)
        for warning in ready.result():
            print(f"WARNING: {warning}", flush=True)
        await stop.wait()
        print("stopping: web console, gateways, centres, Ray, etcd ...", flush=True)
    finally:
        with contextlib.suppress(FileNotFoundError):
            ready_file.unlink()  # noqa: ASYNC240
        if web is not None:  # first: its pages' streams end before the gateways do
            with contextlib.suppress(Exception):
                await stop_web(web)
        await deployment.stop()


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def _start_etcd(config: ClusterConfig) -> EmbeddedEtcd:
    """The embedded etcd of this state folder, checked to be the one answering."""
    data = config.home / "etcd"
    etcd = EmbeddedEtcd(
        data,
        tls=embedded_etcd_tls(config),
        client_port=config.etcd_client_port,
        peer_port=config.embedded_etcd_peer_port(),
        name=member_name(data),
        quota_bytes=config.etcd_quota_bytes,
        compaction_retention=config.etcd_compaction_retention,
        log_file=config.home / "logs" / "etcd.log",
    )
    try:
        etcd.start()
        check_embedded_etcd(etcd)
    except BaseException:
        etcd.stop()
        raise
    return etcd


def run_up(args: argparse.Namespace) -> int:
    """``amk up``: check, start everything, serve until Ctrl-C or SIGTERM, stop everything.

    Refusals and failures are one line on stderr and a non-zero exit (2: the setup is
    wrong, 3: etcd or the cluster did not answer), never a traceback.
    """
    try:
        config = _config_from_args(args)
    except AmkError as exc:
        _fail(str(exc))
        return EXIT_REFUSED
    home = config.home
    (home / "logs").mkdir(parents=True, exist_ok=True)
    configure_logs(config.log_level, json_file=home / "logs" / "amk.log", console=False)
    etcd: EmbeddedEtcd | None = None
    lock = StateLock(home)
    try:
        lock.acquire()
        identities = up_tls.prepare(config)  # the local CA, before anything starts
        endpoints = list(config.etcd_endpoints)
        check_ports(config, embedded_etcd=not endpoints)  # before anything starts
        if config.ray_address:  # its credentials too: ray.init would retry forever
            plan = plan_join(
                config.ray_address,
                config.ray_auth_token_file,
                ray_tls=config.ray_tls,
                pki=config.pki_folder(),
            )
            print(plan.message, flush=True)
            apply_join(plan)
        if not endpoints:
            check_no_restore_left(home)
            etcd = _start_etcd(config)
            endpoints = [etcd.endpoint]
            security = asyncio.run(etcd_setup_for(config, endpoints, embedded=True))
            data = home / "etcd"
            print(f"etcd {etcd.version} on {etcd.endpoint}, data in {data}; {security}", flush=True)
        else:
            for endpoint in check_external_etcd(config, endpoints):
                print(f"warning: etcd member {endpoint} does not answer", flush=True)
            security = asyncio.run(etcd_setup_for(config, endpoints, embedded=False))
            check_site_free(config, endpoints)
            print(f"etcd at {', '.join(endpoints)} answers; {security}", flush=True)
        if not config.ray_address:
            loopback_only()  # a Ray of this machine alone listens on loopback only
            services_first()  # dispatch runs at normal priority, not Ray's 15
        ray.init(
            # "local" always starts a new Ray; never join a stray cluster by accident.
            address=config.ray_address or "local",
            namespace=config.ray_namespace,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        print(
            f"Ray {'joined at ' + config.ray_address if config.ray_address else 'started locally'}",
            flush=True,
        )
        check_ray_namespace(config)
        if config.ray_address:  # a local Ray was started at niceness 0 (services_first)
            for line in niceness_warnings(worker_niceness()):
                print(line, flush=True)
        print(up_tls.console_help(config, identities), flush=True)
        asyncio.run(_serve(config, endpoints, home / "up.json"))
        return 0
    except UpRefused as exc:
        _fail(str(exc))
        return exc.exit_code
    except ConfigError as exc:
        _fail(exc.message)
        return EXIT_REFUSED
    except AmkError as exc:  # etcd or an actor failed while starting
        _fail(str(exc))
        return EXIT_UNAVAILABLE if exc.retryable else 1
    finally:
        started = ray.is_initialized() or etcd is not None
        if ray.is_initialized():
            ray.shutdown()
        if etcd is not None:
            etcd.stop()
        lock.release()
        if started:
            print("stopped", flush=True)
