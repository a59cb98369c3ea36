"""Bring etcd back from a backup (:mod:`cluster.backup`) without breaking fencing.

etcd's own restore (``etcdctl snapshot restore``) gives back the store as it was at the
snapshot's revision R, with the leases it then had, and numbers the next write R + 1.
Three things of the lost store outlive it and would clash with that:

- **Writers.** A centre that claimed a region after R holds a token above R; one paused
  through the restore could find it on a new owner's key. A fence also compares the
  owner record its claim wrote (:mod:`cluster.ownership`), so that write fails anyway;
  and every lease under our prefix is revoked here, so no owner of the snapshot's time
  comes back by keeping its old lease alive.
- **Revisions seen outside etcd.** The archive keeps records and journal entries by
  their etcd revision (``ON CONFLICT DO NOTHING``): a new version at a revision it
  already holds would be dropped. Consoles resume their watch from the last revision
  they saw. So the revision is moved past ``floor`` before anything else writes: ``amk
  etcd restore`` takes the highest revision the archive holds or its archivers last saw
  (each tells it every pass), plus a margin for the seconds after. Then the history is
  compacted at the restore's last revision: a reader resuming from before it (with
  records this store never had) is told to start over with a snapshot, and the gateway
  tells one resuming from beyond the store's revision the same.
- **What the archive got after R.** The archive holds every command's record versions
  up to its journal's horizon (about an hour before the loss), and the final state of
  work that left etcd: both are rolled forward (:mod:`cluster.roll_forward`), once the
  revision is past the floor (the archive keys them by revision).
- **Incident numbers** issued after R: told to the crews, the police, a hospital. Each
  region's last number (its counter, its highest live incident or the highest the
  archive knows after R, whichever is highest; a region without a counter gets one) is
  raised by ``number_gap``, so none of them is issued again if the region issued fewer
  than that after the archive's horizon.

:func:`settle` does this on a running etcd of restored data, before any centre starts,
under fences of its own: it refuses, with nothing changed, if anything under our prefix
was written since the restore (a centre at work: the cluster must be stopped), claims
every region on a lease of its own, writes with those fences, leaves a
``restores/{stamp}`` record of what it found and did, and gives the regions up.
:func:`restore_data_dir` makes a member's data folder from a snapshot with etcd's own
tool; :func:`verify` restores a backup into a throwaway etcd to show it is good.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import grpc
import structlog
from aetcd import rpc

from cluster import ownership, roll_forward
from cluster.archive.base import ArchivedSince
from cluster.backup import SNAPSHOT_FILE, Manifest, check, counters
from cluster.errors import AmkError, ConfigError, StoreUnavailableError
from cluster.etcd import EtcdClient, cmp_mod_revision, op_delete, op_put
from cluster.etcd_server import EmbeddedEtcd, distro_binary, find_free_port, scheme
from cluster.keys import Keys
from cluster.pki import TlsFiles
from cluster.session import Session

log = structlog.get_logger("amk.restore")

NUMBER_GAP = 1000  # incident numbers skipped per region: more than a backup interval issues
# Revisions the lost store may have issued after the archive was last told (each archive
# pass tells it, every 5 s): amk etcd restore's default margin over the archive's figure.
REVISION_MARGIN = 20000
BUMP_WINDOW = 64  # revision-moving writes in flight at once
LEASE_TTL_S = 10
# The compaction point is set at once; etcd drops the old revisions in the background.
COMPACT_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Settled:
    """What :func:`settle` found and changed."""

    stamp: str
    restored_revision: int  # etcd's revision as restored: the snapshot's
    floor: int  # the revision moved past (amk etcd restore: the archive's figure + margin)
    revision: int  # etcd's revision when done (compacted there): later writes are above
    leases_revoked: int
    numbers: dict[str, tuple[int, int]]  # region -> (last number restored, last number now)
    regions: tuple[str, ...]
    rolled: roll_forward.Plan | None = None  # what the archive gave back (None: not asked)


class RestoreRefused(ConfigError):
    """The restore cannot go on (a region is held, a tool is missing); nothing lasting
    changed unless it is a :class:`SettleInterrupted`."""


class SettleInterrupted(RestoreRefused):
    """Settling failed after a lasting write (a record written back, a counter, the
    restore's record): the etcd is half settled, and a second settle refuses it (keys
    newer than the restore). It must be restored from the backup again before anything
    serves from it. ``reason`` is the failure; ``__cause__`` the error itself."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"{reason}; settling had begun writing, so this etcd is half settled: restore "
            "it from the backup again before anything serves from it"
        )
        self.reason = reason


