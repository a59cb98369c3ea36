"""The one table that maps the error tree to gRPC status codes.

Looked up along the class's MRO, so a subclass inherits its parent's code unless listed.
A retryable error (``retryable = True``) must map to a code in :data:`RETRYABLE_CODES`,
which clients retry with the same request id; ``tests/unit/test_status_codes.py`` walks
the whole tree to keep it so.
"""

from __future__ import annotations

import grpc

from actors.domain.errors import (
    IllegalTransitionError,
    InvalidArgumentError,
    NotBuiltError,
    NotFoundError,
    PreconditionError,
)
from cluster.archive import ArchiveError
from cluster.errors import (
    AccessDeniedError,
    ActorUnavailableError,
    AmkError,
    AuthenticationError,
    ConfigError,
    FencedError,
    NotOwnerError,
    RegionUnavailableError,
    ScopeChangedError,
    SessionExpiredError,
    StoreUnavailableError,
    TxnTooLargeError,
)
from cluster.store import DuplicateRequestError, StaleRecordError

#: Codes a client retries with the same request id (``clients.client.RETRYABLE_CODES``
#: is the same set; a unit test keeps them equal).
RETRYABLE_CODES: frozenset[grpc.StatusCode] = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
)

STATUS_OF: dict[type[AmkError], grpc.StatusCode] = {
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    IllegalTransitionError: grpc.StatusCode.FAILED_PRECONDITION,
    PreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    NotBuiltError: grpc.StatusCode.UNIMPLEMENTED,
    # A lost fence or a record changed under the writer: the gateway retries on the
    # region's (new) owner until the caller's deadline; past it the caller may retry
    # with the same request id, so both are UNAVAILABLE, the code clients retry.
    FencedError: grpc.StatusCode.UNAVAILABLE,
    StaleRecordError: grpc.StatusCode.UNAVAILABLE,
    # A duplicate is answered with the first result inside the centre; should one
    # escape, it is a conflict on the request id, not a server fault.
    DuplicateRequestError: grpc.StatusCode.ALREADY_EXISTS,
    NotOwnerError: grpc.StatusCode.UNAVAILABLE,
    RegionUnavailableError: grpc.StatusCode.UNAVAILABLE,
    SessionExpiredError: grpc.StatusCode.UNAVAILABLE,
    ActorUnavailableError: grpc.StatusCode.UNAVAILABLE,
    StoreUnavailableError: grpc.StatusCode.UNAVAILABLE,
    ArchiveError: grpc.StatusCode.UNAVAILABLE,
    TxnTooLargeError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ConfigError: grpc.StatusCode.INTERNAL,
    # Who the caller is cannot be proved (no token, expired, forged, another audience),
    # and what a proved caller may not do (role, scope, break-glass refused).
    AuthenticationError: grpc.StatusCode.UNAUTHENTICATED,
    AccessDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    # Not a refusal: the stream's scope is stale; the client opens it again at once.
    ScopeChangedError: grpc.StatusCode.ABORTED,
}


def code_for(cls: type[AmkError]) -> grpc.StatusCode:
    """The status code of an error class (INTERNAL if nothing in its MRO is listed)."""
    for base in cls.__mro__:
        if base in STATUS_OF:
            return STATUS_OF[base]
    return grpc.StatusCode.INTERNAL


def status_of(err: AmkError) -> grpc.StatusCode:
    return code_for(type(err))
