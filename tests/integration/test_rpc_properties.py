"""Property: every unary RPC answers with a status code we give on purpose, and the
gateway still answers afterwards.

Hypothesis builds random requests for every unary method of ``DispatchService`` and
``CoordinationService``, found from the proto descriptors, so a new method is covered
with no edit here. Field values are mostly realistic (the seed's regions, centres and
units, incident ids, criteria codes, positions in southern Norway), so many requests
reach the centres, mixed with edge cases. Request ids come from a small pool, so one id
is reused across methods and requests. No answer may be UNKNOWN or INTERNAL (a bug that
escaped the status table); UNAVAILABLE and DEADLINE_EXCEEDED are allowed on a few
calls.

The cluster's state moves on with every call, so a failing example does not replay the
same answers, and shrinking it would chase a moving target. Each example therefore
records its answers instead of raising, and the test reports every bad answer at once
with the seed that draws the same choices again (``AMK_PROPERTY_SEED``; ids learned from
answers may differ between runs).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import re
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf import text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from actors.domain.triage import default_table
from actors.gateway.status_codes import RETRYABLE_CODES, STATUS_OF
from actors.major.record import major_id_for
from amk.coordination.v1 import coordination_pb2 as cpb
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster.config import ClusterConfig
from cluster.tls import client_identity, open_channel, open_sync_channel
from tests.helpers import session_token
from tests.unit.eido_samples import export, minimal_incident, rich_incident

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

FIXED_SEED = 20261126
EXAMPLES = int(os.environ.get("AMK_PROPERTY_EXAMPLES", "6"))  # per method and seed
MAX_STEPS = 8  # calls per example
CALL_TIMEOUT_S = 3.0
RETRYABLE_SHARE = 0.05  # of calls that may end UNAVAILABLE or DEADLINE_EXCEEDED
GIVE_UP_AFTER = 30  # bad answers: the gateway is broken, stop calling
REPORT_LINES = 30

Code = grpc.StatusCode
# The codes the server gives on purpose, from its one status table: every code an error
# maps to, less INTERNAL (a bug) and less the retryable ones, allowed on a few calls only.
RETRYABLE = RETRYABLE_CODES
DELIBERATE = frozenset({Code.OK, *STATUS_OF.values()}) - RETRYABLE - {Code.INTERNAL}
# Statuses made by gRPC's transport, not by the server: e.g. an error message so long
# that a default client drops the trailers and reports RESOURCE_EXHAUSTED instead.
TRANSPORT_FAILURE = re.compile(r"Stream removed|exceeds (soft|hard) limit|larger than max")

SERVICES = (
    pb.DESCRIPTOR.services_by_name["DispatchService"],
    cpb.DESCRIPTOR.services_by_name["CoordinationService"],
)
UNARY: list[MethodDescriptor] = [
    m for s in SERVICES for m in s.methods if not (m.client_streaming or m.server_streaming)
]

# ---------------------------------------------------------------- value pools

REQUEST_IDS = [f"dup-{n}" for n in range(1, 7)]  # small: ids recur across methods
# Methods that start a Ray actor (~115 MB) per new request id: their ids come from the
# small pool only, which bounds the actors this test can start.
ACTOR_PER_REQUEST_ID = frozenset({"DeclareMajorIncident"})
IDENTITIES = ["property-test", "kari.nordmann", "supervisor-1", "", "x" * 100]
ODD_TEXT = [
    "",
    " ",
    "\t\n",
    "x" * 129,
    "y" * 2001,
    "z" * 10_000,
    "é" * 65,
    "a/b",
    "../../etc/passwd",
    "\x00",
    "\x1b[2J",
    "\x9b31m",
    "\u202eevil",
    "😷🚑",
    "'; DROP TABLE incidents; --",
    "%s%n{0}",
    "null",
]
PROSE = [
    "Man collapsed in the street, breathing",
    "Karl Johans gate 1, 0154 Oslo",
    "Trafikkulykke E18 ved Sandvika, to biler",
    "Bevisstløs kvinne, 54 år",
    "Second caller: same accident",
]
NAMED_STRINGS: dict[str, list[str]] = {
    "call_taker": ["kari", "ola.nordmann", "Åse Øvrebø", "ct-07", "nils"],
    "caller_number": ["+4791234567", "113", "22 11 33 44", "+47 400 00 000", "12345678"],
    "kind": ["traffic accident", "fire", "violence", "avalanche", "ferry collision"],
    "json": [json.dumps(export(minimal_incident())), json.dumps(export(*rich_incident()))],
    **{name: PROSE for name in ("text", "notes", "address")},
}
ODD_STRINGS: dict[str, list[str]] = {
    "criteria_code": ["A.99.99", "a.01.01", "A.1.1"],
    "json": ["{}", '{"x": 1}', "[]", "not json", '{"incidentComponent": 7}'],
}
ODD_FLOATS = [math.nan, math.inf, -math.inf, -0.0, 1e308, -1e-300, 91.0, -181.0]
REAL_FLOATS = {"lat": (58.0, 62.0), "lon": (7.0, 12.0), "accuracy_m": (0.0, 500.0)}
INT_RANGES = {
    **dict.fromkeys(
        (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32),
        (-(2**31), 2**31 - 1),
    ),
    **dict.fromkeys((FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32), (0, 2**32 - 1)),
    **dict.fromkeys(
        (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64),
        (-(2**63), 2**63 - 1),
    ),
    **dict.fromkeys((FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64), (0, 2**64 - 1)),
}
TIMESTAMP_S = (-62_135_596_800, 253_402_300_799)  # 0001-01-01 .. 9999-12-31


@dataclass
class Pools:
    """Realistic values by field name: from the seed, and ids learned from answers."""

    regions: list[str]
    centres: list[str]
    criteria: list[str]
    ids: dict[str, deque[str]]  # entity kind ("incident", "call", ...) -> known ids


def pools_for(config: ClusterConfig) -> Pools:
    seed_data = config.seed
    codes = [r.code for r in seed_data.regions]
    return Pools(
        regions=[r.id for r in seed_data.regions],
        centres=[c.id for c in seed_data.centres],
        criteria=sorted(default_table().criteria),
        ids={
            "incident": deque((f"{c}-{n:06d}" for c in codes for n in range(1, 6)), maxlen=60),
            "unit": deque((u.id for u in seed_data.units), maxlen=len(seed_data.units) + 20),
            "call": deque(maxlen=30),  # call ids are random: only learned ones
            "major_incident": deque((major_id_for(r) for r in REQUEST_IDS), maxlen=20),
        },
    )


def _kind(name: str) -> str:
    """``MajorIncident`` -> ``major_incident``: the entity kind of a message type."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def learn(msg: Message, pools: Pools) -> None:
    """Remember the ids an answer names, so later requests can refer to them."""
    pool = pools.ids.get(_kind(msg.DESCRIPTOR.name))
    ident = getattr(msg, "id", "")
    if pool is not None and isinstance(ident, str) and ident and ident not in pool:
        pool.append(ident)
    for f, value in msg.ListFields():
        if f.message_type is None or f.message_type.GetOptions().map_entry:
            continue
        for sub in value if f.is_repeated else [value]:
            learn(sub, pools)


