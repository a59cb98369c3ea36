"""The root of the project's one error tree, and the coordination errors.

Every error the cluster raises derives from :class:`AmkError`. Each class says whether a
retry can help (``retryable``), and carries the ids it concerns, so the gateway can map
it to a gRPC status in one table (``actors/gateway/status_codes.py``) and decide whether to retry
on a new owner. Domain errors live in ``actors/domain/errors.py`` and derive from the
same root.

Errors cross Ray actor boundaries by pickling; ``__reduce__`` keeps their attributes
without requiring every subclass to accept its attributes positionally.
"""

from __future__ import annotations

from typing import Any, ClassVar


def _rebuild(cls: type[AmkError], args: tuple[Any, ...], state: dict[str, Any]) -> AmkError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class AmkError(Exception):
    """Root of every error raised by the dispatch cluster."""

    component: ClassVar[str] = "amk"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(f"{self.component}: {message}")
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class FencedError(AmkError):
    """A write was refused because the writer's fencing token is no longer the region's.

    The writer has been deposed (another centre claimed the region, or its lease ran
    out). It must drop the region; a retry through the gateway reaches the new owner.
    """

    component = "fence"
    retryable = True

    def __init__(self, region: str, token: int, current_token: int | None) -> None:
        held = "nobody" if current_token is None else f"token {current_token}"
        super().__init__(f"region {region}: write with token {token} refused, owner now {held}")
        self.region = region
        self.token = token
        self.current_token = current_token


class NotOwnerError(AmkError):
    """This centre does not (or no longer) serve the region it was asked about."""

    component = "ownership"
    retryable = True

    def __init__(self, region: str, centre: str) -> None:
        super().__init__(f"centre {centre} does not own region {region}")
        self.region = region
        self.centre = centre


class RegionUnavailableError(AmkError):
    """No centre serves the region right now (failing over or handing over)."""

    component = "ownership"
    retryable = True

    def __init__(self, region: str, reason: str = "no owner") -> None:
        super().__init__(f"region {region} unavailable: {reason}")
        self.region = region
        self.reason = reason


class SessionExpiredError(AmkError):
    """The centre's etcd lease can no longer be trusted to be alive."""

    component = "session"
    retryable = True

    def __init__(self, lease_id: int) -> None:
        super().__init__(f"lease {lease_id:x} expired or not renewed in time")
        self.lease_id = lease_id


class StoreUnavailableError(AmkError):
    """etcd could not be reached or answered with an error."""

    component = "store"
    retryable = True

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class TxnTooLargeError(AmkError):
    """One command would need more operations than etcd accepts in one transaction."""

    component = "store"

    def __init__(self, ops: int, limit: int) -> None:
        super().__init__(f"{ops} operations in one transaction, limit {limit}")
        self.ops = ops
        self.limit = limit


class ConfigError(AmkError):
    """The cluster configuration is invalid or incomplete."""

    component = "config"


class ActorUnavailableError(AmkError):
    """An actor of ours (centre, gateway, supervisor, major incident) died, is not
    running, or did not answer within the deadline. Retryable: a new incarnation (or a
    region's new owner) may answer."""

    component = "actor"
    retryable = True

    def __init__(self, actor: str, detail: str) -> None:
        super().__init__(f"{actor} unavailable: {detail}")
        self.actor = actor
        self.detail = detail


class CentreUnavailableError(ActorUnavailableError):
    """The centre actor that owns the region died or did not answer in time."""

    component = "centre"

    def __init__(self, centre: str, detail: str) -> None:
        super().__init__(f"centre {centre}", detail)
        self.centre = centre


class AuthenticationError(AmkError):
    """No credentials, or credentials that do not prove who the caller is: no token,
    a token expired, forged (wrong signature), for another audience or issuer, or one
    missing a claim we need. Never retryable: a retry sends the same token."""

    component = "auth"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AccessDeniedError(AmkError):
    """An authenticated caller whose role or scope does not allow the call."""

    component = "access"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ScopeChangedError(AmkError):
    """A stream admitted for the regions a person's centre served when it opened, which
    that centre no longer serves as then (a failover, a hand-over): the stream ends and
    the client opens it again under the scope of now."""

    component = "access"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
