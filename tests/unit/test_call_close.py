"""An answered 113 call ended without an incident: only an answered call, how it ended
(with a note for "other"), the record completed so the archiver takes it, the gateway's
checks, the CLI, and the counts by outcome in the call metrics."""

from __future__ import annotations

import pytest

from actors.centre.archiving import call_finished_at
from actors.domain import calls
from actors.domain.enums import CallOutcome
from actors.domain.errors import IllegalTransitionError, InvalidArgumentError, PreconditionError
from actors.domain.model import Call, CallStatus, Position
from actors.gateway import convert
from actors.gateway.call_service import call_metrics, close_call
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.cli import build_parser
from clients.cli_ops import _call_line
from cluster.config import ClusterConfig

pytestmark = pytest.mark.timeout(30)

T0 = 1_700_000_000.0


def answered(cid: str = "OSL-C1") -> Call:
    waiting = Call(cid, "oslo", "+4790000001", Position(59.91, 10.75), T0)
    return calls.answer(waiting, "oslo", "kari", T0 + 4)


def test_an_answered_call_is_closed_with_how_it_ended_and_then_archived() -> None:
    call = answered()
    closed = calls.close(call, CallOutcome.LEGEVAKT, "", "kari", T0 + 120)
    assert call.status is CallStatus.ANSWERED  # the record given is not changed
    assert (closed.status, closed.outcome, closed.closed_at, closed.closed_by) == (
        CallStatus.COMPLETED,
        CallOutcome.LEGEVAKT,
        T0 + 120,
        "kari",
    )
    assert closed.incident_id == ""
    back = Call.decode(closed.encode())
    assert back == closed and back.outcome is CallOutcome.LEGEVAKT  # the enum, not a string
    assert call_finished_at(closed) == T0 + 120  # held from its end, not its answer
    with pytest.raises(PreconditionError, match="completed"):  # a completed call is done
        calls.close(closed, CallOutcome.ADVICE, "", "kari", T0 + 130)
    with pytest.raises(IllegalTransitionError):  # and the table agrees
        calls.transition(closed.id, closed.status, CallStatus.COMPLETED)


def test_only_an_answered_call_and_other_only_with_a_note() -> None:
    waiting = Call("OSL-C2", "oslo", "", Position(59.91, 10.75), T0)
    with pytest.raises(PreconditionError, match="waiting; only an answered call"):
        calls.close(waiting, CallOutcome.NO_NEED, "", "kari", T0 + 5)
    with pytest.raises(InvalidArgumentError) as err:
        calls.close(answered(), CallOutcome.OTHER, "", "kari", T0 + 5)
    assert err.value.field == "note"
    done = calls.close(answered(), CallOutcome.OTHER, "tannlegevakt", "kari", T0 + 5)
    assert done.outcome_note == "tannlegevakt"


def test_a_call_answered_elsewhere_is_closed_there_or_by_a_supervisor() -> None:
    """A call-taker at another centre must not end a call still being talked on."""
    call = answered()  # answered at oslo
    with pytest.raises(PreconditionError, match="answered at oslo"):
        calls.close(call, CallOutcome.NO_NEED, "", "per", T0 + 9, by_centre="vestre-viken")
    here = calls.close(call, CallOutcome.DISCONNECTED, "", "kari", T0 + 9, by_centre="oslo")
    anyone = calls.close(call, CallOutcome.NO_NEED, "", "boss", T0 + 9, by_centre="")
    assert (here.outcome, anyone.closed_by) == (CallOutcome.DISCONNECTED, "boss")


def request(**kw) -> pb.CloseCallRequest:
    return pb.CloseCallRequest(request_id="r1", call_id="OSL-C1", **kw)


@pytest.mark.parametrize(
    ("req", "field"),
    [
        (request(), "outcome"),
        (request(outcome=pb.CALL_OUTCOME_OTHER), "note"),
        (request(outcome=pb.CALL_OUTCOME_ADVICE, note="two\nlines"), "note"),
        (request(outcome=pb.CALL_OUTCOME_ADVICE, note="x" * 501), "note"),
        (pb.CloseCallRequest(request_id="r1", outcome=pb.CALL_OUTCOME_ADVICE), "call_id"),
        (pb.CloseCallRequest(call_id="OSL-C1", outcome=pb.CALL_OUTCOME_ADVICE), "request_id"),
    ],
)
def test_the_gateway_names_the_bad_field(req, field) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        close_call(req, "kari")
    assert err.value.field == field


def test_the_cli_closes_a_call_and_the_metrics_count_by_outcome(tmp_path) -> None:
    args = build_parser().parse_args(["call", "close", "OSL-C1", "legevakt"])
    assert (args.call, args.outcome, args.note) == ("OSL-C1", "legevakt", "")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["call", "close", "OSL-C1", "hung_up"])
    cmd = close_call(request(outcome=pb.CALL_OUTCOME_ADVICE, note=" rest "), "kari")
    assert (cmd.outcome, cmd.note) == (CallOutcome.ADVICE, "rest")
    found = [
        calls.close(answered("c1"), CallOutcome.ADVICE, "", "kari", T0 + 60),
        calls.close(answered("c2"), CallOutcome.ADVICE, "", "kari", T0 + 60),
        calls.close(answered("c3"), CallOutcome.NO_NEED, "", "kari", T0 + 60),
        answered("c4"),
    ]
    config = ClusterConfig.load(home=tmp_path)
    m = call_metrics("oslo", found, config)
    assert [(c.outcome, c.count) for c in m.closed] == [
        (pb.CALL_OUTCOME_ADVICE, 2),
        (pb.CALL_OUTCOME_NO_NEED, 1),
    ]
    line = _call_line(convert.call_pb(found[2])).plain
    assert line.endswith("closed without an incident: no_need")


@pytest.mark.parametrize("by_centre", ["", "oslo"])
def test_only_the_centre_that_answered_makes_an_incident_of_a_call(by_centre: str) -> None:
    """The rule of CloseCall holds for CreateIncident with a call and LinkCall too: a
    call-taker elsewhere must not take over a call still being talked on ("": a
    supervisor, anyone)."""
    call = answered()
    done = calls.complete(call, "OSL-1", by_centre)
    assert (done.status, done.incident_id) == (CallStatus.COMPLETED, "OSL-1")
    with pytest.raises(PreconditionError, match="answered at oslo"):
        calls.complete(call, "OSL-1", "innlandet")
    # Oslo answered from its own queue, then the region moved on to Innlandet: the
    # centre serving it now may finish it.
    assert calls.complete(call, "OSL-1", "innlandet", serving="innlandet").incident_id
    assert calls.close(call, CallOutcome.ADVICE, "", "per", T0, "innlandet", "innlandet")
    with pytest.raises(PreconditionError):
        calls.close(call, CallOutcome.ADVICE, "", "per", T0, "innlandet", "vestre-viken")
    # A partner's overflow call stays the partner's: the region's owner may not take it
    # over while the partner talks.
    waiting = Call("OSL-C2", "oslo", "+4790000002", Position(59.91, 10.75), T0)
    overflow = calls.answer(waiting, "innlandet", "ivar", T0 + 12, as_partner=True)
    with pytest.raises(PreconditionError, match="answered at innlandet"):
        calls.complete(overflow, "OSL-2", "oslo", serving="oslo")
    assert calls.complete(overflow, "OSL-2", "innlandet", serving="oslo").incident_id
