"""The one module that talks to etcd.

We use the etcd v3 API stubs that ship with ``aetcd`` (a maintained asyncio client whose
generated code imports under current protobuf; python-etcd3 0.12 does not), over our own
``grpc.aio`` channel. Going one level below aetcd's convenience methods gives us what
fencing needs and aetcd hides: the response header's revision (a claim's fencing token),
compares on create revision, failure-branch reads in one round trip, and a keepalive
stream whose send times we control (the hang path's local lease deadline).

Several endpoints (a three- or five-member etcd cluster) are given to gRPC as one
``ipv4:`` target with ``pick_first``, so the channel moves to the next member when one
fails. Every call has a deadline; a gRPC failure becomes :class:`StoreUnavailableError`.

**A lost leader.** A write (or lease grant) sent to a follower is forwarded to the leader
over etcd's peer link; if the leader dies with it, etcd neither retries nor fails the
proposal, so the call would wait out its whole deadline (2 s: the stall measured in the
etcd-member-kill drill). A unary call not answered within ``LEADER_CHECK_AFTER_S`` is
therefore watched: the member we talk to is asked for its Status (a local answer, no
Raft), and once it reports no leader or a newer Raft term than our last answer carried,
the call is abandoned as :class:`StoreUnavailableError`, *outcome unknown*, exactly as a
timeout is: the caller's request-id and revision compares make a repeat safe. A call is
never abandoned without that evidence, so a merely slow etcd is waited for as before.
Proposals made while a member has no leader are lost the same way (measured: they wait
out their deadline), so the abandon is raised only once the member names a new leader
(within the call's deadline), and calls made meanwhile wait for one before they are sent:
the caller's retry then lands on a working etcd instead of backing off blind.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from aetcd import rpc

from cluster.errors import ConfigError, StoreUnavailableError
from cluster.keys import prefix_range_end
from cluster.pki import TlsFiles

# A unary call unanswered this long starts watching for a leader change: far above a
# healthy commit (tens of ms here under drill load), well under an election (250 ms+).
LEADER_CHECK_AFTER_S = 0.15
# Then the member is asked again this often: the abandon comes at most this late after
# the member has seen the election start, and a caller learns of the new leader at most
# this late (a Status answer is local and cheap: ~0.1 ms of the member's CPU).
LEADER_CHECK_EVERY_S = 0.025
# One Status answer is local to the member; longer means the member itself is in trouble,
# which is no evidence of a leader change: keep waiting for the call's own deadline.
LEADER_PROBE_TIMEOUT_S = 0.25

# etcd's answers to a user its role does not allow (auth on, issue #13).
REFUSED = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)

# The one key revision() reads: never written, outside every prefix; the etcd role of
# our user may read it (cluster/etcd_auth.py), so any client can ask for the revision.
REVISION_PROBE_KEY = b"\0amk-revision-probe"

# Keys per range page: 1,000 typical incidents are ~0.5 MB, well inside one message.
PAGE = 1000
MAX_MESSAGE = 64 * 1024 * 1024

S = TypeVar("S")  # a service stub

Compare = rpc.Compare
RequestOp = rpc.RequestOp
TxnResponse = rpc.TxnResponse


@dataclass(frozen=True, slots=True)
class KV:
    """One key-value pair as etcd holds it."""

    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int

    @classmethod
    def of(cls, kv: rpc.KeyValue) -> KV:
        return cls(kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)


@dataclass(frozen=True, slots=True)
class MemberStatus:
    """One etcd member as its Maintenance Status RPC reports it, or why it did not."""

    endpoint: str
    member_id: int = 0
    db_size_bytes: int = 0  # the backend file: what the quota is checked against
    db_size_in_use_bytes: int = 0  # live data; the rest is free pages a defrag returns
    leader: bool = False
    error: str = ""  # set when the member did not answer in time


@dataclass(frozen=True, slots=True)
class WatchEventKV:
    """One change seen by a watch: a put (``deleted`` False) or a delete."""

    kv: KV
    deleted: bool
    prev: KV | None


# Enum values read once: protobuf's enum wrappers resolve a name in Python on every read
# (about 2 % of a centre's CPU under load, for every compare it built).
_DELETE, _EQUAL = rpc.Event.EventType.DELETE, Compare.CompareResult.EQUAL
_CREATE, _MOD = Compare.CompareTarget.CREATE, Compare.CompareTarget.MOD
_VALUE = Compare.CompareTarget.VALUE


def _event(ev: Any) -> WatchEventKV:
    prev = KV.of(ev.prev_kv) if ev.HasField("prev_kv") else None
    return WatchEventKV(KV.of(ev.kv), ev.type == _DELETE, prev)


# ---------------------------------------------------------------- txn builders


def cmp_create_revision(key: bytes, revision: int) -> Compare:
    """``create_revision(key) == revision`` (0 means: the key does not exist)."""
    return Compare(key=key, result=_EQUAL, target=_CREATE, create_revision=revision)


def cmp_mod_revision(key: bytes, revision: int) -> Compare:
    """``mod_revision(key) == revision`` (0 means: the key does not exist)."""
    return Compare(key=key, result=_EQUAL, target=_MOD, mod_revision=revision)


def cmp_value(key: bytes, value: bytes) -> Compare:
    """``value(key) == value`` (false when the key does not exist)."""
    return Compare(key=key, result=_EQUAL, target=_VALUE, value=value)


def op_put(key: bytes, value: bytes, lease: int = 0) -> RequestOp:
    return RequestOp(request_put=rpc.PutRequest(key=key, value=value, lease=lease))


def op_get(key: bytes) -> RequestOp:
    return RequestOp(request_range=rpc.RangeRequest(key=key))


def op_delete(key: bytes) -> RequestOp:
    return RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key))


def _target(endpoints: Sequence[str]) -> str:
    """A gRPC target for one or more ``host:port`` endpoints."""
    if len(endpoints) == 1:
        return endpoints[0]
    addrs = []
    for ep in endpoints:
        host, _, port = ep.rpartition(":")
        addrs.append(f"{socket.gethostbyname(host)}:{port}")
    return "ipv4:" + ",".join(addrs)


def _channel(target: str, tls: TlsFiles | None, options: list[tuple[str, Any]]) -> grpc.aio.Channel:
    """A channel to etcd: mutual TLS with ``tls`` (our CA, our certificate: etcd's user is
    its CN), plaintext only when the cluster runs insecure (``tls`` None)."""
    if tls is None:
        return grpc.aio.insecure_channel(target, options=options)
    ca, cert, key = tls.read()
    return grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(ca, key, cert), options)


class EtcdClient:
    """An asyncio etcd v3 client bound to one event loop.

    Create it inside the loop that will use it (a Ray async actor's loop, or the test's);
    gRPC aio channels cannot move between loops.
    """

    def __init__(
        self,
        endpoints: Sequence[str],
        *,
        tls: TlsFiles | None,
        request_timeout_s: float = 2.0,
    ) -> None:
        """``tls``: the identity shown to etcd (:mod:`cluster.etcd_tls`); required, so no
        caller talks plaintext by forgetting it. None only for an insecure cluster."""
        if not endpoints:
            raise ValueError("at least one etcd endpoint is needed")
        self.endpoints = list(endpoints)
        self.request_timeout_s = request_timeout_s
        self.tls = tls
        options: list[tuple[str, Any]] = [
            ("grpc.lb_policy_name", "pick_first"),
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
            ("grpc.keepalive_time_ms", 10_000),
            ("grpc.max_receive_message_length", MAX_MESSAGE),
        ]
        if tls is not None and len(self.endpoints) > 1:
            # An ``ipv4:a,b,c`` target has no host name of its own to check the members'
            # certificates against: check the first endpoint's host (every member's
            # certificate names the hosts of the cluster).
            options.append(("grpc.ssl_target_name_override", self.endpoints[0].rpartition(":")[0]))
        self._channel = _channel(_target(self.endpoints), tls, options)
        self._kv = rpc.KVStub(self._channel)
        self._lease = rpc.LeaseStub(self._channel)
        self._watch = rpc.WatchStub(self._channel)
        self._maint = rpc.MaintenanceStub(self._channel)
        # One channel per member for its own status (the main channel reaches one member
        # at a time); opened on first use: only gateways ask.
        self._member_channels: dict[str, grpc.aio.Channel] = {}
        self._cluster = rpc.ClusterStub(self._channel)
        # The newest Raft term an answer carried: a call outstanding when a member
        # reports a newer one (or no leader) was probably lost with the old leader.
        self._term = 0
        # Set when the member was seen without a leader: new calls wait for one first.
        self._leaderless = False
        self._probe: asyncio.Task[rpc.StatusResponse | None] | None = None

    def stub(self, service: Callable[[grpc.aio.Channel], S]) -> S:
        """Another etcd v3 service on this client's channel and certificate (the Auth
        service for :mod:`cluster.etcd_auth`)."""
        return service(self._channel)

    async def close(self) -> None:
        for channel in self._member_channels.values():
            await channel.close()
        await self._channel.close()

    def _timeout(self, timeout_s: float | None) -> float:
        return self.request_timeout_s if timeout_s is None else timeout_s

    # ------------------------------------------------------------ leader loss

    async def _member_view(self) -> rpc.StatusResponse | None:
        """The current member's Status, one probe shared by every waiting call (many
        calls stall at once when a leader dies); None when it did not answer."""
        if self._probe is None or self._probe.done():

            async def probe() -> rpc.StatusResponse | None:
                try:
                    return await self._maint.Status(
                        rpc.StatusRequest(), timeout=LEADER_PROBE_TIMEOUT_S
                    )
                except grpc.aio.AioRpcError:
                    return None

            self._probe = asyncio.get_running_loop().create_task(probe())
        return await asyncio.shield(self._probe)

    async def _await_leader(self, until: float) -> None:
        """Wait (at most until the monotonic time ``until``) for the member to name a
        leader: a call sent before that is lost like the one abandoned, and a caller
        told "unavailable" only once a leader exists retries into a working etcd."""
        loop = asyncio.get_running_loop()
        while True:
            view = await self._member_view()
            if view is not None and view.leader:
                self._leaderless = False
                self._term = max(self._term, view.raftTerm)
                return
            if loop.time() + LEADER_CHECK_EVERY_S >= until:
                return
            await asyncio.sleep(LEADER_CHECK_EVERY_S)

    async def _unary(self, method: Callable[..., Any], request: Any, timeout_s: float) -> Any:
        """One unary call, abandoned early once the member shows the leader it relied on
        is gone (module docstring: *A lost leader*). Raises ``grpc.aio.AioRpcError`` as
        the call does, or :class:`StoreUnavailableError` when abandoned."""
        until = asyncio.get_running_loop().time() + timeout_s
        if not self._term and not self._leaderless:
            # No answer has told us the Raft term yet (a new client): ask the member
            # first. Without a term to compare, a leader that died just before this call
            # and an election the member finished before our first check would leave
            # nothing to tell the forwarded call is lost: it would wait out etcd's own
            # 5.5 s timeout (seen once in CI: test_etcd_leader_loss).
            view = await self._member_view()
            if view is not None:
                if view.leader:
                    self._term = view.raftTerm
                else:
                    self._leaderless = True
        if self._leaderless:
            await self._await_leader(until)
        base = self._term
        call = method(request, timeout=max(0.001, until - asyncio.get_running_loop().time()))
        task: asyncio.Future[Any] = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait({task}, timeout=LEADER_CHECK_AFTER_S)
            while not done:
                view = await self._member_view()
                if view is not None:
                    if view.leader == 0 or (base and view.raftTerm > base):
                        call.cancel()
                        self._leaderless = True
                        await self._await_leader(until)
                        raise StoreUnavailableError(
                            f"etcd leader lost (member {view.header.member_id:x}: leader "
                            f"{view.leader:x}, term {base} -> {view.raftTerm}); "
                            "outcome unknown"
                        )
                    base = base or view.raftTerm
                done, _ = await asyncio.wait({task}, timeout=LEADER_CHECK_EVERY_S)
            resp = task.result()
        except grpc.aio.AioRpcError as exc:
            if exc.code() in REFUSED:  # a wrong grant, not an outage: no retry helps
                raise ConfigError(
                    f"etcd refused {type(request).__name__}: {exc.code().name} "
                    f"{exc.details()} (this certificate's etcd user lacks the grant; "
                    "see cluster/etcd_auth.py)"
                ) from exc
            raise
        finally:
            if not task.done():
                task.cancel()
        self._term = max(self._term, resp.header.raft_term)
        return resp

    # ------------------------------------------------------------ reads

    async def get(self, key: bytes, *, timeout_s: float | None = None) -> KV | None:
        kvs, _ = await self.range(key, timeout_s=timeout_s)
        return kvs[0] if kvs else None

    async def range(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        revision: int = 0,
        limit: int = 0,
        keys_only: bool = False,
        timeout_s: float | None = None,
    ) -> tuple[list[KV], int]:
        """Linearizable range read; returns the pairs and the store revision read at."""
        req = rpc.RangeRequest(
            key=key, range_end=range_end, revision=revision, limit=limit, keys_only=keys_only
        )
        try:
            resp = await self._unary(self._kv.Range, req, self._timeout(timeout_s))
        except grpc.aio.AioRpcError as exc:
            raise StoreUnavailableError(
                f"range {key!r}: {exc.code().name} {exc.details()}"
            ) from exc
        return [KV.of(kv) for kv in resp.kvs], resp.header.revision

    async def get_prefix(
        self,
        prefix: bytes,
        *,
        revision: int = 0,
        keys_only: bool = False,
        timeout_s: float | None = None,
        page: int = PAGE,
    ) -> tuple[list[KV], int]:
        """Every pair under ``prefix``, read in pages at one revision (:meth:`range_all`)."""
        return await self.range_all(
            prefix,
            prefix_range_end(prefix),
            revision=revision,
            keys_only=keys_only,
            timeout_s=timeout_s,
            page=page,
        )

    async def range_all(
        self,
        start: bytes,
        end: bytes,
        *,
        revision: int = 0,
        keys_only: bool = False,
        timeout_s: float | None = None,
        page: int = PAGE,
    ) -> tuple[list[KV], int]:
        """Every pair in ``[start, end)``, read in pages at one revision.

        The one paged reader: one range answer must fit one gRPC message (4 MiB by
        default), and a region of 10,000 typical incidents does not. Every page after
        the first reads at the first page's revision, so the result is one consistent
        snapshot.
        """
        found: list[KV] = []
        while True:
            req = rpc.RangeRequest(
                key=start, range_end=end, revision=revision, limit=page, keys_only=keys_only
            )
            try:
                resp = await self._unary(self._kv.Range, req, self._timeout(timeout_s))
            except grpc.aio.AioRpcError as exc:
                raise StoreUnavailableError(
                    f"range {start!r}: {exc.code().name} {exc.details()}"
                ) from exc
            found.extend(KV.of(kv) for kv in resp.kvs)
            revision = revision or resp.header.revision
            if not resp.more or not resp.kvs:
                return found, revision
            start = resp.kvs[-1].key + b"\0"

    async def revision(self) -> int:
        """The store's current revision (a cheap linearizable read of one absent key)."""
        _, rev = await self.range(REVISION_PROBE_KEY)
        return rev

    # ------------------------------------------------------------ transactions

    async def txn(
        self,
        compare: Sequence[Compare],
        success: Sequence[RequestOp],
        failure: Sequence[RequestOp] = (),
        *,
        timeout_s: float | None = None,
    ) -> TxnResponse:
        """One etcd transaction. The caller reads ``succeeded`` and ``header.revision``.

        Never retried here: whether a timed-out transaction was applied is unknown, and
        only the caller (with its request-id compare) can make a repeat safe.
        """
        req = rpc.TxnRequest(compare=list(compare), success=list(success), failure=list(failure))
        try:
            return await self._unary(self._kv.Txn, req, self._timeout(timeout_s))
        except grpc.aio.AioRpcError as exc:
            raise StoreUnavailableError(f"txn: {exc.code().name} {exc.details()}") from exc

    # ------------------------------------------------------------ leases

    async def lease_grant(self, ttl_s: int) -> tuple[int, int]:
        """Grant a lease; returns (lease id, granted TTL)."""
        try:
            resp = await self._unary(
                self._lease.LeaseGrant, rpc.LeaseGrantRequest(TTL=ttl_s), self.request_timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            raise StoreUnavailableError(f"lease grant: {exc.code().name}") from exc
        return resp.ID, resp.TTL

    async def lease_revoke(self, lease_id: int, *, timeout_s: float | None = None) -> bool:
        """Revoke a lease; False when it was already gone."""
        try:
            await self._unary(
                self._lease.LeaseRevoke,
                rpc.LeaseRevokeRequest(ID=lease_id),
                self._timeout(timeout_s),
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise StoreUnavailableError(f"lease revoke: {exc.code().name}") from exc
        return True

    async def lease_ttl(self, lease_id: int) -> int:
        """Seconds left on a lease as etcd sees it; -1 when it no longer exists."""
        try:
            resp = await self._unary(
                self._lease.LeaseTimeToLive,
                rpc.LeaseTimeToLiveRequest(ID=lease_id),
                self.request_timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            raise StoreUnavailableError(f"lease ttl: {exc.code().name}") from exc
        return resp.TTL

    def keepalive_stream(self) -> grpc.aio.StreamStreamCall:
        """A bidirectional LeaseKeepAlive stream; the session drives it."""
        return self._lease.LeaseKeepAlive()

    # ------------------------------------------------------------ watches

    async def watch(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        start_revision: int = 0,
        prev_kv: bool = False,
    ) -> AsyncIterator[tuple[int, list[WatchEventKV]]]:
        """Watch a key or range; yields (revision, events) per etcd response.

        Each call opens its own stream, so cancelling the consumer cancels the watch.
        Raises :class:`StoreUnavailableError` when the stream breaks or the start
        revision was compacted; the caller resumes from the last revision it saw.
        """
        stream = self._watch_raw(key, range_end, start_revision, prev_kv)
        async with contextlib.aclosing(stream):  # a consumer that stops ends the watch now
            async for rev, raw in stream:
                yield rev, [_event(ev) for ev in raw]

    async def watch_keys(
        self, prefix: bytes, *, start_revision: int = 0
    ) -> AsyncIterator[tuple[int, list[tuple[bytes, bool]]]]:
        """Watch a prefix for its keys alone: yields (revision, [(key, deleted)]). For a
        view that needs only which keys exist (where an entity lives is in its key): no
        value copied out, no record built, for every write. Errors as :meth:`watch`."""
        stream = self._watch_raw(prefix, prefix_range_end(prefix), start_revision)
        async with contextlib.aclosing(stream):
            async for rev, raw in stream:
                yield rev, [(ev.kv.key, ev.type == _DELETE) for ev in raw]

    async def _watch_raw(
        self, key: bytes, range_end: bytes, start_revision: int, prev_kv: bool = False
    ) -> AsyncIterator[tuple[int, Any]]:
        """The watch stream itself: (revision, etcd's events as received)."""
        call = self._watch.Watch()
        create = rpc.WatchCreateRequest(
            key=key, range_end=range_end, start_revision=start_revision, prev_kv=prev_kv
        )
        try:
            await call.write(rpc.WatchRequest(create_request=create))
            async for resp in call:
                if resp.canceled or resp.compact_revision:
                    raise StoreUnavailableError(
                        f"watch {key!r} cancelled (compacted at {resp.compact_revision}): "
                        f"{resp.cancel_reason}"
                    )
                if resp.created and not resp.events:
                    continue
                yield resp.header.revision, resp.events
        except grpc.aio.AioRpcError as exc:
            raise StoreUnavailableError(f"watch {key!r}: {exc.code().name}") from exc
        finally:
            call.cancel()

    def watch_prefix(
        self, prefix: bytes, *, start_revision: int = 0, prev_kv: bool = False
    ) -> AsyncIterator[tuple[int, list[WatchEventKV]]]:
        end = prefix_range_end(prefix)
        return self.watch(prefix, end, start_revision=start_revision, prev_kv=prev_kv)

    # ------------------------------------------------------------ maintenance

    async def member_status(self, timeout_s: float = 1.0) -> list[MemberStatus]:
        """Every endpoint's Maintenance Status (database size, in use, leader), asked of
        each member directly and at once; a member that does not answer within
        ``timeout_s`` is reported with its error rather than failing the others."""

        async def one(endpoint: str) -> MemberStatus:
            if len(self.endpoints) == 1:
                stub = self._maint
            else:
                channel = self._member_channels.get(endpoint)
                if channel is None:
                    channel = _channel(endpoint, self.tls, [])
                    self._member_channels[endpoint] = channel
                stub = rpc.MaintenanceStub(channel)
            try:
                resp = await stub.Status(rpc.StatusRequest(), timeout=timeout_s)
            except grpc.aio.AioRpcError as exc:
                return MemberStatus(endpoint, error=f"{exc.code().name} {exc.details()}")
            return MemberStatus(
                endpoint,
                member_id=resp.header.member_id,
                db_size_bytes=resp.dbSize,
                db_size_in_use_bytes=resp.dbSizeInUse,
                leader=resp.leader == resp.header.member_id,
            )

        return list(await asyncio.gather(*(one(ep) for ep in self.endpoints)))

    # ------------------------------------------------------------ members

    async def status(self, *, timeout_s: float | None = None) -> rpc.StatusResponse:
        """The answering member's status: its id (``header.member_id``), the cluster's
        id, the leader, ``dbSize`` and ``dbSizeInUse`` (etcd 3.4+). Give the client one
        endpoint to ask one member."""
        try:
            return await self._maint.Status(rpc.StatusRequest(), timeout=self._timeout(timeout_s))
        except grpc.aio.AioRpcError as exc:
            raise StoreUnavailableError(f"status: {exc.code().name} {exc.details()}") from exc

    async def member_list(self, *, timeout_s: float | None = None) -> rpc.MemberListResponse:
        """The cluster's members (id, name, peer and client URLs) as the answering member
        knows them."""
        try:
            return await self._cluster.MemberList(
                rpc.MemberListRequest(), timeout=self._timeout(timeout_s)
            )
        except grpc.aio.AioRpcError as exc:
            raise StoreUnavailableError(f"member list: {exc.code().name} {exc.details()}") from exc

    async def defragment(self, *, timeout_s: float) -> None:
        """Defragment the answering member's backend (it serves nothing meanwhile), so
        give the client exactly one endpoint; see :mod:`cluster.etcd_maintenance`."""
        try:
            await self._maint.Defragment(rpc.DefragmentRequest(), timeout=timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise StoreUnavailableError(f"defragment: {exc.code().name} {exc.details()}") from exc

    # ------------------------------------------------------------ health

    async def healthy(self, timeout_s: float = 1.0) -> bool:
        """True when a linearizable read succeeds within ``timeout_s``."""
        try:
            await asyncio.wait_for(self.revision(), timeout_s)
        except (StoreUnavailableError, TimeoutError):
            return False
        return True
