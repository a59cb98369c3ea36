"""Ray's own TLS when ``amk up --ray-address`` joins a cluster across machines.

Ray encrypts its gRPC traffic (GCS, raylets, workers, drivers, the object manager's
transfers) when every one of its processes has ``RAY_USE_TLS=1`` and the same three
files: ``RAY_TLS_SERVER_CERT`` and ``RAY_TLS_SERVER_KEY`` (one certificate, used to
serve and to call; client certificates are required) and ``RAY_TLS_CA_CERT`` (the CA
every peer's certificate must be signed by). A process whose setting differs from the
head's does not fail: ``ray.init`` retries its first GCS call forever. So before
``ray.init`` this module looks at the head's port itself, in milliseconds:

- :func:`sniff`: a TLS handshake without checking anything. A TLS port answers with its
  certificate (TLS 1.3 ends the client's side of the handshake before the server checks
  ours); a plaintext gRPC port answers with an HTTP/2 frame, which is no TLS record.
- :func:`check_head`: the head's certificate must be signed by our CA and name the
  address we dial (gRPC checks that name; Ray's callers too).

The files come from Ray's own variables when all three are set (what ``eval "$(amk
cert ray)"`` exports), else from the pki folder (``ca.crt``, ``ray-node.crt|key``).
"""

from __future__ import annotations

import ipaddress
import shlex
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from clients.up_guard import UpRefused
from cluster.pki import RAY_NODE_NAME, TlsFiles, common_name_of

USE_TLS_ENV = "RAY_USE_TLS"
CERT_ENV = "RAY_TLS_SERVER_CERT"
KEY_ENV = "RAY_TLS_SERVER_KEY"
CA_ENV = "RAY_TLS_CA_CERT"
FILE_VARS = (CERT_ENV, KEY_ENV, CA_ENV)


def tls_env(files: TlsFiles) -> dict[str, str]:
    """The variables that turn Ray's TLS on with ``files``, identical on every process."""
    return {
        USE_TLS_ENV: "1",
        CERT_ENV: str(files.cert.resolve()),
        KEY_ENV: str(files.key.resolve()),
        CA_ENV: str(files.ca.resolve()),
    }


def export_lines(files: TlsFiles) -> str:
    """``export`` lines for a shell (``eval "$(amk cert ray)"`` before ``ray start``)."""
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in tls_env(files).items())


def tls_requested(env: Mapping[str, str]) -> bool:
    """Whether Ray in a process with ``env`` would use TLS (Ray's own test of the value)."""
    return env.get(USE_TLS_ENV, "0").strip().lower() in ("1", "true")


@dataclass(frozen=True)
class RayTls:
    """The files this process joins with, and where they came from (for messages)."""

    files: TlsFiles
    source: str

    def env(self) -> dict[str, str]:
        return tls_env(self.files)

    def credentials(self) -> grpc.ChannelCredentials:
        """What Ray's own channels present: our CA, our certificate and key."""
        ca, cert, key = self.files.read()
        return grpc.ssl_channel_credentials(ca, key, cert)


def find_tls(pki: Path | None, env: Mapping[str, str]) -> RayTls:
    """Ray's variables when all three are set, else the pki folder's Ray certificate."""
    if all(env.get(v) for v in FILE_VARS):
        files = TlsFiles(Path(env[CA_ENV]), Path(env[CERT_ENV]), Path(env[KEY_ENV]))
        source = f"{CERT_ENV}, {KEY_ENV}, {CA_ENV}"
    elif pki is None:
        raise UpRefused(f"Ray TLS: set {', '.join(FILE_VARS)} (`amk cert ray` prints them)")
    else:
        files = TlsFiles(pki / "ca.crt", pki / f"{RAY_NODE_NAME}.crt", pki / f"{RAY_NODE_NAME}.key")
        source = f"the pki folder {pki}"
    missing = [str(p) for p in (files.ca, files.cert, files.key) if not p.is_file()]
    if missing:
        raise UpRefused(
            f"Ray TLS: no {', '.join(missing)} (from {source}): `amk cert ray --ip THIS_NODE_IP` "
            "makes the Ray certificate, signed by the CA the Ray head uses"
        )
    return RayTls(files, source)


@dataclass(frozen=True)
class Sniffed:
    """What the port said to a TLS hello: TLS or not, and its certificate when shown."""

    tls: bool
    cert: x509.Certificate | None = None


def sniff(address: str, timeout_s: float, client: TlsFiles | None = None) -> Sniffed:
    """Whether ``address`` speaks TLS; OSError if nothing answers there.

    No verification here (that is :func:`check_head`'s, with messages); ``client`` is
    presented when given, so a server that checks it during the handshake (TLS 1.2)
    still shows its certificate. An alert from the peer means it speaks TLS too.
    """
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    with socket.create_connection((host, int(port)), timeout=timeout_s) as raw:
        try:
            with context.wrap_socket(raw) as tls:
                der = tls.getpeercert(binary_form=True)
        except ssl.SSLError as exc:
            return Sniffed(tls="ALERT" in str(exc.reason or "").upper())
        except ConnectionError:
            return Sniffed(tls=False)  # closed on our hello: not a TLS server
    return Sniffed(True, x509.load_der_x509_certificate(der) if der else None)


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether ``ca``'s key signed ``cert`` (our CA is EC P-256; any other key: no)."""
    key = ca.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or cert.issuer != ca.subject:
        return False
    try:
        key.verify(
            cert.signature,
            cert.tbs_certificate_bytes,
            ec.ECDSA(cert.signature_hash_algorithm),  # type: ignore[arg-type]
        )
    except Exception:  # InvalidSignature, or an algorithm we do not use
        return False
    return True


def names_of(cert: x509.Certificate) -> list[str]:
    """The certificate's subject alternative names (IP addresses and DNS names)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] + list(
        san.get_values_for_type(x509.DNSName)
    )


def names_host(cert: x509.Certificate, host: str) -> bool:
    """Whether gRPC's name check of ``host`` passes on ``cert`` (exact names only)."""
    try:
        wanted = str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        wanted = host.lower()
    return wanted in {n.lower() for n in names_of(cert)}


def check_head(address: str, head: x509.Certificate | None, ours: RayTls) -> None:
    """UpRefused unless the head's certificate is our CA's and names ``address``'s host."""
    if head is None:
        return  # shown no certificate (an alert on our hello): the gRPC probe will say
    ca = x509.load_pem_x509_certificate(ours.files.ca.read_bytes())
    if not signed_by(head, ca):
        issuer = head.issuer.rfc4514_string() or "?"
        if head.issuer == ca.subject:  # every local CA has the same name
            issuer = f"another CA of the same name ({issuer})"
        raise UpRefused(
            f"the Ray head's certificate is not signed by our CA ({ours.files.ca}, from "
            f"{ours.source}): the head at {address} presents one issued by {issuer}"
        )
    host = address.rpartition(":")[0]
    if not names_host(head, host):
        raise UpRefused(
            f"the Ray head's certificate ({common_name_of(head)}) does not name {host}, the "
            f"address dialled (it names {', '.join(names_of(head)) or 'nothing'}): issue it "
            f"with `amk cert ray --ip {host.strip('[]')}`"
        )
