"""``amk etcd backup``, ``verify``, ``restore`` and ``settle``: the live state's backup,
and bringing etcd back from one (:mod:`cluster.backup`, :mod:`cluster.restore`).

The restore is for the embedded etcd of this state folder (``amk up`` without
``--etcd``), with the cluster stopped (it takes ``amk up``'s lock on the folder). It
checks everything first (the backup, the tools, the archive's revision, and reads what
the archive holds after the backup, to roll it forward), makes a new
data folder beside the old one with etcd's own tool, starts that etcd on a private port
nobody else knows, settles it and stops it. Only then is the old folder moved aside
(never deleted) and the new one put in its place: a failure leaves the old one as it
was, and a restore can simply be run again.
For a three- or five-member etcd, restore the members by etcd's procedure, then
``amk etcd settle --from FOLDER --etcd ...`` settles them the same way before the
cluster starts.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from clients.cli_base import (
    EXIT_BAD_REQUEST,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    Context,
    etcd_endpoints,
)

NO_ARCHIVE = (
    "to restore the backup alone without it, give --revision-floor (above the lost "
    "store's last revision) and --no-roll-forward"
)


def _fail(message: str, code: int = EXIT_BAD_REQUEST) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def cmd_etcd_backup(ctx: Context) -> int:
    """Write a snapshot of etcd and its manifest into a new folder."""
    import asyncio

    from cluster import backup
    from cluster.config import ClusterConfig
    from cluster.errors import AmkError, StoreUnavailableError
    from cluster.etcd_tls import etcd_client_for
    from cluster.keys import Keys
    from cluster.logs import configure as configure_logs

    configure_logs("warning")

    async def run() -> backup.Manifest:
        config = ClusterConfig.load()
        # etcd gives a snapshot to its root role only, as a defragment.
        # One member: the revision read first and the snapshot are then the same etcd's.
        members = etcd_endpoints(ctx.args.etcd, config)[:1]
        client = etcd_client_for(config, members, identity="root")
        try:
            return await backup.take(client, Keys(config.key_prefix), Path(ctx.args.out))
        finally:
            await client.close()

    try:
        manifest = asyncio.run(run())
    except StoreUnavailableError as exc:
        return _fail(f"UNAVAILABLE: {exc.message}", EXIT_UNAVAILABLE)
    except AmkError as exc:
        return _fail(f"FAILED_PRECONDITION: {exc.message}")
    if ctx.args.json:
        print(manifest.encode().decode())
    else:
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(manifest.taken_at))
        print(
            f"{ctx.args.out}: etcd at revision {manifest.revision}+ ({at}), "
            f"{manifest.size / 2**20:.1f} MiB, sha256 {manifest.sha256[:16]}..."
        )
    return EXIT_OK


def cmd_etcd_verify(ctx: Context) -> int:
    """Restore a backup into a throwaway etcd and say what it holds: a backup is known
    good only once it has been restored (``cluster.restore.verify``)."""
    import asyncio
    import shutil
    import tempfile

    from cluster import backup
    from cluster.config import ClusterConfig
    from cluster.errors import AmkError, StoreUnavailableError
    from cluster.etcd_tls import embedded_etcd_tls, etcd_tls
    from cluster.keys import Keys
    from cluster.logs import configure as configure_logs
    from cluster.restore import verify

    configure_logs("warning")
    config = ClusterConfig.load()
    folder = Path(ctx.args.source)
    manifest = backup.check(folder)
    keys = Keys(manifest.prefix)
    work = Path(tempfile.mkdtemp(prefix="amk-verify-")) / "etcd"
    try:
        got = asyncio.run(
            verify(
                folder,
                work,
                server_tls=embedded_etcd_tls(config),
                client_tls=etcd_tls(config),
                keys=keys,
            )
        )
    except StoreUnavailableError as exc:
        return _fail(f"UNAVAILABLE: the restored backup: {exc.message}", EXIT_UNAVAILABLE)
    except AmkError as exc:
        return _fail(f"FAILED_PRECONDITION: {exc.message}")
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)
    doc = {"revision": got.revision, "keys": got.counts, "counters": got.counters}
    if ctx.args.json:
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(manifest.taken_at))
    print(f"{folder}: restores (etcd at revision {got.revision}, taken {at})")
    for kind, n in sorted(got.counts.items()):
        print(f"  {kind}: {n}")
    return EXIT_OK


def _from_archive(ctx: Context, config: Any, manifest: Any) -> tuple[int, Any]:
    """The revision to move past, and what the archive holds after the backup (None with
    ``--no-roll-forward``: the backup alone). An archive that does not answer stops the
    restore unless both ``--revision-floor`` and ``--no-roll-forward`` are given: what
    the archive holds cannot be rolled forward once the centres write again.

    The floor is the highest revision the archive holds or its archivers last saw plus
    ``--revision-margin`` (refused when the archive heard nothing since before the
    backup: its figure would be too low). ``--revision-floor`` replaces that figure and
    the margin, but never goes below what the archive holds (when it answers)."""
    from cluster.archive import open_archive
    from cluster.errors import AmkError, ConfigError

    given = ctx.args.revision_floor
    since = None
    try:
        archive = open_archive(config.archive_location())
        try:
            archive.migrate()
            seen, told = archive.max_revision()
            if not ctx.args.no_roll_forward:
                since = archive.since(manifest.revision)
        finally:
            archive.close()
    except AmkError:
        if given is None or not ctx.args.no_roll_forward:
            raise
        return int(given), None  # the operator's figure alone: the archive does not answer
    if given is not None:
        return max(int(given), seen), since
    if told < manifest.taken_at:
        raise ConfigError(
            "the archive was last told etcd's revision before the backup was taken: it "
            "cannot say how far the lost store came; give --revision-floor"
        )
    return seen + int(ctx.args.revision_margin), since


def _checked_backup(ctx: Context) -> tuple[Any, Path, Any]:
    """What ``restore`` and ``settle`` check before anything else: their numbers, this
    cluster's settings, and the backup (whole, and of this cluster's key prefix)."""
    from cluster import backup
    from cluster.config import ClusterConfig
    from cluster.errors import ConfigError
    from cluster.logs import configure as configure_logs

    configure_logs("warning")
    if ctx.args.number_gap < 0 or ctx.args.revision_margin < 0:
        raise ValueError("--number-gap and --revision-margin must be 0 or more")
    folder = Path(ctx.args.source)
    config = ClusterConfig.load()
    manifest = backup.check(folder)
    if manifest.prefix != config.key_prefix:
        raise ConfigError(
            f"the backup is of prefix {manifest.prefix}, this cluster's is {config.key_prefix}"
        )
    return config, folder, manifest


async def _settle(
    client: Any, ctx: Context, config: Any, manifest: Any, archived: Any, **where: Any
) -> Any:
    """:func:`cluster.restore.settle` for every region of this cluster's seed, with the
    command's numbers; ``where``: ``restored_revision``, ``floor`` and ``writer``."""
    from cluster.keys import Keys
    from cluster.restore import settle

    regions = config.seed.regions
    return await settle(
        client,
        Keys(config.key_prefix),
        [r.id for r in regions],
        number_gap=ctx.args.number_gap,
        manifest=manifest,
        archived=archived,
        codes={r.id: r.code for r in regions},
        **where,
    )


