"""The one wrapper for Ray calls between our actors, both sides of it.

Actor side: :func:`envelope` decorates every actor method a handle calls. Our errors
come back as values (``("err", error)``) rather than raised, so the caller gets the
typed error itself and not Ray's task-error wrapping of it.

Caller side: :class:`RemoteActor` finds an actor by name (or uses the handle it was
given), bounds every call by a deadline, turns Ray's actor errors and timeouts into our
typed :class:`ActorUnavailableError` (retryable: a new incarnation or owner may answer),
and unwraps the envelope. Every handle (centre, gateway, supervisor, major incident) is
built on it, so no other module catches Ray's exceptions.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import ray
from ray.exceptions import (
    GetTimeoutError,
    NodeDiedError,
    RayActorError,
    RayError,
    RayTaskError,
    WorkerCrashedError,
)

from cluster.errors import ActorUnavailableError, AmkError

P = ParamSpec("P")
T = TypeVar("T")

Envelope = tuple[str, Any]

FOREVER_S = 10 * 365 * 24 * 3600.0  # a pending "wait until stopped" call

# Ray errors after which a handle that follows a centre asks for its current incarnation
# (the process, its node or its worker is gone; a get timeout was always counted here).
# Every other Ray error but a task error (the actor's own code raised something not
# ours: a bug, passed on as it is) is a fault of the moment, retryable all the same.
_DEATHS = (RayActorError, NodeDiedError, WorkerCrashedError, GetTimeoutError)


def envelope(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[Envelope]]:
    """Return ``("ok", value)`` or ``("err", AmkError)``: our errors cross as values."""

    @functools.wraps(fn)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> Envelope:
        try:
            return "ok", await fn(*args, **kwargs)
        except AmkError as exc:
            return "err", exc

    return wrapped


def unwrap(value: Envelope) -> Any:
    """The value of an envelope, or its error raised."""
    kind, payload = value
    if kind == "err":
        raise payload
    return payload


class RemoteActor:
    """One named actor in the deployment's namespace, called with deadlines.

    ``make_error(detail)`` builds the unavailable error for this kind of actor (a
    centre's carries the centre id, so the gateway can tell which owner failed).
    """

    def __init__(
        self,
        name: str,
        namespace: str,
        actor: Any | None = None,
        *,
        make_error: Callable[[str], ActorUnavailableError] | None = None,
    ) -> None:
        self.name = name
        self.namespace = namespace
        self._actor = actor
        # Set when Ray reported the actor dead (not merely slow): a handle that follows
        # a centre's incarnations then looks for the next one.
        self.died = False
        self._lookup: asyncio.Future[Any] | None = None  # a lookup by name in flight
        self._make_error = make_error or (lambda detail: ActorUnavailableError(name, detail))

    def unavailable(self, detail: str) -> ActorUnavailableError:
        return self._make_error(detail)

    def resolve(self) -> Any:
        """The Ray handle, looked up by name the first time (and after :meth:`forget`)."""
        if self._actor is None:
            try:
                self._actor = ray.get_actor(self.name, namespace=self.namespace)
            except ValueError as exc:
                raise self.unavailable("no such actor") from exc
        return self._actor

    async def resolve_async(self, timeout_s: float) -> Any:
        """:meth:`resolve` without blocking the event loop: a lookup by name asks Ray's
        GCS and waits for it (milliseconds, or seconds when the GCS is busy or gone), and
        a gateway's loop serves every console and crew meanwhile. Concurrent callers
        share one lookup."""
        if self._actor is not None:
            return self._actor
        if self._lookup is None or self._lookup.done():
            self._lookup = asyncio.ensure_future(asyncio.to_thread(self.resolve))
            # Its error is read even when every waiter gave up first (no stray warning).
            self._lookup.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            return await asyncio.wait_for(asyncio.shield(self._lookup), timeout_s)
        except TimeoutError as exc:
            raise self.unavailable(f"not found in {timeout_s:.2f}s") from exc

    def forget(self) -> None:
        """Drop the cached handle (the actor died) so the next call looks again."""
        self._actor = None

    async def call(self, method: str, *args: Any, timeout_s: float) -> Any:
        """Call ``method`` and return its enveloped value; raise its error, or
        :class:`ActorUnavailableError` when the actor is dead, missing or too slow."""
        return unwrap(await self.call_raw(method, *args, timeout_s=timeout_s))

    async def call_raw(self, method: str, *args: Any, timeout_s: float) -> Any:
        """Like :meth:`call` without unwrapping (for methods returning many envelopes)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        actor = await self.resolve_async(timeout_s)
        try:
            return await asyncio.wait_for(
                getattr(actor, method).remote(*args), max(0.0, deadline - loop.time())
            )
        except RayTaskError:
            raise  # the actor's code raised something not ours: a bug, not a fault
        except RayError as exc:
            # Not only RayActorError: a killed worker can surface as a lost object, a
            # crashed worker or a system error (and GetTimeoutError is a RayError too).
            # Each is retryable, so the gateway waits for a new owner instead of
            # answering the caller at once.
            self.forget()
            self.died = isinstance(exc, _DEATHS)
            raise self.unavailable(type(exc).__name__) from exc
        except TimeoutError as exc:
            raise self.unavailable(f"no answer in {timeout_s:.2f}s") from exc

    def kill(self, *, no_restart: bool = True) -> None:
        """End the actor at once (by default with no restart by Ray: our supervisor
        restarts; drills pass ``no_restart=False`` to kill as Ray's own faults do)."""
        ray.kill(self.resolve(), no_restart=no_restart)
        self.forget()
