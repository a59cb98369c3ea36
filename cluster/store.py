"""The fenced store: every write is one etcd transaction guarded by fencing tokens.

A :class:`Write` is what one accepted command changes: the entity records it puts, a
journal entry (who, when, what, with which tokens), and the idempotency record of its
request id. The transaction compares

- the owner key of every region the write touches against the writer's token, and
- the request key against "absent", so a request id is applied at most once,

and puts the records, the journal entry and the request record together: the state, its
audit trail and its idempotency record cannot disagree.

**Group commit.** Commands that arrive while a transaction is in flight are gathered
into the next one (up to etcd's per-transaction operation limit), and each caller is
answered when its batch commits. One transaction per command would be bound by etcd's
commit rate (about 1,100/s from one client on the 2-core machine); a batch costs about
the same as one command. If the batch fails its compares, the failure branch returns the
owner keys and request keys in the same round trip, so the store can tell which writes
were fenced (they fail with :class:`FencedError`), which were duplicates (they get the
stored first result) and which can go again in the next batch.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from cluster.errors import AmkError, FencedError, StoreUnavailableError, TxnTooLargeError
from cluster.etcd import (
    KV,
    Compare,
    EtcdClient,
    RequestOp,
    cmp_create_revision,
    cmp_mod_revision,
    op_delete,
    op_get,
    op_put,
)
from cluster.histogram import StoreMetrics
from cluster.keys import Keys
from cluster.ownership import Fence

log = structlog.get_logger("amk.store")

# etcd's default --max-txn-ops is 128 (compares, success ops and failure ops are each
# limited separately); stay below it so an external cluster with defaults works too.
MAX_TXN_OPS = 120


class StaleRecordError(AmkError):
    """A record changed in etcd since the writer read it (moved by a handover, written
    by another centre): the writer must reload it and decide again."""

    component = "store"
    retryable = True

    def __init__(self, keys: list[bytes]) -> None:
        super().__init__(f"records changed since read: {', '.join(k.decode() for k in keys)}")
        self.keys = keys


class DuplicateRequestError(AmkError):
    """The request id was already applied; ``stored`` is the first result, verbatim,
    and ``revision`` the revision at which it was committed."""

    component = "store"

    def __init__(self, request_id: str, stored: bytes, revision: int) -> None:
        super().__init__(f"request {request_id} already applied at revision {revision}")
        self.request_id = request_id
        self.stored = stored
        self.revision = revision


@dataclass(slots=True)
class Write:
    """What one command writes. ``fences[0]`` is the region whose journal gets the entry."""

    fences: tuple[Fence, ...]
    puts: list[tuple[bytes, bytes]]
    command: str
    who: str
    request_id: str | None = None
    response: bytes | None = None  # stored under the request id for retries
    details: dict[str, Any] = field(default_factory=dict)
    # key -> the mod revision it must still have (0: must not exist). Every entity write
    # names the revision its decision was based on, so a cached copy that went stale
    # (the record was moved or written elsewhere) can never be written back.
    expected: dict[bytes, int] = field(default_factory=dict)
    deletes: list[bytes] = field(default_factory=list)

    def op_count(self) -> int:
        return len(self.puts) + len(self.deletes) + 1 + (1 if self.request_id else 0)

    def compare_count(self) -> int:
        # Two per fence: the owner key's revision and its record (Fence.compares).
        return 2 * len(self.fences) + len(self.expected) + (1 if self.request_id else 0)


def _with_records(entry: dict[str, Any], puts: list[tuple[bytes, bytes]]) -> bytes:
    """The entry as JSON, with the value of every record it put under ``"records"``.

    The journal is the history the board at a past moment is rebuilt from (etcd
    compacts its own history away), so an entry carries the records as written, not
    only their keys. The values are already JSON: they are spliced in as they are,
    not parsed and encoded again on the write path.
    """
    head = json.dumps(entry)
    parts = [
        json.dumps(k.decode()).encode() + b":" + v
        for k, v in puts
        if v[:1] == b"{" and v[-1:] == b"}"
    ]
    if not parts:
        return head.encode()
    return head[:-1].encode() + b',"records":{' + b",".join(parts) + b"}}"


@dataclass(slots=True)
class _Pending:
    write: Write
    future: asyncio.Future[int]


class FencedStore:
    """Guarded, journaled, idempotent writes with group commit."""

    def __init__(
        self,
        client: EtcdClient,
        keys: Keys,
        *,
        writer: str,
        max_ops: int = MAX_TXN_OPS,
        on_fenced: Callable[[str, int], None] | None = None,
        clock: Callable[[], float] = time.time,
        fencing: bool = True,
        metrics: StoreMetrics | None = None,
    ) -> None:
        self.client = client
        self.keys = keys
        self.writer = writer  # centre instance that signs the journal
        # Only ever False in drills that prove the checker catches a stale write
        # (ClusterConfig refuses it without an explicit unsafe environment variable).
        self.fencing = fencing
        self.max_ops = max_ops
        self._on_fenced = on_fenced
        self._clock = clock
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._seq = itertools.count()
        self.stats = {"txns": 0, "writes": 0, "fenced": 0, "duplicates": 0}
        # Commit latency and writes per transaction, for the gateway's metrics.
        self.metrics = metrics if metrics is not None else StoreMetrics()

    # ------------------------------------------------------------ public

    async def commit(self, write: Write) -> int:
        """Apply ``write`` exactly once under its fences; returns the commit revision.

        Raises FencedError when a fence no longer holds, DuplicateRequestError when the
        request id was applied before, StoreUnavailableError when etcd did not answer
        (the write may or may not have been applied; a retry with the same request id
        is safe).
        """
        if write.op_count() + 1 > self.max_ops or write.compare_count() > self.max_ops:
            raise TxnTooLargeError(write.op_count(), self.max_ops)
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(write, fut))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())
        return await fut

    async def read_request(self, request_id: str) -> tuple[bytes, int] | None:
        """The stored first result of a request id and its commit revision, if applied."""
        kv = await self.client.get(self.keys.request(request_id))
        return (kv.value, kv.mod_revision) if kv else None

    # ------------------------------------------------------------ group commit

    def _take_batch(self) -> list[_Pending]:
        batch: list[_Pending] = []
        ops = compares = 0
        seen_requests: set[str] = set()
        rest: list[_Pending] = []
        for p in self._pending:
            w = p.write
            fits = ops + w.op_count() <= self.max_ops and compares + w.compare_count() <= (
                self.max_ops
            )
            # Two writes with one request id never share a batch: the second must see
            # the first's result.
            dup = w.request_id is not None and w.request_id in seen_requests
            if batch and (not fits or dup):
                rest.append(p)
                continue
            batch.append(p)
            ops += w.op_count()
            compares += w.compare_count()
            if w.request_id:
                seen_requests.add(w.request_id)
        self._pending = rest
        return batch

    async def _flush_loop(self) -> None:
        while self._pending:
            batch = self._take_batch()
            try:
                await self._commit_batch(batch)
            except Exception as exc:
                err = exc if isinstance(exc, AmkError) else StoreUnavailableError(repr(exc))
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(err)

    def journal_put(self, w: Write, now: float | None = None) -> tuple[bytes, bytes]:
        """The journal entry for ``w`` (also used by transactions built elsewhere)."""
        now = self._clock() if now is None else now
        primary = w.fences[0]
        stamp = f"{int(now * 1e9):020d}-{self.writer[-8:]}-{next(self._seq):08d}"
        entry = {
            "at": now,
            "writer": self.writer,
            "who": w.who,
            "command": w.command,
            "request_id": w.request_id,
            "region": primary.region,
            "tokens": {f.region: f.token for f in w.fences},
            "keys": [k.decode() for k, _ in w.puts],
            **w.details,
        }
        if w.deletes:
            entry["deleted"] = [k.decode() for k in w.deletes]
        return self.keys.journal(primary.region, stamp), _with_records(entry, w.puts)

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        fences: dict[bytes, Fence] = {}
        compares: list[Compare] = []
        success: list[RequestOp] = []
        request_keys: list[bytes] = []
        expected_keys: list[bytes] = []
        last_put: dict[bytes, bytes] = {}
        now = self._clock()
        for p in batch:
            w = p.write
            for f in w.fences:
                held = fences.get(f.key)
                if held is not None and held != f:
                    # Two fences for one region in one batch (tokens, or the records of a
                    # token issued again after a restore): one of them is stale.
                    # Commit this write alone next round so the other is not blamed.
                    raise StoreUnavailableError("conflicting tokens in one batch")
                fences[f.key] = f
            if w.request_id:
                rk = self.keys.request(w.request_id)
                request_keys.append(rk)
                compares.append(cmp_create_revision(rk, 0))
                success.append(op_put(rk, w.response or b"{}"))
            for k, rev in w.expected.items():
                expected_keys.append(k)
                compares.append(cmp_mod_revision(k, rev))
            for k, v in w.puts:
                last_put[k] = v  # etcd refuses one key twice in a txn: the last one wins
            success.extend(op_delete(k) for k in w.deletes)
            success.append(op_put(*self.journal_put(w, now)))
        success.extend(op_put(k, v) for k, v in last_put.items())
        if self.fencing:
            compares = [c for f in fences.values() for c in f.compares()] + compares
        failure = (
            [op_get(k) for k in fences]
            + [op_get(k) for k in request_keys]
            + [op_get(k) for k in expected_keys]
        )
        started = time.perf_counter()
        resp = await self.client.txn(compares, success, failure)
        # Only answered transactions are timed: a timeout is a StoreUnavailableError the
        # caller sees, and its 2 s would say nothing about etcd's commit latency.
        self.metrics.commit_latency.observe(time.perf_counter() - started)
        self.metrics.batch_size.observe(len(batch))
        self.stats["txns"] += 1
        if resp.succeeded:
            self.stats["writes"] += len(batch)
            for p in batch:
                if not p.future.done():
                    p.future.set_result(resp.header.revision)
            return
        self._sort_out_failure(batch, list(fences.values()), request_keys, expected_keys, resp)

    def _sort_out_failure(
        self,
        batch: list[_Pending],
        fences: list[Fence],
        request_keys: list[bytes],
        expected_keys: list[bytes],
        resp: Any,
    ) -> None:
        """Fail fenced and stale writes, answer duplicates, and queue the rest again."""
        ranges = [r.response_range.kvs for r in resp.responses]
        stale: dict[str, int | None] = {}
        for f, kvs in zip(fences, ranges[: len(fences)], strict=True):
            kv = KV.of(kvs[0]) if kvs else None
            if not f.held_in(kv):
                stale[f.region] = kv.mod_revision if kv is not None else None
        stored: dict[bytes, tuple[bytes, int]] = {}
        n_req = len(fences) + len(request_keys)
        for rk, kvs in zip(request_keys, ranges[len(fences) : n_req], strict=True):
            if kvs:
                stored[rk] = (kvs[0].value, kvs[0].mod_revision)
        now_rev = {
            k: (kvs[0].mod_revision if kvs else 0)
            for k, kvs in zip(expected_keys, ranges[n_req:], strict=True)
        }
        retry: list[_Pending] = []
        for p in batch:
            w = p.write
            lost = [f for f in w.fences if f.region in stale]
            if lost:
                f = lost[0]
                self.stats["fenced"] += 1
                p.future.set_exception(FencedError(f.region, f.token, stale[f.region]))
                continue
            rk = self.keys.request(w.request_id) if w.request_id else None
            if rk is not None and rk in stored:
                self.stats["duplicates"] += 1
                p.future.set_exception(DuplicateRequestError(w.request_id or "", *stored[rk]))
                continue
            moved = [k for k, rev in w.expected.items() if now_rev.get(k, rev) != rev]
            if moved:
                p.future.set_exception(StaleRecordError(moved))
                continue
            retry.append(p)
        for region, current in stale.items():
            log.warning("write_fenced", region=region, current_token=current)
            if self._on_fenced is not None:
                token = next(f.token for f in fences if f.region == region)
                self._on_fenced(region, token)
        if len(retry) == len(batch):
            # Nothing explained the failure (should not happen): do not loop forever.
            for p in retry:
                p.future.set_exception(StoreUnavailableError("transaction failed unexplained"))
            return
        self._pending = retry + self._pending
