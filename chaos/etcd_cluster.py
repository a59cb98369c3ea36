"""A three-member etcd cluster on loopback, started by a drill so it can kill members.

Production runs three or five members; the embedded single member of ``amk up`` cannot
show what a member's death does (a leader election, a client moving to another member).
This launcher reuses the embedded launcher's binary choice
(:func:`cluster.etcd_server.find_etcd_binary`) and its die-with-parent guard, and keeps
each member's data folder so a killed member restarts with its log and rejoins.

Election settings are those the README's etcd server section gives production on a LAN
(heartbeat 25 ms, election timeout 250 ms, pre-vote on), so the drill measures what a
deployment would feel. etcd's tuning guide asks for a heartbeat around the members'
round-trip time and an election timeout of at least ten times it; on loopback the
"round trip" that matters is scheduling on a loaded host, still far under 25 ms. The
defaults (100/1000 ms) suit WANs: after a leader's death they keep every write waiting
1–2 s for the followers to notice.

TLS as the embedded member has it (issue #13): with ``tls`` (the ``etcd-server``
identity) every member speaks https on client and peer ports and asks for a certificate
from our CA on both; the members dial each other with that same certificate.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import structlog
from aetcd import rpc

from cluster.child_process import dying_with_parent
from cluster.errors import ConfigError
from cluster.etcd_server import (
    DEATH_SIGNAL,
    find_etcd_binary,
    find_free_port,
    healthy,
    scheme,
    tls_args,
)
from cluster.pki import TlsFiles
from cluster.tls import open_channel

log = structlog.get_logger("amk.chaos.etcd")


@dataclass
class Member:
    """One etcd member: its name, ports, data folder and process."""

    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None
    member_id: int = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class EtcdCluster:
    """``size`` etcd members on loopback; ``kill``/``restart`` one of them."""

    base_dir: Path
    # The members' certificate (client and peer ports); None only for an insecure drill.
    tls: TlsFiles | None = field(kw_only=True)
    size: int = 3
    members: list[Member] = field(default_factory=list)
    version: str = ""
    # LAN values (module docstring): a leader's death is noticed in 250–500 ms
    # (etcd randomises each follower's timeout between one and two election timeouts).
    heartbeat_ms: int = 25
    election_ms: int = 250
    # Pre-vote: a member that merely missed heartbeats (starved, restarted) must win a
    # straw poll before it may raise the term, so it cannot depose a healthy leader.
    pre_vote: bool = True

    @property
    def endpoints(self) -> list[str]:
        return [m.endpoint for m in self.members]

    def _initial_cluster(self) -> str:
        web = scheme(self.tls)
        return ",".join(f"{m.name}={web}://127.0.0.1:{m.peer_port}" for m in self.members)

    def _spawn(self, m: Member, binary: Path) -> None:
        client = f"{scheme(self.tls)}://127.0.0.1:{m.client_port}"
        peer = f"{scheme(self.tls)}://127.0.0.1:{m.peer_port}"
        args = [
            str(binary),
            *("--name", m.name, "--data-dir", str(m.data_dir)),
            *("--listen-client-urls", client, "--advertise-client-urls", client),
            *("--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer),
            *("--initial-cluster", self._initial_cluster()),
            *("--initial-cluster-state", "new", "--initial-cluster-token", "amk-drill"),
            *("--heartbeat-interval", str(self.heartbeat_ms)),
            *("--election-timeout", str(self.election_ms)),
            *(("--pre-vote",) if self.pre_vote else ()),
            # JSON lines with millisecond times: the drill report reads when a member
            # saw the leader go and when the new one took over from them.
            *("--logger", "zap", "--log-outputs", "stderr"),
            *tls_args(self.tls),
        ]
        self.base_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.base_dir / f"{m.name}.log", "ab")
        argv, preexec = dying_with_parent(args, DEATH_SIGNAL)
        m.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec)
        out.close()

    def start(self, timeout_s: float = 30.0) -> EtcdCluster:
        binary, self.version = find_etcd_binary()
        self.members = [
            Member(
                f"amk-drill-{i}",
                find_free_port(),
                find_free_port(),
                self.base_dir / f"member-{i}",
            )
            for i in range(self.size)
        ]
        for m in self.members:
            # A new cluster (--initial-cluster-state new) on the data of an earlier run
            # in the same folder would rejoin that run's members on their old ports and
            # never get a quorum: every drill starts from empty members and logs.
            shutil.rmtree(m.data_dir, ignore_errors=True)
            (self.base_dir / f"{m.name}.log").unlink(missing_ok=True)
            self._spawn(m, binary)
        self._wait_all(timeout_s)
        log.info("etcd_cluster_started", endpoints=self.endpoints, version=self.version)
        return self

    def _wait_all(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for m in self.members:
            while not self._healthy(m):
                if time.monotonic() > deadline:
                    self.stop()
                    raise ConfigError(f"etcd member {m.name} not healthy in {timeout_s}s")
                if not m.alive:
                    raise ConfigError(f"etcd member {m.name} exited; see {self.base_dir}")
                time.sleep(0.05)

    def _healthy(self, m: Member) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", m.client_port), timeout=0.2):
                pass
        except OSError:
            return False
        return healthy(m.endpoint, self.tls)

    def _channel(self, endpoint: str) -> grpc.aio.Channel:
        return open_channel(endpoint, self.tls)

    async def status(self) -> dict[str, dict[str, int]]:
        """Each live member's view: its id, the leader's id, raft term (Maintenance.Status)."""
        out: dict[str, dict[str, int]] = {}
        for m in self.members:
            if not m.alive:
                continue
            async with self._channel(m.endpoint) as channel:
                try:
                    resp = await rpc.MaintenanceStub(channel).Status(
                        rpc.StatusRequest(), timeout=1.0
                    )
                except grpc.aio.AioRpcError:
                    continue
            m.member_id = resp.header.member_id
            out[m.name] = {
                "member_id": resp.header.member_id,
                "leader": resp.leader,
                "raft_term": resp.raftTerm,
            }
        return out

    async def leader(self) -> Member | None:
        """The member the live members agree is leader (None during an election)."""
        views = await self.status()
        leaders = {v["leader"] for v in views.values()}
        if len(leaders) != 1:
            return None
        (lid,) = leaders
        return next((m for m in self.members if m.member_id == lid), None)

    async def pick(self, which: str) -> Member:
        """``leader``, ``follower`` or a member name."""
        if which in ("leader", "follower"):
            for _ in range(50):
                lead = await self.leader()
                if lead is not None:
                    if which == "leader":
                        return lead
                    return next(m for m in self.members if m is not lead and m.alive)
                await asyncio.sleep(0.1)
            raise ConfigError("etcd cluster has no agreed leader")
        return next(m for m in self.members if m.name == which)

    def kill(self, m: Member) -> None:
        """SIGKILL: the member gets no chance to step down or flush anything."""
        if m.process is not None and m.alive:
            os.kill(m.process.pid, signal.SIGKILL)
            m.process.wait(5)
        log.warning("etcd_member_killed", member=m.name, endpoint=m.endpoint)

    def restart(self, m: Member, timeout_s: float = 30.0) -> None:
        """Start a killed member again on its data folder; it rejoins the cluster."""
        binary, _ = find_etcd_binary()
        self._spawn(m, binary)
        deadline = time.monotonic() + timeout_s
        while not self._healthy(m):
            if time.monotonic() > deadline or not m.alive:
                raise ConfigError(f"etcd member {m.name} did not come back")
            time.sleep(0.05)
        log.info("etcd_member_restarted", member=m.name)

    def stop(self) -> None:
        for m in self.members:
            if m.process is not None and m.alive:
                m.process.terminate()
                try:
                    m.process.wait(10)
                except subprocess.TimeoutExpired:
                    m.process.kill()
                    m.process.wait(5)
