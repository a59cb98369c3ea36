"""Processes the integration tests start outside the session's Ray: ``amk up`` runs and
Ray heads of their own. Stopping them must leave nothing behind and must never signal
a process that only reuses a pid of theirs."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from chaos.processes import descendants, kill_left, start_time, with_argument

__all__ = ["RayHead", "descendants", "kill_left", "start_time", "stop_up", "with_argument"]


def stop_up(proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    """Stop an ``amk up`` as an operator's Ctrl-C would, then anything of it left.

    SIGTERM goes to ``amk up`` alone: it stops Ray and etcd in order (SIGTERM to its
    whole group would take Ray's GCS from under that stop)."""
    started = {p: start_time(p) for p in {proc.pid, *descendants(proc.pid)}}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    finally:
        kill_left(started)


class RayHead:
    """A second Ray cluster for the session (``ray start --head`` on loopback, token
    authentication on, its own temp folder and HOME holding its token): what another
    site runs, or what a multi-machine ``amk up --ray-address`` joins.

    One per test session, shared as the session's own Ray is (two cores); a test that
    kills it (a site loss) leaves it to :meth:`ensure` to start again for the next."""

    def __init__(self, root: Path, ray_bin: Path) -> None:
        import secrets

        self.root = root
        self.ray_bin = ray_bin
        self.home = root / "home"  # HOME of the head: its ~/.ray/auth_token
        (self.home / ".ray").mkdir(parents=True)
        (self.home / ".ray" / "auth_token").write_text(secrets.token_hex(32))
        self.address = ""
        self.temp = Path()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def alive(self) -> bool:
        import grpc

        from clients.ray_join import probe

        return (
            self.proc is not None
            and self.proc.poll() is None
            and probe(self.address, None, timeout_s=1) is grpc.StatusCode.UNAUTHENTICATED
        )

    def ensure(self, within_s: float = 120) -> RayHead:
        """Running and answering (started again if it was killed)."""
        import tempfile
        import time

        from cluster.etcd_server import find_free_port

        if self.proc is not None and self.alive():
            return self
        self.stop()
        self.temp = Path(tempfile.mkdtemp(prefix="rh", dir="/tmp"))  # short: socket paths
        self.address = f"127.0.0.1:{find_free_port()}"
        env = {**os.environ, "HOME": str(self.home)}
        for var in ("RAY_ADDRESS", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
            env.pop(var, None)
        env["RAY_AUTH_MODE"] = "token"
        self.starts += 1
        log = self.root / f"ray-start-{self.starts}.out"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    str(self.ray_bin),
                    "start",
                    "--head",
                    f"--port={self.address.rpartition(':')[2]}",
                    "--node-ip-address=127.0.0.1",
                    f"--temp-dir={self.temp}",
                    "--include-dashboard=false",
                    "--disable-usage-stats",
                    "--block",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + within_s
        while not self.alive():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no Ray head: {log.read_text()[-3000:]}")
            time.sleep(0.5)
        return self

    def processes(self) -> dict[int, str | None]:
        """Every process of this head (GCS, raylet, workers, ``ray start`` itself)."""
        found = with_argument(str(self.temp)) if self.address else {}
        if self.proc is not None:
            found[self.proc.pid] = start_time(self.proc.pid)
        return found

    def kill(self) -> None:
        """SIGKILL every process of the head at once: a data centre lost."""
        kill_left(self.processes())
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None:
            return
        left = self.processes()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        kill_left(left | with_argument(str(self.temp)))
        self.proc = None
