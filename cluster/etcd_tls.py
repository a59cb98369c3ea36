"""Which certificate a process shows etcd, and the etcd clients made with it (issue #13).

etcd runs with ``--client-cert-auth``: a client without a certificate from our CA gets
no TLS handshake, and a client with one is the etcd *user* its certificate's common
name names (no password, no token: etcd's simple tokens expire after 300 s). Three
identities, issued by :func:`cluster.pki.local_identities` into the PKI folder:

- ``user`` (CN ``amk``): every cluster process: centres, gateways, supervisors, the
  launcher, drills' checkers. Its role may read and write our key prefix only
  (:mod:`cluster.etcd_auth`).
- ``root`` (CN ``root``): etcd's administrator. Only the setup step of ``amk up``
  (users, roles, auth on), ``amk etcd defrag`` and ``amk etcd backup`` (etcd allows a
  defragment or a snapshot to the root role alone) use it; no actor ever loads it.
- ``server`` (CN ``etcd-server``): the etcd members themselves, on client and peer ports.

Paths are computed, never created here: an actor on another machine reads the files
the deployment put in its PKI folder, and a missing file is one clear ConfigError,
not a handshake failure later. ``--insecure`` (``config.insecure``) gives None
everywhere: plaintext etcd without auth, as before issue #13.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import structlog

from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.etcd import EtcdClient
from cluster.pki import TlsFiles, local_identities

log = structlog.get_logger("amk.etcd")

Identity = Literal["user", "root", "server"]

# File names as cluster.pki.local_identities issues them ("{name}.crt", "{name}.key").
FILE_NAMES: dict[Identity, str] = {
    "user": "etcd-user",
    "root": "etcd-root",
    "server": "etcd-server",
}


def identity_files(folder: Path, identity: Identity) -> TlsFiles:
    """The CA, certificate and key of ``identity`` in the PKI ``folder`` (paths only)."""
    name = FILE_NAMES[identity]
    folder = Path(folder)
    return TlsFiles(folder / "ca.crt", folder / f"{name}.crt", folder / f"{name}.key")


def etcd_tls(config: ClusterConfig, identity: Identity = "user") -> TlsFiles | None:
    """The files ``identity`` shows etcd, checked to exist; None when insecure."""
    if config.insecure:
        return None
    files = identity_files(config.pki_folder(), identity)
    missing = [str(p) for p in (files.ca, files.cert, files.key) if not p.exists()]
    if missing:
        raise ConfigError(
            f"etcd {identity} certificate missing: {', '.join(missing)} (amk up makes them "
            "for the embedded default; a deployment puts its own there, or runs --insecure "
            "for development)"
        )
    return files


def etcd_client_for(
    config: ClusterConfig,
    endpoints: Sequence[str],
    *,
    identity: Identity = "user",
    request_timeout_s: float = 2.0,
) -> EtcdClient:
    """An :class:`EtcdClient` on ``endpoints`` with the configured identity's
    certificate (plaintext when the config is insecure)."""
    return EtcdClient(
        endpoints, tls=etcd_tls(config, identity), request_timeout_s=request_timeout_s
    )


def embedded_etcd_tls(config: ClusterConfig) -> TlsFiles | None:
    """The embedded etcd's certificate, the local CA and every identity made (or
    reused) in the PKI folder first: ``amk up`` of the embedded default owns its CA.
    None when insecure (and the log says so: plaintext etcd, anyone may write)."""
    if config.insecure:
        log.warning(
            "etcd_insecure",
            detail="--insecure: etcd is plaintext and without auth; development only",
        )
        return None
    return local_identities(config.pki_folder()).etcd_server
