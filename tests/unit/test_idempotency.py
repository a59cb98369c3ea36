"""Request ids: a replay gets its first answer; another request under a used id is refused."""

from __future__ import annotations

import pytest

from actors.domain.errors import InvalidArgumentError
from actors.domain.idempotency import check_same_request, stored_fingerprint, with_fingerprint
from actors.domain.model import Outcome
from actors.gateway.rpc import request_fingerprint
from amk.dispatch.v1 import dispatch_pb2 as pb


def test_fingerprint_ignores_the_request_id_only() -> None:
    a = pb.AddIncidentNoteRequest(request_id="r-1", incident_id="OSL-000001", text="hei")
    b = pb.AddIncidentNoteRequest(request_id="r-2", incident_id="OSL-000001", text="hei")
    c = pb.AddIncidentNoteRequest(request_id="r-1", incident_id="OSL-000001", text="hei!")
    fa, fb, fc = (request_fingerprint("AddIncidentNote", r) for r in (a, b, c))
    assert fa == fb and fa != fc
    assert a.request_id == "r-1"  # the request itself is left as it was
    assert fa != request_fingerprint("TriageIncident", a)  # the method counts too


def test_requests_without_an_id_have_no_fingerprint() -> None:
    assert request_fingerprint("GetIncident", pb.GetIncidentRequest(incident_id="x")) == ""


def test_the_fingerprint_is_kept_with_the_answer_and_the_answer_still_decodes() -> None:
    raw = with_fingerprint(Outcome().encode(), "CreateIncident:abc")
    assert stored_fingerprint(raw) == "CreateIncident:abc"
    assert Outcome.decode(raw, 7) == Outcome()
    assert with_fingerprint(b"{}", "") == b"{}"
    assert stored_fingerprint(b"{}") == ""  # a record from before fingerprints
    assert stored_fingerprint(b"not json") == ""


def test_a_different_request_under_a_used_id_is_refused_naming_request_id() -> None:
    check_same_request("r-1", "A:1", "A:1")  # a replay
    check_same_request("r-1", "", "A:1")  # stored before fingerprints: replayed
    check_same_request("r-1", "A:1", "")  # made inside the cluster: not compared
    with pytest.raises(InvalidArgumentError) as info:
        check_same_request("r-1", "A:1", "B:2")
    assert info.value.field == "request_id"
    assert "already used for a different request" in str(info.value)
