"""A backup of etcd's live state: one snapshot file and a manifest that checks it.

The live state (open incidents, units, calls, owners, counters, the journal not yet
archived) is in etcd only; closed work is in the archive database, which PostgreSQL's
own tools back up. A backup is etcd's own snapshot (``Maintenance.Snapshot``: the whole
backend file as of one revision, with etcd's SHA-256 at its end, which ``etcdctl snapshot
restore`` checks), written next to ``manifest.json``: when and from where it was taken,
the revision it is at least at, its size and SHA-256 (so a copy can be checked without
etcd), and each region's counter (the last issued incident number the backup knows:
for the operator; the restore reads its figures from the restored store itself).

A snapshot is of the whole etcd, not only our prefix: etcd has no other kind. etcd gives
it to its root role only (auth on), so ``amk etcd backup`` shows the root certificate as
``amk etcd defrag`` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import grpc
from aetcd import rpc

from cluster.errors import ConfigError, StoreUnavailableError
from cluster.etcd import EtcdClient
from cluster.keys import Keys

FORMAT = "amk-etcd-backup/1"
SNAPSHOT_FILE = "etcd.snapshot"
MANIFEST_FILE = "manifest.json"
SNAPSHOT_TIMEOUT_S = 600.0  # a backend of some GiB streams in tens of seconds


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a backup folder holds, and how to check it."""

    taken_at: float  # wall-clock seconds when the snapshot began
    revision: int  # etcd's revision just before: the snapshot holds at least this
    prefix: str  # the deployment's key prefix (the counters below are under it)
    etcd_version: str
    size: int  # bytes of the snapshot file
    sha256: str  # of the whole snapshot file
    counters: dict[str, int] = field(default_factory=dict)  # region -> last number
    format: str = FORMAT

    def encode(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Manifest:
        try:
            d = json.loads(raw)
            if d.get("format") != FORMAT:
                raise ConfigError(f"not a backup of this kind: format {d.get('format')!r}")
            return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
        except (ValueError, TypeError, AttributeError) as exc:
            raise ConfigError(f"the manifest is not readable: {exc}") from exc


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


async def counters(client: EtcdClient, keys: Keys) -> dict[str, int]:
    """Each region's last issued incident number (``counters/{region}``)."""
    prefix = keys.counter("")
    kvs, _ = await client.get_prefix(prefix)
    return {kv.key[len(prefix) :].decode(): int(kv.value) for kv in kvs}


async def take(client: EtcdClient, keys: Keys, folder: Path) -> Manifest:
    """Write a snapshot of etcd and its manifest into ``folder`` (created; it must not
    hold a backup already). The snapshot is written to a temporary name, synced and
    renamed, and the manifest last: a folder with a manifest is a whole backup."""
    # Blocking file calls on this loop: it is the CLI's own, serving nothing else.
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    if (folder / MANIFEST_FILE).exists() or (folder / SNAPSHOT_FILE).exists():
        raise ConfigError(f"{folder} already holds a backup: give a new folder")
    status = await client.status()
    revision = status.header.revision
    numbers = await counters(client, keys)
    taken_at = time.time()
    part = folder / (SNAPSHOT_FILE + ".part")
    call = client.stub(rpc.MaintenanceStub).Snapshot(
        rpc.SnapshotRequest(), timeout=SNAPSHOT_TIMEOUT_S
    )
    try:
        with open(part, "wb") as f:  # noqa: ASYNC230
            async for chunk in call:
                f.write(chunk.blob)
            f.flush()
            os.fsync(f.fileno())
    except grpc.aio.AioRpcError as exc:
        part.unlink(missing_ok=True)
        raise StoreUnavailableError(f"snapshot: {exc.code().name}: {exc.details()}") from exc
    if part.stat().st_size == 0:
        raise ConfigError("etcd sent an empty snapshot")
    part.rename(folder / SNAPSHOT_FILE)
    manifest = Manifest(
        taken_at=taken_at,
        revision=revision,
        prefix=keys.prefix,
        etcd_version=status.version,
        size=(folder / SNAPSHOT_FILE).stat().st_size,
        sha256=_sha256(folder / SNAPSHOT_FILE),
        counters=numbers,
    )
    tmp = folder / (MANIFEST_FILE + ".part")
    tmp.write_bytes(manifest.encode())
    tmp.rename(folder / MANIFEST_FILE)
    return manifest


def check(folder: Path) -> Manifest:
    """The manifest of the backup in ``folder``, once its snapshot is checked whole;
    ConfigError saying what is wrong otherwise."""
    try:
        manifest = Manifest.decode((folder / MANIFEST_FILE).read_bytes())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{folder}: no {MANIFEST_FILE} (not a backup, or an unfinished one)"
        ) from exc
    snap = folder / SNAPSHOT_FILE
    if not snap.exists():
        raise ConfigError(f"{folder}: {SNAPSHOT_FILE} is missing")
    size = snap.stat().st_size
    if size != manifest.size or _sha256(snap) != manifest.sha256:
        raise ConfigError(f"{snap}: does not match its manifest (size or SHA-256): damaged")
    return manifest
