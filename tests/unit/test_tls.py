"""cluster/tls.py's pure parts: which files a config or an environment names, and that
nothing falls back to plaintext unless insecure is asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.up_tls import issue_crew, server_hosts
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.pki import local_identities
from cluster.tls import (
    FROM_ENV,
    client_identity,
    console_identity,
    env_insecure,
    files_in,
    resolve,
    service_identity,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    local_identities(tmp_path / "pki")
    return tmp_path / "pki"


def test_files_in_names_the_missing_file_and_never_falls_back(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing .*ca\.crt.*--insecure for development"):
        files_in(tmp_path, "console")


def test_service_identity_is_none_only_when_the_config_says_insecure(
    folder: Path, tmp_path: Path
) -> None:
    secure = ClusterConfig.load(home=tmp_path, pki_dir=folder)
    files = service_identity(secure)
    assert files is not None and files.cert == folder / "service.crt"
    assert files.common_name() == "amk-service"
    assert console_identity(secure).common_name() == "console"  # type: ignore[union-attr]
    insecure = ClusterConfig.load(home=tmp_path, pki_dir=folder, insecure=True)
    assert service_identity(insecure) is None and console_identity(insecure) is None


def test_a_secure_config_without_certificates_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"service\.crt"):
        service_identity(ClusterConfig.load(home=tmp_path, pki_dir=tmp_path / "none"))


def test_client_identity_from_the_environment(folder: Path, tmp_path: Path) -> None:
    env = {"AMK_PKI": str(folder)}
    files = client_identity(env=env)
    assert files is not None and files.key == folder / "console.key"
    # $AMK_HOME/pki when AMK_PKI is unset.
    home = tmp_path / "home"
    local_identities(home / "pki")
    by_home = client_identity(env={"AMK_HOME": str(home)})
    assert by_home is not None and by_home.ca == home / "pki" / "ca.crt"
    # A crew's certificate by name; a flag beats the environment.
    issue_crew(folder, "OSL-A01")
    crew = client_identity(env={**env, "AMK_TLS_NAME": "crew-OSL-A01"})
    assert crew is not None and crew.common_name() == "OSL-A01"
    assert client_identity(folder, name="console", env={}) == files


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE"])
def test_insecure_only_when_asked(folder: Path, value: str) -> None:
    assert env_insecure({"AMK_INSECURE": value})
    assert client_identity(env={"AMK_PKI": str(folder), "AMK_INSECURE": value}) is None


@pytest.mark.parametrize("value", ["", "0", "no", "false"])
def test_not_insecure_otherwise(folder: Path, value: str) -> None:
    assert not env_insecure({"AMK_INSECURE": value})
    assert client_identity(env={"AMK_PKI": str(folder), "AMK_INSECURE": value}) is not None


def test_resolve_keeps_an_explicit_choice(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = client_identity(folder, env={})
    assert resolve(files) == files
    assert resolve(None) is None
    monkeypatch.setenv("AMK_PKI", str(folder))
    monkeypatch.delenv("AMK_INSECURE", raising=False)
    assert resolve(FROM_ENV) == files


def test_config_reads_pki_and_insecure_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMK_PKI", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("AMK_INSECURE", "1")
    config = ClusterConfig.load(home=tmp_path)
    assert config.insecure and config.pki_folder() == (tmp_path / "elsewhere").resolve()


def test_the_service_certificate_names_every_non_loopback_server_host(tmp_path: Path) -> None:
    config = ClusterConfig.load(
        home=tmp_path,
        gateways=["10.0.0.5:50051", "127.0.0.1:50052"],
        metrics=["10.0.0.5:9101", "127.0.0.1:9102"],
        centre_link_host="10.0.0.6",
    )
    assert server_hosts(config) == ["10.0.0.5", "10.0.0.6"]


def test_a_crew_certificate_needs_a_unit_id_and_the_ca(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unit_id"):
        issue_crew(folder, "../etc")
    with pytest.raises(ConfigError, match="no local CA"):
        issue_crew(tmp_path / "empty", "OSL-A01")
