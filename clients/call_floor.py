"""The 113 floor: callers, and the call-takers of every centre, for drills of the queue.

Callers place calls at a steady rate, spread over the regions (a handset near one of
the region's stations; the gateway routes the call by municipality), and during a surge
(a major incident) at an extra rate into one region. Each centre has ``takers``
call-takers: each signs in, asks for its next call, holds it for a talk time and makes
the incident from it. Which call a call-taker gets is the queue's decision, not the
floor's: a partner centre's call-taker gets a call that has waited past the region's
first threshold, another health region's one past the second (``actors.domain.calls``).

Every answer goes to the drill's :class:`~clients.loadgen.History` (ops ``call``,
``answer`` and ``create``), so the drill's checker finds a lost or doubled call as it
finds a lost incident; ``chaos.call_check`` reads the calls back from etcd and checks
who answered each, and when. Bounded: the callers stop after ``duration_s``; the
call-takers when told (the drill lets them empty the queues first).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from actors.domain.triage import default_table
from clients.client import AmkClient, AmkClientError
from clients.console_tokens import CALL_TAKER, ConsoleRoom
from clients.loadgen import JITTER_DEG, History, recorded_call
from cluster.config import Seed
from cluster.tls import TlsFiles

log = structlog.get_logger("amk.call_floor")

IDLE_S = 1.0  # a call-taker with nothing to answer asks again after this
RETRY_S = 0.5  # after a refused or failed call


@dataclass(frozen=True)
class FloorSpec:
    """How busy the floor is: calls per second over the whole floor, call-takers signed
    in at each centre, how long each call holds its call-taker, and for how long calls
    come in."""

    rate: float = 1.0
    takers: int = 2
    talk_s: tuple[float, float] = (3.0, 6.0)
    duration_s: float = 30.0
    seed: int | None = None

    def __post_init__(self) -> None:
        low, high = self.talk_s
        if self.rate <= 0 or self.takers < 1 or self.duration_s <= 0 or not 0 < low <= high:
            raise ValueError("rate, takers, duration_s and talk_s must be positive")


class CallFloor:
    """Callers and call-takers as threads against the gateways (the consoles' identity,
    each request with the token of the centre it acts for)."""

    def __init__(
        self,
        addresses: list[str],
        seed: Seed,
        spec: FloorSpec,
        history: History,
        *,
        tls: TlsFiles | None,
        room: ConsoleRoom,
        regions: list[str] | None = None,
    ) -> None:
        self.addresses, self.seed, self.spec, self.history = addresses, seed, spec, history
        self.tls, self.room = tls, room
        self.regions = regions or [r.id for r in seed.area_regions()]
        self.stations = {
            r: [(u.lat, u.lon) for u in seed.units if u.region == r] or [self._centre_at(r)]
            for r in self.regions
        }
        self.codes = sorted(default_table().criteria)
        self._calls_stop = threading.Event()
        self._takers_stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.surges: list[dict[str, Any]] = []

    def _centre_at(self, region: str) -> tuple[float, float]:
        c = self.seed.centre(self.seed.region(region).home)
        return c.lat, c.lon

    # ------------------------------------------------------------ control

    def start(self) -> CallFloor:
        deadline = time.monotonic() + self.spec.duration_s
        self._spawn("callers", self._callers, self.spec.rate, self.regions, deadline, 0)
        for centre in self.seed.centres:
            for i in range(self.spec.takers):
                self._spawn(f"taker-{centre.id}-{i}", self._taker, centre.id, i)
        log.info("call_floor_started", rate=self.spec.rate, takers=self.spec.takers)
        return self

    def surge(self, region: str, rate: float, duration_s: float) -> None:
        """``rate`` more calls per second into ``region`` for ``duration_s`` (a major
        incident: many callers at once), within the floor's own duration."""
        if region not in self.regions:
            raise ValueError(f"region {region!r} takes no calls on this floor")
        self.surges.append({"region": region, "rate": rate, "t": time.time()})
        deadline = time.monotonic() + duration_s
        self._spawn(f"surge-{region}", self._callers, rate, [region], deadline, len(self.surges))

    def stop_calls(self) -> None:
        self._calls_stop.set()

    def stop(self) -> None:
        """Callers and call-takers both; waits for the threads."""
        self._calls_stop.set()
        self._takers_stop.set()
        for t in self._threads:
            t.join(timeout=15)

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=f"floor-{name}", daemon=True)
        t.start()
        self._threads.append(t)

    def _client(self) -> AmkClient:
        return AmkClient(self.addresses, timeout_s=10.0, identity="call-floor", tls=self.tls)

    # ------------------------------------------------------------ callers

    def _callers(self, rate: float, regions: list[str], deadline: float, index: int) -> None:
        rng = random.Random(None if self.spec.seed is None else self.spec.seed * 100 + index)
        client = self._client()
        interval = 1.0 / rate
        next_at = time.monotonic()
        n = 0
        try:
            while not self._calls_stop.is_set() and time.monotonic() < deadline:
                region = regions[n % len(regions)]
                n += 1
                lat, lon = rng.choice(self.stations[region])
                lat += rng.uniform(-JITTER_DEG, JITTER_DEG)
                lon += rng.uniform(-JITTER_DEG, JITTER_DEG)
                number = f"+47 9{rng.randrange(10**7):07d}"
                self._record(
                    "call",
                    region,
                    lambda c, rid, a=lat, b=lon, num=number: c.receive_call(
                        a, b, 25.0, num, request_id=rid
                    ),
                    client,
                    aimed_at=region,
                )
                next_at += interval
                self._calls_stop.wait(max(0.0, next_at - time.monotonic()))
        finally:
            client.close()

    # ------------------------------------------------------------ call-takers

    def _taker(self, centre: str, index: int) -> None:
        name = f"{centre}-call-taker-{index + 1}"  # each answers as themselves
        rng = random.Random(None if self.spec.seed is None else f"{self.spec.seed}-{name}")
        client = self._client()
        signed_in = False
        try:
            while not self._takers_stop.is_set():
                try:
                    if not signed_in:
                        self._as(client, centre, name, lambda c: c.sign_in(centre, name))
                        signed_in = True
                    rid = uuid.uuid4().hex
                    call = self._as(
                        client, centre, name, lambda c, r=rid: c.answer_next_call(centre, name, r)
                    )
                except AmkClientError as err:
                    # A restarted centre has forgotten who was signed in; a dead one
                    # answers nothing until it is back.
                    log.info(
                        "call_taker_refused", taker=name, code=err.code.name, detail=err.details
                    )
                    signed_in = signed_in and err.code != grpc.StatusCode.FAILED_PRECONDITION
                    self._takers_stop.wait(RETRY_S)
                    continue
                if call is None:
                    self._takers_stop.wait(IDLE_S)
                    continue
                self._answered(centre, name, rid, call)
                self._takers_stop.wait(rng.uniform(*self.spec.talk_s))
                self._make_incident(client, call, rng, centre, name)
        finally:
            client.close()

    def _as(
        self, client: AmkClient, centre: str, person: str, fn: Callable[[AmkClient], Any]
    ) -> Any:
        """``fn`` as call-taker ``person`` of ``centre`` (their own token)."""
        return self.room.call(client, "", fn, CALL_TAKER, centre=centre, person=person)

    def _answered(self, centre: str, taker: str, rid: str, call: Any) -> None:
        now = time.time()
        self.history.add(
            {
                "t": now,
                "t_done": now,
                "op": "answer",
                "region": call.region,
                "request_id": rid,
                "ok": True,
                "revision": call.revision,
                "call": call.id,
                "centre": centre,
                "taker": taker,
            }
        )

    def _make_incident(
        self, client: AmkClient, call: Any, rng: random.Random, centre: str, taker: str
    ) -> None:
        """The incident of the call, made by the call-taker who answered it (only the
        centre that answered a call makes an incident of it, or a supervisor)."""
        code = rng.choice(self.codes)
        pos = call.position
        self._record(
            "create",
            call.region,
            lambda c, rid: c.create_incident(
                call.region, pos.lat, pos.lon, 25.0, criteria_code=code, request_id=rid,
                call_id=call.id,
            ),
            client,
            centre=centre,
            person=taker,
            call=call.id,
        )  # fmt: skip

    def _record(
        self,
        op: str,
        region: str,
        fn: Callable[[AmkClient, str], Any],
        client: AmkClient,
        centre: str = "",
        person: str = "",
        **ids: str,
    ) -> Any:
        """One API call as a call-taker of the centre serving ``region`` (or of
        ``centre``, as ``person`` there), recorded (a queued call with its id and the
        region the gateway queued it in)."""
        note = _queued_where if op == "call" else None
        _, answer = recorded_call(
            self.history, self.room, client, op, region, fn, CALL_TAKER, centre, person,
            note=note, **ids,
        )  # fmt: skip
        return answer


def _queued_where(rec: dict[str, Any], call: Any) -> None:
    rec.update(call=call.id, region=call.region)