def cmd_etcd_restore(ctx: Context) -> int:
    """Bring the embedded etcd back from a backup, settled (see the module's note).
    What it needs is checked first (the archive is brought to its schema then); the new
    data folder is made and settled beside the old one and put in place only when
    settled."""
    import asyncio
    import shutil

    from clients.up_guard import StateLock, UpRefused
    from cluster.errors import AmkError, ConfigError, StoreUnavailableError
    from cluster.etcd_server import (
        EmbeddedEtcd,
        find_etcd_binary,
        find_free_port,
        member_name,
        scheme,
    )
    from cluster.etcd_tls import embedded_etcd_tls, etcd_client_for
    from cluster.ports import taken_ports
    from cluster.restore import (
        Settled,
        SettleInterrupted,
        find_etcdctl,
        restore_data_dir,
    )

    config, folder, manifest = _checked_backup(ctx)
    if config.etcd_endpoints:
        raise ConfigError(
            "this cluster uses an external etcd: restore its members by etcd's procedure"
        )
    try:
        lock = StateLock(config.home).acquire()
    except UpRefused:
        raise ConfigError(
            f"{config.home} is in use by a running amk up: stop the cluster first"
        ) from None
    try:
        ports = (config.etcd_client_port, config.embedded_etcd_peer_port())
        taken = taken_ports(
            [
                ("etcd client port", f"127.0.0.1:{ports[0]}"),
                ("etcd peer port", f"127.0.0.1:{ports[1]}"),
            ]
        )
        if taken:
            raise ConfigError(f"{'; '.join(taken)}: stop the cluster first")
        find_etcdctl()  # both tools there before anything is made
        find_etcd_binary()
        try:
            floor, archived = _from_archive(ctx, config, manifest)
            floor = max(floor, manifest.revision)
        except ConfigError:
            raise
        except AmkError as exc:  # the archive does not answer
            return _fail(
                f"UNAVAILABLE: the archive: {exc.message}; {NO_ARCHIVE}",
                EXIT_UNAVAILABLE,
            )
        data = config.home / "etcd"
        staging = config.home / "etcd.restoring"
        shutil.rmtree(staging, ignore_errors=True)  # an earlier attempt's, never served
        tls = embedded_etcd_tls(config)
        peer = ports[1]  # checked free above; the member list then shows amk up's own
        name = member_name(data)  # the folder's final name: amk up checks it
        server = EmbeddedEtcd(
            staging,
            tls=tls,
            client_port=find_free_port(),  # private: nothing else reaches it while it settles
            peer_port=peer,
            name=name,
            quota_bytes=config.etcd_quota_bytes,
            log_file=config.home / "logs" / "etcd-restore.log",
        )

        async def run() -> Settled:
            client = etcd_client_for(config, [server.endpoint])
            try:
                return await _settle(
                    client,
                    ctx,
                    config,
                    manifest,
                    archived,
                    restored_revision=await client.revision(),
                    floor=floor,
                    writer=f"amk-restore@{socket.gethostname()}",
                )
            finally:
                await client.close()

        try:
            restore_data_dir(
                folder,
                staging,
                name=name,
                peer_url=f"{scheme(tls)}://127.0.0.1:{peer}",
                manifest=manifest,  # checked above: the snapshot is not hashed again
            )
            server.start()
            settled = asyncio.run(run())
        except BaseException as exc:
            server.stop()
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, SettleInterrupted) and isinstance(exc.__cause__, AmkError):
                exc = exc.__cause__  # the staging etcd is thrown away: only the cause counts
            if isinstance(exc, StoreUnavailableError):
                return _fail(f"UNAVAILABLE: {exc.message}; nothing changed", EXIT_UNAVAILABLE)
            if isinstance(exc, AmkError):
                raise ConfigError(f"{exc.message}; nothing changed") from None
            raise
        server.stop()
        aside = None
        if data.exists():
            aside = config.home / f"etcd.before-restore-{settled.stamp}"
            data.rename(aside)
        try:
            staging.rename(data)
        except OSError:
            if aside is not None:
                aside.rename(data)  # as it was; amk up refuses while etcd.restoring is left
            raise
    finally:
        lock.release()
    _show(ctx, settled, manifest, aside)
    return EXIT_OK


