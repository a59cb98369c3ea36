"""The local issuer and the verifier (cluster/tokens.py): good tokens pass; forged,
expired, wrong-audience and wrong-issuer ones do not, each with its reason."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cluster.errors import AuthenticationError
from cluster.tokens import (
    JWKS_FILE,
    LocalIssuer,
    TokenVerifier,
    bearer,
    save_token,
    token_path,
)

ISS, AUD = "amk-local", "amk-dispatch"


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    i = LocalIssuer(tmp_path / "pki", ISS, AUD)
    i.ensure()
    return i


def verifier(issuer: LocalIssuer, *, audience: str = AUD, issuer_name: str = ISS) -> TokenVerifier:
    return TokenVerifier(issuer_name, audience, issuer.folder / JWKS_FILE, leeway_s=30)


def test_a_token_of_the_local_issuer_verifies(issuer: LocalIssuer) -> None:
    token = issuer.issue("kari", "call-taker", "oslo", lifetime_s=600, name="Kari N")
    claims = verifier(issuer).verify(token)
    assert (claims.sub, claims.name, claims.role, claims.centre) == (
        "kari",
        "Kari N",
        "call-taker",
        "oslo",
    )
    assert claims.expires_at - claims.issued_at == 600


def test_the_key_is_private_and_reused(issuer: LocalIssuer) -> None:
    assert stat.S_IMODE(issuer.key_path.stat().st_mode) == 0o600
    kid = issuer.key_id()
    LocalIssuer(issuer.folder, ISS, AUD).ensure()
    assert LocalIssuer(issuer.folder, ISS, AUD).key_id() == kid


def test_expired_tokens_are_refused_past_the_leeway(issuer: LocalIssuer) -> None:
    old = issuer.issue("kari", "call-taker", "oslo", lifetime_s=60, now=time.time() - 120)
    with pytest.raises(AuthenticationError, match="expired"):
        verifier(issuer).verify(old)
    within = issuer.issue("kari", "call-taker", "oslo", lifetime_s=60, now=time.time() - 70)
    assert verifier(issuer).verify(within).sub == "kari"  # 10 s late: inside the 30 s leeway


def test_a_forged_token_is_refused(issuer: LocalIssuer) -> None:
    good = issuer.issue("kari", "call-taker", "oslo", lifetime_s=600)
    claims = jwt.decode(good, options={"verify_signature": False})
    claims["role"] = "supervisor"
    forged = jwt.encode(
        claims,
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": issuer.key_id()},
    )
    with pytest.raises(AuthenticationError, match="signature"):
        verifier(issuer).verify(forged)
    head, _body, sig = good.split(".")
    tampered = ".".join((head, jwt.utils.base64url_encode(b'{"sub":"x"}').decode(), sig))
    with pytest.raises(AuthenticationError):
        verifier(issuer).verify(tampered)


def test_wrong_audience_issuer_and_algorithm_are_refused(issuer: LocalIssuer) -> None:
    token = issuer.issue("kari", "call-taker", "oslo", lifetime_s=600)
    with pytest.raises(AuthenticationError, match="audience"):
        verifier(issuer, audience="another-system").verify(token)
    with pytest.raises(AuthenticationError, match="issuer"):
        verifier(issuer, issuer_name="https://helseid.example").verify(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    hs = jwt.encode(claims, "secret-of-thirty-two-bytes-long!", algorithm="HS256")
    with pytest.raises(AuthenticationError, match="algorithm"):
        verifier(issuer).verify(hs)
    with pytest.raises(AuthenticationError, match="malformed"):
        verifier(issuer).verify("not-a-token")


def test_a_token_without_a_role_is_refused(issuer: LocalIssuer) -> None:
    token = issuer.issue("kari", "", "oslo", lifetime_s=600)
    with pytest.raises(AuthenticationError, match="role"):
        verifier(issuer).verify(token)


def test_no_jwks_means_nobody_is_authenticated(tmp_path: Path) -> None:
    other = LocalIssuer(tmp_path / "elsewhere", ISS, AUD)
    token = other.issue("kari", "call-taker", "oslo", lifetime_s=600)
    v = TokenVerifier(ISS, AUD, tmp_path / "missing.json", leeway_s=30)
    with pytest.raises(AuthenticationError, match="JWKS"):
        v.verify(token)


def test_bearer_header_and_token_file(tmp_path: Path) -> None:
    assert bearer({"authorization": "Bearer abc"}) == "abc"
    assert bearer({"authorization": "Basic abc"}) is None
    assert bearer({}) is None
    path = save_token(tmp_path, "tok")
    assert path == token_path(tmp_path) and path.read_text() == "tok"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_remembered_token_still_expires(issuer: LocalIssuer) -> None:
    v = verifier(issuer)
    token = issuer.issue("kari", "call-taker", "oslo", lifetime_s=60, now=time.time() - 80)
    assert v.verify(token).sub == "kari"  # 20 s past exp: inside the leeway
    v.leeway_s = 0.0
    with pytest.raises(AuthenticationError, match="expired"):
        v.verify(token)