@dataclass(slots=True)
class _Lasting:
    """Whether settling has made a write that outlives it: the claims and the revision
    moves are on its own lease, revoked at the end, but a record written back, a counter
    and the restore's record stay. From the first of them a failure is half settled."""

    written: bool = False


async def _leases_under(client: EtcdClient, keys: Keys, restored_revision: int) -> set[int]:
    """The leases of keys under our prefix, once nothing there is newer than the restore
    (else a centre, or an earlier settle, is at work: refused, nothing changed)."""
    kvs, _ = await client.get_prefix(keys.all(), keys_only=True)
    newer = sorted(kv.key.decode() for kv in kvs if kv.mod_revision > restored_revision)
    if newer:
        raise RestoreRefused(
            f"{len(newer)} key(s) written since the restore (first {newer[0]}): stop the "
            "cluster; a restore is settled once, before anything else writes"
        )
    return {kv.lease for kv in kvs if kv.lease}


async def _claim_all(
    client: EtcdClient, keys: Keys, regions: Sequence[str], record: ownership.OwnerRecord
) -> dict[str, ownership.Fence]:
    fences: dict[str, ownership.Fence] = {}
    for region in regions:
        fence, holder = await ownership.claim(client, keys, region, record)
        if fence is None:
            who = holder.record.centre if holder is not None else "someone"
            raise RestoreRefused(
                f"region {region} is held by {who}: stop the cluster before settling a restore"
            )
        fences[region] = fence
    return fences


async def _raise_numbers(
    client: EtcdClient,
    keys: Keys,
    fences: dict[str, ownership.Fence],
    gap: int,
    known: dict[str, int],
    codes: Mapping[str, str] | None,
    lasting: _Lasting,
) -> dict[str, tuple[int, int]]:
    """Every region's last incident number, raised by ``gap`` (one guarded txn each).
    The last number is the counter's, a live incident's or one the archive knows after
    the backup (``known``), whichever is highest; a region without a counter gets
    one. A live incident counts for the region whose code its id carries, wherever it
    is now (:func:`cluster.roll_forward.numbered`)."""
    live: dict[str, int] = {}
    kvs, _ = await client.get_prefix(keys.incidents_prefix(), keys_only=True)
    for kv in kvs:
        name = keys.parse(kv.key)
        if name is not None and (got := roll_forward.numbered(name[2], name[1], codes)):
            live[got[0]] = max(live.get(got[0], 0), got[1])
    out: dict[str, tuple[int, int]] = {}
    for region, fence in sorted(fences.items()):
        key = keys.counter(region)
        kv = await client.get(key)
        number = max(int(kv.value) if kv else 0, known.get(region, 0), live.get(region, 0))
        resp = await client.txn(
            [*fence.compares(), cmp_mod_revision(key, kv.mod_revision if kv else 0)],
            [op_put(key, str(number + gap).encode())],
        )
        if not resp.succeeded:
            raise RestoreRefused(f"region {region}: its counter or owner changed meanwhile")
        lasting.written = True
        out[region] = (number, number + gap)
    return out


async def _roll_forward(
    client: EtcdClient,
    keys: Keys,
    fences: dict[str, ownership.Fence],
    since: ArchivedSince,
    restored: int,
    codes: Mapping[str, str] | None,
    lasting: _Lasting,
) -> roll_forward.Plan:
    """Write back what the archive holds after the backup (:mod:`cluster.roll_forward`),
    a slice of keys per transaction, each guarded by its region's fence and by every
    key's mod revision as read here (nothing else may write meanwhile)."""
    kvs, _ = await client.get_prefix(keys.all(), keys_only=True)
    live = {kv.key: kv.mod_revision for kv in kvs if roll_forward.rolled_key(keys, kv.key)}
    todo = roll_forward.plan(since, restored, live, fences, keys, codes)
    for region, steps in itertools.groupby(todo.steps, key=attrgetter("region")):  # sorted
        for part in roll_forward.slices(list(steps)):
            resp = await client.txn(
                [
                    *fences[region].compares(),
                    *(cmp_mod_revision(s.key, live.get(s.key, 0)) for s in part),
                ],
                [op_put(s.key, s.value) if s.value is not None else op_delete(s.key) for s in part],
            )
            if not resp.succeeded:
                raise RestoreRefused(
                    f"region {region}: a key or its owner changed while rolling forward"
                )
            lasting.written = True
    return todo


