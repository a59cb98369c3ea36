"""Telephone-guided CPR on hand-made incidents: each step once and in order, only on an
open incident, the record copied and never changed in place; the review's figures from
the 113 call's answer, an incident with no call counted apart; and their rows in
``amk kpi`` and the API's KPI message."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from actors.domain import cpr_guidance, kpi
from actors.domain.enums import CprStep
from actors.domain.errors import PreconditionError
from actors.domain.model import (
    Call,
    CallStatus,
    CprGuidance,
    Incident,
    IncidentStatus,
    Position,
    Urgency,
)
from actors.gateway.kpi_service import figure_pb
from clients import kpi as ckpi

pytestmark = pytest.mark.timeout(30)

HERE = Position(59.91, 10.75)
T0 = 1_700_000_000.0
STARTED, COMPRESSIONS = CprStep.STARTED, CprStep.COMPRESSIONS


def incident(iid: str = "OSL-000001", status=IncidentStatus.RECEIVED, cpr=None, region="oslo"):
    return Incident(
        iid, region, status, HERE, T0, T0, urgency=Urgency.AKUTT, cpr=cpr
    )  # fmt: skip


def call(iid: str, answered: float, region: str = "oslo") -> Call:
    return Call(
        f"C-{iid}", region, "", HERE, answered - 5.0,
        status=CallStatus.COMPLETED, answered_at=answered, incident_id=iid,
    )  # fmt: skip


def test_started_then_compressions_each_once_with_who_and_when() -> None:
    inc = incident()
    started = cpr_guidance.record(inc, STARTED, "kari", T0 + 30)
    assert inc.cpr is None and inc.updated_at == T0  # the record given is not changed
    assert started.cpr == CprGuidance(T0 + 30, "kari") and started.updated_at == T0 + 30
    done = cpr_guidance.record(started, COMPRESSIONS, "ola", T0 + 75)
    assert done.cpr == CprGuidance(T0 + 30, "kari", T0 + 75, "ola")
    assert started.cpr == CprGuidance(T0 + 30, "kari")
    # The JSON form in etcd keeps it; an incident stored before it has none.
    assert Incident.decode(done.encode()).cpr == done.cpr
    assert Incident.decode(inc.encode()).cpr is None


@pytest.mark.parametrize(
    ("held", "step", "says"),
    [
        (None, COMPRESSIONS, "not started"),
        (CprGuidance(T0 + 30, "kari"), STARTED, "already recorded as started at 22:13:50"),
        (CprGuidance(T0 + 30, "kari", T0 + 75, "ola"), COMPRESSIONS, "already recorded at"),
    ],
)
def test_a_step_out_of_turn_or_again_is_refused(held, step, says) -> None:
    with pytest.raises(PreconditionError, match=says):
        cpr_guidance.record(incident(cpr=held), step, "kari", T0 + 100)


@pytest.mark.parametrize("status", [IncidentStatus.CLOSED, IncidentStatus.CANCELLED])
def test_a_closed_incident_is_not_guided(status) -> None:
    with pytest.raises(PreconditionError, match=status.value):
        cpr_guidance.record(incident(status=status), STARTED, "kari", T0 + 30)


def test_delays_run_from_the_answer_and_an_incident_with_no_call_is_apart() -> None:
    incidents = [
        incident("i1", cpr=CprGuidance(T0 + 40, "k", T0 + 100, "k")),
        incident("i2", cpr=CprGuidance(T0 + 70, "k")),  # no compressions (yet)
        incident("i3", cpr=CprGuidance(T0 + 20, "k")),  # made with no call
        incident("i4"),  # never guided
    ]
    answered = {"i1": T0 + 10, "i2": T0 + 10, "i4": T0 + 10}
    delays, no_call = cpr_guidance.delays(incidents, answered)
    assert delays == {("oslo", Urgency.AKUTT): {STARTED: [30.0, 60.0], COMPRESSIONS: [90.0]}}
    assert no_call == {"oslo": 1}
    later, apart = cpr_guidance.delays(incidents, answered, since=T0 + 1)
    assert later == {} and apart == {}


def test_figures_in_the_kpis_and_their_rows() -> None:
    incidents = [
        incident("i1", cpr=CprGuidance(T0 + 40, "k", T0 + 100, "k")),
        incident("i3", cpr=CprGuidance(T0 + 20, "k")),
        incident("v1", region="vestfold-telemark", cpr=CprGuidance(T0 + 20, "k")),
    ]
    calls = [call("i1", T0 + 10)]
    figures = kpi.compute(incidents, calls, [])
    tcpr = [f for f in figures if f.measure in (kpi.TCPR_STARTED, kpi.TCPR_COMPRESSIONS)]
    oslo = {f.measure: f for f in tcpr if f.region == "oslo"}
    assert (oslo[kpi.TCPR_STARTED].count, oslo[kpi.TCPR_STARTED].p50_s) == (1, 30.0)
    assert (oslo[kpi.TCPR_COMPRESSIONS].count, oslo[kpi.TCPR_COMPRESSIONS].p50_s) == (1, 90.0)
    assert oslo[kpi.TCPR_STARTED].excluded == ((kpi.NO_CALL, 1),)
    assert all(f.target_s == 0 for f in tcpr)
    # A region whose only guided incident had no call: counted apart, no times.
    (vestfold,) = [f for f in tcpr if f.region == "vestfold-telemark"]
    assert (vestfold.count, vestfold.excluded) == (0, ((kpi.NO_CALL, 1),))

    out = io.StringIO()
    Console(file=out, width=200).print(ckpi.kpi_table([figure_pb(f) for f in tcpr]))
    text = out.getvalue()
    assert "113 answered → CPR guidance" in text and "113 answered → compressions" in text
