"""Revoked client certificates and suspended people, as one gateway applies them.

The list is the archive's (``cluster/archive/revocations.py``): read when the gateway
starts and every ``revocation_poll_s`` after; the gateway that takes a revocation
(``actors/gateway/credential_service.py``) applies it at once, so the others follow
within one poll. A serial once revoked stays revoked (rows are never deleted). A
person's state is their latest decision (suspended or reinstated); a suspended person's
every call is refused, whatever token they bring.

Per unary call (``Guard``): a look at an empty dict while no certificate is revoked,
the usual case (the certificate is not read), so the hot path pays next to nothing.
Otherwise the peer's certificate (the call's auth context, ``x509_pem_cert``) gives its
serial, parsed once per distinct certificate.
A server stream reads its serial when it opens, and waits for the next revocation.

A gateway reads the list before it serves (``Gateway.start``, bounded). The archive down
then: nothing is refused for revocation until a read succeeds, and each failed read logs
``revocations_unknown``. An emergency service keeps its crews and consoles working
rather than refuse everyone because the archive is away (the soft-fail choice of
certificate status checking); a gateway that has read the list keeps it while the
archive is away.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog
from cryptography import x509

from actors.domain.revocation import refusal, serial_hex, suspension_refusal
from cluster.archive.base import ArchiveStore
from cluster.archive.revocations import RevocationRow, SuspensionRow
from cluster.tokens import Claims

log = structlog.get_logger("amk.access")

PEM_KEY = "x509_pem_cert"
MAX_CACHED = 4096  # distinct peer certificates whose serial is kept


def serial_of_pem(pem: bytes) -> str:
    """A PEM certificate's serial, in the form revocations are kept in."""
    return serial_hex(x509.load_pem_x509_certificate(pem).serial_number)


class Revocations:
    """The revoked serials one gateway refuses, and the check of a call's certificate."""

    def __init__(self, archive: Callable[[], Awaitable[ArchiveStore]], poll_s: float) -> None:
        self._archive = archive
        self.poll_s = poll_s
        self.by_serial: dict[str, RevocationRow] = {}
        self.decisions: dict[str, SuspensionRow] = {}  # by decision id
        self.suspended: dict[str, SuspensionRow] = {}  # user -> the decision in force
        self.latest: dict[str, SuspensionRow] = {}  # user -> their latest decision
        self.loaded = False  # the archive's list has been read at least once
        self.started_at = time.time()
        self.read_at = 0.0  # wall clock of the last read that succeeded (0: none yet)
        self._serials: dict[bytes, str] = {}
        self._change: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, first_read_s: float) -> None:
        """Read the list (at most ``first_read_s``: a gateway must come up with the
        archive away too), then keep reading it every ``poll_s``."""
        try:
            await asyncio.wait_for(self.refresh(), first_read_s)
        except Exception as exc:
            log.warning("revocations_unknown", error=str(exc) or type(exc).__name__, known=0)
        self._task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def refresh(self) -> None:
        """Read the archive's list now (raises the archive's error)."""
        store = await self._archive()
        self.apply(await asyncio.to_thread(store.revocations))
        self.apply_decisions(await asyncio.to_thread(store.suspensions))
        self.loaded = True
        self.read_at = time.time()

    def read_age_s(self, now: float) -> float:
        """Since the last read that succeeded (since the start, if none has): how long a
        certificate revoked at another gateway may still be taken here."""
        return max(0.0, now - (self.read_at or self.started_at))

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.refresh()
            except Exception as exc:  # the archive away: keep what we have, say so
                log.warning(
                    "revocations_unknown" if not self.loaded else "revocations_stale",
                    error=str(exc),
                    known=len(self.by_serial),
                )

    def apply(self, rows: Iterable[RevocationRow]) -> None:
        """Add revocations; streams made with a newly revoked certificate are told."""
        new = [r for r in rows if r.serial not in self.by_serial]
        if not new:
            return
        for row in new:
            self.by_serial[row.serial] = row
            log.warning(
                "certificate_revoked",
                serial=row.serial,
                common_name=row.common_name,
                by=row.revoked_by,
                reason=row.reason,
            )
        self._changed()

    def apply_decisions(self, rows: Iterable[SuspensionRow]) -> None:
        """Add decisions about people; each person's latest is in force. Streams of a
        person newly suspended are told."""
        new = [r for r in rows if r.id not in self.decisions]
        if not new:
            return
        for row in new:
            self.decisions[row.id] = row
        latest: dict[str, SuspensionRow] = {}
        for row in sorted(self.decisions.values(), key=lambda r: (r.at, r.id)):
            latest[row.user_id] = row
        self.latest = latest
        before = set(self.suspended)
        self.suspended = {user: row for user, row in latest.items() if row.suspended}
        for user in set(self.suspended) ^ before:
            row = latest[user]
            log.warning(
                "person_suspended" if row.suspended else "person_reinstated",
                user=user,
                by=row.decided_by,
                reason=row.reason,
            )
        if set(self.suspended) - before:
            self._changed()

    def _changed(self) -> None:
        change, self._change = self._change, None
        if change is not None and not change.done():
            change.set_result(None)

    def suspension_of(self, claims: Claims) -> str:
        """Why a caller is refused as suspended: the person (their tokens' subject), or
        for a crew the unit too (a crew token names its person and, in a claim, the
        unit; a crew certificate names the unit)."""
        if not self.suspended:
            return ""
        return self.suspension(claims.sub) or (self.suspension(claims.unit) if claims.unit else "")

    def suspension(self, user: str) -> str:
        """Why calls of ``user`` are refused ("" unless suspended): free while nobody is."""
        row = self.suspended.get(user) if self.suspended else None
        if row is None:
            return ""
        return suspension_refusal(user, row.at, row.reason)

    def change_future(self) -> asyncio.Future[None]:
        """Resolved at the next revocation or suspension this gateway learns of (one,
        shared)."""
        if self._change is None:
            self._change = asyncio.get_running_loop().create_future()
        return self._change

    def serial_of(self, context: Any) -> str:
        """The serial of the call's client certificate; "" on a plaintext port."""
        try:
            pems = (context.auth_context() or {}).get(PEM_KEY) or []
        except (AttributeError, ValueError):
            return ""
        if not pems:
            return ""
        pem = pems[0]
        serial = self._serials.get(pem)
        if serial is None:
            if len(self._serials) >= MAX_CACHED:
                self._serials.clear()
            serial = self._serials[pem] = serial_of_pem(pem)
        return serial

    def refused(self, serial: str) -> str:
        """Why a call made with ``serial`` is refused ("" if it is not revoked)."""
        row = self.by_serial.get(serial) if serial else None
        if row is None:
            return ""
        return refusal(row.serial, row.common_name, row.at, row.reason)

    def refused_certificate(self, der: bytes) -> str:
        """Why a certificate (DER, as a TLS socket gives it) is refused ("" if it is not),
        for the ports outside gRPC (the metrics endpoint, from its own thread: a read of
        the dict). Free while none is revoked; otherwise parsed per call (a scrape every
        few seconds)."""
        if not self.by_serial:
            return ""
        return self.refused(serial_hex(x509.load_der_x509_certificate(der).serial_number))

    def check(self, context: Any) -> str:
        """Why this call's certificate is refused, or "": free while none is revoked."""
        if not self.by_serial:
            return ""
        return self.refused(self.serial_of(context))
