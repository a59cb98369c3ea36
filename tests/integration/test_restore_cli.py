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

from clients.client import AmkClient
from cluster.archive import open_archive
from cluster.etcd_server import find_free_port
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


def test_a_cluster_restored_from_a_backup_serves_what_the_backup_held(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "amk.toml").write_text(
        f"etcd_client_port = {find_free_port()}\netcd_peer_port = {find_free_port()}\n"
    )
    gateway = f"127.0.0.1:{find_free_port()}"
    proc = _up(home, gateway)
    try:
        with AmkClient([gateway], timeout_s=10) as client:
            kept = client.create_incident(region="oslo", lat=59.91, lon=10.75)
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
            lost = client.create_incident(region="oslo", lat=59.92, lon=10.76)
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

    out = _amk(home, gateway, *restore, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    restored = report["numbers"]["oslo"]["restored"]
    assert restored == manifest["counters"]["oslo"]
    assert report["numbers"]["oslo"]["now"] == restored + 1000
    assert report["moved_past"] >= seen + 500 > lost.revision
    assert report["revision"] > report["moved_past"] and report["leases_revoked"] >= 1
    assert Path(report["old_data"]).is_dir()  # the old data kept, not deleted
    assert set(_listing(home)) - set(before) == {Path(report["old_data"]).name}

    proc = _up(home, gateway)
    try:
        with AmkClient([gateway], timeout_s=10) as client:
            assert client.get_incident(kept.id).id == kept.id
            with pytest.raises(Exception, match=r"NOT_FOUND|not found"):
                client.get_incident(lost.id)
            new = client.create_incident(region="oslo", lat=59.93, lon=10.77)
            assert new.id not in (kept.id, lost.id)
            assert int(new.id.split("-")[-1]) == restored + 1000 + 1, new.id
    finally:
        stop_up(proc)