async def _move_past(
    client: EtcdClient, key: bytes, fence: ownership.Fence, lease: int, floor: int
) -> int:
    """Write ``key`` (on ``lease``) until etcd's revision is above ``floor``; the last
    revision. Each write is guarded by ``fence`` and moves the revision by one."""
    revision = await client.revision()
    while revision <= floor:
        n = min(BUMP_WINDOW, floor - revision + 1)
        resps = await asyncio.gather(
            *(client.txn(list(fence.compares()), [op_put(key, b"", lease=lease)]) for _ in range(n))
        )
        if not all(r.succeeded for r in resps):
            raise RestoreRefused(f"lost {fence.region} while moving the revision on")
        revision = max(r.header.revision for r in resps)
    return revision


async def settle(
    client: EtcdClient,
    keys: Keys,
    regions: Sequence[str],
    *,
    restored_revision: int,
    floor: int,
    number_gap: int = NUMBER_GAP,
    writer: str = "restore",
    manifest: Manifest | None = None,
    archived: ArchivedSince | None = None,
    codes: Mapping[str, str] | None = None,
) -> Settled:
    """Make a restored etcd safe to serve from (see the module's note), once, before
    anything else writes under ``keys``: ``restored_revision`` is etcd's revision as the
    restore left it, and any key newer than that means a centre (or an earlier settle)
    is at work: refused with nothing changed. ``archived`` is what the archive holds
    after the backup's revision (at most ``restored_revision``), rolled forward (None:
    the backup alone). ``codes`` (region -> incident id code, the seed's) credits each
    incident number to the region that issued it; without it, to the key's region."""
    if archived is not None and archived.revision > restored_revision:
        raise ValueError("the archive must be read after a revision the restore holds")
    if number_gap < 0 or not regions:
        raise ValueError("settle needs regions and a number_gap of at least 0")
    restored = restored_revision  # the name the record and Settled give it
    leases = await _leases_under(client, keys, restored_revision)
    # Revoking them deletes the backup's owner keys only: a settle that fails before
    # its first lasting write can simply be run again.
    for lease in sorted(leases):
        await client.lease_revoke(lease)
    session = await Session(client, LEASE_TTL_S).open()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    lasting = _Lasting()
    try:
        record = ownership.now_record("restore", f"{writer}-{stamp}", session.lease_id)
        fences = await _claim_all(client, keys, sorted(regions), record)
        first = fences[min(fences)]
        # Past the floor first: a record written back at a revision the archive already
        # holds for it would be dropped there when archived again.
        await _move_past(client, keys.restore("revision"), first, session.lease_id, floor)
        rolled = None
        if archived is not None:
            rolled = await _roll_forward(client, keys, fences, archived, restored, codes, lasting)
        known = rolled.numbers if rolled is not None else {}
        numbers = await _raise_numbers(client, keys, fences, number_gap, known, codes, lasting)
        doc: dict[str, object] = {
            "stamp": stamp,
            "writer": writer,
            "at": time.time(),
            "restored_revision": restored,
            "floor": floor,
            "leases_revoked": len(leases),
            "numbers": numbers,
        }
        if rolled is not None:
            doc["rolled_forward"] = {
                **rolled.counts(),
                "horizons": rolled.horizons,
                "skipped": len(rolled.skipped),
            }
        if manifest is not None:
            doc["backup"] = {"taken_at": manifest.taken_at, "revision": manifest.revision}
        compares = [c for f in fences.values() for c in f.compares()]
        resp = await client.txn(compares, [op_put(keys.restore(stamp), json.dumps(doc).encode())])
        if not resp.succeeded:
            raise RestoreRefused("lost a region while recording the restore")
        lasting.written = True
        # Every reader that saw the lost store (a console, a board) holds revisions and
        # records this store never had: a watch from before here fails as compacted, and
        # the reader starts over with a snapshot (the gateway refuses one from beyond).
        revision = resp.header.revision
        await _compact(client, revision)
        log.info("restore_settled", **{k: v for k, v in doc.items() if k != "numbers"})
        return Settled(
            stamp,
            restored,
            floor,
            revision,
            len(leases),
            numbers,
            tuple(sorted(fences)),
            rolled,
        )
    except AmkError as exc:
        if lasting.written:
            raise SettleInterrupted(exc.message) from exc
        raise  # the claims and the revision moves are on the session's lease: undone
    finally:
        await session.close(revoke=True)  # the regions are free for the centres


async def _compact(client: EtcdClient, revision: int) -> None:
    """Drop the history before ``revision``: a watch from before it fails as compacted
    from then on. Not physical: the point is set at once, etcd frees the space later."""
    req = rpc.CompactionRequest(revision=revision, physical=False)
    try:
        await client.stub(rpc.KVStub).Compact(req, timeout=COMPACT_TIMEOUT_S)
    except grpc.aio.AioRpcError as exc:
        raise StoreUnavailableError(f"compact: {exc.code().name}: {exc.details()}") from exc


