"""Typed synchronous client for ``amk.dispatch.v1.DispatchService``.

Plain Python values in, protobuf messages out. Every mutating call carries a request id
so that retries (same id, possibly through another gateway) are applied once by the
server; retry timing is data (:class:`RetryPolicy`), bounded by one overall time budget.
"""

from __future__ import annotations

import collections
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import grpc
from google.protobuf.message import Message

from actors.domain.access import BREAK_GLASS_HEADER
from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from clients.client_ops import OperationsMixin, _request_id, _split_csv
from clients.enums import (  # noqa: F401 - re-exported: the client's public names
    CALL_OUTCOME,
    CALL_STATUS,
    CPR_END,
    CPR_STEP,
    CREW_LEVEL,
    ENUM_NAMES,
    INCIDENT_STATUS,
    UNIT_KIND,
    UNIT_STATUS,
    URGENCY,
    WATCH_KIND,
    _optional_enum,
    crew_level_from_name,
    enum_choices,
    enum_name,
    enum_prefix,
    enum_value,
    incident_status_from_name,
    unit_kind_from_name,
    unit_status_from_name,
    urgency_from_name,
)
from clients.retry import RECONNECT_OPTIONS, RetryPolicy
from clients.retry import SyncBudget as _Budget
from cluster.tls import FROM_ENV, FromEnv, TlsFiles, open_sync_channel, resolve
from cluster.tokens import bearer_header, default_token

DEFAULT_GATEWAY = "127.0.0.1:50051"
DEFAULT_GATEWAYS = (DEFAULT_GATEWAY, "127.0.0.1:50052")  # what `amk up` starts by default
IDENTITY_HEADER = "x-amk-identity"  # stated: a gateway with auth off records it


# ---------------------------------------------------------------- errors and retries

#: The only codes worth retrying: the gateway is down or a region is failing over
#: (UNAVAILABLE), or an attempt ran out of time (DEADLINE_EXCEEDED). Request ids make
#: the retry of a write that did land harmless.
RETRYABLE_CODES: frozenset[grpc.StatusCode] = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
)


