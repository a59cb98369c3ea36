"""The local CA: certificates issued, reused while good, re-issued when asked for more."""

import stat
from pathlib import Path

import pytest
from cryptography import x509

from cluster.errors import ConfigError
from cluster.pki import LocalCa


def test_issued_server_certificate_names_its_hosts_and_key_is_private(tmp_path: Path) -> None:
    ca = LocalCa(tmp_path / "pki")
    files = ca.issue("gateway", "amk-gateway", hosts=["127.0.0.1", "localhost"], server=True)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert files.common_name() == "amk-gateway"
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(ca.key_path.stat().st_mode) == 0o600
    cert.verify_directly_issued_by(ca.cert)


def test_reused_while_good_and_reissued_for_new_hosts(tmp_path: Path) -> None:
    ca = LocalCa(tmp_path / "pki")
    first = ca.issue("link", "amk-centre", hosts=["127.0.0.1"], server=True).cert.read_bytes()
    again = LocalCa(tmp_path / "pki").issue("link", "amk-centre", hosts=["127.0.0.1"], server=True)
    assert again.cert.read_bytes() == first
    wider = ca.issue("link", "amk-centre", hosts=["127.0.0.1", "10.0.0.5"], server=True)
    assert wider.cert.read_bytes() != first


def test_certificate_of_another_ca_is_issued_again(tmp_path: Path) -> None:
    LocalCa(tmp_path / "a").issue("console", "console")
    (tmp_path / "b").mkdir()
    for name in ("console.crt", "console.key"):
        (tmp_path / "b" / name).write_bytes((tmp_path / "a" / name).read_bytes())
    ca_b = LocalCa(tmp_path / "b")
    files = ca_b.issue("console", "console")
    x509.load_pem_x509_certificate(files.cert.read_bytes()).verify_directly_issued_by(ca_b.cert)


def test_server_certificate_without_hosts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs its hosts"):
        LocalCa(tmp_path / "pki").issue("gw", "amk-gateway", server=True)
