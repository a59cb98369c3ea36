"""`amk login`, and the token and break-glass reason the client sends (the CLI's "run
amk login" hint is checked for real in tests/integration/test_cli_e2e.py)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from clients.cli import main
from clients.client import AmkClient
from cluster.config import ClusterConfig
from cluster.tokens import TokenVerifier, token_path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AMK_HOME", str(tmp_path))
    monkeypatch.delenv("AMK_TOKEN", raising=False)
    monkeypatch.delenv("AMK_CONFIG", raising=False)
    return tmp_path


def test_login_writes_a_token_the_gateways_verify(home: Path) -> None:
    assert main(["login", "--user", "kari", "--role", "call-taker", "--centre", "oslo"]) == 0
    config = ClusterConfig.load()
    verifier = TokenVerifier(
        config.oidc_issuer, config.oidc_audience, config.oidc_jwks_location(), 30
    )
    claims = verifier.verify(token_path(home).read_text())
    assert (claims.sub, claims.role, claims.centre) == ("kari", "call-taker", "oslo")
    client = AmkClient("127.0.0.1:1")
    assert ("authorization", f"Bearer {token_path(home).read_text()}") in client._metadata


def test_login_refuses_unknown_roles_centres_and_a_crew_without_unit(home: Path) -> None:
    assert main(["login", "--user", "k", "--role", "janitor", "--centre", "oslo"]) == 2
    assert main(["login", "--user", "k", "--role", "dispatcher", "--centre", "bergen"]) == 2
    assert main(["login", "--user", "k", "--role", "crew", "--centre", "oslo"]) == 2
    assert not token_path(home).exists()


def test_login_points_to_the_issuer_when_one_is_configured(home: Path) -> None:
    (home / "amk.toml").write_text('oidc_jwks = "/etc/amk/helseid-jwks.json"\n')
    assert main(["login", "--user", "k", "--role", "dispatcher", "--centre", "oslo"]) == 1
    assert not token_path(home).exists()


def test_the_client_sends_no_token_without_one_and_a_break_glass_reason_encoded(
    home: Path,
) -> None:
    assert all(k != "authorization" for k, _ in AmkClient("127.0.0.1:1")._metadata)
    client = AmkClient("127.0.0.1:1", token="t", break_glass=" Overført pasient fra Sørlandet ")
    meta = dict(client._metadata)
    assert meta["authorization"] == "Bearer t"
    assert meta["x-amk-break-glass"].isascii()
    assert urllib.parse.unquote(meta["x-amk-break-glass"]) == "Overført pasient fra Sørlandet"


def test_amk_up_says_how_to_log_in_when_identities_are_on(home: Path) -> None:
    from clients.up_tls import console_help
    from cluster.pki import local_identities
    from tests.helpers import session_pki

    config = ClusterConfig.load(pki_dir=session_pki())
    text = console_help(config, local_identities(session_pki()))
    assert "amk login --user NAME --role dispatcher --centre oslo" in text
    off = console_help(config.model_copy(update={"auth": "off"}), local_identities(session_pki()))
    assert "amk login" not in off
