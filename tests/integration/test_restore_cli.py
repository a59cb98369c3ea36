"""``amk etcd backup`` and ``amk etcd restore`` end to end: a real ``amk up`` backed up,
written to, stopped, restored and started again (two starts: ~20 s on two cores)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.client import AmkClient
from cluster.archive import open_archive
from cluster.etcd_server import EmbeddedEtcd, find_free_port
from cluster.etcd_tls import identity_files
from cluster.restore import restore_data_dir
from tests.helpers import session_pki
from tests.integration.processes import start_up, stop_up

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

REPO = Path(__file__).resolve().parents[2]
UP_WITHIN_S = 180  # a safety net for a stuck start, not a measurement


def _env(home: Path, gateway: str) -> dict[str, str]:
    env = {**os.environ, "AMK_HOME": str(home), "AMK_GATEWAY": gateway, "PYTHONPATH": str(REPO)}
    for name in ("RAY_ADDRESS", "AMK_ETCD"):
        env.pop(name, None)
    return env


def _amk(home: Path, gateway: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clients.cli", *args],
        cwd=REPO,
        env=_env(home, gateway),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _up(home: Path, gateway: str) -> subprocess.Popen[bytes]:
    log = home / f"up-{time.monotonic_ns()}.out"
    return start_up([], _env(home, gateway), log, UP_WITHIN_S)[0]


def _listing(home: Path) -> list[str]:
    """The state folder's entries (SQLite's own -wal/-shm files come and go)."""
    return sorted(p.name for p in home.iterdir() if not p.name.startswith("archive.db-"))


def _archive_told_after(home: Path, taken_at: float) -> int:
    """The highest revision the archive holds or was told, once told after ``taken_at``."""
    archive = open_archive(f"sqlite://{(home / 'archive.db').resolve()}")
    try:
        deadline = time.monotonic() + 30
        while True:
            seen, told = archive.max_revision()
            if told >= taken_at:
                return seen
            assert time.monotonic() < deadline, "the archive was not told etcd's revision"
            time.sleep(0.5)
    finally:
        archive.close()


def _archived(home: Path, closed_id: str, created_id: str) -> None:
    """Wait until the archive holds ``closed_id``'s final state and the journal entry
    that created ``created_id`` (each archiver pass: 5 s)."""
    archive = open_archive(f"sqlite://{(home / 'archive.db').resolve()}")
    try:
        deadline = time.monotonic() + 60
        while not (
            archive.get_record("incidents", closed_id) is not None
            and archive.history("incidents", created_id)
        ):
            assert time.monotonic() < deadline, "the archive did not get the work"
            time.sleep(0.5)
    finally:
        archive.close()


def _settle_elsewhere(home: Path, gateway: str, tmp_path: Path, expected: dict) -> None:
    """``amk etcd settle`` on an etcd restored by hand from the backup in ``tmp_path/b``;
    then again, refused with nothing changed; and on an empty etcd, refused."""

    def etcd(name: str, restored: bool) -> EmbeddedEtcd:
        peer = find_free_port()
        if restored:
            url = f"https://127.0.0.1:{peer}"
            restore_data_dir(tmp_path / "b", tmp_path / name, name=name, peer_url=url)
        return EmbeddedEtcd(
            tmp_path / name,
            tls=identity_files(session_pki(), "server"),  # the suite's amk runs on AMK_PKI
            client_port=find_free_port(),
            peer_port=peer,
            name=name,
            log_file=tmp_path / f"{name}.log",
        ).start()

    def settle(server: EmbeddedEtcd) -> tuple[str, ...]:
        return ("etcd", "settle", "--from", str(tmp_path / "b"), "--etcd", server.endpoint)

    empty = etcd("empty", restored=False)
    try:
        behind = _amk(home, gateway, *settle(empty))
        assert behind.returncode == 2 and "not restored from this backup" in behind.stderr
    finally:
        empty.stop()
    server = etcd("other", restored=True)
    try:
        out = _amk(home, gateway, *settle(server), "--revision-margin", "500", "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        got = json.loads(out.stdout)
        fields = ("numbers", "rolled_forward", "moved_past", "backup_taken_at", "restored_revision")
        for field in fields:
            assert got[field] == expected[field], field
        again = _amk(home, gateway, *settle(server), "--json")
        assert again.returncode == 2 and "written since the restore" in again.stderr
        assert not again.stdout
        embedded = _amk(home, gateway, "etcd", "settle", "--from", str(tmp_path / "b"))
        assert embedded.returncode == 2 and "amk etcd restore" in embedded.stderr
    finally:
        server.stop()


def test_a_cluster_restored_from_a_backup_serves_what_the_backup_and_archive_held(
    tmp_path: Path,
) -> None:
    """Closed work and the journal go to the archive at once here (hold 0): what the
    lost store did after the backup is rolled forward from it, unless asked not to."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "amk.toml").write_text(
        f"etcd_client_port = {find_free_port()}\netcd_peer_port = {find_free_port()}\n"
        "archive_hold_s = 0.0\njournal_hold_s = 0.0\n"
    )
    gateway = f"127.0.0.1:{find_free_port()}"
    proc = _up(home, gateway)
    try:
        with AmkClient([gateway], timeout_s=10) as client:
            kept = client.create_incident(region="oslo", lat=59.91, lon=10.75)
            closed = client.create_incident(region="oslo", lat=59.90, lon=10.74)
            client.triage_incident(closed.id, "A.11.01")
            out = _amk(home, gateway, "etcd", "backup", "--out", str(tmp_path / "b"), "--json")
            assert out.returncode == 0, out.stderr
            manifest = json.loads(out.stdout)
            out = _amk(home, gateway, "etcd", "verify", "--from", str(tmp_path / "b"), "--json")
            assert out.returncode == 0, out.stderr
            verified = json.loads(out.stdout)
            assert verified["counters"] == manifest["counters"]
            assert (
                verified["keys"]["incidents"] >= 1 and verified["revision"] >= manifest["revision"]
            )
            client.change_incident_status(closed.id, "closed")  # archived, then gone
            later = client.create_incident(region="oslo", lat=59.92, lon=10.76)
        _archived(home, closed.id, later.id)
        # The centres' archivers tell the archive etcd's revision every pass (5 s).
        seen = _archive_told_after(home, manifest["taken_at"])
        refused = _amk(home, gateway, "etcd", "restore", "--from", str(tmp_path / "b"))
        assert refused.returncode == 2 and "stop the cluster first" in refused.stderr
    finally:
        stop_up(proc)
    before = _listing(home)
    old = sorted(str(p.relative_to(home)) for p in (home / "etcd").rglob("*"))

    restore = ("etcd", "restore", "--from", str(tmp_path / "b"), "--revision-margin", "500")
    # etcd's tool fails half way (it made the new folder): nothing changes.
    broken = tmp_path / "etcdctl"
    broken.write_text('#!/bin/sh\nmkdir -p "$5/member"\necho "disk full" >&2\nexit 1\n')
    broken.chmod(0o755)
    env = {**_env(home, gateway), "AMK_ETCDCTL_BIN": str(broken)}
    failed = subprocess.run(
        [sys.executable, "-m", "clients.cli", *restore],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert "disk full" in failed.stderr and "nothing changed" in failed.stderr
    assert _listing(home) == before  # no etcd.restoring left
    assert sorted(str(p.relative_to(home)) for p in (home / "etcd").rglob("*")) == old

    # The backup alone: what came after it is not written back.
    out = _amk(home, gateway, *restore, "--no-roll-forward", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    alone = json.loads(out.stdout)
    assert alone["rolled_forward"] is None
    assert alone["numbers"]["oslo"]["restored"] == manifest["counters"]["oslo"]
    assert Path(alone["old_data"]).is_dir()  # the old data kept, not deleted
    assert set(_listing(home)) - set(before) == {Path(alone["old_data"]).name}

    out = _amk(home, gateway, *restore, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    rolled = report["rolled_forward"]
    assert rolled["written"]["incidents"] >= 1 and rolled["removed"] == {"incidents": 1}
    assert "oslo" in rolled["horizons"] and rolled["skipped"] == []
    restored = report["numbers"]["oslo"]["restored"]
    assert restored == int(later.id.split("-")[-1])  # the archive's, above the counter
    assert report["numbers"]["oslo"]["now"] == restored + 1000
    assert report["moved_past"] >= seen + 500 > later.revision
    assert report["revision"] > report["moved_past"] and report["leases_revoked"] >= 1

    # The same backup restored by etcd's own procedure into an etcd of its own (as each
    # member of a three-member etcd would be), then settled from here: the same result.
    _settle_elsewhere(home, gateway, tmp_path, report)

    proc = _up(home, gateway)
    try:
        with AmkClient([gateway], timeout_s=10) as client:
            assert client.get_incident(kept.id).id == kept.id
            assert client.get_incident(later.id).id == later.id  # rolled forward
            # Closed after the backup: read from the archive, not open again.
            assert client.get_incident(closed.id).status == pb.INCIDENT_STATUS_CLOSED
            listed = {i.id for i in client.list_incidents(regions="oslo")}
            assert kept.id in listed and later.id in listed and closed.id not in listed
            new = client.create_incident(region="oslo", lat=59.93, lon=10.77)
            assert int(new.id.split("-")[-1]) == restored + 1000 + 1, new.id
    finally:
        stop_up(proc)
