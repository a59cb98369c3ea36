"""Processes the integration tests start outside the session's Ray: ``amk up`` runs and
Ray heads of their own. Stopping them must leave nothing behind and must never signal
a process that only reuses a pid of theirs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import grpc

from chaos.processes import descendants, kill_left, start_time, with_argument
from cluster.etcd_server import find_free_port

__all__ = [
    "RayHead",
    "descendants",
    "kill_left",
    "start_time",
    "stop_up",
    "up_env",
    "up_home",
    "up_refused",
    "with_argument",
]

REPO = Path(__file__).resolve().parents[2]
REFUSE_WITHIN_S = 30  # a safety net for ray.init's endless retry, not a measurement
# Ray variables of the developer's shell that must not reach an `amk up` under test.
RAY_VARS = (
    "RAY_ADDRESS",
    "RAY_AUTH_MODE",
    "RAY_AUTH_TOKEN",
    "RAY_AUTH_TOKEN_PATH",
    "RAY_USE_TLS",
    "RAY_TLS_SERVER_CERT",
    "RAY_TLS_SERVER_KEY",
    "RAY_TLS_CA_CERT",
)


def up_env(
    up_home: Path, gateway: str, home: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of an ``amk up`` subprocess joining a Ray head: its state folder,
    gateway, HOME (where Ray looks for the token), no Ray variables but ``extra``."""
    env = {
        **os.environ,
        "AMK_HOME": str(up_home),
        "AMK_GATEWAY": gateway,
        "PYTHONPATH": str(REPO),
        "HOME": str(home),
    }
    for var in (*RAY_VARS, "AMK_ETCD"):
        env.pop(var, None)
    env.update(extra or {})
    return env


def up_home(tmp_path: Path, namespace: str) -> Path:
    """A fresh state folder whose embedded etcd takes free ports."""
    home = tmp_path / "amk"
    home.mkdir()
    (home / "amk.toml").write_text(
        f"etcd_client_port = {find_free_port()}\netcd_peer_port = {find_free_port()}\n"
        f'ray_namespace = "{namespace}"\n'
    )
    return home


def up_refused(
    tmp_path: Path,
    home: Path,
    *args: str,
    namespace: str = "amk-join-test",
    extra: Mapping[str, str] | None = None,
) -> tuple[int, list[str]]:
    """``amk up ARGS`` expected to refuse before starting anything: its exit code and
    output lines (it must not have started etcd)."""
    state = up_home(tmp_path, namespace)
    out = subprocess.run(
        [sys.executable, "-m", "clients.cli", "up", *args],
        cwd=REPO,
        env=up_env(state, f"127.0.0.1:{find_free_port()}", home, extra),
        capture_output=True,
        text=True,
        timeout=REFUSE_WITHIN_S,  # ray.init's endless retry would end here, failing
    )
    assert not (state / "etcd").exists(), "it started etcd before refusing"
    return out.returncode, (out.stdout + out.stderr).strip().splitlines()


def start_up(
    args: list[str], env: Mapping[str, str], log: Path, within_s: float
) -> tuple[subprocess.Popen[bytes], str]:
    """``amk up ARGS`` in its own session, its output in ``log``; the process and its
    output once it says it is up (fails if it exits first or takes over ``within_s``)."""
    import time

    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clients.cli", "up", *args],
            cwd=REPO,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + within_s
        while "AMK cluster up" not in log.read_text():
            assert proc.poll() is None, f"amk up exited: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"not up: {log.read_text()[-3000:]}"
            time.sleep(0.2)
    except BaseException:
        stop_up(proc)
        raise
    return proc, log.read_text()


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

    def __init__(
        self,
        root: Path,
        ray_bin: Path,
        env: Mapping[str, str] | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        num_cpus: int | None = None,
    ) -> None:
        """``env``: more variables for the head (Ray's TLS), ``credentials``: what
        :meth:`alive` probes its GCS with then (its TLS), ``num_cpus``: Ray's own guess
        when None."""
        import secrets

        self.root = root
        self.ray_bin = ray_bin
        self.env = dict(env or {})
        self.credentials = credentials
        self.num_cpus = num_cpus
        self.home = root / "home"  # HOME of the head: its ~/.ray/auth_token
        (self.home / ".ray").mkdir(parents=True)
        (self.home / ".ray" / "auth_token").write_text(secrets.token_hex(32))
        self.address = ""
        self.temp = Path()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def alive(self) -> bool:
        from clients.ray_join import probe

        return (
            self.proc is not None
            and self.proc.poll() is None
            and probe(self.address, None, timeout_s=1, credentials=self.credentials)
            is grpc.StatusCode.UNAUTHENTICATED
        )

    def ensure(self, within_s: float = 120) -> RayHead:
        """Running and answering (started again if it was killed)."""
        import tempfile
        import time

        if self.proc is not None and self.alive():
            return self
        self.stop()
        self.temp = Path(tempfile.mkdtemp(prefix="rh", dir="/tmp"))  # short: socket paths
        self.address = f"127.0.0.1:{find_free_port()}"
        env = {**os.environ, "HOME": str(self.home)}
        for var in RAY_VARS:  # the head gets only what it is given
            env.pop(var, None)
        env["RAY_AUTH_MODE"] = "token"
        env.update(self.env)
        # Ray's fixed defaults (client server 10001, autoscaler metrics 44217) would
        # collide with another head on this machine: free ones.
        env["AUTOSCALER_METRIC_PORT"] = str(find_free_port())
        cpus = [f"--num-cpus={self.num_cpus}"] if self.num_cpus is not None else []
        self.starts += 1
        log = self.root / f"ray-start-{self.starts}.out"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    str(self.ray_bin),
                    "start",
                    "--head",
                    f"--port={self.address.rpartition(':')[2]}",
                    f"--ray-client-server-port={find_free_port()}",
                    "--node-ip-address=127.0.0.1",
                    *cpus,
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
