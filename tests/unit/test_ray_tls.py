"""Ray's own TLS between machines, the pure pieces: the Ray node certificate (its names
and usages), the variables ``amk cert ray`` prints and ``amk up --ray-tls`` sets, where
the files are found, and the checks of a head's certificate. The real head is
tests/integration/test_ray_tls.py's."""

from __future__ import annotations

import ipaddress
import shlex
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from clients.ray_join import JoinPlan, apply
from clients.ray_tls import (
    RayTls,
    check_head,
    export_lines,
    find_tls,
    names_host,
    signed_by,
    tls_env,
    tls_requested,
)
from clients.up_guard import EXIT_REFUSED, UpRefused
from clients.up_tls import issue_ray
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.pki import LocalCa, TlsFiles, ray_node

RAY_VARS = {
    "RAY_USE_TLS",
    "RAY_TLS_SERVER_CERT",
    "RAY_TLS_SERVER_KEY",
    "RAY_TLS_CA_CERT",
}


def _cert(files: TlsFiles) -> x509.Certificate:
    return x509.load_pem_x509_certificate(files.cert.read_bytes())


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    folder = tmp_path / "pki"
    LocalCa(folder)
    return folder


def test_the_ray_certificate_serves_and_calls_for_loopback_and_the_nodes(pki: Path) -> None:
    """One certificate per Ray process, used to serve and to call (Ray requires client
    certificates), naming every address a peer dials."""
    files = ray_node(pki, ["10.0.0.5", "head.example"])
    cert = _cert(files)
    usages = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert usages == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "10.0.0.5")
    }
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "head.example"}
    assert files.common_name() == "ray-node"
    assert files.ca == pki / "ca.crt"
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert signed_by(cert, x509.load_pem_x509_certificate(files.ca.read_bytes()))
    for host in ("127.0.0.1", "localhost", "10.0.0.5", "head.example", "[::1]"):
        assert names_host(cert, host), host
    assert not names_host(cert, "10.0.0.6")


def test_it_is_reused_while_good_and_issued_again_for_other_hosts(pki: Path) -> None:
    first = ray_node(pki, ["10.0.0.5"]).cert.read_bytes()
    assert ray_node(pki, ["10.0.0.5"]).cert.read_bytes() == first
    assert ray_node(pki, ["10.0.0.6"]).cert.read_bytes() != first


def test_another_cas_certificate_is_not_ours(pki: Path, tmp_path: Path) -> None:
    other = ray_node(tmp_path / "other", [])
    ours = RayTls(ray_node(pki, []), "the pki folder")
    ca = x509.load_pem_x509_certificate(ours.files.ca.read_bytes())
    assert not signed_by(_cert(other), ca)  # same CA name, another key
    with pytest.raises(UpRefused, match="not signed by our CA") as refused:
        check_head("127.0.0.1:6379", _cert(other), ours)
    assert refused.value.exit_code == EXIT_REFUSED
    assert "another CA of the same name" in str(refused.value)
    with pytest.raises(UpRefused, match=r"does not name 10\.0\.0\.9.*--ip 10\.0\.0\.9"):
        check_head("10.0.0.9:6379", _cert(ours.files), ours)
    check_head("127.0.0.1:6379", _cert(ours.files), ours)  # ours, naming the address


def test_the_variables_are_rays_own_with_absolute_paths(pki: Path) -> None:
    files = ray_node(pki, [])
    env = tls_env(files)
    assert env == {
        "RAY_USE_TLS": "1",
        "RAY_TLS_SERVER_CERT": str(pki / "ray-node.crt"),
        "RAY_TLS_SERVER_KEY": str(pki / "ray-node.key"),
        "RAY_TLS_CA_CERT": str(pki / "ca.crt"),
    }
    assert RayTls(files, "").env() == env
    # What `eval "$(amk cert ray)"` runs: export lines a shell reads back unchanged.
    exported = dict(shlex.split(line)[1].split("=", 1) for line in export_lines(files).splitlines())
    assert exported == env


def test_export_lines_quote_paths_with_spaces(tmp_path: Path) -> None:
    files = issue_ray(LocalCa(tmp_path / "pki").folder, [], tmp_path / "out dir")
    line = next(x for x in export_lines(files).splitlines() if "SERVER_KEY" in x)
    key = tmp_path / "out dir" / "ray-node.key"
    assert shlex.split(line) == ["export", f"RAY_TLS_SERVER_KEY={key}"]


def test_the_plan_puts_the_variables_in_the_environment(pki: Path) -> None:
    environ: dict[str, str] = {}
    env = {**tls_env(ray_node(pki, [])), "RAY_AUTH_MODE": "token"}
    apply(JoinPlan(env, ""), environ)
    assert environ == env and RAY_VARS <= set(environ)


@pytest.mark.parametrize(("value", "on"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_rays_own_switch(value: str, on: bool) -> None:
    assert tls_requested({"RAY_USE_TLS": value}) is on


def test_the_variables_win_over_the_pki_folder(pki: Path, tmp_path: Path) -> None:
    ray_node(pki, [])
    other = ray_node(tmp_path / "other", [])
    assert find_tls(pki, {}).files == TlsFiles(
        pki / "ca.crt", pki / "ray-node.crt", pki / "ray-node.key"
    )
    found = find_tls(pki, tls_env(other))
    assert found.files.cert == other.cert.resolve() and "RAY_TLS_SERVER_CERT" in found.source
    partial = {"RAY_TLS_SERVER_CERT": str(other.cert)}  # all three, or the folder
    assert find_tls(pki, partial).files.cert == pki / "ray-node.crt"


def test_no_ray_certificate_is_a_refusal_saying_how_to_make_it(pki: Path) -> None:
    with pytest.raises(UpRefused, match=r"ray-node\.crt.*amk cert ray --ip"):
        find_tls(pki, {})
    with pytest.raises(UpRefused, match="RAY_TLS_SERVER_CERT"):
        find_tls(None, {})


def test_amk_cert_ray_copies_for_another_machine(pki: Path, tmp_path: Path) -> None:
    out = tmp_path / "node-b"
    files = issue_ray(pki, ["10.0.0.7"], out)
    assert files == TlsFiles(out / "ca.crt", out / "ray-node.crt", out / "ray-node.key")
    assert files.ca.read_bytes() == (pki / "ca.crt").read_bytes()
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert not (out / "ca.key").exists()  # the CA key stays in the state folder
    assert names_host(_cert(files), "10.0.0.7")


def test_amk_cert_ray_needs_hosts_and_the_ca(pki: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--ip"):
        issue_ray(pki, ["not a host"])
    with pytest.raises(ConfigError, match="no local CA"):
        issue_ray(tmp_path / "empty", [])


def test_ray_tls_is_for_joining_only(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ray_tls .* needs ray_address"):
        ClusterConfig.load(home=tmp_path, ray_tls=True)
    config = ClusterConfig.load(home=tmp_path, ray_tls=True, ray_address="10.0.0.5:6379")
    assert config.ray_tls
