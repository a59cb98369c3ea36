"""Who is calling: verified identities, never stated ones.

People present an OpenID Connect bearer token (``authorization: Bearer ...``), checked
against the configured issuer's JWKS (:mod:`cluster.tokens`); crews present a client
certificate whose common name is their unit id (the TLS layer puts the verified CN in
the call's auth context). The identity lands in ``current_identity`` (what journal
entries carry: the token's subject or the unit id) and ``current_claims``.

With ``auth`` off (``auth = "off"`` or ``insecure = true``: development only), the
caller's stated ``x-amk-identity`` is used as before, and nothing is enforced.
"""

from __future__ import annotations

import contextvars
from typing import Any

import grpc

from cluster.config import ClusterConfig
from cluster.errors import AccessDeniedError, AuthenticationError
from cluster.tokens import Claims, bearer, verifier_for

IDENTITY_HEADER = "x-amk-identity"  # stated identity: used only with auth off
CN_KEY = "x509_common_name"
current_identity: contextvars.ContextVar[str] = contextvars.ContextVar("identity", default="anon")
current_claims: contextvars.ContextVar[Claims | None] = contextvars.ContextVar(
    "claims", default=None
)


# Whether the caller may name another person in a request (a call-taker field): a role
# of the whole cluster (regions "all" in the access table) may; a person of a centre acts
# as themselves only (with auth off nothing is verified: see own_person).
current_acts_for_others: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "acts_for_others", default=False
)


def own_person(stated: str, field: str) -> str:
    """The person a request's ``field`` names (SignIn's and AnswerNextCall's call-taker):
    with auth on, a person signs in and answers calls as themselves, so the field is the
    token's subject (empty: filled in; another name: refused, naming the field). The call
    queue's records and the KPIs then name who really answered (issue #13, item 5)."""
    claims = current_claims.get()
    if claims is None or current_acts_for_others.get():
        return stated
    if stated and stated != claims.sub:
        raise AccessDeniedError(
            f"{field}: {stated!r} is not you ({claims.sub!r}): a call-taker signs in and "
            "answers calls as themselves"
        )
    return claims.sub


def stated_identity(metadata: dict[str, str]) -> str:
    """The caller's own word (auth off only)."""
    return str(metadata.get(IDENTITY_HEADER, "anon"))[:64]


class Authenticator:
    """Turns a call's credentials into :class:`Claims`, or AuthenticationError."""

    def __init__(self, config: ClusterConfig) -> None:
        # The embedded default makes the local issuer's key and JWKS here if `amk login`
        # has not yet, so every gateway of the state folder verifies the same key.
        self.verifier = verifier_for(config)
        self.units = {u.id: u.region for u in config.seed.units}
        self.home_of = {r.id: r.home for r in config.seed.regions}

    def claims(
        self, context: grpc.aio.ServicerContext, metadata: dict[str, Any] | None = None
    ) -> Claims:
        """Who calls: by bearer token, else by a crew's client certificate. ``metadata``:
        the call's, as a dict, if the caller has it already (the guard reads it once)."""
        if metadata is None:
            metadata = dict(context.invocation_metadata() or ())
        token = bearer(metadata)
        if token is not None:
            return self.verifier.verify(token)
        crew = self._crew(context)
        if crew is not None:
            return crew
        raise AuthenticationError("no bearer token (authorization metadata): run amk login")

    def _crew(self, context: grpc.aio.ServicerContext) -> Claims | None:
        """A crew by its client certificate: CN = a unit id of the fleet."""
        try:
            names = (context.auth_context() or {}).get(CN_KEY) or []
        except (AttributeError, ValueError):
            return None
        for raw in names:
            cn = raw.decode() if isinstance(raw, bytes) else str(raw)
            region = self.units.get(cn)
            if region is not None:
                return Claims(sub=cn, name=cn, role="crew", centre=self.home_of[region], unit=cn)
        return None
