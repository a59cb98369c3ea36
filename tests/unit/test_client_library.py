"""Pure-logic tests of the client library: API enum names, the retry policy, and retries.

No network: retries are exercised against fake stubs that raise fake gRPC errors.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import grpc
import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients import client as client_mod
from clients.client import (
    CALL_STATUS,
    CREW_LEVEL,
    ENUM_NAMES,
    INCIDENT_STATUS,
    UNIT_KIND,
    UNIT_STATUS,
    URGENCY,
    WATCH_KIND,
    AmkClient,
    AmkClientError,
    RetryPolicy,
    crew_level_from_name,
    enum_choices,
    enum_name,
    enum_value,
    incident_status_from_name,
    unit_kind_from_name,
    unit_status_from_name,
    urgency_from_name,
)
from clients.enums import (
    AIR_DECISION,
    AIR_MISSION_STATE,
    ALERT_SERVICE,
    ALERT_STATE,
    CALL_OUTCOME,
    CPR_END,
    CPR_STEP,
    DESTINATION_CONDITION,
    PRE_NOTIFICATION_SEX,
)

ENUM_WRAPPERS = {
    URGENCY: pb.Urgency,
    INCIDENT_STATUS: pb.IncidentStatus,
    UNIT_STATUS: pb.UnitStatus,
    UNIT_KIND: pb.UnitKind,
    CREW_LEVEL: pb.CrewLevel,
    WATCH_KIND: pb.WatchEvent.Kind,
    CALL_STATUS: pb.CallStatus,
    ALERT_SERVICE: pb.AlertService,
    ALERT_STATE: pb.AlertState,
    AIR_MISSION_STATE: pb.AirMissionState,
    AIR_DECISION: pb.AirDecision,
    DESTINATION_CONDITION: pb.DestinationCondition,
    PRE_NOTIFICATION_SEX: pb.PreNotificationSex,
    CPR_STEP: pb.CprStep,
    CPR_END: pb.CprEnd,
    CALL_OUTCOME: pb.CallOutcome,
}

# ---------------------------------------------------------------- enum names


def test_every_api_enum_has_a_name_table() -> None:
    file_enums = {e.full_name for e in pb.DESCRIPTOR.enum_types_by_name.values()}
    file_enums.add(pb.WatchEvent.Kind.DESCRIPTOR.full_name)
    assert {w.DESCRIPTOR.full_name for w in ENUM_WRAPPERS.values()} == file_enums
    assert set(ENUM_NAMES) == set(ENUM_WRAPPERS)


@pytest.mark.parametrize("prefix", list(ENUM_WRAPPERS))
def test_enum_names_round_trip_every_value(prefix: str) -> None:
    wrapper = ENUM_WRAPPERS[prefix]
    for full_name, value in wrapper.items():
        if value == 0:
            assert enum_name(value, prefix) == "unspecified"
            continue
        short = enum_name(value, prefix)
        assert short == full_name.removeprefix(prefix).lower()
        assert short in enum_choices(prefix)
        assert enum_value(prefix, short) == value
        assert enum_value(prefix, value) == value
        assert enum_value(prefix, full_name) == value  # the pb spelling is accepted too
    assert len(enum_choices(prefix)) == len(wrapper.items()) - 1  # no "unspecified"


@pytest.mark.parametrize("prefix", list(ENUM_WRAPPERS))
@pytest.mark.parametrize("bad", ["bogus", "", "unspecified", 0, 99, -1, True, None, 1.0])
def test_unknown_enum_input_is_a_value_error_naming_the_choices(prefix: str, bad: Any) -> None:
    with pytest.raises(ValueError) as info:
        enum_value(prefix, bad)
    assert enum_choices(prefix)[0] in str(info.value)


def test_named_helpers() -> None:
    assert incident_status_from_name("on_scene") == pb.INCIDENT_STATUS_ON_SCENE
    assert incident_status_from_name("on-scene") == pb.INCIDENT_STATUS_ON_SCENE
    assert urgency_from_name("akutt") == pb.URGENCY_AKUTT
    assert urgency_from_name(" HASTER ") == pb.URGENCY_HASTER
    assert unit_status_from_name("available_mobile") == pb.UNIT_STATUS_AVAILABLE_MOBILE
    assert unit_kind_from_name("helicopter") == pb.UNIT_KIND_HELICOPTER
    assert crew_level_from_name("paramedic") == pb.CREW_LEVEL_PARAMEDIC
    assert enum_name(pb.INCIDENT_STATUS_ON_SCENE, INCIDENT_STATUS) == "on_scene"
    with pytest.raises(ValueError, match="akutt, haster, vanlig"):
        urgency_from_name("red")


def test_enum_name_of_a_value_from_a_newer_server_is_its_number() -> None:
    assert enum_name(42, UNIT_STATUS) == "42"
    with pytest.raises(ValueError):
        enum_name(1, "NOT_A_PREFIX_")


# ---------------------------------------------------------------- retry policy


def test_retry_policy_backoff_sequence() -> None:
    policy = RetryPolicy()
    assert list(itertools.islice(policy.backoffs(), 7)) == pytest.approx(
        [0.05, 0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    )
    assert policy.backoff(10_000) == 0.5  # no overflow after a long outage
    custom = RetryPolicy(initial_backoff_s=0.1, max_backoff_s=1.0, multiplier=3.0)
    assert list(itertools.islice(custom.backoffs(), 4)) == pytest.approx([0.1, 0.3, 0.9, 1.0])


def test_retry_policy_is_frozen_and_validated() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RetryPolicy().multiplier = 3.0  # type: ignore[misc]
    for bad in (
        {"initial_backoff_s": 0},
        {"initial_backoff_s": 1.0, "max_backoff_s": 0.5},
        {"multiplier": 0.5},
        {"attempt_timeout_s": 0},
    ):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)


# ---------------------------------------------------------------- retries (fake stubs)


class FakeRpcError(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    """What grpc raises: an RpcError that is also a Call."""

    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    # The rest of grpc.Call, unused.
    def initial_metadata(self) -> Any: ...
    def trailing_metadata(self) -> Any: ...
    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float | None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Any) -> bool:
        return False


class FakeStub:
    """Answers AssignUnit from a script of outcomes, recording every request."""

    def __init__(self, address: str, script: list[Any], calls: list[tuple[str, Any, Any]]) -> None:
        self.address, self.script, self.calls = address, script, calls

    def AssignUnit(self, request: Any, timeout: float, metadata: Any) -> Any:
        self.calls.append((self.address, request, metadata))
        outcome = self.script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _fake_client(script: list[Any], **kwargs: Any) -> tuple[AmkClient, list[Any]]:
    calls: list[tuple[str, Any, Any]] = []
    kwargs.setdefault("token", "")  # not the session's $AMK_TOKEN: metadata is checked
    client = AmkClient(["gw-a:1", "gw-b:2"], identity="tester", **kwargs)
    stubs = {a: FakeStub(a, script, calls) for a in client.addresses}
    client._stub = lambda service="dispatch": (client.address, stubs[client.address])  # type: ignore[method-assign]
    return client, calls


def test_unavailable_is_retried_on_the_next_gateway_with_the_same_request_id() -> None:
    done = pb.Assignment(unit=pb.Unit(id="u1"))
    unavailable = FakeRpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect")
    client, calls = _fake_client([unavailable, unavailable, done])
    assert client.assign_unit("i1", "u1") == done
    assert [c[0] for c in calls] == ["gw-a:1", "gw-b:2", "gw-a:1"]
    ids = {c[1].request_id for c in calls}
    assert len(ids) == 1 and len(ids.pop()) == 32
    assert all(c[2] == (("x-amk-identity", "tester"),) for c in calls)


def test_failover_unavailable_stays_on_a_reachable_gateway_for_a_while() -> None:
    failing_over = FakeRpcError(grpc.StatusCode.UNAVAILABLE, "region oslo unavailable")
    fast = RetryPolicy(initial_backoff_s=0.001, max_backoff_s=0.001)
    client, calls = _fake_client([failing_over] * 4 + [pb.Assignment()], retry=fast)
    client.assign_unit("i1", "u1")
    assert [c[0] for c in calls] == ["gw-a:1"] * 3 + ["gw-b:2"] * 2


def test_given_request_id_is_sent_and_deadline_exceeded_is_retried() -> None:
    done = pb.Assignment()
    client, calls = _fake_client([FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED), done])
    client.assign_unit("i1", "u1", request_id="r-1")
    assert [c[1].request_id for c in calls] == ["r-1", "r-1"]


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
    ],
)
def test_other_codes_are_not_retried(code: grpc.StatusCode) -> None:
    client, calls = _fake_client([FakeRpcError(code, "nope"), pb.Assignment()])
    with pytest.raises(AmkClientError) as info:
        client.assign_unit("i1", "u1")
    assert (info.value.code, info.value.details) == (code, "nope")
    assert isinstance(info.value.__cause__, grpc.RpcError)
    assert len(calls) == 1


def test_budget_exhausted_raises_the_last_error() -> None:
    errors = [FakeRpcError(grpc.StatusCode.UNAVAILABLE, f"down {i}") for i in range(100)]
    client, calls = _fake_client(errors, timeout_s=0.2)
    with pytest.raises(AmkClientError) as info:
        client.assign_unit("i1", "u1")
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    assert info.value.details == f"down {len(calls) - 1}"
    assert 2 <= len(calls) <= 5  # 0.05 + 0.1 fit in 0.2 s, 0.2 more does not


def test_client_arguments_are_checked() -> None:
    assert AmkClient("a:1, b:2").addresses == ["a:1", "b:2"]
    with pytest.raises(ValueError):
        AmkClient(" , ")
    with pytest.raises(ValueError):
        AmkClient("a:1", identity="Øyvind")  # gRPC headers are ASCII
    with pytest.raises(ValueError):
        AmkClient("a:1").list_units(status="parked")


def test_default_addresses_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMK_GATEWAY", "h1:1,h2:2")
    assert AmkClient().addresses == ["h1:1", "h2:2"]
    monkeypatch.delenv("AMK_GATEWAY")
    assert AmkClient().addresses == list(client_mod.DEFAULT_GATEWAYS)