# ---------------------------------------------------------------- strategies


@st.composite
def weighted(draw: st.DrawFn, *choices: tuple[int, st.SearchStrategy]) -> object:
    """Draw from one of ``choices``, picked in proportion to its weight."""
    k = draw(st.integers(0, sum(w for w, _ in choices) - 1))
    for w, strategy in choices:
        if k < w:
            return draw(strategy)
        k -= w
    raise AssertionError("unreachable")


def odds(yes: int, no: int) -> st.SearchStrategy[bool]:
    """True ``yes`` times in ``yes + no``."""
    return weighted((yes, st.just(True)), (no, st.just(False)))


@st.composite
def from_pool(draw: st.DrawFn, pool: deque[str]) -> str:
    # The pool grows as answers name new ids, but hypothesis needs the same draws for the
    # same choices: draw an index in a fixed range and fold it into the pool's length.
    assert pool.maxlen is not None
    i = draw(st.integers(0, pool.maxlen - 1))
    return pool[i % len(pool)] if pool else ""


@dataclass(frozen=True)
class Mode:
    """How one request is drawn: ``clean`` (realistic values, meant to be valid) or not;
    ``blank``: in how many of ten string fields a clean request leaves empty (unset), so
    both optional and required fields are sometimes left out; ``fresh_ids``: whether its
    request id may be new rather than from the small pool."""

    clean: bool
    blank: int
    fresh_ids: bool


