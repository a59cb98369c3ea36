"""A server stream decided again while it is open (the gateway's ``Guard``).

A unary call is decided once; a stream may stay open for a whole shift, so what
admitted it is watched: the regions the person's centre serves (a failover or a
hand-over changes them), a break-glass window closing, the certificate it was opened
with being revoked, and the person being suspended. The stream ends with the status of
whichever came first: ABORTED (scope changed: open it again), UNAUTHENTICATED (the
certificate) or PERMISSION_DENIED (the person).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from actors.domain.access import Decision, Target
from actors.gateway.context import GatewayContext
from cluster.errors import AccessDeniedError, AmkError, AuthenticationError, ScopeChangedError
from cluster.tokens import Claims

WINDOW_SLACK_S = 0.01  # a break-glass stream is decided again just after its window


@dataclass(frozen=True, slots=True)
class Grant:
    """An admitted call: who, and why they may."""

    claims: Claims
    decision: Decision
    peer: str
    target: Target  # what the request touched: a stream's scope is decided again
    break_glass: str  # the stated reason, if any


class StreamWatch:
    """Watches one stream's admission and cancels the stream's task when it no longer
    holds (the handler then ends it with :meth:`error`).

    ``scope_changed`` (None: a cluster-wide stream, whose scope cannot change) is asked
    again at every change of region owners (the directory's shared change future: no
    timer per stream), and when a break-glass window closes. Not a check per message: a
    stream of a region that went quiet must end too. Revocations and suspensions come
    from the gateway's list's shared change future; they are also checked before the
    first wait (one applied between the admission and this task's start resolved a
    future nobody held)."""

    def __init__(
        self,
        gw: GatewayContext,
        grant: Grant,
        serial: str,
        scope_changed: Callable[[], str] | None,
    ) -> None:
        self.changed = ""
        self.revoked = False
        self.suspended = False
        self.waiting = False  # the stream awaits its handler's next message
        self._gw, self._grant, self._serial = gw, grant, serial
        self._scope_changed = scope_changed
        self._stream = asyncio.current_task()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        gw, grant, serial, scope_changed = self._gw, self._grant, self._serial, self._scope_changed
        revocations = gw.revocations
        woke = False
        while True:
            self.changed = revocations.refused(serial)
            if self.changed:
                self.revoked = True
                break
            self.changed = revocations.suspension_of(grant.claims)
            if self.changed:
                self.suspended = True
                break
            if woke and scope_changed is not None:
                self.changed = scope_changed()
                if self.changed:
                    break
            until: float | None = None
            if grant.decision.why == "break-glass":
                closes = grant.claims.issued_at + gw.config.break_glass_window_s
                until = max(0.0, closes - time.time()) + WINDOW_SLACK_S
            waits = {revocations.change_future()}
            if scope_changed is not None:
                waits.add(gw.directory.change_future())
            await asyncio.wait(waits, timeout=until, return_when=asyncio.FIRST_COMPLETED)
            woke = True
        # Only while the stream waits for its next message: cancelled inside grpc's
        # write of a message, the call would be left hanging. Otherwise the stream sees
        # ``changed`` as soon as that write returns.
        if self.waiting and self._stream is not None:
            self._stream.cancel()

    def error(self) -> AmkError:
        """What the stream ends with."""
        if self.revoked:
            return AuthenticationError(self.changed)
        if self.suspended:
            return AccessDeniedError(self.changed)
        return ScopeChangedError(self.changed)

    def ended(self) -> bool:
        """The stream's task was cancelled by this watch (and nothing else): it is
        uncancelled so that the handler can end the call with its status."""
        task = self._stream
        if not self.changed or task is None or task.cancelling() != 1:
            return False
        task.uncancel()
        return True

    def stop(self) -> None:
        self._task.cancel()
