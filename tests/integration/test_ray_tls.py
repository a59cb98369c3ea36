"""Ray's own TLS between machines (issue #13), as the README's "Ray between machines"
says: a head started with ``RAY_USE_TLS`` and the certificate ``amk cert ray`` makes,
joined by a driver and by ``amk up --ray-address ... --ray-tls``; refused to a
plaintext client and to another CA's certificate, in seconds, with one clear line.

The head is this module's own (``ray start --head`` on free ports, one CPU, no
dashboard, its own temp folder and HOME holding its token: token authentication on as
well), started once and stopped at the end by :class:`RayHead` (its processes only).
Its certificate comes from the session's CA (``session_pki()``: the ``amk up`` under
test finds it there through ``AMK_PKI``) and names the machine's IP as well: Ray turns
``--node-ip-address 127.0.0.1`` into that IP and dials the raylet and the workers
there, checking that the certificate names it. That is what ``amk cert ray --ip`` is for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509

from clients.client import AmkClient
from clients.ray_join import plan_join, probe
from clients.ray_tls import RayTls, signed_by, sniff, tls_env
from clients.up_guard import EXIT_REFUSED, UpRefused
from cluster.etcd_server import find_free_port
from cluster.pki import LocalCa, TlsFiles, ray_node
from tests.helpers import session_pki
from tests.integration.processes import (
    RAY_VARS,
    RayHead,
    descendants,
    kill_left,
    start_time,
    start_up,
    stop_up,
    up_env,
    up_home,
    up_refused,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

WITHIN_S = 120  # safety nets for a stuck start or join, not measurements
NAMESPACE = "amk-ray-tls-test"
DRIVER = """
import sys

import ray

ray.init(address=sys.argv[1], log_to_driver=False, configure_logging=False)


@ray.remote
def plus_one(x: int) -> int:
    return x + 1


print("plus_one(1) =", ray.get(plus_one.remote(1)), flush=True)
ray.shutdown()
"""


@dataclass
class TlsHead:
    head: RayHead
    ours: TlsFiles  # the session CA's Ray certificate: the head's and ours
    other: TlsFiles  # another CA's (same CA name, as every local CA has)

    @property
    def address(self) -> str:
        return self.head.address

    def token(self) -> str:
        return (self.head.home / ".ray" / "auth_token").read_text().strip()


@pytest.fixture(scope="module")
def tls_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsHead]:
    import ray

    root = tmp_path_factory.mktemp("ray-tls")
    node_ip = ray.util.get_node_ip_address()  # the IP Ray dials this machine's node at
    ours = ray_node(session_pki(), [node_ip])
    other = ray_node(LocalCa(root / "other").folder, [node_ip])
    head = RayHead(
        root / "head",
        Path(sys.executable).parent / "ray",
        env=tls_env(ours),
        credentials=RayTls(ours, "").credentials(),
        num_cpus=1,
    )
    try:
        yield TlsHead(head.ensure(), ours, other)
    finally:
        head.stop()


def _driver_env(head: TlsHead, files: TlsFiles) -> dict[str, str]:
    """A driver on this machine: the head's token (its HOME), Ray's TLS with ``files``."""
    env = {k: v for k, v in os.environ.items() if k not in RAY_VARS}
    return {**env, "HOME": str(head.head.home), "RAY_AUTH_MODE": "token", **tls_env(files)}


def test_a_driver_with_the_tls_variables_runs_a_task(tls_head: TlsHead) -> None:
    """End to end: GCS, raylet and worker all speak TLS with our CA's certificate."""
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, tls_head.address],
        env=_driver_env(tls_head, tls_head.ours),
        capture_output=True,
        text=True,
        timeout=WITHIN_S,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "plus_one(1) = 2" in out.stdout


def test_the_gcs_port_speaks_tls_only(tls_head: TlsHead) -> None:
    """A plaintext gRPC call fails at the connection (the handshake), token or not; over
    TLS with our certificate the same call is answered; the port shows our CA's
    certificate to anyone who says hello."""
    token = tls_head.token()
    assert probe(tls_head.address, token) is grpc.StatusCode.UNAVAILABLE
    ours = RayTls(tls_head.ours, "").credentials()
    assert probe(tls_head.address, token, credentials=ours) is grpc.StatusCode.OK
    assert probe(tls_head.address, None, credentials=ours) is grpc.StatusCode.UNAUTHENTICATED
    shown = sniff(tls_head.address, 3.0)
    assert shown.tls and shown.cert is not None
    assert signed_by(shown.cert, x509.load_pem_x509_certificate(tls_head.ours.ca.read_bytes()))


