"""``amk up`` never shares a cluster or guesses; etcd defragmentation.

One ``amk up`` runs as a subprocess for the whole module (each costs ~5-10 s on two
cores). A second one on the same ports, or the same state folder, must refuse before it
starts anything and leave the first serving with its etcd data as it was; an
unreachable etcd is one line and a non-zero exit. The rest runs in-process against the
session's etcd: defragmentation, the port-holder lookup, the etcd identity check and
the bounded wait for "up".
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clients.client import AmkClient
from clients.up_guard import EXIT_UNAVAILABLE, UpRefused, check_embedded_etcd, wait_ready
from cluster.config import ClusterConfig
from cluster.errors import ConfigError, StoreUnavailableError
from cluster.etcd import EtcdClient, op_delete, op_put
from cluster.etcd_maintenance import db_usage, defragment
from cluster.etcd_probe import probe, verify_member
from cluster.etcd_server import EmbeddedEtcd, find_free_port, member_name
from cluster.etcd_tls import identity_files
from cluster.keys import Keys
from cluster.ports import port_holder, port_taken, taken_ports
from tests.helpers import session_pki
from tests.integration.processes import descendants, stop_up

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
USER = identity_files(session_pki(), "user")  # the session etcd's certificates
ROOT = identity_files(session_pki(), "root")
UP_WITHIN_S = 180  # a safety net for a stuck start, not a measurement


def _env(home: Path, gateway: str) -> dict[str, str]:
    env = {**os.environ, "AMK_HOME": str(home), "AMK_GATEWAY": gateway, "PYTHONPATH": str(REPO)}
    env.pop("RAY_ADDRESS", None)
    env.pop("AMK_ETCD", None)
    return env


def _up_once(home: Path, gateway: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``amk up`` that is expected to refuse: it must end on its own."""
    return subprocess.run(
        [sys.executable, "-m", "clients.cli", "up", *args],
        cwd=REPO,
        env=_env(home, gateway),
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class First:
    """The module's one running cluster."""

    home: Path
    gateway: str
    etcd: str
    proc: subprocess.Popen[bytes]
    output: str


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[First]:
    home = tmp_path_factory.mktemp("first")
    client_port, peer_port, gw_port = find_free_port(), find_free_port(), find_free_port()
    (home / "amk.toml").write_text(
        f"etcd_client_port = {client_port}\netcd_peer_port = {peer_port}\n"
    )
    gateway = f"127.0.0.1:{gw_port}"
    log = home / "up.out"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clients.cli", "up"],
            cwd=REPO,
            env=_env(home, gateway),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session, as in test_cli_e2e: the fixture stops it
        )
    try:
        deadline = time.monotonic() + UP_WITHIN_S
        while "AMK cluster up" not in log.read_text():
            assert proc.poll() is None, f"amk up exited: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "amk up did not come up"
            time.sleep(0.2)
        yield First(home, gateway, f"127.0.0.1:{client_port}", proc, log.read_text())
    finally:
        stop_up(proc)


async def _snapshot(endpoint: str) -> list[tuple[bytes, int, bytes]]:
    """The cluster's regions (owner keys: their mod revisions are the fencing tokens, so
    a takeover would show), incidents and units, with mod revisions and values (read
    with the session CA's etcd user certificate: that cluster's ``amk up`` uses the
    session's pki folder, ``AMK_PKI``, as its clients and their tokens do)."""
    keys = Keys(ClusterConfig().key_prefix)
    client = EtcdClient([endpoint], tls=USER)
    try:
        found = []
        for prefix in (keys.regions_prefix(), keys.incidents_prefix(), keys.units_prefix()):
            kvs, _ = await client.get_prefix(prefix)
            found += [(kv.key, kv.mod_revision, kv.value) for kv in kvs]
    finally:
        await client.close()
    return found


async def test_second_up_on_the_same_ports_refuses_and_leaves_the_first_alone(
    first: First, tmp_path: Path
) -> None:
    with AmkClient([first.gateway], timeout_s=10) as client:
        incident = client.create_incident(region="oslo", lat=59.91, lon=10.75)
    before = await _snapshot(first.etcd)

    home = tmp_path / "second"
    home.mkdir()
    (home / "amk.toml").write_text((first.home / "amk.toml").read_text())
    out = _up_once(home, first.gateway)

    text = out.stdout + out.stderr
    assert out.returncode == 2, text
    assert "Traceback" not in text
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), text
    assert f"gateway port {first.gateway} is taken" in text
    assert f"embedded etcd client port {first.etcd} is taken" in text
    named = {int(w) for w in text.replace(")", " ").split() if w.isdigit()}
    assert named & descendants(first.proc.pid), f"no holder of the first cluster named: {text}"
    assert not (home / "etcd").exists(), "the second amk up started its etcd"

    assert await _snapshot(first.etcd) == before
    with AmkClient([first.gateway], timeout_s=10) as client:
        assert client.get_incident(incident.id).id == incident.id