def cmd_etcd_settle(ctx: Context) -> int:
    """Settle an etcd whose members were restored from a backup by etcd's own procedure
    (a three- or five-member etcd: ``etcdctl snapshot restore`` on each member with the
    whole member list, then every member started), before any centre starts: what
    ``amk etcd restore`` does for the embedded etcd once its new folder is made. It
    refuses, with nothing changed, if anything under our prefix was written after the
    snapshot's revision (a centre at work, or a settle done already), and if the etcd is
    behind the backup (not restored from it). A failure after its first lasting write
    says the etcd is half settled (exit 1): restore the members again."""
    import asyncio

    from cluster.errors import AmkError, ConfigError, StoreUnavailableError
    from cluster.etcd_tls import etcd_client_for
    from cluster.restore import (
        RestoreRefused,
        Settled,
        SettleInterrupted,
        snapshot_revision,
    )

    config, folder, manifest = _checked_backup(ctx)
    if not (ctx.args.etcd or config.etcd_endpoints):
        raise ConfigError(
            "this cluster uses the embedded etcd: amk etcd restore restores and settles it"
        )
    endpoints = etcd_endpoints(ctx.args.etcd, config)
    restored = snapshot_revision(folder)
    try:
        floor, archived = _from_archive(ctx, config, manifest)
    except ConfigError:
        raise
    except AmkError as exc:  # the archive does not answer
        return _fail(f"UNAVAILABLE: the archive: {exc.message}; {NO_ARCHIVE}", EXIT_UNAVAILABLE)

    async def run() -> Settled:
        client = etcd_client_for(config, endpoints)
        try:
            now = await client.revision()
            if now < restored:
                raise RestoreRefused(
                    f"etcd is at revision {now}, before the backup's snapshot ({restored}): "
                    "it was not restored from this backup"
                )
            return await _settle(
                client,
                ctx,
                config,
                manifest,
                archived,
                restored_revision=restored,
                floor=max(floor, manifest.revision),
                writer=f"amk-settle@{socket.gethostname()}",
            )
        finally:
            await client.close()

    try:
        settled = asyncio.run(run())
    except SettleInterrupted as exc:
        return _fail(f"HALF SETTLED: {exc.message}", EXIT_ERROR)
    except StoreUnavailableError as exc:
        return _fail(f"UNAVAILABLE: {exc.message}; nothing lasting changed", EXIT_UNAVAILABLE)
    except KeyboardInterrupt:
        print(
            "interrupted: run amk etcd settle again; if it refuses (written since the "
            "restore), settling had begun writing: restore the members from the backup again",
            file=sys.stderr,
        )
        return 130
    _show(ctx, settled, manifest, None)
    return EXIT_OK


