"""People's identities: OpenID Connect bearer tokens (JWT), issued and verified.

Production plugs in HelseID (or any OpenID Connect issuer): the gateway is given the
issuer's ``iss``, the audience it expects, and a JWKS file with the issuer's public keys
(``oidc_issuer``, ``oidc_audience``, ``oidc_jwks``); it verifies and never issues. The
embedded default (no ``oidc_jwks``) has a local issuer for development: an ES256 key
pair in the state folder's pki folder, its public half written next to it as a JWKS,
and ``amk login`` asks it for a short-lived token.

No Ray or gRPC here: the gateway, the CLI and tests all use this module as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cluster.errors import AuthenticationError, ConfigError
from cluster.home import state_folder

if TYPE_CHECKING:
    from cluster.config import ClusterConfig

ALGORITHM = "ES256"
ISSUER_KEY = "oidc-issuer.key"  # the local issuer's private key (0600)
JWKS_FILE = "oidc-jwks.json"  # its public key as a JWKS: what the gateways verify with
REQUIRED_CLAIMS = ("sub", "role", "centre", "iss", "aud", "iat", "exp")
#: How often a verifier may re-read its JWKS file for a key id it does not know (a key
#: rotated in production, or the local issuer made after the gateway started).
JWKS_RELOAD_S = 5.0
VERIFIED_CACHE = 4096  # tokens remembered as verified (until they expire)


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says about a person (or, from a certificate, a crew)."""

    sub: str
    name: str
    role: str
    centre: str
    unit: str = ""  # crews: the unit they are (certificate CN, or a crew token's claim)
    issued_at: float = 0.0  # when the person last authenticated (auth_time, else iat)
    expires_at: float = 0.0

    @property
    def who(self) -> str:
        """The name journal entries carry: the subject, never a client-stated name."""
        return self.sub


# ---------------------------------------------------------------- the local issuer


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by its owner only, atomically (created 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, text: str) -> None:
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class LocalIssuer:
    """The development issuer of the embedded default: one ES256 key in ``folder``.

    ``ensure`` makes the key and its JWKS once; every later call (another gateway,
    ``amk login``) reuses them, so tokens verify on every gateway of the state folder.
    """

    def __init__(self, folder: Path, issuer: str, audience: str) -> None:
        self.folder = folder
        self.issuer = issuer
        self.audience = audience
        self.key_path = folder / ISSUER_KEY
        self.jwks_path = folder / JWKS_FILE

    @classmethod
    def for_config(cls, config: ClusterConfig) -> LocalIssuer:
        """The local issuer of a deployment: its pki folder, issuer and audience."""
        return cls(config.pki_folder(), config.oidc_issuer, config.oidc_audience)

    def ensure(self) -> None:
        """Create the key pair and the JWKS if they are missing (idempotent)."""
        if not self.key_path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            # Two processes racing here: O_EXCL lets one win, the other reads its key.
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as f:
                    f.write(pem)
        if not self.jwks_path.exists():
            _write_public(self.jwks_path, json.dumps(self.jwks(), indent=2))

    def _key(self) -> ec.EllipticCurvePrivateKey:
        for _ in range(50):  # a racing creator may not have written its bytes yet
            data = self.key_path.read_bytes()
            if data:
                break
            time.sleep(0.01)
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"{self.key_path}: not an EC private key")
        return key

    def key_id(self) -> str:
        """The key's id in the JWKS: its RFC 7638 thumbprint, stable per key."""
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._key().public_key()))
        canonical = json.dumps(
            {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
        )
        return jwt.utils.base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._key().public_key()))
        jwk.update({"kid": self.key_id(), "use": "sig", "alg": ALGORITHM})
        return {"keys": [jwk]}

    def issue(
        self,
        user: str,
        role: str,
        centre: str,
        *,
        lifetime_s: float,
        name: str = "",
        unit: str = "",
        now: float | None = None,
    ) -> str:
        """A signed token for ``user`` acting as ``role`` at ``centre``."""
        self.ensure()
        at = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "sub": user,
            "name": name or user,
            "role": role,
            "centre": centre,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": at,
            "auth_time": at,
            "exp": at + int(lifetime_s),
            "jti": uuid.uuid4().hex,
        }
        if unit:
            claims["unit"] = unit
        return jwt.encode(claims, self._key(), algorithm=ALGORITHM, headers={"kid": self.key_id()})


# ---------------------------------------------------------------- verifying