def strings(name: str, pools: Pools, mode: Mode) -> st.SearchStrategy[str]:
    odd = st.sampled_from([*ODD_STRINGS.get(name, []), *ODD_TEXT])
    if name.endswith("request_id"):
        pool = st.sampled_from(REQUEST_IDS)
        fresh = st.uuids().map(str) if mode.fresh_ids else pool
        if mode.clean:  # a reused id for another request is refused: mostly fresh
            return weighted((2, pool), (8, fresh))
        return weighted((6, pool), (3, fresh), (1, odd))
    kind = re.sub(r"_ids?$", "", name)
    if name.endswith(("region", "regions")):
        real: st.SearchStrategy[str] = st.sampled_from(pools.regions)
    elif name.endswith("centre"):
        real = st.sampled_from(pools.centres)
    elif name == "criteria_code":
        real = st.sampled_from(pools.criteria)
    elif kind != name and kind in pools.ids:
        real = from_pool(pools.ids[kind])
    else:
        real = st.sampled_from(NAMED_STRINGS.get(name, PROSE))
    if mode.clean:
        return weighted((10 - mode.blank, real), (mode.blank, st.just("")))
    return weighted((5, real), (1, st.just("")), (3, odd), (1, st.text(max_size=30)))


def floats(f: FieldDescriptor, mode: Mode) -> st.SearchStrategy[float]:
    lo, hi = REAL_FLOATS.get(f.name, (-1000.0, 1000.0))
    width = 32 if f.type == FieldDescriptor.TYPE_FLOAT else 64
    real = st.floats(lo, hi, width=width)
    if mode.clean:
        return real
    return weighted((6, real), (2, st.floats(width=width)), (2, st.sampled_from(ODD_FLOATS)))


def timestamps(mode: Mode) -> st.SearchStrategy[Timestamp]:
    # Recent is counted back from when the request is drawn: arrival times must be
    # within the last hour.
    recent = st.integers(0, 3_000).map(lambda back: int(time.time()) - back)
    nanos = st.integers(0, 999_999_999)
    if not mode.clean:
        recent = weighted(
            (4, recent), (3, st.integers(*TIMESTAMP_S)), (3, st.integers(-(2**63), 2**63 - 1))
        )
        nanos = weighted((9, nanos), (1, st.integers(-(2**31), 2**31 - 1)))
    return st.builds(lambda s, n: Timestamp(seconds=s, nanos=n), recent, nanos)


def values(f: FieldDescriptor, pools: Pools, mode: Mode, depth: int) -> st.SearchStrategy:
    """Values for one field (one element of a repeated field)."""
    if f.message_type is not None:
        return messages(f.message_type, pools, mode, depth + 1)
    if f.enum_type is not None:
        known = st.sampled_from([v.number for v in f.enum_type.values])
        if mode.clean or f.enum_type.is_closed:
            return known
        return weighted((6, known), (4, st.integers(-(2**31), 2**31 - 1)))
    if f.type == FieldDescriptor.TYPE_STRING:
        return strings(f.name, pools, mode)
    if f.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if f.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return floats(f, mode)
    lo, hi = INT_RANGES[f.type]
    small = st.integers(max(lo, 0), min(hi, 20))
    if mode.clean:
        return small
    return weighted((5, st.integers(max(lo, -2), min(hi, 60))), (5, st.integers(lo, hi)))


@st.composite
def messages(draw: st.DrawFn, desc: Descriptor, pools: Pools, mode: Mode, depth: int = 0):
    """A random message of any descriptor, walking its fields."""
    if desc.full_name == Timestamp.DESCRIPTOR.full_name:
        return draw(timestamps(mode))
    msg = GetMessageClass(desc)()
    chosen = {o.full_name: draw(st.sampled_from([None, *o.fields])) for o in desc.oneofs}
    for f in desc.fields:
        if f.containing_oneof is not None and chosen[f.containing_oneof.full_name] is not f:
            continue
        target = getattr(msg, f.name)
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            key_f, value_f = (f.message_type.fields_by_name[n] for n in ("key", "value"))
            for _ in range(draw(st.integers(0, 3))):
                key = draw(values(key_f, pools, mode, depth))
                value = draw(values(value_f, pools, mode, depth))
                if value_f.message_type is not None:
                    target[key].CopyFrom(value)
                else:
                    target[key] = value
        elif f.is_repeated:
            target.extend(draw(st.lists(values(f, pools, mode, depth), max_size=4)))
        elif f.message_type is not None:
            if depth < 4 and (mode.clean or draw(odds(4, 1))):
                target.CopyFrom(draw(values(f, pools, mode, depth)))
        else:
            setattr(msg, f.name, draw(values(f, pools, mode, depth)))
    return msg


