"""Login for the web console: the person's bearer token, checked and kept in a cookie.

The web server checks a token against the same issuer, audience and JWKS as the
gateways (:func:`cluster.tokens.verifier_for`, what every gateway builds), so it accepts
exactly the tokens they accept, and keeps it in the ``amk_session`` cookie (HttpOnly:
no script of the page can read it; SameSite=Strict: no other site's page can make the
browser send it). It stores no sessions: the cookie is the token, and the gateway checks
it again on every call.

``/api/me`` lists the exposed methods the person's role may call, from the roles table
the gateways enforce (``access_table``, default the shipped one), so the page shows only
the actions that can succeed. The table decides roles only; scopes (which regions) are
the gateway's to decide, per call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from aiohttp import web

from actors.domain.access import AccessTable
from actors.gateway.guard import access_table_for
from clients.web.errors import ApiError, json_response, read_json
from clients.web.gateway import METHODS
from cluster.config import ClusterConfig
from cluster.errors import AuthenticationError
from cluster.tokens import Claims, LocalIssuer, TokenVerifier, verifier_for

log = structlog.get_logger("amk.web")

COOKIE = "amk_session"
TOKEN_FIELD = "token"
MAX_TOKEN = 16_384  # characters; a JWT of ours is about 600


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in person: the token the gateways are sent, and what it says."""

    token: str
    claims: Claims
    origin: str = ""  # the browser's address as this server sees it (the access log's "from")


class Auth:
    """Verifies tokens and says what a role may do; one per web server."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.verifier: TokenVerifier = verifier_for(config)
        self.table: AccessTable = access_table_for(config.access_table)
        self.dev_login = config.web_dev_login

    def how_to_get_a_token(self) -> str:
        if self.config.local_issuer_in_use():
            return (
                "run `amk login --user NAME --role ROLE --centre CENTRE` and paste the "
                "token it writes ($AMK_HOME/token.jwt, default .amk/token.jwt)"
            )
        return f"sign in at {self.config.oidc_issuer} and paste the token it gives you"

    def verify(self, token: str) -> Claims:
        """The token's claims, or 401 naming the field ``token`` with what is wrong."""
        if not token:
            raise ApiError(
                grpc.StatusCode.UNAUTHENTICATED,
                f"no token: {self.how_to_get_a_token()}",
                TOKEN_FIELD,
            )
        if len(token) > MAX_TOKEN:
            raise ApiError(grpc.StatusCode.UNAUTHENTICATED, "token too long", TOKEN_FIELD)
        try:
            return self.verifier.verify(token)
        except AuthenticationError as exc:
            raise ApiError(grpc.StatusCode.UNAUTHENTICATED, exc.reason, TOKEN_FIELD) from exc

    def session(self, request: web.Request) -> Session:
        """The request's session from its cookie, or 401 (not signed in, or the token
        has expired since: the page shows its login form again)."""
        token = request.cookies.get(COOKIE, "")
        if not token:
            raise ApiError(grpc.StatusCode.UNAUTHENTICATED, "not signed in")
        try:
            return Session(token, self.verifier.verify(token), request.remote or "")
        except AuthenticationError as exc:
            raise ApiError(grpc.StatusCode.UNAUTHENTICATED, exc.reason) from exc

    def methods(self, role: str) -> list[str]:
        """The exposed methods (short names) that ``role`` may call, sorted."""
        out = []
        for name, method in METHODS.items():
            rule = self.table.rule(method.full_name)
            if rule is not None and (rule.scope == "public" or role in rule.roles):
                out.append(name)
        return sorted(out)

    def incident_methods(self, role: str) -> list[str]:
        """Of ``role``'s methods, those whose scope is the incident they name
        (``incident_id``): the calls an incident opened with break-glass carries its
        reason on. Others (a call linked to it, a unit's status) are decided on their
        own ids, and a reason stated for the incident does not stretch to them."""
        out = []
        for name in self.methods(role):
            rule = self.table.rule(METHODS[name].full_name)
            if rule is not None and rule.scope == "incident" and rule.field == "incident_id":
                out.append(name)
        return out

    def break_glass_until(self, claims: Claims) -> float | None:
        """Until when the person may state a break-glass reason (the gateway's rule:
        ``break_glass_window_s`` after they logged in), or None when their role has no
        break-glass. The page offers it only then; the gateway decides every call."""
        role = self.table.roles.get(claims.role)
        if role is None or not role.break_glass:
            return None
        return claims.issued_at + self.config.break_glass_window_s

    def me(self, session: Session) -> dict[str, Any]:
        c = session.claims
        return {
            "user": c.sub,
            "name": c.name,
            "role": c.role,
            "centre": c.centre,
            "unit": c.unit,
            "expires_at": c.expires_at,
            "methods": self.methods(c.role),
            "break_glass_until": self.break_glass_until(c),
            "incident_methods": self.incident_methods(c.role),
            "dev_login": self.dev_login,
        }

    def dev_token(self, body: dict[str, Any]) -> str:
        """A token of the local issuer for the user, role and centre of the dev form;
        403 unless ``web_dev_login`` is on (then anyone reaching the port picks a role)."""
        if not self.dev_login:
            raise ApiError(
                grpc.StatusCode.PERMISSION_DENIED,
                "the user/role/centre form is off on this server (it is for development: "
                f"amk up --web-dev-login); {self.how_to_get_a_token()}",
            )
        config = self.config
        if not config.local_issuer_in_use():
            raise ApiError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"tokens come from {config.oidc_issuer} (oidc_jwks is set): the "
                "development form signs with the local issuer only",
            )
        user, role, centre, unit = (
            str(body.get(k) or "").strip() for k in ("user", "role", "centre", "unit")
        )
        if not user or len(user) > 64 or not user.isprintable():
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "user: 1 to 64 characters", "user")
        if role not in self.table.roles:
            known = ", ".join(sorted(self.table.roles))
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"role: one of {known}", "role")
        centres = {c.id for c in config.seed.centres}
        if centre not in centres:
            known = ", ".join(sorted(centres))
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"centre: one of {known}", "centre")
        if role == "crew" and not unit:
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT, "unit: a crew token names its unit", "unit"
            )
        issuer = LocalIssuer.for_config(config)
        log.warning("web_dev_login", user=user, role=role, centre=centre)
        return issuer.issue(user, role, centre, lifetime_s=config.token_lifetime_s, unit=unit)


