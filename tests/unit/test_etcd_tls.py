"""Which certificate etcd gets from whom, and the flags etcd is started with (issue #13):
no etcd here, only the choices; tests/integration/test_etcd_security.py runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.etcd import EtcdClient
from cluster.etcd_auth import _permissions, ensure_etcd_auth
from cluster.etcd_server import EmbeddedEtcd, tls_args
from cluster.etcd_tls import etcd_tls, identity_files
from cluster.pki import ETCD_ROOT_CN, ETCD_USER_CN, local_identities


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    local_identities(folder)
    return folder


def test_identity_files_are_the_files_local_identities_issues(pki: Path) -> None:
    ids = local_identities(pki)
    assert identity_files(pki, "user") == ids.etcd_user
    assert identity_files(pki, "root") == ids.etcd_root
    assert identity_files(pki, "server") == ids.etcd_server
    assert ids.etcd_user.common_name() == ETCD_USER_CN
    assert ids.etcd_root.common_name() == ETCD_ROOT_CN


def test_a_config_names_its_identities_and_insecure_names_none(pki: Path, tmp_path) -> None:
    config = ClusterConfig.load(home=tmp_path, pki_dir=pki)
    assert etcd_tls(config) == identity_files(pki, "user")
    assert etcd_tls(config, "root") == identity_files(pki, "root")
    insecure = ClusterConfig.load(home=tmp_path, pki_dir=pki, insecure=True)
    assert etcd_tls(insecure) is None and etcd_tls(insecure, "root") is None


def test_a_missing_certificate_is_one_clear_error_and_nothing_is_made(tmp_path: Path) -> None:
    config = ClusterConfig.load(home=tmp_path, pki_dir=tmp_path / "pki")  # not $AMK_PKI
    with pytest.raises(ConfigError, match="etcd user certificate missing") as missing:
        etcd_tls(config)
    assert "etcd-user.crt" in str(missing.value) and "--insecure" in str(missing.value)
    assert not (tmp_path / "pki").exists(), "an actor never makes a CA of its own"


def test_an_etcd_client_must_be_told_its_certificate() -> None:
    with pytest.raises(TypeError, match="tls"):
        EtcdClient(["127.0.0.1:2379"])  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="tls"):
        EmbeddedEtcd(Path("/nonexistent"))  # type: ignore[call-arg]


def test_etcd_asks_for_our_ca_on_client_and_peer_ports(pki: Path, tmp_path: Path) -> None:
    server = identity_files(pki, "server")
    args = EmbeddedEtcd(tmp_path, tls=server, client_port=1234, peer_port=1235)._args(Path("e"))
    flag = {a: args[i + 1] for i, a in enumerate(args[:-1]) if a.startswith("--")}
    assert flag["--listen-client-urls"] == "https://127.0.0.1:1234"
    assert flag["--listen-peer-urls"] == "https://127.0.0.1:1235"
    assert flag["--initial-cluster"].endswith("=https://127.0.0.1:1235")
    assert flag["--trusted-ca-file"] == flag["--peer-trusted-ca-file"] == str(server.ca)
    assert flag["--cert-file"] == flag["--peer-cert-file"] == str(server.cert)
    assert "--client-cert-auth" in args and "--peer-client-cert-auth" in args
    assert set(tls_args(server)) <= set(args)
    plain = EmbeddedEtcd(tmp_path, tls=None, client_port=1234, peer_port=1235)._args(Path("e"))
    assert "https://127.0.0.1:1234" not in plain and "http://127.0.0.1:1234" in plain
    assert not any("cert" in a for a in plain)


def test_the_user_role_is_the_prefix_and_the_revision_probe_only() -> None:
    rw, probe = _permissions("/amk/v1/")
    assert (rw.key, rw.range_end) == (b"/amk/v1/", b"/amk/v10")  # [prefix, prefix_end)
    assert rw.permType == rw.READWRITE
    assert probe.permType == probe.READ and probe.range_end == b""  # one key, read only


async def test_the_setup_refuses_a_certificate_that_is_not_root(pki: Path) -> None:
    with pytest.raises(ConfigError, match="root identity"):
        await ensure_etcd_auth(["127.0.0.1:1"], identity_files(pki, "user"), "/amk/v1/")
    with pytest.raises(ConfigError, match="must start and end"):
        await ensure_etcd_auth(["127.0.0.1:1"], identity_files(pki, "root"), "/amk")