class AmkClientError(Exception):
    """A failed call, reduced to what callers branch on: the status code and its text."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.details = message

    @classmethod
    def from_rpc(cls, err: grpc.RpcError) -> AmkClientError:
        details = err.details() if isinstance(err, grpc.Call) else str(err)
        return cls(_code_of(err), details or "")


def _code_of(err: grpc.RpcError) -> grpc.StatusCode:
    # Every RpcError grpc raises is also a Call; a bare one (tests, interceptors) is not.
    return (err.code() if isinstance(err, grpc.Call) else None) or grpc.StatusCode.UNKNOWN


# ---------------------------------------------------------------- the client

# A replayed stream keeps every position sent so far; past this many the stream is not
# retried (the caller restarts it) rather than growing without bound.
_STREAM_REPLAY_LIMIT = 10_000

_END = object()

PositionTuple = tuple[str, float, float] | tuple[str, float, float, float]


def default_addresses() -> list[str]:
    """Gateways from ``AMK_GATEWAY`` (comma-separated), else the local default."""
    return _split_csv(os.environ.get("AMK_GATEWAY", "")) or list(DEFAULT_GATEWAYS)


class AmkClient(OperationsMixin):
    """Client of one cluster through one or more equivalent gateways.

    Any gateway can serve any region, so on UNAVAILABLE the client moves to the next
    address (and stays there: the last working gateway is tried first). Thread safe.
    """

    def __init__(
        self,
        addresses: list[str] | str | None = None,
        *,
        timeout_s: float = 5.0,
        identity: str = "console",
        retry: RetryPolicy | None = None,
        token: str | None = None,
        break_glass: str = "",
        tls: TlsFiles | FromEnv | None = FROM_ENV,
    ) -> None:
        self.addresses = default_addresses() if addresses is None else _split_csv(addresses)
        if not self.addresses:
            raise ValueError("no gateway address given")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        # gRPC header values must be printable ASCII; fail here, not on every call.
        if not identity or not identity.isascii() or not identity.isprintable():
            raise ValueError(f"identity must be printable ASCII, got {identity!r}")
        self.timeout_s = timeout_s
        self.identity = identity
        # Mutual TLS with a certificate from the cluster's CA (the console's by default,
        # from $AMK_PKI / $AMK_HOME/pki); None: plaintext ($AMK_INSECURE=1, dev only).
        self.tls = resolve(tls)
        self.retry = retry or RetryPolicy()
        metadata = [(IDENTITY_HEADER, identity)]
        token = default_token() if token is None else token
        if token:
            # Who we are, as the issuer vouches (issue #13); the stated identity above
            # only counts on a gateway with auth off.
            metadata.append(bearer_header(token))
        if break_glass.strip():
            # The reason for acting outside one's centre's regions; header values are
            # ASCII, so a Norwegian reason travels percent-encoded.
            metadata.append((BREAK_GLASS_HEADER, urllib.parse.quote(break_glass.strip())))
        self._metadata: tuple[tuple[str, str], ...] = tuple(metadata)
        self._lock = threading.Lock()
        self._index = 0
        self._channels: dict[str, grpc.Channel] = {}
        self._stubs: dict[str, pb_grpc.DispatchServiceStub] = {}
        self._coord_stubs: dict[str, cpb_grpc.CoordinationServiceStub] = {}

    # ------------------------------------------------------------ plumbing

    def __enter__(self) -> AmkClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every channel (open watches end); a later call opens new ones."""
        with self._lock:
            channels = list(self._channels.values())
            self._channels.clear()
            self._stubs.clear()
            self._coord_stubs.clear()
        for channel in channels:
            channel.close()

    @property
    def address(self) -> str:
        """The gateway the next call goes to first."""
        with self._lock:
            return self.addresses[self._index]

    def _stub(self, service: str = "dispatch") -> tuple[str, Any]:
        with self._lock:
            address = self.addresses[self._index]
            channel = self._channels.get(address)
            if channel is None:
                channel = open_sync_channel(address, self.tls, RECONNECT_OPTIONS)
                self._channels[address] = channel
                self._stubs[address] = pb_grpc.DispatchServiceStub(channel)
                self._coord_stubs[address] = cpb_grpc.CoordinationServiceStub(channel)
            stubs = self._coord_stubs if service == "coordination" else self._stubs
            return address, stubs[address]

    def _rotate(self, failed: str) -> None:
        with self._lock:
            # Another thread may already have moved on from the failed gateway.
            if self.addresses[self._index] == failed:
                self._index = (self._index + 1) % len(self.addresses)

    def _retry_or_raise(self, err: grpc.RpcError, address: str, budget: _Budget) -> None:
        """Return to retry, or raise the wrapped error when it is final."""
        code = _code_of(err)
        if code not in RETRYABLE_CODES:
            raise AmkClientError.from_rpc(err) from err
        if budget.should_move(code, address, err.details() if isinstance(err, grpc.Call) else ""):
            self._rotate(address)
        if not budget.pause():
            raise AmkClientError.from_rpc(err) from err

    def _unary(self, method: str, request: Message, service: str = "dispatch") -> Any:
        budget = _Budget(self.timeout_s, self.retry)
        while True:
            address, stub = self._stub(service)
            rpc: Callable[..., Any] = getattr(stub, method)
            try:
                # The same request object on every attempt: the same request id.
                return rpc(request, timeout=budget.attempt_timeout(), metadata=self._metadata)
            except grpc.RpcError as err:
                self._retry_or_raise(err, address, budget)

    # ------------------------------------------------------------ incidents

    def create_incident(
        self,
        region: str,
        lat: float,
        lon: float,
        accuracy_m: float = 0.0,
        address: str = "",
        caller_number: str = "",
        complaint_chapter: int = 0,
        criteria_code: str = "",
        notes: str = "",
        request_id: str | None = None,
        call_id: str = "",
    ) -> pb.Incident:
        """Register a call; with ``criteria_code`` the incident starts TRIAGED."""
        request = pb.CreateIncidentRequest(
            request_id=_request_id(request_id),
            region=region,
            position=pb.Position(lat=float(lat), lon=float(lon), accuracy_m=float(accuracy_m)),
            address=address,
            caller_number=caller_number,
            complaint_chapter=int(complaint_chapter),
            criteria_code=criteria_code,
            notes=notes,
            call_id=call_id,
        )
        return self._unary("CreateIncident", request)

    def get_incident(self, id: str) -> pb.Incident:
        """One incident by id."""
        return self._unary("GetIncident", pb.GetIncidentRequest(incident_id=id))

    def list_incidents(
        self,
        regions: str | Iterable[str] = (),
        status: str | int | None = None,
        urgency: str | int | None = None,
        include_closed: bool = False,
    ) -> list[pb.Incident]:
        """Incidents of the given regions (all when empty); closed ones only on request."""
        request = pb.ListIncidentsRequest(
            regions=_split_csv(regions),
            status=_optional_enum(INCIDENT_STATUS, status),
            urgency=_optional_enum(URGENCY, urgency),
            include_closed=include_closed,
        )
        return list(self._unary("ListIncidents", request).incidents)

    def triage_incident(
        self, id: str, criteria_code: str, request_id: str | None = None
    ) -> pb.Incident:
        """Set the criteria code (e.g. ``A.10.01``); the server derives chapter and urgency."""
        request = pb.TriageIncidentRequest(
            request_id=_request_id(request_id), incident_id=id, criteria_code=criteria_code
        )
        return self._unary("TriageIncident", request)

    def change_incident_status(
        self, id: str, status: str | int, request_id: str | None = None
    ) -> pb.Incident:
        """Move an incident along its lifecycle; illegal moves fail FAILED_PRECONDITION."""
        request = pb.ChangeIncidentStatusRequest(
            request_id=_request_id(request_id),
            incident_id=id,
            status=enum_value(INCIDENT_STATUS, status),
        )
        return self._unary("ChangeIncidentStatus", request)

    def add_incident_note(self, id: str, text: str, request_id: str | None = None) -> pb.Incident:
        """Append a free-text note, attributed to this client's identity."""
        request = pb.AddIncidentNoteRequest(
            request_id=_request_id(request_id), incident_id=id, text=text
        )
        return self._unary("AddIncidentNote", request)

    def change_incident_location(
        self,
        id: str,
        position: tuple[float, float, float] | None = None,
        address: str = "",
        request_id: str | None = None,
    ) -> pb.Incident:
        """Where the patient is, told better: a new (lat, lon, accuracy_m), a new address,
        or both."""
        request = pb.ChangeIncidentLocationRequest(
            request_id=_request_id(request_id), incident_id=id, address=address
        )
        if position is not None:
            lat, lon, accuracy = position
            request.position.CopyFrom(pb.Position(lat=lat, lon=lon, accuracy_m=accuracy))
        return self._unary("ChangeIncidentLocation", request)

    def record_cpr_guidance(
        self,
        id: str,
        step: str,
        reason: str = "",
        request_id: str | None = None,
        end: str = "",
    ) -> pb.Incident:
        """Record a step of telephone-guided CPR now (``started``, ``compressions``,
        ``bystander``, ``not_given`` with its ``reason``, or ``ended`` with its ``end``:
        ``rosc``, ``call_lost``, ``caller_stopped``, ``others_took_over``,
        ``not_indicated``; or the corrections ``not_arrest``, ``wrong_incident``)."""
        request = pb.RecordCprGuidanceRequest(
            request_id=_request_id(request_id),
            incident_id=id,
            step=enum_value(CPR_STEP, step),
            reason=reason,
            end=_optional_enum(CPR_END, end or None),
        )
        return self._unary("RecordCprGuidance", request)

    # ------------------------------------------------------------ units

    def list_units(
        self,
        regions: str | Iterable[str] = (),
        status: str | int | None = None,
        kind: str | int | None = None,
    ) -> list[pb.Unit]:
        """Units of the given regions (all when empty), optionally filtered."""
        request = pb.ListUnitsRequest(
            regions=_split_csv(regions),
            status=_optional_enum(UNIT_STATUS, status),
            kind=_optional_enum(UNIT_KIND, kind),
        )
        return list(self._unary("ListUnits", request).units)

    def get_unit(self, id: str) -> pb.Unit:
        """One unit by id."""
        return self._unary("GetUnit", pb.GetUnitRequest(unit_id=id))

    def change_unit_status(
        self,
        id: str,
        status: str | int,
        request_id: str | None = None,
        occurred_at: float | None = None,
    ) -> pb.Unit:
        """Report a unit's status (crew buttons: en route, on scene, ...); with
        ``occurred_at`` (Unix seconds), a crew's radio report entered later."""
        request = pb.ChangeUnitStatusRequest(
            request_id=_request_id(request_id),
            unit_id=id,
            status=enum_value(UNIT_STATUS, status),
        )
        if occurred_at is not None:
            request.occurred_at.FromNanoseconds(int(occurred_at * 1e9))
        return self._unary("ChangeUnitStatus", request)

    def report_unit_position(
        self,
        id: str,
        lat: float,
        lon: float,
        accuracy_m: float = 0.0,
        request_id: str | None = None,
    ) -> pb.Unit:
        """One AVL fix; for a vehicle's continuous feed use :meth:`stream_unit_positions`."""
        request = _position_request(id, lat, lon, accuracy_m, request_id)
        return self._unary("ReportUnitPosition", request)

    def stream_unit_positions(
        self, positions: Iterable[PositionTuple], *, timeout_s: float | None = None
    ) -> pb.StreamUnitPositionsSummary:
        """Send ``(unit_id, lat, lon[, accuracy_m])`` fixes on one stream.

        The whole stream must finish within ``timeout_s`` (default: the client's).
        A stream broken by UNAVAILABLE is replayed from its first fix on the next
        gateway: each fix got its request id once, so the server applies it once.
        """
        source = iter(positions)
        sent: list[pb.ReportUnitPositionRequest] = []
        pull_lock = threading.Lock()
        bad_item: list[ValueError] = []
        too_long = False

        def requests() -> Iterator[pb.ReportUnitPositionRequest]:
            nonlocal too_long
            yield from list(sent)
            while not bad_item:
                # grpc's sender thread of a failed attempt may still pull one item
                # while the next attempt runs; the lock keeps ``source`` consistent and
                # the item lands in ``sent`` first, so it is replayed, not lost.
                with pull_lock:
                    item = next(source, _END)
                    if item is _END:
                        return
                    try:
                        request = _position_request(*item)
                    except (TypeError, ValueError) as exc:
                        bad_item.append(ValueError(f"position #{len(sent)} {item!r}: {exc}"))
                        return
                    if len(sent) < _STREAM_REPLAY_LIMIT:
                        sent.append(request)
                    else:
                        too_long = True
                yield request

        budget = _Budget(timeout_s or self.timeout_s, self.retry)
        while True:
            address, stub = self._stub()
            try:
                summary = stub.StreamUnitPositions(
                    requests(), timeout=budget.attempt_timeout(), metadata=self._metadata
                )
            except grpc.RpcError as err:
                if too_long:
                    raise AmkClientError.from_rpc(err) from err
                self._retry_or_raise(err, address, budget)
                continue
            if bad_item:
                raise bad_item[0]
            return summary

    # ------------------------------------------------------------ assignment

    def assign_unit(
        self, incident_id: str, unit_id: str, request_id: str | None = None
    ) -> pb.Assignment:
        """Dispatch a unit: the unit becomes ASSIGNED and the incident DISPATCHED."""
        request = pb.AssignUnitRequest(
            request_id=_request_id(request_id), incident_id=incident_id, unit_id=unit_id
        )
        return self._unary("AssignUnit", request)

    def release_unit(
        self, incident_id: str, unit_id: str, request_id: str | None = None, reason: str = ""
    ) -> pb.Assignment:
        """Take a unit off an incident (``reason``: required while it transports a patient)."""
        request = pb.ReleaseUnitRequest(
            request_id=_request_id(request_id),
            incident_id=incident_id,
            unit_id=unit_id,
            reason=reason,
        )
        return self._unary("ReleaseUnit", request)

    def divert_unit(
        self,
        unit_id: str,
        incident_id: str,
        from_incident_id: str,
        reason: str = "",
        request_id: str | None = None,
    ) -> pb.Assignment:
        """Send a unit on its way to ``from_incident_id`` to ``incident_id`` instead."""
        request = pb.DivertUnitRequest(
            request_id=_request_id(request_id),
            incident_id=incident_id,
            unit_id=unit_id,
            from_incident_id=from_incident_id,
            reason=reason,
        )
        return self._unary("DivertUnit", request)

    # ------------------------------------------------------------ watch and status

    def watch(self, regions: str | Iterable[str] = (), from_revision: int = 0) -> WatchStream:
        """Events of the given regions: a snapshot first when ``from_revision`` is 0.

        The stream has no deadline; end it with ``.cancel()`` (from any thread) or by
        leaving its ``with`` block.
        """
        request = pb.WatchRequest(regions=_split_csv(regions), from_revision=from_revision)
        return WatchStream(self, request)

    def cluster_status(self) -> pb.ClusterStatus:
        """Centres, region owners, fencing tokens and leases as the gateway sees them."""
        return self._unary("GetClusterStatus", pb.GetClusterStatusRequest())

    def recommend_units(self, incident_id: str, limit: int = 10) -> list[pb.Recommendation]:
        """Available units ranked by ETA, with the reason for each."""
        return list(self.recommendations(incident_id, limit).recommendations)

    def recommendations(self, incident_id: str, limit: int = 10) -> pb.RecommendUnitsResponse:
        """The whole answer: the available units, and the units on their way to a less
        urgent incident that could be diverted (``diversions``)."""
        req = pb.RecommendUnitsRequest(incident_id=incident_id, limit=limit)
        return self._unary("RecommendUnits", req)


