"""Load generator: dispatch traffic as an AMK sees it, with a history of every answer.

Each worker thread runs incident lifecycles through the public API (``AmkClient``, so
with its request ids, retries and gateway failover): a 113 call becomes an incident at
a position inside the region (a station of the region ± a few km), is triaged with a
real criteria code (``actors/domain/data/criteria.toml``), gets an available unit of
the region, and the crew reports en route, a position fix, on scene, sometimes
transport and hospital, then available; the dispatcher closes the incident.

Every operation's answer goes to a JSONL history: request id, op, region, incident and
unit, the committed revision on success, the status code on error, client times. The
drill checker compares that history with etcd and the journal, so an acknowledged
operation the cluster then lost, or applied twice, shows up.

Bounded: a fixed rate (a shared token bucket), a fixed number of threads, a duration;
each call has the client's time budget. ``python -m clients.loadgen --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from actors.domain.triage import default_table
from clients.client import AmkClient, AmkClientError
from clients.console_tokens import CALL_TAKER, DISPATCHER, ConsoleRoom
from cluster.config import ClusterConfig, Seed
from cluster.tls import FROM_ENV, FromEnv, TlsFiles, resolve

log = structlog.get_logger("amk.loadgen")

# ~3 km of jitter around a station: near the station, inside the region.
JITTER_DEG = 0.03


@dataclass(frozen=True)
class LoadSpec:
    """How much traffic: operations per second overall, threads, seconds, regions."""

    rate: float = 20.0
    concurrency: int = 4
    duration_s: float = 20.0
    regions: tuple[str, ...] = ()
    timeout_s: float = 10.0
    seed: int | None = None
    # Start each incident as a 113 call: queue it, let a call-taker at the region's home
    # centre answer the next call, create the incident from that call (answer times).
    via_calls: bool = False

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.concurrency < 1 or self.duration_s <= 0:
            raise ValueError("rate, concurrency and duration_s must be positive")


class History:
    """The record of every operation, in memory and as JSON lines (thread safe)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._file = open(path, "a") if path else None

    def add(self, rec: dict[str, Any]) -> None:
        with self._lock:
            self.records.append(rec)
            if self._file is not None:
                self._file.write(json.dumps(rec) + "\n")
                self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    @staticmethod
    def load(path: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in Path(path).read_text().splitlines() if line]


