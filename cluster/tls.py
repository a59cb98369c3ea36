"""gRPC credentials in one place: every server port and every channel of the cluster.

Why one module: TLS is on by default (issue #13) and a port that forgot it, or a client
that quietly fell back to plaintext, would be a hole nobody sees. So servers bind through
:func:`bind` and every channel to a gateway or a centre's link is opened by
:func:`open_channel` (or :func:`open_sync_channel`); nothing else in the code base calls
``grpc.*insecure*``. ``tls=None`` means plaintext, and the helpers that turn a config
into files (:func:`service_identity`, :func:`client_identity`) only return None when the
config or the environment says ``insecure``.

Servers ask for a client certificate from our CA (mutual TLS): a client without one, or
with one from another CA, gets nothing. The peer's certificate common name (a console,
a crew's unit id, ``amk-service``) is what :func:`peer_common_name` reads from
``context.auth_context()``.

etcd's channels are not here: ``cluster/etcd.py`` has its own (etcd speaks its own TLS
settings, users from certificates).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc

from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.home import state_folder
from cluster.pki import CONSOLE_CN, SERVICE_CN, TlsFiles

__all__ = [
    "CONSOLE_CN",
    "FROM_ENV",
    "INSECURE_ENV",
    "PKI_ENV",
    "SERVICE_CN",
    "TLS_NAME_ENV",
    "FromEnv",
    "TlsFiles",
    "bind",
    "channel_credentials",
    "client_identity",
    "console_identity",
    "env_insecure",
    "files_in",
    "https_client_context",
    "open_channel",
    "open_sync_channel",
    "peer_common_name",
    "resolve",
    "server_credentials",
    "service_identity",
]

PKI_ENV = "AMK_PKI"  # the folder of the CA and the client's certificate and key
INSECURE_ENV = "AMK_INSECURE"  # "1": plaintext everywhere (development only)
TLS_NAME_ENV = "AMK_TLS_NAME"  # which identity in the folder: "console" (default), ...
SERVICE_NAME = "service"  # file names (without .crt/.key) of the cluster's identities
CONSOLE_NAME = "console"
INSECURE_WARNING = (
    "INSECURE (development only): TLS is off, every gRPC port is plaintext and "
    "unauthenticated; never run this with real patient data"
)

Options = Sequence[tuple[str, Any]]


def env_insecure(env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for plaintext (``AMK_INSECURE=1``/``true``/``yes``)."""
    value = (os.environ if env is None else env).get(INSECURE_ENV, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def files_in(folder: Path, name: str) -> TlsFiles:
    """``{folder}/ca.crt`` and ``{folder}/{name}.crt|.key``, checked to exist: a missing
    file is a ConfigError naming it (never a silent fall back to plaintext)."""
    folder = Path(folder)
    files = TlsFiles(folder / "ca.crt", folder / f"{name}.crt", folder / f"{name}.key")
    missing = [str(p) for p in (files.ca, files.cert, files.key) if not p.is_file()]
    if missing:
        raise ConfigError(
            f"tls: missing {', '.join(missing)} (run `amk up` once to make the local CA, "
            f"or point {PKI_ENV} / pki_dir at your PKI; --insecure for development only)"
        )
    return files


def service_identity(config: ClusterConfig) -> TlsFiles | None:
    """The cluster's own identity (gateways, centres' links): None only when the config
    says insecure. The files are made by ``amk up`` (cluster.pki.local_identities)."""
    if config.insecure:
        return None
    return files_in(config.pki_folder(), SERVICE_NAME)


def console_identity(config: ClusterConfig) -> TlsFiles | None:
    """The console certificate of the config's pki folder (what drills, benchmarks and
    tests use on a cluster they started); None only when the config says insecure."""
    if config.insecure:
        return None
    return files_in(config.pki_folder(), CONSOLE_NAME)


def client_identity(
    pki: Path | str | None = None,
    *,
    name: str | None = None,
    insecure: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> TlsFiles | None:
    """A client's identity: ``{pki}/ca.crt`` and ``{pki}/{name}.crt|.key``.

    Defaults from the environment: ``AMK_INSECURE`` (None: plaintext), ``AMK_PKI``
    (else the state folder's ``pki``, ``cluster.home.state_folder``: ``$AMK_HOME``, else
    the nearest ``.amk`` here or above),
    ``AMK_TLS_NAME`` (else ``console``; a crew's is ``crew-{unit}``, see ``amk cert``).
    """
    env = os.environ if env is None else env
    if insecure if insecure is not None else env_insecure(env):
        return None
    folder = Path(pki or env.get(PKI_ENV) or state_folder(dict(env)) / "pki")
    return files_in(folder.resolve(), name or env.get(TLS_NAME_ENV) or CONSOLE_NAME)


class FromEnv:
    """A default meaning "the identity the environment names" (:func:`client_identity`),
    resolved when the client is made, not at import."""

    def __repr__(self) -> str:
        return "FROM_ENV"


FROM_ENV = FromEnv()


def resolve(tls: TlsFiles | FromEnv | None) -> TlsFiles | None:
    """``tls`` itself, or the environment's identity for :data:`FROM_ENV`."""
    return client_identity() if isinstance(tls, FromEnv) else tls


def server_credentials(tls: TlsFiles) -> grpc.ServerCredentials:
    """Our certificate, and a client certificate from our CA required of every peer."""
    ca, cert, key = tls.read()
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=True
    )


def channel_credentials(tls: TlsFiles) -> grpc.ChannelCredentials:
    """Trust our CA only (not the system's), and present our own certificate."""
    ca, cert, key = tls.read()
    return grpc.ssl_channel_credentials(ca, key, cert)


def bind(server: grpc.aio.Server, address: str, tls: TlsFiles | None) -> int:
    """Add a port to ``server``: TLS with client certificates, or plaintext when ``tls``
    is None. The bound port (0 if grpc could not bind, as grpcio returns it)."""
    if tls is None:
        return server.add_insecure_port(address)
    return server.add_secure_port(address, server_credentials(tls))


def _credentials(tls: TlsFiles, token: str | None) -> grpc.ChannelCredentials:
    """TLS, plus ``authorization: Bearer <token>`` on every call of the channel when a
    token is given (grpc attaches call credentials to secure channels only)."""
    creds = channel_credentials(tls)
    if not token:
        return creds
    return grpc.composite_channel_credentials(creds, grpc.access_token_call_credentials(token))


def open_channel(
    target: str,
    tls: TlsFiles | None,
    options: Options = (),
    *,
    token: str | None = None,
    **kwargs: Any,
) -> grpc.aio.Channel:
    """The one way to open an asyncio channel to a gateway or a centre's link.

    ``token``: a bearer token every call on the channel sends (one identity per channel:
    the test suite's consoles). On a plaintext channel (``tls`` None: insecure, where
    nobody is authenticated) it is not sent."""
    if tls is None:
        return grpc.aio.insecure_channel(target, options=list(options), **kwargs)
    creds = _credentials(tls, token)
    return grpc.aio.secure_channel(target, creds, list(options), **kwargs)


def open_sync_channel(
    target: str, tls: TlsFiles | None, options: Options = (), *, token: str | None = None
) -> grpc.Channel:
    """The same for a blocking channel (the client library, the CLI)."""
    if tls is None:
        return grpc.insecure_channel(target, options=list(options))
    return grpc.secure_channel(target, _credentials(tls, token), list(options))


def peer_common_name(context: Any) -> str | None:
    """The common name of the peer's verified certificate; None on a plaintext port.

    ``context`` is a grpc (aio) ServicerContext; its ``auth_context()`` carries
    ``x509_common_name`` once the TLS handshake checked the client certificate."""
    names = context.auth_context().get("x509_common_name") or []
    return names[0].decode() if names else None


def https_server_context(tls: TlsFiles) -> ssl.SSLContext:
    """An ``ssl`` server context for our HTTPS endpoints (the gateways' metrics): our
    certificate, and a client certificate of our CA required."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(tls.cert), str(tls.key))
    ctx.load_verify_locations(cafile=str(tls.ca))
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def https_client_context(tls: TlsFiles) -> ssl.SSLContext:
    """An ``ssl`` client context for our HTTPS endpoints (the gateways' metrics):
    our CA only, our certificate presented."""
    ctx = ssl.create_default_context(cafile=str(tls.ca))
    ctx.load_cert_chain(str(tls.cert), str(tls.key))
    return ctx
