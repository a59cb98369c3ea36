"""Every server the test session starts on this machine listens on loopback only: the
session's Ray (GCS, raylet, object manager, workers: cluster/ray_local.py) and a
deployment's gateways and metrics endpoints, read from the kernel's socket tables."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

LISTEN = "0A"  # the TCP state in /proc/net/tcp


def listening() -> dict[int, str]:
    """Socket inode -> local address of every listening TCP socket (IPv4 and IPv6)."""
    found: dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] != LISTEN:
                continue
            hex_ip = cols[1].split(":")[0]
            raw = bytes.fromhex(hex_ip)
            # The kernel prints each 32-bit word in host (little-endian) order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            ip = ipaddress.ip_address(words)
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            found[int(cols[9])] = str(ip)
    return found


def sockets_of(pid: int) -> set[int]:
    inodes: set[int] = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def descendants(roots: set[int]) -> set[int]:
    """``roots`` and every process below them."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(stat.parent.name)] = int(fields[1])
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def addresses_of(pids: set[int]) -> dict[str, set[int]]:
    table = listening()
    out: dict[str, set[int]] = {}
    for pid in pids:
        for inode in sockets_of(pid) & set(table):
            out.setdefault(table[inode], set()).add(pid)
    return out


async def test_the_session_ray_and_a_deployment_listen_on_loopback_only(cluster) -> None:
    import ray

    node = ray._private.worker._global_node
    assert node.node_ip_address == "127.0.0.1"
    roots = {os.getpid()}
    for infos in node.all_processes.values():
        roots.update(info.process.pid for info in infos)
    gateways = {g.pid for g in await cluster.deployment.gateway_states()}
    found = addresses_of(descendants(roots) | gateways)
    assert found, "no listening socket found: the test reads the wrong processes"
    assert set(found) <= {"127.0.0.1", "::1"}, f"listening beyond loopback: {found}"
