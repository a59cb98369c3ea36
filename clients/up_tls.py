"""TLS at ``amk up``: the local CA and certificates before anything starts, or the loud
warning of ``--insecure``; and ``amk cert``, which issues crews' certificates and the
certificate of Ray's own TLS between machines (``amk cert ray``).

Why here and not in the actors: every actor runs on this machine and reads its files
from ``config.pki_folder()`` (cluster/tls.py), so the files must exist before the first
actor starts; the CA key stays in the state folder and no actor ever signs anything.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from clients.cli_revoke import add_revoke_commands
from clients.ray_tls import export_lines
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.pki import (
    LOOPBACK_HOSTS,
    LocalCa,
    LocalIdentities,
    TlsFiles,
    copy_files,
    local_identities,
    ray_node,
)
from cluster.tls import INSECURE_ENV, INSECURE_WARNING, PKI_ENV, TLS_NAME_ENV

log = structlog.get_logger("amk.tls")

UNIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")


def _host(address: str) -> str:
    host = address.rpartition(":")[0] if ":" in address else address
    return host.strip("[]")


def server_hosts(config: ClusterConfig) -> list[str]:
    """The hosts our servers listen on beyond loopback: what the service certificate
    must name (a routable ``centre_link_host``, gateways or metrics on another address)."""
    addresses = [*config.gateways, *config.metrics]
    hosts = [_host(a) for a in addresses] + [config.centre_link_host]
    return sorted({h for h in hosts if h and h not in LOOPBACK_HOSTS})


def ensure(config: ClusterConfig) -> LocalIdentities | None:
    """Make or reuse the local CA and the cluster's certificates in the config's pki
    folder (None when insecure). Reusing is a few file reads: every deployment calls
    this before its first actor starts."""
    if config.insecure:
        return None
    return local_identities(config.pki_folder(), server_hosts(config))


def prepare(config: ClusterConfig) -> LocalIdentities | None:
    """:func:`ensure`, and a loud warning on stdout and in the log when insecure."""
    if config.insecure:
        print(f"WARNING: {INSECURE_WARNING}", flush=True)
        log.warning("cluster_insecure", warning=INSECURE_WARNING)
    return ensure(config)


def console_help(config: ClusterConfig, identities: LocalIdentities | None) -> str:
    """What ``amk up`` prints: how a console gets credentials."""
    if identities is None:
        return (
            f"TLS OFF (insecure): consoles connect in plaintext with {INSECURE_ENV}=1 "
            "or `amk --insecure ...`"
        )
    c = identities.console
    folder = config.pki_folder()
    lines = [
        f"TLS on (mutual): CA {c.ca}",
        f"  console certificate {c.cert}, key {c.key}",
        f"  a console on this machine: {PKI_ENV}={folder} amk status (or amk --pki {folder})",
        f"  a crew: amk cert crew UNIT_ID, then {TLS_NAME_ENV}=crew-UNIT_ID",
    ]
    if config.auth_enabled():  # every call but health needs a person's token
        lines.append(
            "  then log in: amk login --user NAME --role dispatcher --centre oslo"
            if config.local_issuer_in_use()
            else f"  tokens: from the issuer {config.oidc_issuer} (put one in $AMK_TOKEN)"
        )
    return "\n".join(lines)


def issue_crew(folder: Path, unit_id: str) -> TlsFiles:
    """A crew's client certificate (CN = the unit id) from the local CA in ``folder``."""
    if not UNIT_ID.fullmatch(unit_id):
        raise ConfigError(f"unit_id: {unit_id!r} is not a unit id (letters, digits, . _ -)")
    if not (folder / "ca.key").is_file():
        raise ConfigError(f"pki: no local CA in {folder} (run `amk up` once)")
    return LocalCa(folder).issue(f"crew-{unit_id}", unit_id)


def cmd_cert(ctx: Any) -> int:
    """``amk cert crew UNIT_ID``: print where the crew's files are."""
    args = ctx.args
    folder = Path(args.pki).resolve() if args.pki else ClusterConfig.load().pki_folder()
    try:
        files = issue_crew(folder, args.unit_id)
    except ConfigError as exc:
        code = "INVALID_ARGUMENT" if exc.message.startswith("unit_id") else "FAILED_PRECONDITION"
        print(f"error: {code}: {exc.message}", file=sys.stderr)
        return 2
    print(f"crew {args.unit_id}: CA {files.ca}\n  certificate {files.cert}\n  key {files.key}")
    print(f"  use: {PKI_ENV}={folder} {TLS_NAME_ENV}=crew-{args.unit_id}")
    return 0


def issue_ray(folder: Path, hosts: list[str], out: Path | None = None) -> TlsFiles:
    """The Ray node certificate (cluster/pki.py ``ray_node``) from the local CA in
    ``folder``, naming loopback and ``hosts``; copied with ``ca.crt`` into ``out``."""
    for host in hosts:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not HOST_NAME.fullmatch(host):
                raise ConfigError(
                    f"--ip: {host!r} is neither an IP address nor a host name"
                ) from None
    if not (folder / "ca.key").is_file():
        raise ConfigError(f"pki: no local CA in {folder} (run `amk up` once)")
    files = ray_node(folder, hosts)
    return copy_files(files, out) if out is not None else files


def cmd_cert_ray(ctx: Any) -> int:
    """``amk cert ray``: the Ray certificate, and the ``export`` lines for a shell."""
    args = ctx.args
    folder = Path(args.pki).resolve() if args.pki else ClusterConfig.load().pki_folder()
    out = Path(args.out).resolve() if args.out else None
    try:
        files = issue_ray(folder, list(args.ip or ()), out)
    except ConfigError as exc:
        code = "INVALID_ARGUMENT" if exc.message.startswith("--ip") else "FAILED_PRECONDITION"
        print(f"error: {code}: {exc.message}", file=sys.stderr)
        return 2
    names = ", ".join((*LOOPBACK_HOSTS, *(args.ip or ())))
    print(f"# Ray TLS: certificate {files.cert} for {names}, CA {files.ca}")
    print("# the same on every Ray process: ray start (head, workers), amk up --ray-tls")
    print(export_lines(files))
    return 0


def add_cert_command(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """``amk cert crew UNIT_ID`` and ``amk cert ray`` (from the state folder's local CA);
    ``amk cert revoke`` and ``amk cert revoked`` (through a gateway)."""
    cert = command(commands, "cert", None, "issue certificates from the local CA")
    kinds = cert.add_subparsers(dest="cert_command", metavar="KIND", required=True)
    crew = command(kinds, "crew", cmd_cert, "a crew's certificate (common name = unit id)")
    crew.add_argument("unit_id", metavar="UNIT_ID")
    ray = command(
        kinds,
        "ray",
        cmd_cert_ray,
        "the certificate of Ray's TLS between machines; prints its export lines "
        '(eval "$(amk cert ray --ip IP)" before ray start)',
    )
    ray.add_argument(
        "--ip",
        metavar="HOST",
        action="append",
        help="an address other Ray processes reach a node at (IP or host name; repeat for "
        "every node); loopback is always named",
    )
    ray.add_argument(
        "--out", metavar="DIR", help="copy ca.crt, ray-node.crt|key here (default: the pki folder)"
    )
    add_revoke_commands(kinds, command)