@st.composite
def requests(draw: st.DrawFn, method: MethodDescriptor, pools: Pools) -> Message:
    """A request for ``method``: most clean (so they reach the centres), some noisy."""
    mode = Mode(
        clean=draw(odds(6, 4)),
        blank=draw(st.sampled_from([0, 1, 4])),
        fresh_ids=method.name not in ACTOR_PER_REQUEST_ID,
    )
    return draw(messages(method.input_type, pools, mode))


# ---------------------------------------------------------------- calling and judging


@dataclass(frozen=True)
class Answer:
    method: MethodDescriptor
    request: Message
    code: grpc.StatusCode
    details: str = ""
    named_field: str = ""  # the amk-field trailer of INVALID_ARGUMENT

    def __str__(self) -> str:
        text = text_format.MessageToString(shortened(self.request), as_utf8=True, as_one_line=True)
        details = self.details if len(self.details) <= 300 else self.details[:300] + " ..."
        where = f" [field {self.named_field}]" if self.named_field else ""
        return f"{self.method.full_name}({text}) -> {self.code.name}: {details!r}{where}"


def shortened(msg: Message, limit: int = 60) -> Message:
    """A copy of ``msg`` for a report, every string longer than ``limit`` cut short."""
    out = GetMessageClass(msg.DESCRIPTOR)()
    out.CopyFrom(msg)
    for f, value in out.ListFields():
        if f.type == FieldDescriptor.TYPE_STRING and not f.is_repeated and len(value) > limit:
            setattr(out, f.name, f"{value[:limit]}... ({len(value)} chars)")
        elif f.type == FieldDescriptor.TYPE_STRING and f.is_repeated:
            cut = [v if len(v) <= limit else f"{v[:limit]}... ({len(v)} chars)" for v in value]
            del value[:]
            value.extend(cut)
        elif f.message_type is not None and not f.message_type.GetOptions().map_entry:
            for sub in value if f.is_repeated else [value]:
                sub.CopyFrom(shortened(sub, limit))
    return out


@dataclass
class Tally:
    """Every answer's code; the answers that break the property; the retryable ones."""

    codes: Counter[str] = field(default_factory=Counter)
    by_method: Counter[tuple[str, str]] = field(default_factory=Counter)  # (method, code)
    bad: list[Answer] = field(default_factory=list)
    retryable: list[Answer] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(self.codes.values())

    def record(self, answer: Answer) -> None:
        self.codes[answer.code.name] += 1
        self.by_method[(answer.method.name, answer.code.name)] += 1
        if answer.code in RETRYABLE:
            self.retryable.append(answer)
        says_why = answer.code is Code.OK or bool(answer.details)
        ours = not TRANSPORT_FAILURE.search(answer.details)
        if answer.code not in DELIBERATE | RETRYABLE or not (says_why and ours):
            self.bad.append(answer)

    def never_ok(self) -> list[str]:
        """Methods called but never answered OK (for the printed summary)."""
        called = {m for m, _ in self.by_method}
        return sorted(m for m in called if not self.by_method[(m, "OK")])

    def report(self, seed_value: int, answers: list[Answer]) -> str:
        lines = [
            f"hypothesis seed {seed_value} (again: AMK_PROPERTY_SEED={seed_value} pytest "
            f"'{__file__}::test_every_unary_answer_is_deliberate[random-seed]'); "
            f"{self.calls} calls, codes {dict(self.codes)}"
        ]
        distinct = list(dict.fromkeys(str(a) for a in answers))  # an exact retry once
        lines += [f"  {a}" for a in distinct[:REPORT_LINES]]
        if len(distinct) > REPORT_LINES:
            lines.append(f"  ... and {len(distinct) - REPORT_LINES} more")
        return "\n".join(lines)


