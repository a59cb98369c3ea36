"""The local certificate authority of the embedded default (issue #13).

Why a CA of our own: every port the cluster opens (gateways, the centres' links, etcd)
speaks TLS and asks for a certificate from *our* CA, so a client without one gets
nothing. Production plugs in the health trust's PKI instead (the same three files per
identity: CA certificate, certificate, key); development and tests get one made here, in
the state folder (``{home}/pki``), the first time ``amk up`` runs.

Keys are EC P-256 (small, fast handshakes on 2 cores), written 0600. Certificates are
reused while they are signed by the current CA, name the hosts asked for and have more
than ``RENEW_BEFORE`` left; otherwise they are issued again. The CA key never leaves the
state folder.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cluster.errors import ConfigError

CA_DAYS = 3650
LEAF_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=30)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """One identity's files: what a gRPC server, a client or etcd is given."""

    ca: Path
    cert: Path
    key: Path

    def read(self) -> tuple[bytes, bytes, bytes]:
        """(CA certificate, certificate chain, private key) as PEM bytes."""
        return self.ca.read_bytes(), self.cert.read_bytes(), self.key.read_bytes()

    def common_name(self) -> str:
        cert = x509.load_pem_x509_certificate(self.cert.read_bytes())
        return common_name_of(cert)


def expiries(identities: dict[str, TlsFiles | None]) -> dict[str, float]:
    """When each identity's certificate, and the CA beside it, stops being valid (Unix
    time), by name (``ca``: the CA): read when a process loads them, since a process
    serves with what it loaded until it restarts (a renewal on disk changes nothing in
    it). An identity that is None (insecure) has none."""
    read: dict[Path, float] = {}  # each file once (the identities share their CA)

    def not_after(path: Path) -> float:
        if path not in read:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            read[path] = cert.not_valid_after_utc.timestamp()
        return read[path]

    out: dict[str, float] = {}
    for name, files in identities.items():
        if files is not None:
            out[name], out["ca"] = not_after(files.cert), not_after(files.ca)
    return out


