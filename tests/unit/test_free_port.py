"""The port picker for servers started by tests and drills (pure socket logic)."""

from cluster.etcd_server import PORT_RANGE, find_free_port


def test_picks_before_any_bind_are_all_distinct() -> None:
    """A config picks its gateway and metrics ports before any server binds them: the
    picker must not hand out one port twice (a 1 in 12,000 chance per pair otherwise,
    seen in CI as "gateway cannot bind")."""
    ports = [find_free_port() for _ in range(600)]
    assert len(set(ports)) == len(ports)
    assert all(PORT_RANGE[0] <= p < PORT_RANGE[1] for p in ports)
