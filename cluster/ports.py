"""Is a TCP port free, and if not, which process holds it.

``amk up`` checks every port it will listen on before it starts anything: a second
cluster whose embedded etcd dies on ``bind: address already in use`` would otherwise
talk to the first cluster's etcd, among its data, and report success.

The bind test uses ``SO_REUSEADDR`` like the servers we start (etcd, gRPC), so only a
listener blocks a port, not a connection in ``TIME_WAIT``. The holder is found the
Linux way: the socket's inode in ``/proc/net/tcp{,6}``, matched against the
``socket:[inode]`` links in ``/proc/<pid>/fd``. Other users' processes cannot be read
without privilege; then the holder is simply unknown, never guessed.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cluster.errors import ConfigError

TCP_LISTEN = "0A"  # st column of /proc/net/tcp for a listening socket


@dataclass(frozen=True, slots=True)
class PortHolder:
    """A process with a listening socket on a port."""

    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command})" if self.command else f"pid {self.pid}"


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) as host and port; ConfigError when malformed."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"address {address!r} is not host:port")
    return host.strip("[]") or "0.0.0.0", int(port)


def port_taken(host: str, port: int) -> bool | None:
    """True when ``host:port`` cannot be bound for listening right now; None when
    ``host`` is not an address of this machine (a gateway on another node: its own
    node's bind, and the health check, speak for it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except socket.gaierror as exc:
            raise ConfigError(f"cannot resolve {host}: {exc.strerror}") from exc
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            if exc.errno == errno.EADDRNOTAVAIL:
                return None
            raise ConfigError(f"cannot bind {host}:{port}: {exc.strerror}") from exc
    return False


def _listening_inodes(port: int, proc: Path) -> set[str]:
    """Inodes of the listening sockets on ``port`` (any address, IPv4 or IPv6)."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != TCP_LISTEN:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] != "0":
                inodes.add(fields[9])
    return inodes


def _command(pid_dir: Path) -> str:
    try:
        raw = (pid_dir / "cmdline").read_bytes()
    except OSError:
        return ""
    words = raw.rstrip(b"\0").split(b"\0")
    return " ".join(w.decode(errors="replace") for w in words[:4])[:120]


def port_holder(port: int, *, proc: Path = Path("/proc")) -> PortHolder | None:
    """The process listening on ``port``, or None when it cannot be found (no /proc,
    or the holder belongs to a user whose file descriptors we may not read)."""
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            fds = list((pid_dir / "fd").iterdir())
        except OSError:  # not ours to read, or gone
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in wanted:
                return PortHolder(int(pid_dir.name), _command(pid_dir))
    return None


def taken_ports(wanted: list[tuple[str, str]]) -> list[str]:
    """One line per ``(what, host:port)`` in ``wanted`` whose port is taken, naming the
    holder where it can be found; empty when all are free."""
    problems = []
    for what, address in wanted:
        host, port = split_address(address)
        if port_taken(host, port):
            holder = port_holder(port)
            by = f" by {holder}" if holder else " (holder not visible to this user)"
            problems.append(f"{what} port {address} is taken{by}")
    return problems
