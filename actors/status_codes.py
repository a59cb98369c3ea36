"""The one table that maps the error tree to gRPC status codes.

Looked up along the class's MRO, so a subclass inherits its parent's code unless listed.
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
from cluster.errors import (
    AmkError,
    CentreUnavailableError,
    ConfigError,
    FencedError,
    NotOwnerError,
    RegionUnavailableError,
    SessionExpiredError,
    StoreUnavailableError,
    TxnTooLargeError,
)

STATUS_OF: dict[type[AmkError], grpc.StatusCode] = {
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    IllegalTransitionError: grpc.StatusCode.FAILED_PRECONDITION,
    PreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    NotBuiltError: grpc.StatusCode.UNIMPLEMENTED,
    FencedError: grpc.StatusCode.ABORTED,
    NotOwnerError: grpc.StatusCode.UNAVAILABLE,
    RegionUnavailableError: grpc.StatusCode.UNAVAILABLE,
    SessionExpiredError: grpc.StatusCode.UNAVAILABLE,
    CentreUnavailableError: grpc.StatusCode.UNAVAILABLE,
    StoreUnavailableError: grpc.StatusCode.UNAVAILABLE,
    TxnTooLargeError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ConfigError: grpc.StatusCode.INTERNAL,
}


def status_of(err: AmkError) -> grpc.StatusCode:
    for cls in type(err).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return grpc.StatusCode.INTERNAL
