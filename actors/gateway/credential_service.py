"""``amk.audit.v1.CredentialService``: revoking a client certificate before it expires
(a crew's lost tablet, a console's stolen key), and the list of revoked ones; suspending
a person (every token of theirs refused) and reinstating them.

The revocation is checked, then kept in the archive database with who revoked it (the
verified identity, never a stated one) and applied by this gateway at once; the other
gateways read it within ``revocation_poll_s`` (``actors/gateway/revocations.py``). Who
may call: ``actors/domain/data/access.toml``. The rules of the input:
``actors/domain/revocation.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

import structlog

from actors.domain import revocation
from actors.domain import validation as v
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_claims, current_identity
from actors.gateway.revocations import serial_of_pem
from actors.gateway.rpc import rpc
from amk.audit.v1 import credentials_pb2 as crpb
from cluster.archive.base import ArchiveStore
from cluster.archive.revocations import RevocationRow, SuspensionRow
from cluster.tls import service_identity

log = structlog.get_logger("amk.access")
T = TypeVar("T")


def revoked_pb(row: RevocationRow, already: bool = False) -> crpb.RevokedCertificate:
    out = crpb.RevokedCertificate(
        serial=row.serial,
        common_name=row.common_name,
        reason=row.reason,
        revoked_by=row.revoked_by,
        revoked_by_name=row.revoked_by_name,
        revoked_at=conv.to_timestamp(row.at),
        already=already,
    )
    if row.not_after:
        out.not_after.CopyFrom(conv.to_timestamp(row.not_after))
    return out


def decision_pb(row: SuspensionRow) -> crpb.PersonDecision:
    return crpb.PersonDecision(
        id=row.id,
        user=row.user_id,
        suspended=row.suspended,
        reason=row.reason,
        decided_by=row.decided_by,
        decided_by_name=row.decided_by_name,
        at=conv.to_timestamp(row.at),
    )


def _decider() -> tuple[str, str]:
    """Who decides (the verified identity of the call) and their name, for the record."""
    who = current_identity.get()
    claims = current_claims.get()
    return who, claims.name if claims is not None else who


class CredentialRpcs:
    """Revoking client certificates."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    async def _in_archive(self, write: Callable[[ArchiveStore], T]) -> T:
        """``write`` run on the archive store in a thread (its calls block): a decision
        kept once by its key, which answers the row kept first."""
        store = await self.gw.history.archive()
        return await asyncio.to_thread(write, store)

    def _service_serial(self) -> str:
        """The serial of the cluster's own certificate as it is on disk now (``amk up``
        renews it before it expires): not a person's or a crew's. The centres' links
        check its name, not this list, so revoking it would protect nothing; a stolen
        one calls for a new PKI for the cluster."""
        files = service_identity(self.gw.config)
        if files is None:
            return ""
        try:
            return serial_of_pem(files.cert.read_bytes())
        except (OSError, ValueError):
            return ""

    @rpc
    async def RevokeCertificate(self, request, context) -> crpb.RevokedCertificate:
        serial = revocation.parse_serial(request.serial)
        if serial == self._service_serial():
            raise InvalidArgumentError(
                "serial",
                "is the cluster's own service certificate, which this list does not govern "
                "(the centres' links check its name): a stolen one calls for a new PKI",
            )
        if serial == self.gw.revocations.serial_of(context):
            # The local PKI's consoles and the web console share one certificate: revoking
            # it from a console that uses it would lock out every one of them at once.
            raise InvalidArgumentError(
                "serial",
                "is the certificate this request is made with: revoke it from a console "
                "with another certificate",
            )
        name = revocation.common_name(request.common_name)
        why = revocation.reason(request.reason)
        not_after = 0.0
        if request.HasField("not_after"):
            not_after = conv.timestamp_s(request.not_after, "not_after")
        who, who_name = _decider()
        row = RevocationRow(
            serial=serial,
            at=time.time(),
            common_name=name,
            not_after=not_after,
            reason=why,
            revoked_by=who,
            revoked_by_name=who_name,
        )
        stored = await self._in_archive(lambda store: store.put_revocation(row))
        already = stored != row
        self.gw.revocations.apply([stored])
        log.warning(
            "certificate_revocation",
            serial=serial,
            common_name=stored.common_name,
            by=who,
            reason=why,
            already=already,
        )
        return revoked_pb(stored, already)

    @rpc
    async def ListRevokedCertificates(
        self, request, context
    ) -> crpb.ListRevokedCertificatesResponse:
        await self.gw.revocations.refresh()
        rows = sorted(self.gw.revocations.by_serial.values(), key=lambda r: (r.at, r.serial))
        return crpb.ListRevokedCertificatesResponse(certificates=[revoked_pb(r) for r in rows])

    @rpc
    async def SuspendPerson(self, request, context) -> crpb.PersonDecision:
        return await self._decide(request, suspend=True)

    @rpc
    async def ReinstatePerson(self, request, context) -> crpb.PersonDecision:
        return await self._decide(request, suspend=False)

    async def _decide(self, request, *, suspend: bool) -> crpb.PersonDecision:
        """One decision about a person, checked, kept in the archive and applied here at
        once. A retried request (same id) answers the decision it made."""
        request_id = v.request_id(request.request_id)
        user = revocation.person(request.user)
        why = revocation.reason(
            request.reason, why=f"why the person is {'suspended' if suspend else 'reinstated'}"
        )
        who, who_name = _decider()
        if suspend and user == who:
            raise InvalidArgumentError("user", "is you: another supervisor or engineer decides")
        await self.gw.revocations.refresh()  # decide on the archive's latest
        known = self.gw.revocations.decisions.get(request_id)
        if known is not None:
            if (known.user_id, known.suspended) != (user, suspend):
                raise InvalidArgumentError("request_id", "was used for another decision")
            return decision_pb(known)
        in_force = self.gw.revocations.suspended.get(user)
        if suspend and in_force is not None:
            since = revocation.utc_minute(in_force.at)
            raise PreconditionError(user, f"suspended already ({since}: {in_force.reason})")
        if not suspend and in_force is None:
            raise PreconditionError(user, "not suspended")
        # After the person's latest decision, whatever this gateway's clock says: the
        # latest in time is the one in force, so a clock behind must not put a new
        # decision before an older one.
        last = self.gw.revocations.latest.get(user)
        row = SuspensionRow(
            id=request_id,
            at=max(time.time(), last.at + 0.001) if last is not None else time.time(),
            user_id=user,
            suspended=suspend,
            reason=why,
            decided_by=who,
            decided_by_name=who_name,
        )
        stored = await self._in_archive(lambda store: store.put_suspension(row))
        if (stored.user_id, stored.suspended) != (user, suspend):  # the id taken meanwhile
            raise InvalidArgumentError("request_id", "was used for another decision")
        self.gw.revocations.apply_decisions([stored])
        if (user in self.gw.revocations.suspended) != suspend:
            raise PreconditionError(user, "another decision about them came at the same time")
        log.warning(
            "person_decision", user=user, suspended=suspend, by=who, reason=why, id=request_id
        )
        return decision_pb(stored)

    @rpc
    async def ListSuspensions(self, request, context) -> crpb.ListSuspensionsResponse:
        await self.gw.revocations.refresh()
        if request.history:
            rows = sorted(self.gw.revocations.decisions.values(), key=lambda r: (r.at, r.id))
        else:
            rows = sorted(self.gw.revocations.suspended.values(), key=lambda r: (r.at, r.id))
        return crpb.ListSuspensionsResponse(decisions=[decision_pb(r) for r in rows])
