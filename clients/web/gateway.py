"""The web console's gRPC side: the gateways, called with each person's own token.

The web server is a stateless client of the public API (docs/web-console.md): one
asyncio channel per gateway address, opened with the console's certificate (mutual TLS,
as every client), and the person's bearer token on each call as metadata (the token
differs per request, so it cannot be a channel credential as in ``open_channel(token=)``).
The gateway checks the token, role and scope on every call and writes its access log,
exactly as for the CLI.

Retries follow the sync client (:mod:`clients.client`): UNAVAILABLE and
DEADLINE_EXCEEDED are tried again with the same request (so the same request id) within
one overall deadline, moving to the next gateway when one cannot be reached; a region
changing owner answers UNAVAILABLE briefly.

The browser's address goes with every call (``x-amk-origin``): the gateway's access log
records its own gRPC peer (this server) and, beside it, the address this server states
for the person (Normen asks "from where"); the web server also logs it (``web_rpc``).
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from actors.domain.access import BREAK_GLASS_HEADER, MAX_REASON, MIN_REASON, ORIGIN_HEADER
from amk.audit.v1 import credentials_pb2 as crpb
from amk.audit.v1 import credentials_pb2_grpc as crpb_grpc
from amk.coordination.v1 import coordination_pb2 as cpb
from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from clients.client import IDENTITY_HEADER, RETRYABLE_CODES
from clients.retry import RECONNECT_OPTIONS, RetryPolicy, SyncBudget
from clients.web.errors import ApiError
from cluster.config import ClusterConfig
from cluster.tls import TlsFiles, console_identity, open_channel
from cluster.tokens import bearer_header

DISPATCH = "amk.dispatch.v1.DispatchService"
COORDINATION = "amk.coordination.v1.CoordinationService"
CREDENTIALS = "amk.audit.v1.CredentialService"
RPC_TIMEOUT_S = 10.0  # one API request, every retry included
REQUEST_ID = "request_id"
#: The page's break-glass reason (percent-encoded, as the gRPC header): one call's own.
BREAK_GLASS_HTTP = "X-AMK-Break-Glass"
BREAK_GLASS_FIELD = "break_glass"

#: The methods ``POST /api/rpc/{Method}`` reaches, with their service: exactly the list
#: of docs/web-console.md (a unit test holds the two equal). Nothing else is reachable
#: through the web server: no audit, no raw position feeds, no EIDO import, no
#: certificate revocation (it names a certificate file or serial the desk does not
#: have). Suspending a person is here: a supervisor at the desk must be able to stop
#: someone's access at once.
EXPOSED: dict[str, str] = {
    "CreateIncident": DISPATCH,
    "GetIncident": DISPATCH,
    "ListIncidents": DISPATCH,
    "TriageIncident": DISPATCH,
    "ChangeIncidentStatus": DISPATCH,
    "AddIncidentNote": DISPATCH,
    "ChangeIncidentLocation": DISPATCH,
    "RecordCprGuidance": DISPATCH,
    "GetIncidentHistory": DISPATCH,
    "SearchIncidents": DISPATCH,
    "GetBoardAt": DISPATCH,
    "ListUnits": DISPATCH,
    "GetUnit": DISPATCH,
    "ChangeUnitStatus": DISPATCH,
    "RecommendUnits": DISPATCH,
    "AssignUnit": DISPATCH,
    "ReleaseUnit": DISPATCH,
    "DivertUnit": DISPATCH,
    "GetClusterStatus": DISPATCH,
    "SignIn": DISPATCH,
    "SignOut": DISPATCH,
    "AnswerNextCall": DISPATCH,
    "LinkCall": DISPATCH,
    "CloseCall": DISPATCH,
    "ListCalls": DISPATCH,
    "ListCallerHistory": DISPATCH,
    "GetCallMetrics": DISPATCH,
    "GetKpis": DISPATCH,
    "GetCoverage": DISPATCH,
    "ListAlerts": DISPATCH,
    "SendAlert": DISPATCH,
    "AcknowledgeAlert": DISPATCH,
    "CancelAlert": DISPATCH,
    "RecommendDestination": DISPATCH,
    "SendPreNotification": DISPATCH,
    "ConfirmPreNotificationByPhone": DISPATCH,
    "RequestAirAmbulance": DISPATCH,
    "AirListMissions": DISPATCH,
    "AnswerAirRequest": DISPATCH,
    "AirAbortMission": DISPATCH,
    "HandOverRegion": COORDINATION,
    "HandBackRegion": COORDINATION,
    "SetCallSharing": COORDINATION,
    "DeclareMajorIncident": COORDINATION,
    "ListMajorIncidents": COORDINATION,
    "LinkToMajorIncident": COORDINATION,
    "StandDownMajorIncident": COORDINATION,
    "SuspendPerson": CREDENTIALS,
    "ReinstatePerson": CREDENTIALS,
    "ListSuspensions": CREDENTIALS,
}

_SERVICES = {
    DISPATCH: pb.DESCRIPTOR.services_by_name["DispatchService"],
    COORDINATION: cpb.DESCRIPTOR.services_by_name["CoordinationService"],
    CREDENTIALS: crpb.DESCRIPTOR.services_by_name["CredentialService"],
}


_STUBS: dict[str, Any] = {
    DISPATCH: pb_grpc.DispatchServiceStub,
    COORDINATION: cpb_grpc.CoordinationServiceStub,
    CREDENTIALS: crpb_grpc.CredentialServiceStub,
}


@dataclass(frozen=True, slots=True)
class Method:
    """One exposed RPC: its short name, service and request and answer classes (from the
    service's descriptor, so the table cannot drift from the proto)."""

    name: str
    service: str
    request: type[Message]
    response: type[Message]

    @property
    def full_name(self) -> str:
        """gRPC's ``/pkg.Service/Method``: how the roles table names it."""
        return f"/{self.service}/{self.name}"

    @property
    def has_request_id(self) -> bool:
        return REQUEST_ID in self.request.DESCRIPTOR.fields_by_name


def _table() -> dict[str, Method]:
    table = {}
    for name, service in EXPOSED.items():
        desc = _SERVICES[service].methods_by_name[name]  # KeyError: not in that service
        if desc.client_streaming or desc.server_streaming:
            raise TypeError(f"{name}: only unary methods are exposed")
        table[name] = Method(
            name, service, GetMessageClass(desc.input_type), GetMessageClass(desc.output_type)
        )
    return table


METHODS: dict[str, Method] = _table()


# ---------------------------------------------------------------- proto JSON


def to_json(message: Message) -> dict[str, Any]:
    """Proto JSON as the page reads it: proto field names, enums by name, every field
    (defaults included), and int64 values as numbers (revisions and fencing tokens are
    far below 2**53; proto JSON's strings would make the page compare "9" > "10")."""
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )


