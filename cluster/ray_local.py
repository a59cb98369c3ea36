"""A Ray of one machine that listens on loopback only.

Why: Ray takes the machine's network address as its node address even when it is
told ``127.0.0.1`` (``resolve_ip_for_localhost``), and its gRPC servers (GCS, raylet,
object manager, every worker) then listen on every interface. A one-machine cluster
(``amk up`` with no ``--ray-address``, the test session, the benchmarks and drills) has
no reason to be reachable from the network. Ray keeps its node address, and so its
servers, on loopback when its own "clusters on this platform" switch is off
(``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, meant for laptops), which is exactly a
one-machine Ray. ``tests/integration/test_loopback.py`` checks every listening socket
of the session's Ray.

A cluster of several machines (``--ray-address``, ``ray start``) needs its real
addresses and is not touched: there, Ray's token and TLS guard the ports (README,
"Ray between machines").

:func:`services_first` runs the same local Ray's workers at the machine's normal
priority (see there).
"""

from __future__ import annotations

import os

#: Ray's switch; read by Ray when it is first imported, and by ``ray start``.
CLUSTERS_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def loopback_only() -> None:
    """Make the next ``ray.init(address="local")`` of this process listen on loopback.

    The variable goes into the environment (Ray's own children read it) and into Ray's
    constant, which this process computed when it first imported Ray."""
    os.environ[CLUSTERS_ENV] = "0"
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False


#: Ray's setting for the niceness of the workers a raylet starts (Ray's default: 15).
NICENESS_ENV = "RAY_worker_niceness"


def services_first() -> None:
    """Make the next local Ray start its workers at niceness 0, not Ray's 15.

    Why: Ray lowers its workers' priority so that a burst of batch tasks leaves the CPU
    to its own daemons (GCS, raylet). Our workers are the service itself: the gateway,
    the centres (whose lease keepalives decide failover) and the supervisor. At 15 any
    ordinary process on the machine takes the CPU from them first: etcd, a shell, a log
    shipper, and in the benchmarks the load generator. Measured on the 2-core machine,
    CreateIncident at 64 clients 1,635-1,648/s at 15 and 1,824-1,859/s at 0 (two runs
    each, alternated: ``bench/api_bench.py --concurrency 8,64 --kinds echo,create``).
    A value the operator set (``RAY_worker_niceness``) is kept. Ray's daemons stay at 0,
    level with the workers, not above them.
    """
    os.environ.setdefault(NICENESS_ENV, "0")