def test_second_up_on_the_same_state_folder_refuses(first: First) -> None:
    out = _up_once(first.home, f"127.0.0.1:{find_free_port()}")
    text = out.stdout + out.stderr
    assert out.returncode == 2, text
    assert f"state folder {first.home} is in use" in text and "Traceback" not in text
    assert first.proc.poll() is None


def test_unreachable_etcd_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "amk.toml").write_text(f'pki_dir = "{session_pki()}"\n')  # certificates
    out = _up_once(tmp_path, f"127.0.0.1:{find_free_port()}", "--etcd", "127.0.0.1:1")
    text = out.stdout + out.stderr
    assert out.returncode == EXIT_UNAVAILABLE, text
    assert "Traceback" not in text
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "127.0.0.1:1" in lines[0] and "does not answer" in lines[0]


async def test_not_up_names_what_is_missing(first: First) -> None:
    # The first cluster's gateway serves and its regions are owned, but not by the
    # instances this waiter calls its own; a second gateway address serves nothing.
    silent = f"127.0.0.1:{find_free_port()}"
    config = ClusterConfig.load(
        gateways=[first.gateway, silent], up_ready_timeout_s=0.3, pki_dir=session_pki()
    )

    async def none_of_ours() -> dict[str, str]:
        return {}

    with pytest.raises(UpRefused) as refused:
        await wait_ready(config, [first.etcd], none_of_ours)
    message = str(refused.value)
    assert refused.value.exit_code == EXIT_UNAVAILABLE
    assert f"gateway not serving: {silent}" in message and first.gateway not in message
    assert all(f"{r} (held by" in message for r in config.region_ids())


async def test_defragment_leaves_the_session_etcd_healthy_and_its_data_readable(
    etcd_server: EmbeddedEtcd, etcd: EtcdClient, prefix: str
) -> None:
    keys = [f"{prefix}defrag/{i}".encode() for i in range(40)]
    for key in keys:
        await etcd.txn([], [op_put(key, os.urandom(8000))])
    for key in keys[::2]:
        await etcd.txn([], [op_delete(key)])
    kept, _ = await etcd.get_prefix(f"{prefix}defrag/".encode())

    (before,) = await db_usage([etcd_server.endpoint], tls=USER)
    results = await defragment([etcd_server.endpoint], tls=ROOT)  # etcd: root role only

    assert [r.endpoint for r in results] == [etcd_server.endpoint]
    (result,) = results
    assert result.before.member_id == result.after.member_id == before.member_id
    assert result.before.db_size > 0 and result.after.db_size > 0
    assert result.after.db_size_in_use is not None  # etcd >= 3.4 reports it
    assert await etcd.healthy()
    again, _ = await etcd.get_prefix(f"{prefix}defrag/".encode())
    assert again == kept and len(again) == 20


async def test_defragment_refuses_before_touching_anything_when_a_member_is_silent(
    etcd_server: EmbeddedEtcd,
) -> None:
    with pytest.raises(StoreUnavailableError, match=re.escape("127.0.0.1:1")):
        await defragment([etcd_server.endpoint, "127.0.0.1:1"], tls=ROOT)


async def test_the_etcd_identity_check(etcd_server: EmbeddedEtcd) -> None:
    await verify_member(etcd_server.endpoint, etcd_server.name, tls=USER)
    with pytest.raises(ConfigError, match=f"member {etcd_server.name}, expected amk-other"):
        await verify_member(etcd_server.endpoint, "amk-other", tls=USER, within_s=0.3)
    with pytest.raises(ConfigError, match="has exited"):
        await verify_member(etcd_server.endpoint, "amk-other", tls=USER, alive=lambda: False)
    assert await probe([etcd_server.endpoint], tls=USER) == []
    assert await probe([etcd_server.endpoint, "127.0.0.1:1"], tls=USER) == ["127.0.0.1:1"]


def test_an_embedded_etcd_that_lost_its_port_is_not_taken_for_ours(
    etcd_server: EmbeddedEtcd, tmp_path: Path
) -> None:
    # The race the port check cannot close: our etcd dies on bind while another etcd
    # answers healthily on that port. Either the start sees the death, or the identity
    # check does; never is the other etcd used.
    data = tmp_path / "etcd"
    mine = EmbeddedEtcd(
        data,
        tls=etcd_server.tls,
        client_port=etcd_server.client_port,
        peer_port=find_free_port(),
        name=member_name(data),
        log_file=tmp_path / "etcd.log",
    )
    try:
        with pytest.raises((ConfigError, UpRefused)):
            mine.start()
            check_embedded_etcd(mine)
    finally:
        mine.stop()
    assert not mine.alive()


def test_the_port_holder_is_this_process() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_taken("127.0.0.1", port)
        holder = port_holder(port)
        assert holder is not None and holder.pid == os.getpid()
        (line,) = taken_ports([("gateway", f"127.0.0.1:{port}")])
        assert f"127.0.0.1:{port} is taken by pid {os.getpid()}" in line
    # An address of another machine (a gateway on another node) is not ours to test.
    assert taken_ports([("gateway", "192.0.2.1:50051")]) == []