_PARSE_STEP = re.compile(r"^Failed to parse ([A-Za-z_]\w*) field: ")
_NO_FIELD = re.compile(r'has no field named "([^"]+)"')
_AT = re.compile(r"\s+at \"?[\w.]*\"?\.*$")


def parse_request(method: Method, body: Any) -> Message:
    """The request message of ``body`` (a JSON object of proto JSON); bad input is
    INVALID_ARGUMENT naming the field (dotted proto names, as the gateway's trailer)."""
    if not isinstance(body, dict):
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "the body must be a JSON object")
    request = method.request()
    try:
        json_format.ParseDict(body, request)
    except json_format.ParseError as exc:
        field, message = parse_error_field(str(exc), request.DESCRIPTOR)
        text = f"{field}: {message}" if field else message
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, text, field) from exc
    return request


def parse_error_field(text: str, descriptor: Descriptor) -> tuple[str, str]:
    """(dotted proto field name, the message without json_format's wrapping) of one
    ``ParseError``: "Failed to parse position field: Failed to parse lat field: ..."
    names ``position.lat``; a field the message has not is named as the body gave it."""
    text = text.splitlines()[0] if text else ""
    path: list[str] = []
    desc: Descriptor | None = descriptor
    while m := _PARSE_STEP.match(text):
        name, text = m.group(1), text[m.end() :]
        field = _field(desc, name)
        path.append(field.name if field is not None else name)
        desc = field.message_type if field is not None else None
    if m := _NO_FIELD.search(text):
        path.append(m.group(1))
        return ".".join(path), "no such field"
    message = _AT.sub("", text).rstrip(".") or "not valid"
    return ".".join(path), message


def _field(desc: Descriptor | None, name: str) -> Any:
    if desc is None:
        return None
    found = desc.fields_by_name.get(name)
    if found is None:
        found = next((f for f in desc.fields if f.json_name == name), None)
    return found


def fill_request_id(method: Method, request: Message) -> None:
    """A request id when the method has one and the body gave none: the retries below
    then reuse it, so a write that did land is applied once."""
    if method.has_request_id and not getattr(request, REQUEST_ID):
        setattr(request, REQUEST_ID, uuid.uuid4().hex)


# ---------------------------------------------------------------- calling the gateways


class Budget(SyncBudget):
    """One request's deadline and backoff, shared by all its attempts: the sync
    client's, with an asyncio pause."""

    async def pause(self) -> bool:  # type: ignore[override]
        """Wait before the next attempt; False when that would overrun the deadline."""
        pause = self.next_pause()
        if pause is None:
            return False
        await asyncio.sleep(pause)
        return True