class Api:
    """Every unary method on one gateway, through a sync channel (the test's thread)."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.stubs = {
            m.full_name: channel.unary_unary(
                f"/{m.containing_service.full_name}/{m.name}",
                request_serializer=GetMessageClass(m.input_type).SerializeToString,
                response_deserializer=GetMessageClass(m.output_type).FromString,
            )
            for m in UNARY
        }

    def call(
        self, method: MethodDescriptor, request: Message, identity: str, pools: Pools
    ) -> Answer:
        try:
            reply = self.stubs[method.full_name](
                request, timeout=CALL_TIMEOUT_S, metadata=(("x-amk-identity", identity),)
            )
        except grpc.RpcError as err:
            trailer = dict(err.trailing_metadata() or ()).get("amk-field", "")
            return Answer(method, request, err.code(), err.details() or "", str(trailer))
        learn(reply, pools)
        return Answer(method, request, Code.OK)


def examples_from(first: MethodDescriptor, api: Api, pools: Pools, tally: Tally, seed_value: int):
    """Hypothesis examples: sequences of calls that start with ``first``, then any method."""

    @seed(seed_value)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),  # no shrinking: see the module docstring
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
    @given(st.data())
    def examples(data: st.DataObject) -> None:
        sent: list[tuple[MethodDescriptor, Message]] = []
        for step in range(data.draw(st.integers(1, MAX_STEPS))):
            if sent and data.draw(odds(1, 7)):
                method, request = data.draw(st.sampled_from(sent))  # an exact retry
            else:
                method = first if step == 0 else data.draw(st.sampled_from(UNARY))
                request = data.draw(requests(method, pools))
                sent.append((method, request))
            identity = data.draw(st.sampled_from(IDENTITIES))
            if len(tally.bad) < GIVE_UP_AFTER:  # draw on regardless: hypothesis replays draws
                tally.record(api.call(method, request, identity, pools))

    return examples


def run_property(cluster, seed_value: int) -> Tally:
    """Examples from every unary method in turn, on the cluster's first gateway."""
    pools = pools_for(cluster.config)
    tally = Tally()
    with open_sync_channel(cluster.gateway, client_identity(), token=session_token()) as channel:
        api = Api(channel)
        # One hypothesis run per method, so none is left to chance; the draws of a run
        # must not depend on anything outside it, so the first method is fixed per run.
        for n, method in enumerate(UNARY):
            examples_from(method, api, pools, tally, seed_value + n)()
    return tally


async def serving_problems(cluster) -> list[str]:
    """What is wrong with the gateway after the examples: it must say SERVING and answer
    GetClusterStatus with every centre."""
    try:
        async with open_channel(
            cluster.gateway, client_identity(), token=session_token()
        ) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            stub = pb_grpc.DispatchServiceStub(channel)
            status = await stub.GetClusterStatus(pb.GetClusterStatusRequest(), timeout=5)
    except grpc.aio.AioRpcError as err:
        return [f"the gateway no longer answers: {err.code().name} {err.details()!r}"]
    problems = []
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        problems.append(
            f"health check says {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}"
        )
    if {c.id for c in status.centres} != set(cluster.config.centre_ids()):
        problems.append(f"GetClusterStatus lists centres {sorted(c.id for c in status.centres)}")
    return problems


@pytest.fixture(scope="module")
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis's caches in a temporary directory, not ``.hypothesis`` in the repo."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.mark.parametrize("which", ["fixed-seed", "random-seed"])
async def test_every_unary_answer_is_deliberate(cluster, hypothesis_home, which: str) -> None:
    if which == "fixed-seed":
        seed_value = FIXED_SEED
    else:
        seed_value = int(os.environ.get("AMK_PROPERTY_SEED") or random.randrange(2**32))
    print(f"hypothesis seed {seed_value}")
    started = time.monotonic()
    tally = await asyncio.to_thread(run_property, cluster, seed_value)
    print(f"{tally.calls} calls in {time.monotonic() - started:.1f} s: {dict(tally.codes)}")
    print(f"never answered OK: {', '.join(tally.never_ok()) or 'none'}")
    problems = []
    if tally.bad:
        problems.append("answers not given on purpose:\n" + tally.report(seed_value, tally.bad))
    elif missing := {m.name for m in UNARY} - {m for m, _ in tally.by_method}:
        problems.append(f"never called: {sorted(missing)}")
    if len(tally.retryable) > max(3, RETRYABLE_SHARE * tally.calls):
        problems.append(
            "too many calls ended UNAVAILABLE or DEADLINE_EXCEEDED:\n"
            + tally.report(seed_value, tally.retryable)
        )
    problems += await serving_problems(cluster)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
