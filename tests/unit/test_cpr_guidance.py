"""Telephone-guided CPR on hand-made incidents: each step once and in order, only before
a unit is on scene, bystander CPR instead of both, the record copied and never changed
in place, no hand-over while the caller is guided; the review's figures from the 113
call's answer, with what is counted apart; and their rows in ``amk kpi``."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from actors.domain import cpr_guidance, decide, kpi
from actors.domain.enums import CprEnd, CprStep
from actors.domain.errors import InvalidArgumentError, PreconditionError
from actors.domain.model import (
    Call,
    CallStatus,
    CprGuidance,
    Incident,
    IncidentStatus,
    Position,
    Urgency,
)
from actors.gateway import convert
from actors.gateway.kpi_service import figure_pb
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients import kpi as ckpi
from clients.cli import build_parser
from clients.render_cpr import cpr_text

pytestmark = pytest.mark.timeout(30)

HERE = Position(59.91, 10.75)
T0 = 1_700_000_000.0
STARTED, COMPRESSIONS, BYSTANDER = CprStep.STARTED, CprStep.COMPRESSIONS, CprStep.BYSTANDER


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
        (CprGuidance(T0 + 30, "kari"), STARTED, "already recorded as started"),
        (CprGuidance(T0 + 30, "kari"), BYSTANDER, "already recorded as started"),
        (CprGuidance(T0 + 30, "kari", T0 + 75, "ola"), COMPRESSIONS, "already recorded"),
        (CprGuidance(T0 + 30, "kari", bystander=True), COMPRESSIONS, "under way when"),
    ],
)
def test_a_step_out_of_turn_or_again_is_refused(held, step, says) -> None:
    with pytest.raises(PreconditionError, match=says):
        cpr_guidance.record(incident(cpr=held), step, "kari", T0 + 100)


def test_bystander_cpr_is_recorded_instead_of_both() -> None:
    done = cpr_guidance.record(incident(), BYSTANDER, "kari", T0 + 30)
    assert done.cpr == CprGuidance(T0 + 30, "kari", bystander=True)
    assert Incident.decode(done.encode()).cpr == done.cpr


@pytest.mark.parametrize(
    "status",
    [
        IncidentStatus.ON_SCENE,
        IncidentStatus.TRANSPORTING,
        IncidentStatus.AT_HOSPITAL,
        IncidentStatus.CLOSED,
        IncidentStatus.CANCELLED,
    ],
)
def test_nothing_is_recorded_once_a_unit_is_on_scene_or_the_incident_closed(status) -> None:
    for step, held in ((STARTED, None), (COMPRESSIONS, CprGuidance(T0 + 30, "kari"))):
        with pytest.raises(PreconditionError, match=status.value):
            cpr_guidance.record(incident(status=status, cpr=held), step, "kari", T0 + 60)


def test_no_hand_over_while_the_caller_is_guided() -> None:
    guided = incident(status=IncidentStatus.DISPATCHED, cpr=CprGuidance(T0 + 30, "kari"))
    assert cpr_guidance.guiding(guided)
    with pytest.raises(PreconditionError, match="guided through CPR"):
        decide.move_incident(guided, [], "sorlandet", T0 + 60)
    on_scene = incident(status=IncidentStatus.ON_SCENE, cpr=CprGuidance(T0 + 30, "kari"))
    assert not cpr_guidance.guiding(on_scene)
    moved, _ = decide.move_incident(on_scene, [], "sorlandet", T0 + 60)
    assert moved.region == "sorlandet" and moved.cpr == on_scene.cpr
    assert not cpr_guidance.guiding(incident())


def test_delays_run_from_the_answer_and_what_is_counted_apart() -> None:
    incidents = [
        incident("i1", cpr=CprGuidance(T0 + 40, "k", T0 + 100, "k")),
        incident("i2", cpr=CprGuidance(T0 + 70, "k")),  # no compressions (yet)
        incident("i3", cpr=CprGuidance(T0 + 20, "k")),  # made with no call
        incident("i4"),  # never guided
        incident("i5", cpr=CprGuidance(T0 + 5, "k")),  # the call linked after the start
        incident("i6", cpr=CprGuidance(T0 + 50, "k", bystander=True)),
    ]
    answered = {"i1": T0 + 10, "i2": T0 + 10, "i4": T0 + 10, "i5": T0 + 10, "i6": T0 + 10}
    delays, apart = cpr_guidance.delays(incidents, answered)
    assert delays == {("oslo", Urgency.AKUTT): {STARTED: [30.0, 60.0, 40.0], COMPRESSIONS: [90.0]}}
    # Bystander CPR: its start timed (the 40 s above), its compressions not.
    assert apart == {
        ("oslo", STARTED): {"no_call": 1, "call_after_guidance": 1},
        ("oslo", COMPRESSIONS): {"no_call": 1, "call_after_guidance": 1, "bystander": 1},
    }
    later, none = cpr_guidance.delays(incidents, answered, since=T0 + 1)
    assert later == {} and none == {}


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
    assert oslo[kpi.TCPR_STARTED].excluded == (("no_call", 1),)
    assert all(f.target_s == 0 for f in tcpr)
    # A region whose only guided incident had no call: counted apart, no times.
    vestfold = {f.measure: f for f in tcpr if f.region == "vestfold-telemark"}
    assert set(vestfold) == {kpi.TCPR_STARTED, kpi.TCPR_COMPRESSIONS}
    assert all((f.count, f.excluded) == (0, (("no_call", 1),)) for f in vestfold.values())

    out = io.StringIO()
    Console(file=out, width=200).print(ckpi.kpi_table([figure_pb(f) for f in tcpr]))
    text = out.getvalue()
    assert "113 answered → CPR guidance started" in text
    assert "113 answered → first compression" in text


def test_the_cli_records_a_step_and_shows_the_guidance() -> None:
    args = build_parser().parse_args(["incident", "cpr", "OSL-000001", "compressions"])
    assert (args.id, args.step) == ("OSL-000001", "compressions")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["incident", "cpr", "OSL-000001", "finished"])
    g = pb.CprGuidance(started_by="kari", compressions_by="ola")
    g.started_at.FromSeconds(int(T0))
    g.compressions_at.FromSeconds(int(T0) + 75)
    assert "(recorded by ola, 1m15s later)" in cpr_text(g).plain
    g = pb.CprGuidance(started_by="kari", bystander=True)
    g.started_at.FromSeconds(int(T0))
    assert cpr_text(g).plain.endswith("compressions were under way already")


def test_not_given_with_why_then_perhaps_given() -> None:
    NOT_GIVEN = CprStep.NOT_GIVEN
    refused = cpr_guidance.record(
        incident(), NOT_GIVEN, "kari", T0 + 20, "innringer alene, går ikke"
    )
    assert refused.cpr == CprGuidance(
        not_given_at=T0 + 20, not_given_by="kari", not_given_reason="innringer alene, går ikke"
    )
    assert not cpr_guidance.guiding(refused) and cpr_guidance.recorded(refused.cpr)
    with pytest.raises(PreconditionError, match="already recorded as not given"):
        cpr_guidance.record(refused, NOT_GIVEN, "kari", T0 + 30, "igjen")
    with pytest.raises(PreconditionError, match="not started"):
        cpr_guidance.record(refused, COMPRESSIONS, "kari", T0 + 30)
    given = cpr_guidance.record(refused, STARTED, "kari", T0 + 40)  # the caller changed mind
    assert (given.cpr.not_given_reason, given.cpr.started_at) == (
        "innringer alene, går ikke",
        T0 + 40,
    )
    with pytest.raises(PreconditionError, match="already recorded as started"):
        cpr_guidance.record(given, NOT_GIVEN, "kari", T0 + 50, "for sent")
    assert cpr_guidance.note_text(refused.cpr, str).startswith(
        f"Telephone-guided CPR not given {T0 + 20} (kari): innringer alene"
    )
    assert f"guidance started {T0 + 40} (kari)" in cpr_guidance.note_text(given.cpr, str)
    # The review: recognised, not guided, counted beside the guided ones.
    _, apart = cpr_guidance.delays([refused], {"OSL-000001": T0 + 10})
    assert apart == {("oslo", STARTED): {"not_given": 1}}
    args = build_parser().parse_args(
        ["incident", "cpr", "OSL-000001", "not_given", "--reason", "for sent"]
    )
    assert (args.step, args.reason) == ("not_given", "for sent")


def test_not_given_then_guided_is_apart_not_timed_and_what_travels() -> None:
    NOT_GIVEN = CprStep.NOT_GIVEN
    refused = cpr_guidance.record(incident(), NOT_GIVEN, "kari", T0 + 20, "for sent.")
    given = cpr_guidance.record(refused, STARTED, "kari", T0 + 90)
    delays, apart = cpr_guidance.delays([given], {"OSL-000001": T0 + 10})
    assert delays == {}  # its start timed the caller's change of mind, not the centre
    assert apart == {
        ("oslo", STARTED): {"after_not_given": 1},
        ("oslo", COMPRESSIONS): {"after_not_given": 1},
    }
    assert Incident.decode(given.encode()).cpr == given.cpr
    assert ". Telephone-guided CPR: guidance started" in cpr_guidance.note_text(given.cpr, str)
    assert "for sent.." not in cpr_guidance.note_text(given.cpr, str)
    with pytest.raises(ValueError, match="reason"):  # the gateway's check, held here too
        cpr_guidance.record(incident(), NOT_GIVEN, "kari", T0 + 20)
    with pytest.raises(ValueError, match="reason"):
        cpr_guidance.record(incident(), STARTED, "kari", T0 + 20, "hvorfor")
    on_scene = incident(status=IncidentStatus.ON_SCENE)
    with pytest.raises(PreconditionError, match="on_scene"):
        cpr_guidance.record(on_scene, NOT_GIVEN, "kari", T0 + 20, "for sent")
    g = pb.CprGuidance(not_given_by="kari", not_given_reason="for sent")
    g.not_given_at.FromSeconds(int(T0))
    line = cpr_text(g).plain
    assert line.startswith("not given ") and line.endswith("(recorded by kari): for sent")


def test_ended_with_how_frees_the_hand_over_and_nothing_follows_it() -> None:
    ENDED = CprStep.ENDED
    guided = cpr_guidance.record(
        incident(status=IncidentStatus.DISPATCHED), STARTED, "kari", T0 + 30
    )
    with pytest.raises(PreconditionError, match="once the guidance's end is recorded"):
        decide.move_incident(guided, [], "sorlandet", T0 + 40)
    ended = cpr_guidance.record(guided, ENDED, "ola", T0 + 300, end=CprEnd.ROSC)
    assert (ended.cpr.ended_at, ended.cpr.ended_by, ended.cpr.end) == (T0 + 300, "ola", CprEnd.ROSC)
    assert guided.cpr.ended_at == 0.0  # the record given is not changed
    assert not cpr_guidance.guiding(ended)
    moved, _ = decide.move_incident(ended, [], "sorlandet", T0 + 310)
    assert moved.region == "sorlandet"
    back = Incident.decode(ended.encode()).cpr
    assert back == ended.cpr and back.end is CprEnd.ROSC  # the enum, not its string
    # Nothing after the end, not even a correction.
    for step, kwargs in (
        (COMPRESSIONS, {}),
        (STARTED, {}),
        (ENDED, {"end": CprEnd.CALL_LOST}),
        (ENDED, {"end": CprEnd.WRONG_INCIDENT}),
    ):
        with pytest.raises(PreconditionError, match="already recorded as ended"):
            cpr_guidance.record(ended, step, "kari", T0 + 320, **kwargs)
    with pytest.raises(PreconditionError, match="not started"):
        cpr_guidance.record(incident(), ENDED, "kari", T0 + 20, end=CprEnd.CALL_LOST)
    with pytest.raises(PreconditionError, match="not started"):  # a correction of nothing
        cpr_guidance.record(incident(), ENDED, "kari", T0 + 20, end=CprEnd.NOT_ARREST)
    with pytest.raises(PreconditionError, match="on_scene"):
        on_scene = incident(status=IncidentStatus.ON_SCENE, cpr=guided.cpr)
        cpr_guidance.record(on_scene, ENDED, "kari", T0 + 20, end=CprEnd.ROSC)
    with pytest.raises(ValueError, match="end"):  # the gateway's check, held here too
        cpr_guidance.record(guided, ENDED, "kari", T0 + 20)
    with pytest.raises(ValueError, match="end"):
        cpr_guidance.record(incident(), STARTED, "kari", T0 + 20, end=CprEnd.ROSC)
    assert cpr_guidance.note_text(ended.cpr, str).endswith(
        f"; ended {T0 + 300} (ola): the patient breathes normally again"
    )
    assert cpr_guidance.journal_details(ENDED, "", CprEnd.ROSC) == {"step": "ended", "end": "rosc"}


@pytest.mark.parametrize(
    "status", [IncidentStatus.ON_SCENE, IncidentStatus.CLOSED, IncidentStatus.DISPATCHED]
)
def test_a_correction_is_taken_at_any_time_after_a_start_or_a_not_given(status) -> None:
    """A false arrest is most often found out by the crew on scene; a "not given" on the
    wrong incident must be undone too. Neither enters a time into the review."""
    ENDED = CprStep.ENDED
    started = incident(status=status, cpr=CprGuidance(T0 + 30, "kari"))
    fixed = cpr_guidance.record(started, ENDED, "ola", T0 + 900, end=CprEnd.NOT_ARREST)
    assert (fixed.cpr.end, fixed.cpr.started_at) == (CprEnd.NOT_ARREST, T0 + 30)
    refused = incident(
        status=status,
        cpr=CprGuidance(not_given_at=T0 + 20, not_given_by="kari", not_given_reason="for sent"),
    )
    wrong = cpr_guidance.record(refused, ENDED, "kari", T0 + 60, end=CprEnd.WRONG_INCIDENT)
    assert wrong.cpr.not_given_reason == "for sent" and wrong.cpr.end is CprEnd.WRONG_INCIDENT
    assert cpr_guidance.note_text(wrong.cpr, str).endswith(
        f"for sent; corrected {T0 + 60} (kari): recorded on the wrong incident"
    )
    assert cpr_guidance.shared(fixed.cpr) and not cpr_guidance.shared(wrong.cpr)


def test_corrections_are_counted_apart_first_and_the_other_ends_keep_their_times() -> None:
    ENDED = CprStep.ENDED
    answered = {"n1": T0 + 10, "r1": T0 + 10, "w1": T0 + 10, "b1": T0 + 10}
    wrong = cpr_guidance.record(incident("n1"), STARTED, "kari", T0 + 30)
    wrong = cpr_guidance.record(wrong, COMPRESSIONS, "kari", T0 + 60)
    wrong = cpr_guidance.record(wrong, ENDED, "kari", T0 + 90, end=CprEnd.NOT_ARREST)
    rosc = cpr_guidance.record(incident("r1"), STARTED, "kari", T0 + 40)
    rosc = cpr_guidance.record(rosc, ENDED, "kari", T0 + 400, end=CprEnd.ROSC)
    never = cpr_guidance.record(incident("w1"), CprStep.NOT_GIVEN, "kari", T0 + 20, "for sent")
    never = cpr_guidance.record(never, ENDED, "kari", T0 + 25, end=CprEnd.WRONG_INCIDENT)
    # A correction wins over every other reason (here: bystander, and no call).
    by = cpr_guidance.record(incident("b1"), BYSTANDER, "kari", T0 + 30)
    by = cpr_guidance.record(by, ENDED, "kari", T0 + 35, end=CprEnd.WRONG_INCIDENT)
    nocall = cpr_guidance.record(incident("x1"), STARTED, "kari", T0 + 30)
    nocall = cpr_guidance.record(nocall, ENDED, "kari", T0 + 35, end=CprEnd.NOT_ARREST)
    delays, apart = cpr_guidance.delays([wrong, rosc, never, by, nocall], answered)
    assert delays == {("oslo", Urgency.AKUTT): {STARTED: [30.0], COMPRESSIONS: []}}
    assert apart == {
        ("oslo", STARTED): {"not_arrest": 2, "wrong_incident": 2},
        ("oslo", COMPRESSIONS): {"not_arrest": 2, "wrong_incident": 1},
    }


def test_the_gateway_and_the_cli_take_the_end_with_ended_only() -> None:
    ended = pb.RecordCprGuidanceRequest(
        request_id="r1",
        incident_id="OSL-000001",
        step=pb.CPR_STEP_ENDED,
        end=pb.CPR_END_WRONG_INCIDENT,
    )
    assert convert.record_cpr_guidance(ended, "kari").end is CprEnd.WRONG_INCIDENT
    missing = pb.RecordCprGuidanceRequest(
        request_id="r1", incident_id="OSL-000001", step=pb.CPR_STEP_ENDED
    )
    with pytest.raises(InvalidArgumentError) as refused:
        convert.record_cpr_guidance(missing, "kari")
    assert refused.value.field == "end"
    stray = pb.RecordCprGuidanceRequest(
        request_id="r1", incident_id="OSL-000001", step=pb.CPR_STEP_STARTED, end=pb.CPR_END_ROSC
    )
    with pytest.raises(InvalidArgumentError) as refused:
        convert.record_cpr_guidance(stray, "kari")
    assert refused.value.field == "end"
    args = build_parser().parse_args(["incident", "cpr", "OSL-000001", "ended", "--end", "rosc"])
    assert (args.step, args.end) == ("ended", "rosc")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["incident", "cpr", "OSL-000001", "ended", "--end", "tired"])
    g = pb.CprGuidance(started_by="kari", ended_by="ola", end=pb.CPR_END_CALL_LOST)
    g.started_at.FromSeconds(int(T0))
    g.ended_at.FromSeconds(int(T0) + 200)
    assert "; ended " in cpr_text(g).plain
    assert cpr_text(g).plain.endswith("(recorded by ola): the call was lost")
    g.end = pb.CPR_END_NOT_ARREST
    assert "; corrected " in cpr_text(g).plain
    assert cpr_text(g).plain.endswith(": not a cardiac arrest after all")
    # A "not given" corrected as the wrong incident: both shown, no start invented.
    g = pb.CprGuidance(not_given_by="kari", not_given_reason="for sent", ended_by="ola")
    g.not_given_at.FromSeconds(int(T0))
    g.ended_at.FromSeconds(int(T0) + 60)
    g.end = pb.CPR_END_WRONG_INCIDENT
    line = cpr_text(g).plain
    assert line.startswith("not given ") and "started" not in line
    assert line.endswith("(recorded by ola): recorded on the wrong incident")