class Gateways:
    """The configured gateways, reached with the console's certificate; any gateway
    serves any region, so a failed one is left for the next (and stays left)."""

    def __init__(
        self,
        addresses: list[str],
        tls: TlsFiles | None,
        *,
        timeout_s: float = RPC_TIMEOUT_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not addresses:
            raise ValueError("no gateway address")
        self.addresses = list(addresses)
        self.tls = tls
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._index = 0
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._stubs: dict[tuple[str, str], Any] = {}

    @classmethod
    def for_config(cls, config: ClusterConfig) -> Gateways:
        return cls(list(config.gateways), console_identity(config))

    @property
    def address(self) -> str:
        """The gateway the next call tries first."""
        return self.addresses[self._index]

    def rotate(self, failed: str) -> None:
        if self.addresses[self._index] == failed:  # another call may have moved on
            self._index = (self._index + 1) % len(self.addresses)

    def stub(self, address: str, service: str) -> Any:
        stub = self._stubs.get((address, service))
        if stub is None:
            channel = self._channels.get(address)
            if channel is None:
                channel = open_channel(address, self.tls, RECONNECT_OPTIONS)
                self._channels[address] = channel
            stub = self._stubs[(address, service)] = _STUBS[service](channel)
        return stub

    def metadata(
        self, token: str, user: str, origin: str = "", break_glass: str = ""
    ) -> tuple[tuple[str, str], ...]:
        """The person's bearer token (never on a plaintext channel: insecure mode, where
        nobody is authenticated, records the stated identity instead), the browser's
        address, which the gateway's access log records beside its own peer (this
        server), and a break-glass reason the person stated for this call."""
        # Header values are printable ASCII: a name like "kåre" travels percent-encoded.
        stated = user if user.isascii() and user.isprintable() else urllib.parse.quote(user)
        md = [(IDENTITY_HEADER, stated)]
        if origin:
            md.append((ORIGIN_HEADER, f"web console for {origin}"))
        if break_glass:
            md.append((BREAK_GLASS_HEADER, urllib.parse.quote(break_glass)))
        if self.tls is not None:
            md.append(bearer_header(token))
        return tuple(md)

    async def call(
        self,
        method: Method,
        request: Message,
        token: str,
        user: str,
        origin: str = "",
        break_glass: str = "",
    ) -> Message:
        """One unary call with retries; the gateway's final refusal as :class:`ApiError`
        (the field from its ``amk-field`` trailer)."""
        budget = Budget(self.timeout_s, self.retry)
        metadata = self.metadata(token, user, origin, break_glass)
        while True:
            address = self.address
            rpc = getattr(self.stub(address, method.service), method.name)
            try:
                # The same request object on every attempt: the same request id.
                return await rpc(request, timeout=budget.attempt_timeout(), metadata=metadata)
            except grpc.aio.AioRpcError as err:
                code = err.code()
                if code not in RETRYABLE_CODES:
                    raise ApiError.from_rpc(err) from err
                if budget.should_move(code, address, err.details() or ""):
                    self.rotate(address)
                if not await budget.pause():
                    raise ApiError.from_rpc(err) from err

    def watch(
        self, request: pb.WatchRequest, token: str, user: str, address: str, origin: str = ""
    ) -> grpc.aio.UnaryStreamCall:
        """A ``WatchBatches`` stream on ``address`` (no deadline: it lasts as long as
        the browser's page; the caller cancels it)."""
        stub = self.stub(address, DISPATCH)
        return stub.WatchBatches(request, metadata=self.metadata(token, user, origin))

    async def close(self) -> None:
        channels = list(self._channels.values())
        self._channels.clear()
        self._stubs.clear()
        for channel in channels:
            await channel.close()


def stated_break_glass(header: str | None) -> str:
    """The break-glass reason a page sent for one call ("" when it sent none), with its
    white space made single spaces (a pasted line break or no-break space is no fault),
    or 400 on the field ``break_glass``: too short for the gateway, longer than the
    access log keeps (the gateway would cut it silently), or with a control character
    or bytes that are not UTF-8. The gateway still decides whether break-glass is
    allowed at all (the role, the window since login), and logs the reason with every
    record read."""
    if header is None:
        return ""
    unreadable = ApiError(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"{BREAK_GLASS_FIELD}: at most {MAX_REASON} characters of text, no control characters",
        BREAK_GLASS_FIELD,
    )
    try:
        reason = " ".join(urllib.parse.unquote(header, errors="strict").split())
    except UnicodeDecodeError:
        raise unreadable from None
    if len(reason) > MAX_REASON or any(unicodedata.category(c) == "Cc" for c in reason):
        raise unreadable
    if len(reason) < MIN_REASON:
        raise ApiError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{BREAK_GLASS_FIELD}: state why you need this record "
            f"(at least {MIN_REASON} characters)",
            BREAK_GLASS_FIELD,
        )
    return reason


GATEWAYS = web.AppKey("gateways", Gateways)