def common_name_of(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by its owner only (created 0600, never widened)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _san(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


class LocalCa:
    """A CA in a folder: ``ca.crt`` and ``ca.key``, made on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.cert_path = self.folder / "ca.crt"
        self.key_path = self.folder / "ca.key"
        if not self.cert_path.exists() or not self.key_path.exists():
            self._create()
        try:
            self.cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        except (ValueError, OSError) as exc:
            raise ConfigError(f"pki: cannot read the CA in {self.folder}: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"pki: {self.key_path} is not an EC key")
        self.key = key

    def _create(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AMK dispatch cluster"),
                x509.NameAttribute(NameOID.COMMON_NAME, "AMK local CA"),
            ]
        )
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_path, _key_pem(key))
        self.cert_path.parent.mkdir(parents=True, exist_ok=True)
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def issue(
        self,
        name: str,
        common_name: str,
        *,
        hosts: Iterable[str] = (),
        server: bool = False,
        client: bool = True,
        days: int = LEAF_DAYS,
    ) -> TlsFiles:
        """``{name}.crt``/``{name}.key`` for ``common_name``, reused while still good.

        ``server`` certificates name ``hosts`` (IP addresses or DNS names) as subject
        alternative names; ``client`` ones carry the client-auth usage, and their common
        name is the identity a peer reads (an etcd user, a unit id, a service).
        """
        if not (server or client):
            raise ConfigError(f"pki: {name}: a certificate must be for a server or a client")
        hosts = tuple(dict.fromkeys(hosts))
        if server and not hosts:
            raise ConfigError(f"pki: {name}: a server certificate needs its hosts")
        files = TlsFiles(self.cert_path, self.folder / f"{name}.crt", self.folder / f"{name}.key")
        if self._still_good(files, common_name, hosts, server, client):
            return files
        key = ec.generate_private_key(ec.SECP256R1())
        usages = []
        if server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if hosts:
            builder = builder.add_extension(x509.SubjectAlternativeName(_san(hosts)), False)
        cert = builder.sign(self.key, hashes.SHA256())
        _write_private(files.key, _key_pem(key))
        files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return files

    def _still_good(
        self, files: TlsFiles, cn: str, hosts: tuple[str, ...], server: bool, client: bool
    ) -> bool:
        if not files.cert.exists() or not files.key.exists():
            return False
        try:
            cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
            self.cert.public_key().verify(  # type: ignore[call-arg]
                cert.signature,
                cert.tbs_certificate_bytes,
                ec.ECDSA(cert.signature_hash_algorithm),  # type: ignore[arg-type]
            )
        except Exception:  # any failure means: issue it again
            return False
        if common_name_of(cert) != cn or cert.not_valid_after_utc - _now() < RENEW_BEFORE:
            return False
        usages = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        if (ExtendedKeyUsageOID.SERVER_AUTH in usages) != server:
            return False
        if (ExtendedKeyUsageOID.CLIENT_AUTH in usages) != client:
            return False
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            have = set(_san_strings(san))
        except x509.ExtensionNotFound:
            have = set()
        return have == {str(_normal(h)) for h in hosts}


def _normal(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _san_strings(san: x509.SubjectAlternativeName) -> list[str]:
    out = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    out += list(san.get_values_for_type(x509.DNSName))
    return out


# The common names of the cluster's own identities. Clients of the gateways present
# their own: a console's device certificate ("console-..."), a crew's (the unit id).
SERVICE_CN = "amk-service"  # gateways, centres' links, supervisors: server and client
ETCD_SERVER_CN = "etcd-server"  # the embedded etcd's members: client and peer ports
ETCD_USER_CN = "amk"  # the etcd user of every cluster process; its role: our key prefix
ETCD_ROOT_CN = "root"  # etcd's root user: only `amk up` uses it, to set up users and roles
CONSOLE_CN = "console"  # the local console certificate `amk up` makes for the CLI
RAY_NODE_CN = "ray-node"  # every Ray process of a cluster with Ray's TLS (RAY_USE_TLS)
RAY_NODE_NAME = "ray-node"  # its files: ray-node.crt, ray-node.key


@dataclass(frozen=True, slots=True)
class LocalIdentities:
    """Every identity the embedded default needs, issued by one local CA."""

    ca: LocalCa
    service: TlsFiles
    etcd_server: TlsFiles
    etcd_user: TlsFiles
    etcd_root: TlsFiles
    console: TlsFiles


def local_identities(folder: Path, hosts: Iterable[str] = ()) -> LocalIdentities:
    """The local CA in ``folder`` and the cluster's certificates, made or reused.

    ``hosts`` are the addresses servers listen on beyond loopback (a routable
    ``centre_link_host``, gateways on another interface, etcd members' hosts).
    """
    names = (*LOOPBACK_HOSTS, *hosts)
    ca = LocalCa(folder)
    return LocalIdentities(
        ca=ca,
        service=ca.issue("service", SERVICE_CN, hosts=names, server=True),
        etcd_server=ca.issue("etcd-server", ETCD_SERVER_CN, hosts=names, server=True),
        etcd_user=ca.issue("etcd-user", ETCD_USER_CN),
        etcd_root=ca.issue("etcd-root", ETCD_ROOT_CN),
        console=ca.issue("console", CONSOLE_CN),
    )


def ray_node(folder: Path, hosts: Iterable[str] = ()) -> TlsFiles:
    """The certificate of Ray's own TLS (``RAY_USE_TLS``), from the local CA in ``folder``.

    Why one identity, server and client: Ray reads one certificate and key
    (``RAY_TLS_SERVER_CERT|KEY``) in every process (GCS, raylets, workers, drivers) and
    uses them both to serve and to call, with client certificates required and checked
    against ``RAY_TLS_CA_CERT``. Its callers check that the certificate names the
    address they dialled, so it names loopback plus ``hosts``: every node IP (and name)
    another Ray process reaches this one at.
    """
    names = (*LOOPBACK_HOSTS, *hosts)
    return LocalCa(folder).issue(RAY_NODE_NAME, RAY_NODE_CN, hosts=names, server=True)


def copy_files(files: TlsFiles, folder: Path) -> TlsFiles:
    """``files`` copied into ``folder`` under the same names (the key 0600): what is
    carried to another machine, which gets no CA key."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = TlsFiles(folder / files.ca.name, folder / files.cert.name, folder / files.key.name)
    for source, target in ((files.ca, copied.ca), (files.cert, copied.cert)):
        if source.resolve() != target.resolve():
            target.write_bytes(source.read_bytes())
    if files.key.resolve() != copied.key.resolve():
        _write_private(copied.key, files.key.read_bytes())
    return copied