class TokenVerifier:
    """Checks a bearer token: signature by a key of the JWKS, issuer, audience, expiry
    (with a small leeway for clocks) and the claims we need."""

    def __init__(self, issuer: str, audience: str, jwks_path: Path, leeway_s: float) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_path = jwks_path
        self.leeway_s = leeway_s
        self._keys: dict[str, Any] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        # Tokens already verified (a console sends the same one on every call): an
        # ES256 check per call is CPU the gateway's event loop does not need to spend.
        self._verified: dict[str, Claims] = {}

    def _load(self) -> None:
        try:
            doc = json.loads(self.jwks_path.read_text())
            keyset = jwt.PyJWKSet.from_dict(doc)
        except (OSError, ValueError, jwt.PyJWKSetError) as exc:
            raise AuthenticationError(f"no usable JWKS at {self.jwks_path}: {exc}") from exc
        self._keys = {k.key_id or "": k for k in keyset.keys}
        self._loaded_at = time.monotonic()

    def _key_for(self, kid: str) -> Any:
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._loaded_at > JWKS_RELOAD_S:
                self._load()
            key = self._keys.get(kid)
            if key is None and kid == "" and len(self._keys) == 1:
                key = next(iter(self._keys.values()))
        if key is None:
            raise AuthenticationError("token signed by a key this cluster does not know")
        return key

    def verify(self, token: str) -> Claims:
        """The token's claims, or :class:`AuthenticationError` saying what is wrong."""
        known = self._verified.get(token)
        if known is not None:
            if time.time() <= known.expires_at + self.leeway_s:
                return known
            del self._verified[token]
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"malformed token: {exc}") from exc
        if header.get("alg") != ALGORITHM:
            raise AuthenticationError(f"token algorithm {header.get('alg')!r} not {ALGORITHM}")
        key = self._key_for(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token expired: run amk login again") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthenticationError(f"token not for this audience ({self.audience})") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthenticationError(f"token not from the issuer {self.issuer}") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthenticationError("token signature does not verify (forged?)") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"token refused: {exc}") from exc
        for claim in ("sub", "role", "centre"):
            if not isinstance(claims.get(claim), str) or not claims[claim]:
                raise AuthenticationError(f"token claim {claim!r} missing or empty")
        return Claims(
            sub=str(claims["sub"])[:64],
            name=str(claims.get("name") or claims["sub"])[:128],
            role=claims["role"],
            centre=claims["centre"],
            unit=str(claims.get("unit", "")),
            issued_at=float(claims.get("auth_time", claims["iat"])),
            expires_at=float(claims["exp"]),
        )


def verifier_for(config: ClusterConfig) -> TokenVerifier:
    """The verifier of the config's issuer, audience and JWKS, as every gateway builds
    it (and the web console, which must accept exactly the tokens the gateways accept).
    With the local issuer in use (no ``oidc_jwks``), its key and JWKS are made first if
    ``amk login`` has not made them yet, so every verifier of the state folder checks
    against the same key."""
    if config.local_issuer_in_use():
        LocalIssuer.for_config(config).ensure()
    return TokenVerifier(
        config.oidc_issuer,
        config.oidc_audience,
        config.oidc_jwks_location(),
        config.token_leeway_s,
    )


def bearer_header(token: str) -> tuple[str, str]:
    """The call metadata that carries ``token`` (what :func:`bearer` reads back)."""
    return ("authorization", f"Bearer {token}")


def bearer(metadata: dict[str, str]) -> str | None:
    """The token of an ``authorization: Bearer ...`` header, or None."""
    value = metadata.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# ---------------------------------------------------------------- the CLI's token file

TOKEN_FILE = "token.jwt"


def token_path(home: Path) -> Path:
    """Where ``amk login`` puts the token the CLI sends (the state folder, 0600)."""
    return home / TOKEN_FILE


def save_token(home: Path, token: str) -> Path:
    path = token_path(home)
    _write_private(path, token.encode())
    return path


TOKEN_ENV = "AMK_TOKEN"


def default_token() -> str | None:
    """The bearer token a client sends: ``$AMK_TOKEN``, else the file ``amk login`` wrote
    in the state folder (``$AMK_HOME``, else the nearest ``.amk``), else None (a gateway
    with auth on then answers UNAUTHENTICATED, and the CLI says to run ``amk login``)."""
    if token := os.environ.get(TOKEN_ENV, "").strip():
        return token
    try:
        return token_path(state_folder()).read_text().strip() or None
    except OSError:
        return None