def _rolled(s: Any) -> dict[str, Any] | None:
    if s.rolled is None:
        return None
    return {
        **s.rolled.counts(),
        "horizons": {r: {"revision": v, "at": at} for r, (v, at) in s.rolled.horizons.items()},
        "skipped": list(s.rolled.skipped),
    }


def _show(ctx: Context, s: Any, manifest: Any, aside: Path | None) -> None:
    doc = {
        "backup_taken_at": manifest.taken_at,
        "restored_revision": s.restored_revision,
        "moved_past": s.floor,
        "revision": s.revision,
        "leases_revoked": s.leases_revoked,
        "numbers": {r: {"restored": a, "now": b} for r, (a, b) in s.numbers.items()},
        "rolled_forward": _rolled(s),
        "old_data": str(aside) if aside else None,
        "record": f"restores/{s.stamp}",
    }
    if ctx.args.json:
        print(json.dumps(doc, indent=2))
        return
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(manifest.taken_at))
    print(f"restored etcd as of {at} (revision {s.restored_revision})")
    print(f"  revision moved past {s.floor}: now {s.revision} (history before it compacted)")
    print(f"  {s.leases_revoked} lease(s) of the backup's owners revoked: every region is free")
    print("  open consoles start over with a snapshot when they reconnect")
    for region, (was, now) in sorted(s.numbers.items()):
        print(f"  {region}: incident numbers {was + 1}..{now} skipped (may have been issued)")
    _show_rolled(s.rolled, s.regions)
    if aside:
        print(f"  the old data folder is kept in {aside}")
    print("start the cluster as usual (amk up)")