class _Pacer:
    """A shared token bucket: one operation every ``1/rate`` seconds, no catch-up burst."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self, stop: threading.Event) -> None:
        with self._lock:
            now = time.monotonic()
            self._next = max(self._next + self.interval, now - 1.0)
            slot = self._next
        if slot > now:
            stop.wait(slot - now)


class _Abandon(Exception):
    """A lifecycle step failed or time is up: leave this incident where it is."""


@dataclass
class _Pools:
    """Units per region whose state this generator knows (available at station)."""

    free: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, region: str, rng: random.Random) -> str | None:
        with self.lock:
            units = self.free.get(region) or []
            return units.pop(rng.randrange(len(units))) if units else None

    def give(self, region: str, unit_id: str) -> None:
        with self.lock:
            self.free.setdefault(region, []).append(unit_id)


class LoadGenerator:
    """Runs ``spec.concurrency`` threads of incident lifecycles against the gateways."""

    def __init__(
        self,
        addresses: list[str],
        seed: Seed,
        spec: LoadSpec,
        history: History,
        *,
        identity: str = "loadgen",
        tls: TlsFiles | FromEnv | None = FROM_ENV,
        room: ConsoleRoom | None = None,
    ) -> None:
        self.addresses = addresses
        self.tls = resolve(tls)  # every worker's client: the console's identity
        # Every centre's consoles: each request with the token of the centre serving its
        # region now (default: the deployment of the settings file / environment).
        self.room = room or ConsoleRoom(ClusterConfig.load())
        self._local = threading.local()  # each worker's client
        self.seed = seed
        self.spec = spec
        self.history = history
        self.identity = identity
        # Load goes where incidents live: the regions with an area (not an AMK-LA's).
        self.regions = list(spec.regions) or [r.id for r in seed.area_regions()]
        self.codes = sorted(default_table().criteria)
        self.stations = {
            r: [(u.lat, u.lon) for u in seed.units if u.region == r] for r in self.regions
        }
        self.pools = _Pools({r: [u.id for u in seed.units if u.region == r] for r in self.regions})
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pacer = _Pacer(spec.rate)
        self._deadline = 0.0
        self.started_at = 0.0

    # ------------------------------------------------------------ control

    def start(self) -> LoadGenerator:
        self.started_at = time.time()
        self._deadline = time.monotonic() + self.spec.duration_s
        for i in range(self.spec.concurrency):
            t = threading.Thread(target=self._worker, args=(i,), name=f"loadgen-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        log.info("loadgen_started", **{k: str(v) for k, v in self.spec.__dict__.items()})
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout_s: float | None = None) -> None:
        end = None if timeout_s is None else time.monotonic() + timeout_s
        for t in self._threads:
            t.join(None if end is None else max(0.0, end - time.monotonic()))

    def run(self) -> dict[str, Any]:
        """Start, wait for the duration, stop; returns a summary."""
        self.start()
        self.join()
        return self.summary()

    def summary(self) -> dict[str, Any]:
        recs = self.history.records
        codes: dict[str, int] = {}
        for r in recs:
            if not r["ok"]:
                codes[r["code"]] = codes.get(r["code"], 0) + 1
        return {"ops": len(recs), "acked": sum(1 for r in recs if r["ok"]), "errors": codes}

    # ------------------------------------------------------------ workers

    def _time_left(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _worker(self, index: int) -> None:
        rng = random.Random(None if self.spec.seed is None else self.spec.seed * 1000 + index)
        client = AmkClient(
            self.addresses, timeout_s=self.spec.timeout_s, identity=self.identity, tls=self.tls
        )
        self._local.client = client
        n = index
        try:
            if self.room.enabled:
                with contextlib.suppress(AmkClientError):  # else: homes, until refused
                    self.room.refresh(client)  # who serves each region now
            while self._time_left():
                region = self.regions[n % len(self.regions)]
                n += self.spec.concurrency
                try:
                    self._lifecycle(client, region, rng)
                except _Abandon:
                    continue
        finally:
            client.close()

    def _call(
        self,
        op: str,
        region: str,
        fn: Any,
        role: str = DISPATCHER,
        centre: str = "",
        person: str = "",
        **ids: str,
    ) -> Any:
        """One API call, paced and recorded; raises _Abandon when it fails. ``fn(client,
        rid)`` runs as ``role`` of the centre serving ``region`` (or of ``centre``, as
        ``person`` there when given)."""
        if not self._time_left():
            raise _Abandon
        self._pacer.wait(self._stop)
        ok, result = recorded_call(
            self.history, self.room, self._local.client, op, region, fn, role, centre, person, **ids
        )
        if not ok:
            raise _Abandon
        return result

    def _position(self, region: str, rng: random.Random) -> tuple[float, float]:
        lat, lon = rng.choice(self.stations[region])
        return lat + rng.uniform(-JITTER_DEG, JITTER_DEG), lon + rng.uniform(
            -JITTER_DEG, JITTER_DEG
        )

    def _answered_call(
        self, c: AmkClient, region: str, rng: random.Random, lat: float, lon: float
    ) -> tuple[Any, tuple[str, str]]:
        """Queue a call, then answer the next one as a call-taker of the region's home
        centre (which may be another worker's call: the queue decides); the call, and
        the centre and call-taker that answered it."""
        centre = self.seed.region(region).home
        taker = f"{centre}-call-taker-{threading.get_ident() % 1000}"  # answers as themselves
        self.room.call(
            c, region, lambda v: v.sign_in(centre, taker), CALL_TAKER, centre=centre, person=taker
        )
        self._call(
            "call",
            region,
            lambda c, rid: c.receive_call(
                lat, lon, 25.0, f"+47 9{rng.randrange(10**7):07d}", request_id=rid
            ),
            CALL_TAKER,
            centre,
        )
        call = self._call(
            "answer",
            region,
            lambda c, rid: c.answer_next_call(centre, taker, request_id=rid),
            CALL_TAKER,
            centre,
            taker,
        )
        if call is None:  # another call-taker took it: theirs to carry on
            raise _Abandon
        return call, (centre, taker)

    def _lifecycle(self, c: AmkClient, region: str, rng: random.Random) -> None:
        lat, lon = self._position(region, rng)
        code = rng.choice(self.codes)
        at_create = rng.random() < 0.4  # the call-taker sometimes triages while creating
        call_id, answered_as = "", ("", "")
        if self.spec.via_calls:
            call, answered_as = self._answered_call(c, region, rng, lat, lon)
            region, call_id = call.region, call.id
            lat, lon = call.position.lat, call.position.lon
        inc = self._call(
            "create",
            region,
            lambda c, rid: c.create_incident(
                region,
                lat,
                lon,
                accuracy_m=rng.choice([10.0, 25.0, 100.0]),
                caller_number=f"+47 9{rng.randrange(10**7):07d}",
                criteria_code=code if at_create else "",
                request_id=rid,
                call_id=call_id,
            ),
            CALL_TAKER,
            *answered_as,  # from a call: the call-taker who answered it
        )
        iid = inc.id
        if not at_create:
            self._call(
                "triage",
                region,
                lambda c, rid: c.triage_incident(iid, code, rid),
                CALL_TAKER,
                incident=iid,
            )
        unit = self.pools.take(region, rng)
        if unit is None:  # every unit is out: advice on the phone, no unit sent
            self._call(
                "close",
                region,
                lambda c, rid: c.change_incident_status(iid, "closed", rid),
                incident=iid,
            )
            return
        ids = {"incident": iid, "unit": unit}
        self._call("assign", region, lambda c, rid: c.assign_unit(iid, unit, rid), **ids)
        for status in ("en_route", "on_scene"):
            self._call(
                f"unit:{status}",
                region,
                lambda c, rid, s=status: c.change_unit_status(unit, s, rid),
                **ids,
            )
            plat, plon = lat + rng.uniform(-0.01, 0.01), lon + rng.uniform(-0.01, 0.01)
            self._call(
                "position",
                region,
                lambda c, rid, a=plat, b=plon: c.report_unit_position(unit, a, b, 15.0, rid),
                **ids,
            )
        # From the scene a crew either transports (then frees itself at the station) or
        # treats on scene and is free on the road (available_mobile).
        free_as = "available_mobile"
        if rng.random() < 0.6:
            free_as = "available_at_station"
            for status in ("transporting", "at_hospital"):
                self._call(
                    f"unit:{status}",
                    region,
                    lambda c, rid, s=status: c.change_unit_status(unit, s, rid),
                    **ids,
                )
        self._call(
            f"unit:{free_as}",
            region,
            lambda c, rid: c.change_unit_status(unit, free_as, rid),
            **ids,
        )
        self.pools.give(region, unit)  # its state is known again
        self._call(
            "close",
            region,
            lambda c, rid: c.change_incident_status(iid, "closed", rid),
            incident=iid,
        )


def recorded_call(
    history: History,
    room: ConsoleRoom,
    client: AmkClient,
    op: str,
    region: str,
    fn: Any,
    role: str = DISPATCHER,
    centre: str = "",
    person: str = "",
    note: Any = None,
    **ids: str,
) -> tuple[bool, Any]:
    """One API call recorded in ``history`` (request id, times, committed revision or
    status code; a create's incident id; ``note(rec, answer)`` adds more on success);
    ``fn(client, rid)`` runs as ``role`` of the centre serving ``region`` (or of
    ``centre``, as ``person`` there). Returns whether it succeeded, and its answer."""
    rid = uuid.uuid4().hex
    rec: dict[str, Any] = {"t": time.time(), "op": op, "region": region, "request_id": rid}
    rec.update(ids)
    started = time.monotonic()
    result = None
    try:
        result = room.call(client, region, lambda c: fn(c, rid), role, centre=centre, person=person)
    except AmkClientError as err:
        rec.update(ok=False, code=err.code.name, error=err.details[:200])
    except Exception as err:  # a client bug must show in the history, not kill a thread
        rec.update(ok=False, code="CLIENT_" + type(err).__name__, error=str(err)[:200])
    else:
        rec.update(ok=True, revision=_revision(result))
        if not rec.get("incident") and getattr(result, "id", "") and op == "create":
            rec["incident"] = result.id
        if note is not None:
            note(rec, result)
    rec["t_done"] = time.time()
    rec["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    history.add(rec)
    return rec["ok"], result


def _revision(result: Any) -> int:
    """The commit revision of an answer (Incident, Unit, or Assignment of both)."""
    for attr in ("revision",):
        if hasattr(result, attr) and getattr(result, attr):
            return int(getattr(result, attr))
    for part in ("incident", "unit"):
        sub = getattr(result, part, None)
        if sub is not None and getattr(sub, "revision", 0):
            return int(sub.revision)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m clients.loadgen``: traffic against a running cluster (e.g. ``amk up``)."""
    p = argparse.ArgumentParser(
        prog="python -m clients.loadgen", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "--gateway",
        default=None,
        help="gateway address(es), a,b (default: $AMK_GATEWAY, the settings file, "
        "else 127.0.0.1:50051,127.0.0.1:50052)",
    )
    p.add_argument("--rate", type=float, default=20.0, help="operations per second, overall")
    p.add_argument("--concurrency", type=int, default=4, help="worker threads")
    p.add_argument("--duration", type=float, default=20.0, help="seconds")
    p.add_argument("--regions", default="", help="comma-separated; default: every region")
    p.add_argument("--history", default="history.jsonl", help="JSONL file of every answer")
    p.add_argument(
        "--seed-file",
        default=None,
        help="seed TOML (default: the settings' seed, $AMK_SEED, else Helse Sør-Øst's)",
    )
    p.add_argument("--random-seed", type=int, default=None)
    p.add_argument(
        "--via-calls",
        action="store_true",
        help="start every incident as a 113 call (queued, answered, then the incident)",
    )
    args = p.parse_args(argv)
    spec = LoadSpec(
        rate=args.rate,
        concurrency=args.concurrency,
        duration_s=args.duration,
        regions=tuple(r for r in args.regions.split(",") if r),
        seed=args.random_seed,
        via_calls=args.via_calls,
    )
    history = History(Path(args.history))
    config = ClusterConfig.load()  # once: gateways, the cluster's seed ($AMK_SEED), tokens
    gen = LoadGenerator(
        [a for a in args.gateway.split(",") if a] if args.gateway else config.gateways,
        Seed.load(Path(args.seed_file)) if args.seed_file else config.seed,
        spec,
        history,
        room=ConsoleRoom(config),
    )
    try:
        summary = gen.run()
    except KeyboardInterrupt:
        gen.stop()
        gen.join(spec.timeout_s + 1)
        summary = gen.summary()
    finally:
        history.close()
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
