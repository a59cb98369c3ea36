"""Benchmarks run with security on, as a deployment does (issue #13): a private etcd
that asks for a certificate from the run's local CA, whose user may use the bench key
root only; and the cost of TLS, from one run of the API benchmark with it on and off.
Re-exported by ``benchlib``."""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH_KEY_ROOT = "/bench/"


def bench_pki() -> Path:
    """This run's local CA and certificates (made by :func:`private_etcd`)."""
    return Path(tempfile.gettempdir()) / f"amk-bench-pki-{os.getpid()}"


def etcd_tls() -> Any:
    """The etcd user's certificate files (``cluster.pki.TlsFiles``) of this run."""
    from cluster.etcd_tls import identity_files

    return identity_files(bench_pki(), "user")


def etcd_client(endpoint: str, *, secure: bool = True, **kwargs: Any) -> Any:
    """An ``EtcdClient`` on ``endpoint`` with the run's etcd user certificate
    (``secure=False``: plaintext, for the plaintext etcd of :func:`private_etcd`)."""
    from cluster.etcd import EtcdClient

    return EtcdClient([endpoint], tls=etcd_tls() if secure else None, **kwargs)


def secure_etcd(server: Any) -> Any:
    """Start ``server`` (an ``EmbeddedEtcd`` given ``tls`` of the run's identities),
    then users, roles and auth on; callable with or without a running event loop."""
    from cluster.etcd_auth import ensure_etcd_auth_sync
    from cluster.pki import local_identities

    server.start()
    root = local_identities(bench_pki()).etcd_root
    ensure_etcd_auth_sync([server.endpoint], root, BENCH_KEY_ROOT)
    return server


@contextlib.contextmanager
def private_etcd(secure: bool = True) -> Iterator[Any]:
    """One etcd member on a free loopback port with a throw-away data folder, with TLS
    and auth on (``secure=False``: plaintext without auth, what an ``--insecure``
    deployment runs on; the API benchmark's baseline for the cost of security)."""
    from cluster.etcd_server import EmbeddedEtcd, find_free_port
    from cluster.pki import local_identities

    d = Path(tempfile.mkdtemp(prefix="amk-bench-etcd-"))
    tls = local_identities(bench_pki()).etcd_server if secure else None
    server = EmbeddedEtcd(
        d / "data", tls=tls, client_port=find_free_port(), log_file=d / "etcd.log"
    )
    try:
        if secure:
            secure_etcd(server)
        else:
            server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(d, ignore_errors=True)
        if secure:
            shutil.rmtree(bench_pki(), ignore_errors=True)


def tls_cost(
    on: dict[str, list[dict[str, Any]]], off: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Per kind and concurrency: throughput with TLS / without, and the latency added
    (two runs of the same points, ``points`` as the API benchmark keeps them). With
    rounds, each round's point is paired with the same round's, and the median of the
    rounds is given."""
    out: dict[str, Any] = {}
    for kind, points in on.items():
        plain = {(p["concurrency"], p.get("round", 0)): p for p in off.get(kind, [])}
        pairs: dict[int, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        for p in points:
            q = plain.get((p["concurrency"], p.get("round", 0)))
            if q and q["throughput_per_s"]:
                pairs.setdefault(p["concurrency"], []).append((p, q))
        row = {}
        for c, found in pairs.items():
            ratios = [a["throughput_per_s"] / b["throughput_per_s"] for a, b in found]
            row[str(c)] = {
                "throughput_ratio": round(statistics.median(ratios), 3),
                **{
                    f"{k.removesuffix('_ms')}_added_ms": round(
                        statistics.median(p["latency"][k] - q["latency"][k] for p, q in found), 3
                    )
                    for k in ("p50_ms", "p99_ms")
                    if all(k in p["latency"] and k in q["latency"] for p, q in found)
                },
            }
        out[kind] = row
    return out