def _show_rolled(rolled: Any, regions: Sequence[str]) -> None:
    if rolled is None:
        print("  nothing rolled forward from the archive: everything written after the backup")
        print("  is lost (the access log and the journal in the archive show what it was)")
        return
    counts = rolled.counts()
    print("  rolled forward from the archive (what the lost store did after the backup):")
    said = {
        "written": "written as the lost store last had them",
        "removed": "removed (deleted, or closed and archived, after the backup)",
    }
    for side, text in said.items():
        what = ", ".join(f"{n} {kind}" for kind, n in sorted(counts[side].items())) or "none"
        print(f"    {text}: {what}")
    for region in sorted(regions):
        if region in rolled.horizons:
            revision, at = rolled.horizons[region]
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
            print(
                f"    {region}: its journal reached the archive up to {when} (revision {revision})"
            )
        else:
            print(
                f"    {region}: no journal entry after the backup in the archive (quiet, "
                "or its archiver behind: its numbers since rest on the gap alone)"
            )
    if rolled.skipped:
        print(f"    {len(rolled.skipped)} record(s) of regions not served here left out")
    print("  what the archive had not yet got (the journal's last journal_hold_s) is lost")


def add_backup_commands(
    etcd_actions: argparse._SubParsersAction[argparse.ArgumentParser],
    command: Callable[..., argparse.ArgumentParser],
) -> None:
    """``amk etcd backup``, ``verify``, ``restore`` and ``settle``."""
    b = command(etcd_actions, "backup", cmd_etcd_backup, "snapshot etcd into a new folder")
    b.add_argument("--out", required=True, metavar="FOLDER", help="a new folder for it")
    b.add_argument("--etcd", metavar="HOST:PORT,...", help="as for defrag")
    v = command(
        etcd_actions,
        "verify",
        cmd_etcd_verify,
        "restore a backup into a throwaway etcd and say what it holds",
    )
    v.add_argument("--from", dest="source", required=True, metavar="FOLDER")
    r = command(
        etcd_actions,
        "restore",
        cmd_etcd_restore,
        "bring the embedded etcd back from a backup (the cluster stopped)",
    )
    r.add_argument("--from", dest="source", required=True, metavar="FOLDER")
    _settle_options(r)
    st = command(
        etcd_actions,
        "settle",
        cmd_etcd_settle,
        "settle an etcd whose members were restored from a backup by etcd's procedure",
    )
    st.add_argument("--from", dest="source", required=True, metavar="FOLDER")
    st.add_argument("--etcd", metavar="HOST:PORT,...", help="the restored members")
    _settle_options(st)


def _settle_options(r: argparse.ArgumentParser) -> None:
    """What a restore's settling takes, for ``restore`` and ``settle`` alike."""
    from cluster.restore import NUMBER_GAP, REVISION_MARGIN  # the defaults, in one place

    r.add_argument(
        "--number-gap",
        type=int,
        default=NUMBER_GAP,
        help=f"incident numbers skipped per region (default {NUMBER_GAP})",
    )
    r.add_argument(
        "--revision-floor",
        type=int,
        default=None,
        help="move etcd's revision past this (default: the highest the archive holds or "
        "was told, plus --revision-margin)",
    )
    r.add_argument(
        "--revision-margin",
        type=int,
        default=REVISION_MARGIN,
        help="revisions the lost store may have issued after the archive was last told "
        f"(default {REVISION_MARGIN}: each archive pass tells it, every 5 s)",
    )
    r.add_argument(
        "--no-roll-forward",
        action="store_true",
        help="restore the backup alone: do not write back what the archive holds after it "
        "(its journal's record versions, work archived since)",
    )