def find_etcdctl() -> Path:
    """etcd's own tool, which restores a snapshot into a data folder."""
    candidates = [os.environ.get("AMK_ETCDCTL_BIN", ""), shutil.which("etcdctl") or ""]
    if distro := distro_binary("etcdctl"):
        candidates.append(str(distro))
    for c in candidates:
        if c and Path(c).exists():
            return Path(c)
    raise RestoreRefused(
        "no etcdctl: ./dev setup installs it (Debian's etcd-client), or set AMK_ETCDCTL_BIN"
    )


def snapshot_revision(folder: Path) -> int:
    """The revision etcd's snapshot in a backup holds (``etcdctl snapshot status``): a
    member restored from it starts there. The manifest's revision is read just before
    the snapshot is taken, so the snapshot may be a little further. (etcdctl 3.4 and
    3.5, the versions ./dev installs; 3.6 moved ``snapshot status`` and ``snapshot
    restore`` to etcdutl, and both would need it.)"""
    argv = [str(find_etcdctl()), "snapshot", "status", str(folder / SNAPSHOT_FILE), "-w", "json"]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=300, env={**os.environ, "ETCDCTL_API": "3"}
    )
    if done.returncode != 0:
        raise RestoreRefused(f"etcdctl snapshot status failed: {done.stderr.strip()[-400:]}")
    try:
        return int(json.loads(done.stdout)["revision"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RestoreRefused(
            f"etcdctl snapshot status: no revision in {done.stdout[:200]!r}"
        ) from exc


def restore_data_dir(
    folder: Path, data_dir: Path, *, name: str, peer_url: str, manifest: Manifest | None = None
) -> Manifest:
    """Make ``data_dir`` (absent or empty) a one-member etcd's data from the backup in
    ``folder``, once the backup is checked whole (``manifest``: checked already by the
    caller, so the snapshot, which may be GiB, is not hashed twice); the manifest."""
    manifest = manifest or check(folder)
    if data_dir.exists():
        if any(data_dir.iterdir()):
            raise RestoreRefused(f"{data_dir} is not empty: move it aside first")
        data_dir.rmdir()  # etcdctl makes it, and refuses one that exists
    argv = [
        str(find_etcdctl()),
        "snapshot",
        "restore",
        str(folder / SNAPSHOT_FILE),
        "--data-dir",
        str(data_dir),
        "--name",
        name,
        "--initial-cluster",
        f"{name}={peer_url}",
        "--initial-cluster-token",
        name,
        "--initial-advertise-peer-urls",
        peer_url,
    ]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=600, env={**os.environ, "ETCDCTL_API": "3"}
    )
    if done.returncode != 0:
        raise RestoreRefused(f"etcdctl snapshot restore failed: {done.stderr.strip()[-400:]}")
    return manifest


@dataclass(frozen=True, slots=True)
class Verified:
    """A backup restored into a throwaway etcd: what it holds under our prefix."""

    revision: int  # the restored store's revision (the snapshot's)
    counts: dict[str, int]  # kind (incidents, units, calls, ...) -> keys under the prefix
    counters: dict[str, int]  # region -> last issued number, as the restored store has it


async def verify(
    folder: Path,
    work: Path,
    *,
    server_tls: TlsFiles | None,
    client_tls: TlsFiles | None,
    keys: Keys,
) -> Verified:
    """Restore the backup in ``folder`` into ``work`` (a new folder) with etcd's own tool,
    start it on private ports, read what it holds, stop it and remove ``work``: a backup
    is known good only once it has been restored."""
    await asyncio.to_thread(work.mkdir, parents=True)  # a new folder: removed at the end
    peer = find_free_port()
    name = "amk-verify"
    try:
        await asyncio.to_thread(
            restore_data_dir,
            folder,
            work / "data",
            name=name,
            peer_url=f"{scheme(server_tls)}://127.0.0.1:{peer}",
        )
        server = EmbeddedEtcd(
            work / "data",
            tls=server_tls,
            client_port=find_free_port(),
            peer_port=peer,
            name=name,
            log_file=work / "etcd.log",
        )
        await asyncio.to_thread(server.start)
        try:
            client = EtcdClient([server.endpoint], tls=client_tls)
            try:
                kvs, revision = await client.get_prefix(keys.all(), keys_only=True)
                counts: dict[str, int] = {}
                for kv in kvs:
                    kind = kv.key[len(keys.prefix.encode()) :].split(b"/", 1)[0].decode()
                    counts[kind] = counts.get(kind, 0) + 1
                numbers = await counters(client, keys)
            finally:
                await client.close()
        finally:
            await asyncio.to_thread(server.stop)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    return Verified(revision, counts, numbers)
