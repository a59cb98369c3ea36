"""``amk etcd backup`` and ``amk etcd restore``: the live state's backup, and bringing the
embedded etcd back from one (:mod:`cluster.backup`, :mod:`cluster.restore`).

The restore is for the embedded etcd of this state folder (``amk up`` without
``--etcd``), with the cluster stopped. It moves the old data folder aside (never deletes
it), makes a new one from the backup with etcd's own tool, starts that etcd on a private
port nobody else knows, settles it, and stops it again: ``amk up`` then starts on it.
For a three- or five-member etcd, restore the members by etcd's procedure; settling
them from here is not built (:func:`cluster.restore.settle` is what it would call).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clients.cli_base import EXIT_BAD_REQUEST, EXIT_OK, EXIT_UNAVAILABLE, Context


def etcd_endpoints(arg: str | None, config: Any) -> list[str]:
    """``--etcd`` as given, else the configured endpoints, else the embedded etcd's."""
    given = [e.strip() for e in (arg or "").split(",") if e.strip()]
    return given or config.etcd_endpoints or [f"127.0.0.1:{config.etcd_client_port}"]


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
        client = etcd_client_for(config, etcd_endpoints(ctx.args.etcd, config), identity="root")
        try:
            return await backup.take(client, Keys(config.key_prefix), Path(ctx.args.out))
        finally:
            await client.close()

    try:
        manifest = asyncio.run(run())
    except StoreUnavailableError as exc:
        return _fail(f"UNAVAILABLE: {exc.message}", EXIT_UNAVAILABLE)
    except AmkError as exc:
        return _fail(exc.message)
    if ctx.args.json:
        print(manifest.encode().decode())
    else:
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(manifest.taken_at))
        print(
            f"{ctx.args.out}: etcd at revision {manifest.revision}+ ({at}), "
            f"{manifest.size / 2**20:.1f} MiB, sha256 {manifest.sha256[:16]}..."
        )
    return EXIT_OK


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def cmd_etcd_restore(ctx: Context) -> int:
    """Bring the embedded etcd back from a backup, settled (see the module's note)."""
    import asyncio

    from cluster import backup
    from cluster.archive import open_archive
    from cluster.config import ClusterConfig
    from cluster.errors import AmkError, StoreUnavailableError
    from cluster.etcd_server import EmbeddedEtcd, find_free_port, member_name, scheme
    from cluster.etcd_tls import embedded_etcd_tls, etcd_client_for
    from cluster.keys import Keys
    from cluster.logs import configure as configure_logs
    from cluster.restore import Settled, restore_data_dir, settle

    configure_logs("warning")
    folder = Path(ctx.args.source)
    try:
        config = ClusterConfig.load()
        manifest = backup.check(folder)
    except AmkError as exc:
        return _fail(exc.message)
    if manifest.prefix != config.key_prefix:
        return _fail(
            f"the backup is of prefix {manifest.prefix}, this cluster's is {config.key_prefix}"
        )
    if config.etcd_endpoints:
        return _fail("this cluster uses an external etcd: restore its members by etcd's procedure")
    if _port_taken(config.etcd_client_port):
        return _fail(
            f"something answers on 127.0.0.1:{config.etcd_client_port}: stop the cluster first"
        )
    floor = ctx.args.revision_floor
    if floor is None:
        try:
            archive = open_archive(config.archive_location())
            try:
                floor = archive.max_revision()
            finally:
                archive.close()
        except AmkError as exc:
            return _fail(
                f"the archive does not answer ({exc.message}): the revision to move past is "
                "not known; give --revision-floor"
            )
    data = config.home / "etcd"
    aside = config.home / f"etcd.before-restore-{time.strftime('%Y%m%dT%H%M%S')}"
    if data.exists():
        data.rename(aside)
    tls = embedded_etcd_tls(config)
    peer = config.embedded_etcd_peer_port()
    try:
        restore_data_dir(
            folder, data, name=member_name(data), peer_url=f"{scheme(tls)}://127.0.0.1:{peer}"
        )
    except AmkError as exc:
        return _fail(
            f"{exc.message} (the old data is in {aside})" if aside.exists() else exc.message
        )
    server = EmbeddedEtcd(
        data,
        tls=tls,
        client_port=find_free_port(),  # private: no centre can reach it while it settles
        peer_port=peer,
        name=member_name(data),
        log_file=config.home / "logs" / "etcd-restore.log",
    )

    async def run() -> Settled:
        client = etcd_client_for(config, [server.endpoint])
        try:
            return await settle(
                client,
                Keys(config.key_prefix),
                [r.id for r in config.seed.regions],
                restored_revision=await client.revision(),
                floor=max(floor, manifest.revision),
                number_gap=ctx.args.number_gap,
                writer=f"amk-restore@{socket.gethostname()}",
                manifest=manifest,
            )
        finally:
            await client.close()

    try:
        server.start()
        settled = asyncio.run(run())
    except StoreUnavailableError as exc:
        return _fail(f"UNAVAILABLE: {exc.message}", EXIT_UNAVAILABLE)
    except AmkError as exc:
        return _fail(exc.message)
    finally:
        server.stop()
    _show(ctx, settled, manifest, aside if aside.exists() else None)
    return EXIT_OK


def _show(ctx: Context, s: Any, manifest: Any, aside: Path | None) -> None:
    doc = {
        "backup_taken_at": manifest.taken_at,
        "restored_revision": s.restored_revision,
        "moved_past": s.floor,
        "revision": s.revision,
        "leases_revoked": s.leases_revoked,
        "numbers": {r: {"restored": a, "now": b} for r, (a, b) in s.numbers.items()},
        "old_data": str(aside) if aside else None,
        "record": f"restores/{s.stamp}",
    }
    if ctx.args.json:
        print(json.dumps(doc, indent=2))
        return
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(manifest.taken_at))
    print(f"restored etcd as of {at} (revision {s.restored_revision})")
    print(f"  revision moved past {s.floor} (the archive's highest): now {s.revision}")
    print(f"  {s.leases_revoked} lease(s) of the backup's owners revoked: every region is free")
    for region, (was, now) in sorted(s.numbers.items()):
        print(f"  {region}: incident numbers {was + 1}..{now} skipped (may have been issued)")
    print("  everything written after the backup is lost: incidents open then may be in the")
    print("  archive if they closed; the access log and the journal in the archive show the rest")
    if aside:
        print(f"  the old data folder is kept in {aside}")
    print("start the cluster as usual (amk up)")


def add_backup_commands(
    etcd_actions: argparse._SubParsersAction[argparse.ArgumentParser],
    command: Callable[..., argparse.ArgumentParser],
) -> None:
    """``amk etcd backup`` and ``amk etcd restore``."""
    b = command(etcd_actions, "backup", cmd_etcd_backup, "snapshot etcd into a new folder")
    b.add_argument("--out", required=True, metavar="FOLDER", help="a new folder for it")
    b.add_argument("--etcd", metavar="HOST:PORT,...", help="as for defrag")
    r = command(
        etcd_actions,
        "restore",
        cmd_etcd_restore,
        "bring the embedded etcd back from a backup (the cluster stopped)",
    )
    r.add_argument("--from", dest="source", required=True, metavar="FOLDER")
    r.add_argument(
        "--number-gap",
        type=int,
        default=1000,
        help="incident numbers skipped per region (default 1000)",
    )
    r.add_argument(
        "--revision-floor",
        type=int,
        default=None,
        help="move etcd's revision past this (default: the archive's highest)",
    )
