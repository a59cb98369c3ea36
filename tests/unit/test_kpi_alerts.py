"""Alert-delay KPIs (issue #19): 113 call answered -> trippelvarsling sent, per service,
and the hospital pre-notification's lead time before the unit's arrival, on hand-made
records with known answers; and their rows in ``amk kpi``."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from actors.domain import kpi
from actors.domain.model import (
    Alert,
    AlertService,
    AlertState,
    Call,
    CallStatus,
    Incident,
    IncidentStatus,
    PatientCondition,
    Position,
    PreNotification,
    Urgency,
)
from actors.gateway.kpi_service import figure_pb
from clients import kpi as ckpi

pytestmark = pytest.mark.timeout(30)

HERE = Position(59.91, 10.75)
FIRE, POLICE, HOSPITAL = AlertService.FIRE_110, AlertService.POLICE_112, AlertService.HOSPITAL
T0 = 1_700_000_000.0


def incident(iid: str, alerts: list[Alert], urgency=Urgency.AKUTT, region="oslo", created=T0):
    return Incident(
        iid, region, IncidentStatus.DISPATCHED, HERE, created, created, urgency=urgency,
        alerts=alerts,
    )  # fmt: skip


def call(iid: str, answered: float, region: str = "oslo") -> Call:
    return Call(
        f"C-{iid}-{answered}", region, "", HERE, answered - 5.0,
        status=CallStatus.COMPLETED, answered_at=answered, incident_id=iid,
    )  # fmt: skip


def alert(aid: str, service: AlertService, sent: float = 0.0, card: str = "road-traffic") -> Alert:
    state = AlertState.SENT if sent else AlertState.PROPOSED
    return Alert(aid, service, state, action_card=card, sent_at=sent, proposed_at=T0)


def pre(aid: str, sent: float, arrived: float, condition=PatientCondition.STROKE) -> Alert:
    return Alert(
        aid, HOSPITAL, AlertState.ACKNOWLEDGED, recipient="ous-ulleval", sent_at=sent,
        prenotification=PreNotification(
            "OUS Ullevål", condition, "u1", expected_arrival=sent + 600, arrived_at=arrived
        ),
    )  # fmt: skip


def by(figures, measure: str) -> list[kpi.Figure]:
    return [f for f in figures if f.measure == measure]


def test_alert_sent_is_measured_from_the_earliest_answered_call_per_service() -> None:
    incidents = [
        incident("i1", [alert("a1", FIRE, T0 + 40), alert("a2", POLICE, T0 + 100)]),
        incident("i2", [alert("a1", FIRE, T0 + 70)]),
        incident("i3", [alert("a1", FIRE, T0 + 10), alert("a3", FIRE, T0 + 500, card="")]),
    ]
    calls = [
        call("i1", T0 + 10),
        call("i1", T0 + 30),  # a second caller: the earliest answer counts
        call("i2", T0 + 20),
        call("i3", T0 + 12),  # sent before the answer (clocks apart): zero, not negative
    ]
    figs = kpi.compute(incidents, calls, [])
    sent = by(figs, kpi.ALERT_SENT)
    fire = next(f for f in sent if f.alert_service is FIRE)
    police = next(f for f in sent if f.alert_service is POLICE)
    # fire: i1 30 s, i2 50 s, i3 0 s (its first fire alert, not the later manual one)
    assert (fire.count, fire.p50_s, fire.p90_s) == (3, 30.0, 50.0)
    assert (police.count, police.p50_s) == (1, 90.0)
    assert fire.urgency is Urgency.AKUTT and fire.region == "oslo"
    assert fire.target_s == 0.0 and "at once" in fire.target_text
    assert fire.excluded == ()


def test_alerts_without_a_call_or_never_sent_are_counted_apart() -> None:
    incidents = [
        incident("i1", [alert("a1", FIRE, T0 + 40), alert("a2", POLICE)]),  # 112 not sent
        incident("i2", [alert("a1", FIRE, T0 + 70)]),  # no 113 call
        incident("i3", [alert("a1", POLICE, 0.0, card="")]),  # manual, unsent: not an omission
    ]
    figs = kpi.compute(incidents, [call("i1", T0 + 10)], [])
    fire = next(f for f in by(figs, kpi.ALERT_SENT) if f.alert_service is FIRE)
    assert (fire.count, fire.p50_s, fire.excluded) == (1, 30.0, (("no_call", 1),))
    police = next(f for f in by(figs, kpi.ALERT_SENT) if f.alert_service is POLICE)
    assert (police.count, police.urgency, police.excluded) == (0, None, (("not_sent", 1),))


def test_hospital_alerts_are_not_trippelvarsling() -> None:
    figs = kpi.compute([incident("i1", [pre("a1", T0 + 60, T0 + 900)])], [call("i1", T0)], [])
    assert by(figs, kpi.ALERT_SENT) == []


def test_prenotification_lead_per_condition_counts_only_arrivals() -> None:
    incidents = [
        incident("i1", [pre("a1", T0, T0 + 600)]),
        incident("i2", [pre("a1", T0, T0 + 900)]),
        incident("i3", [pre("a1", T0, 0.0)]),  # still on the way: not counted
        incident("i4", [pre("a1", T0, T0 + 300, PatientCondition.TRAUMA)], urgency=Urgency.HASTER),
    ]
    figs = by(kpi.compute(incidents, [], []), kpi.PRENOTIFICATION_LEAD)
    stroke = next(f for f in figs if f.condition is PatientCondition.STROKE)
    trauma = next(f for f in figs if f.condition is PatientCondition.TRAUMA)
    assert (stroke.count, stroke.p50_s, stroke.p90_s) == (2, 600.0, 900.0)
    assert (trauma.count, trauma.p50_s, trauma.urgency) == (1, 300.0, Urgency.HASTER)
    assert "longer is better" in stroke.target_text


def test_since_keeps_incidents_created_in_the_window() -> None:
    old = incident("i1", [pre("a1", T0, T0 + 600)], created=T0 - 3600)
    new = incident("i2", [pre("a1", T0, T0 + 300)])
    figs = by(kpi.compute([old, new], [], [], since=T0 - 60), kpi.PRENOTIFICATION_LEAD)
    assert [(f.count, f.p50_s) for f in figs] == [(1, 300.0)]


def test_figures_reach_the_api_and_the_table() -> None:
    incidents = [
        incident("i1", [alert("a1", FIRE, T0 + 40), pre("a2", T0 + 60, T0 + 660)]),
        incident("i2", [alert("a1", POLICE, T0 + 70)]),
    ]
    figs = kpi.compute(incidents, [call("i1", T0 + 10)], [])
    msgs = [figure_pb(f) for f in figs]
    sent = [m for m in msgs if m.measure == "alert_sent"]
    assert {ckpi.detail(m) for m in sent} == {"fire 110", "police 112"}
    lead = next(m for m in msgs if m.measure == "prenotification_lead")
    assert ckpi.detail(lead) == "stroke" and lead.p50_s == 600.0
    out = io.StringIO()
    Console(file=out, width=200).print(ckpi.kpi_table(msgs))
    text = out.getvalue()
    assert "113 answered → alert sent" in text and "pre-notification lead" in text
    assert "fire 110" in text and "1 no call" in text and "10m00s" in text