AUTH = web.AppKey("auth", Auth)


async def login(request: web.Request) -> web.Response:
    """``POST /api/login``: ``{"token"}``, or with dev login ``{"user","role","centre"}``."""
    auth = request.app[AUTH]
    body = await read_json(request)
    dev = TOKEN_FIELD not in body and any(k in body for k in ("user", "role", "centre"))
    token = auth.dev_token(body) if dev else (body.get(TOKEN_FIELD) or "")
    if not isinstance(token, str):
        raise ApiError(grpc.StatusCode.UNAUTHENTICATED, "token must be a string", TOKEN_FIELD)
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()  # pasted with its header scheme
    try:
        claims = auth.verify(token)
    except ApiError as exc:
        log.warning("web_login_refused", reason=exc.message, peer=request.remote)
        raise
    session = Session(token, claims, request.remote or "")
    response = json_response(auth.me(session))
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(0, int(claims.expires_at - time.time())),
        path="/",
        httponly=True,
        samesite="Strict",
    )
    log.info(
        "web_login", user=claims.sub, role=claims.role, centre=claims.centre, peer=request.remote
    )
    return response


async def logout(request: web.Request) -> web.Response:
    """``POST /api/logout``: the cookie cleared (the token itself lives on until its
    ``exp``: tokens cannot be revoked, see README, Security)."""
    response = json_response({})
    response.del_cookie(COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    """``GET /api/me``; a 401 also says whether the dev form is on (the login page
    needs to know before anyone is signed in)."""
    auth = request.app[AUTH]
    try:
        session = auth.session(request)
    except ApiError as exc:
        return exc.response(dev_login=auth.dev_login)
    return json_response(auth.me(session))


async def oidc(request: web.Request) -> web.Response:
    """``GET /api/login/oidc``: HelseID's browser flow (authorization code + PKCE)."""
    raise ApiError(
        grpc.StatusCode.UNIMPLEMENTED,
        "HelseID's redirect flow is not built; sign in with a token instead",
    )
