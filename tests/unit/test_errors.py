"""Every error crosses a Ray actor boundary by pickling: it must arrive intact."""

from __future__ import annotations

import pickle

import pytest

import actors.domain.errors as domain_errors
import cluster.errors as cluster_errors
import cluster.store as store
from actors.domain.errors import (
    IllegalTransitionError,
    InvalidArgumentError,
    NotBuiltError,
    NotFoundError,
    PreconditionError,
)
from cluster.errors import (
    AccessDeniedError,
    ActorUnavailableError,
    AmkError,
    AuthenticationError,
    CentreUnavailableError,
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

pytestmark = pytest.mark.timeout(30)

SAMPLES: list[AmkError] = [
    AmkError("root problem"),
    FencedError("oslo", 41, 57),
    FencedError("oslo", 41, None),
    NotOwnerError("oslo", "innlandet"),
    RegionUnavailableError("sorlandet"),
    RegionUnavailableError("sorlandet", "handing over"),
    SessionExpiredError(0x7A3F),
    StoreUnavailableError("etcd: connection refused"),
    TxnTooLargeError(130, 120),
    ConfigError("seed: duplicate unit id"),
    CentreUnavailableError("oslo", "actor died"),
    ActorUnavailableError("major incident MI-1", "no such actor"),
    InvalidArgumentError("position.lat", "91 is outside -90..90"),
    NotFoundError("incident", "OSL-1"),
    IllegalTransitionError("unit", "osl-a11", "assigned", "on_scene"),
    PreconditionError("osl-a11", "unit is en_route; not available"),
    NotBuiltError("ListHospitals"),
    DuplicateRequestError("req-1", b'{"incident":{"id":"OSL-1"}}', 812),
    StaleRecordError([b"/amk/v1/units/oslo/osl-a11", b"/amk/v1/incidents/oslo/OSL-1"]),
    AuthenticationError("token expired: run amk login again"),
    AccessDeniedError("role crew may not call ListIncidents"),
    ScopeChangedError("the regions your centre serves changed (now: sorlandet)"),
]


def _defined_in(module) -> set[type]:
    return {
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, AmkError) and obj.__module__ == module.__name__
    }


def test_samples_cover_every_error_class() -> None:
    classes = _defined_in(cluster_errors) | _defined_in(domain_errors) | _defined_in(store)
    assert len(classes) >= 15
    missing = classes - {type(e) for e in SAMPLES}
    assert not missing, f"add a pickling sample for {sorted(c.__name__ for c in missing)}"


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize("err", SAMPLES, ids=lambda e: type(e).__name__)
def test_pickle_round_trip(err: AmkError, protocol: int) -> None:
    back = pickle.loads(pickle.dumps(err, protocol=protocol))
    assert type(back) is type(err)
    assert isinstance(back, AmkError)
    assert str(back) == str(err)
    assert back.args == err.args
    assert back.__dict__ == err.__dict__
    assert back.message == err.message
    assert back.component == err.component and back.retryable == err.retryable


@pytest.mark.parametrize("err", SAMPLES, ids=lambda e: type(e).__name__)
def test_raised_error_survives_pickle(err: AmkError) -> None:
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise err from inner
    except AmkError as caught:
        back = pickle.loads(pickle.dumps(caught))
    assert type(back) is type(err)
    assert str(back) == str(err)


def test_specific_attributes_survive() -> None:
    fenced = pickle.loads(pickle.dumps(FencedError("oslo", 41, None)))
    assert (fenced.region, fenced.token, fenced.current_token) == ("oslo", 41, None)
    assert fenced.retryable is True
    bad = pickle.loads(pickle.dumps(InvalidArgumentError("position.lat", "too far north")))
    assert (bad.field, bad.problem) == ("position.lat", "too far north")
    assert str(bad) == "input: position.lat: too far north"
    dup = pickle.loads(pickle.dumps(DuplicateRequestError("req-1", b"\x00\xffraw", 812)))
    assert (dup.request_id, dup.stored, dup.revision) == ("req-1", b"\x00\xffraw", 812)
    trans = pickle.loads(pickle.dumps(IllegalTransitionError("unit", "u1", "a", "b")))
    assert (trans.kind, trans.entity_id, trans.current, trans.requested) == ("unit", "u1", "a", "b")


def test_message_carries_the_component() -> None:
    assert str(SessionExpiredError(255)) == "session: lease ff expired or not renewed in time"
    assert str(NotFoundError("unit", "x")) == "lookup: unit 'x' not found"
