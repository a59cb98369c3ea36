"""The port picker for servers started by tests and drills (pure socket logic)."""

from cluster.config import ClusterConfig
from cluster.etcd_server import COMPANION_OFFSET, PORT_RANGE, find_free_port

EPHEMERAL_FROM = 32768  # Linux's default ip_local_port_range starts here


def test_picks_before_any_bind_are_all_distinct() -> None:
    """A config picks its gateway and metrics ports before any server binds them: the
    picker must not hand out one port twice (a 1 in 12,000 chance per pair otherwise,
    seen in CI as "gateway cannot bind")."""
    ports = [find_free_port() for _ in range(600)]
    assert len(set(ports)) == len(ports)
    assert all(PORT_RANGE[0] <= p < PORT_RANGE[1] for p in ports)


def test_a_picked_port_and_its_metrics_port_stay_below_the_ephemeral_range() -> None:
    """A gateway's metrics port is its port plus the config's offset: both must be below
    the range where the kernel hands out ports to anyone, and neither handed out twice."""
    assert ClusterConfig.model_fields["metrics_port_offset"].default == COMPANION_OFFSET
    ports = [find_free_port() for _ in range(300)]
    companions = [p + COMPANION_OFFSET for p in ports]
    assert max(companions) < EPHEMERAL_FROM
    assert len(set(ports) | set(companions)) == 2 * len(ports)