def test_up_without_ray_tls_is_one_line_and_exit_2(tls_head: TlsHead, tmp_path: Path) -> None:
    code, lines = up_refused(
        tmp_path, tls_head.head.home, "--ray-address", tls_head.address, namespace=NAMESPACE
    )
    assert code == EXIT_REFUSED, lines
    assert len(lines) == 1, lines
    assert f"the Ray head at {tls_head.address} uses TLS; pass --ray-tls" in lines[0]


def test_up_with_another_cas_certificate_is_one_line_and_exit_2(
    tls_head: TlsHead, tmp_path: Path
) -> None:
    """Another CA's files in Ray's own variables (they win over the pki folder)."""
    code, lines = up_refused(
        tmp_path,
        tls_head.head.home,
        "--ray-address",
        tls_head.address,
        "--ray-tls",
        namespace=NAMESPACE,
        extra=tls_env(tls_head.other),
    )
    assert code == EXIT_REFUSED, lines
    assert len(lines) == 1, lines
    assert "the Ray head's certificate is not signed by our CA" in lines[0]


def test_the_head_refuses_a_certificate_of_another_ca(tls_head: TlsHead) -> None:
    """Our CA, but our certificate from another: the head's check of client
    certificates refuses it (the head is trusted, we are not)."""
    mixed = {**tls_env(tls_head.other), "RAY_TLS_CA_CERT": str(tls_head.ours.ca)}
    with pytest.raises(UpRefused, match="refused our Ray certificate"):
        plan_join(tls_head.address, env=mixed, home=tls_head.head.home)


def test_a_driver_with_another_cas_certificate_cannot_join(tls_head: TlsHead) -> None:
    """Without the preflight: Ray's own driver retries forever, each handshake failing
    on the head's certificate. Seen in its log, then the driver is killed."""
    log = tls_head.head.root / "other-ca-driver.err"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, tls_head.address],
            env=_driver_env(tls_head, tls_head.other),
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + WITHIN_S
        while "CERTIFICATE_VERIFY_FAILED" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        kill_left({p: start_time(p) for p in {proc.pid, *descendants(proc.pid)}})
        stdout, _ = proc.communicate(timeout=30)
    assert b"plus_one" not in stdout


def test_the_plan_for_a_plaintext_head_with_ray_tls_is_refused(ray_head: RayHead) -> None:
    """The session's plaintext head (token authentication only)."""
    with pytest.raises(UpRefused, match="does not use TLS but --ray-tls was given"):
        plan_join(ray_head.address, env={}, home=ray_head.home, ray_tls=True, pki=session_pki())


def test_the_plan_sets_rays_tls_and_token_variables(tls_head: TlsHead) -> None:
    plan = plan_join(
        tls_head.address, env={}, home=tls_head.head.home, ray_tls=True, pki=session_pki()
    )
    assert plan.env == {
        **tls_env(tls_head.ours),
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(tls_head.head.home / ".ray" / "auth_token"),
    }


def test_up_joins_a_tls_head_with_ray_tls_and_serves(tls_head: TlsHead, tmp_path: Path) -> None:
    """The README's commands: `amk up --ray-address HEAD:PORT --ray-tls`, the Ray
    certificate in the pki folder (``AMK_PKI``, the session's), up and answering."""
    state = up_home(tmp_path, NAMESPACE)
    gateway = f"127.0.0.1:{find_free_port()}"
    args = ["--ray-address", tls_head.address, "--ray-tls"]
    env = up_env(state, gateway, tls_head.head.home)
    proc, text = start_up(args, env, tmp_path / "up.out", WITHIN_S)
    try:
        assert f"Ray at {tls_head.address}: token authentication" in text
        assert f"Ray TLS on (the pki folder {session_pki()})" in text
        assert f"Ray joined at {tls_head.address}" in text
        with AmkClient([gateway], timeout_s=10) as client:
            incident = client.create_incident(region="oslo", lat=59.91, lon=10.75)
            assert client.get_incident(incident.id).region == "oslo"
    finally:
        stop_up(proc)
    assert proc.returncode == 0, (tmp_path / "up.out").read_text()[-3000:]
