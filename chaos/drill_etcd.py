"""A drill's own etcd, secured as ``amk up`` secures the embedded one (issue #13).

Drills run with security on: the etcd a drill starts (one member, or a three-member
cluster whose members talk https to each other) asks every client for a certificate
from the drill's local CA (``{report_dir}/pki``), and its user ``amk`` may touch the
drill's key root only. The drill's configs point ``pki_dir`` at that folder, so the
centres, gateways and checkers it starts show the ``amk`` certificate; the TCP proxies
of the partition drills pass the TLS bytes through untouched (every certificate names
127.0.0.1, where the proxies listen).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from chaos.etcd_cluster import EtcdCluster
from cluster.etcd_auth import ensure_etcd_auth, ensure_etcd_auth_sync
from cluster.etcd_server import EmbeddedEtcd, find_free_port
from cluster.pki import LocalIdentities, local_identities

DRILL_KEY_ROOT = "/drill/"  # every drill's key prefix lives under it


def drill_pki(report_dir: Path) -> Path:
    """The drill's PKI folder: its configs' ``pki_dir``."""
    return Path(report_dir) / "pki"


def drill_identities(report_dir: Path) -> LocalIdentities:
    """The drill's local CA and certificates, made on first use, reused after."""
    return local_identities(drill_pki(report_dir))


async def secure_single(report_dir: Path, prefix: str) -> EmbeddedEtcd:
    """One etcd member in ``{report_dir}/etcd`` with TLS and auth on, its user granted
    ``prefix``; started."""
    ids = drill_identities(report_dir)
    etcd = await asyncio.to_thread(
        EmbeddedEtcd(
            Path(report_dir) / "etcd",
            tls=ids.etcd_server,
            client_port=find_free_port(),
            log_file=Path(report_dir) / "etcd.log",
        ).start
    )
    try:
        await ensure_etcd_auth([etcd.endpoint], ids.etcd_root, prefix)
    except BaseException:
        etcd.stop()
        raise
    return etcd


def start_single(report_dir: Path, prefix: str = DRILL_KEY_ROOT) -> EmbeddedEtcd:
    """:func:`secure_single` from synchronous code (``with_own_services``)."""
    ids = drill_identities(report_dir)
    etcd = EmbeddedEtcd(
        Path(report_dir) / "etcd",
        tls=ids.etcd_server,
        client_port=find_free_port(),
        log_file=Path(report_dir) / "etcd.log",
    ).start()
    try:
        ensure_etcd_auth_sync([etcd.endpoint], ids.etcd_root, prefix)
    except BaseException:
        etcd.stop()
        raise
    return etcd


def start_cluster(report_dir: Path, size: int, prefix: str = DRILL_KEY_ROOT) -> EtcdCluster:
    """``size`` members with client and peer TLS and auth on; started."""
    ids = drill_identities(report_dir)
    cluster = EtcdCluster(Path(report_dir) / "etcd", tls=ids.etcd_server, size=size).start()
    try:
        ensure_etcd_auth_sync(cluster.endpoints, ids.etcd_root, prefix)
    except BaseException:
        cluster.stop()
        raise
    return cluster