def _position_request(
    unit_id: str, lat: float, lon: float, accuracy_m: float = 0.0, request_id: str | None = None
) -> pb.ReportUnitPositionRequest:
    return pb.ReportUnitPositionRequest(
        request_id=_request_id(request_id),
        unit_id=str(unit_id),
        position=pb.Position(lat=float(lat), lon=float(lon), accuracy_m=float(accuracy_m)),
    )


class WatchStream:
    """Iterator of :class:`pb.WatchEvent` that retries only until the first event.

    Once events flow, a break is the caller's to handle, because only the caller knows
    what it has applied: resume with ``watch(regions, stream.last_revision + 1)``.
    It reads ``WatchBatches`` (several events to a message when it is behind, e.g. a
    board redrawing during a burst) and hands the events out one at a time.
    """

    def __init__(self, client: AmkClient, request: pb.WatchRequest) -> None:
        self._client = client
        self._request = request
        self._lock = threading.Lock()
        self._call: Any = None
        self._cancelled = False
        self._budget: _Budget | None = None
        self._address = ""
        self._received = False
        self._pending: collections.deque[pb.WatchEvent] = collections.deque()
        #: highest revision seen; 0 before any event.
        self.last_revision = 0

    def __iter__(self) -> WatchStream:
        return self

    def __enter__(self) -> WatchStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cancel()

    def cancel(self) -> None:
        """End the stream; a blocked ``next()`` then stops iteration cleanly."""
        with self._lock:
            self._cancelled = True
            call = self._call
        if call is not None:
            call.cancel()

    def _open(self) -> Any:
        with self._lock:
            if self._cancelled:
                raise StopIteration
            if self._call is None:
                self._address, stub = self._client._stub()
                self._call = stub.WatchBatches(self._request, metadata=self._client._metadata)
            return self._call

    def __next__(self) -> pb.WatchEvent:
        while not self._pending:
            call = self._open()
            try:
                batch: pb.WatchEventBatch = next(call)
            except grpc.RpcError as err:
                if self._cancelled:
                    raise StopIteration from None
                if self._received:
                    raise AmkClientError.from_rpc(err) from err
                if self._budget is None:
                    self._budget = _Budget(self._client.timeout_s, self._client.retry)
                with self._lock:
                    self._call = None
                self._client._retry_or_raise(err, self._address, self._budget)
                continue
            self._received = True
            self._pending.extend(batch.events)
        event = self._pending.popleft()
        if event.revision > self.last_revision:
            self.last_revision = event.revision
        return event
