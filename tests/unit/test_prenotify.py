"""Hospital pre-notification (issue #19): sending, replacing, the ETA from where the unit
is, the update threshold, arrival and lead time, and the document a hospital receives."""

from __future__ import annotations

import copy
import json

import pytest

from actors.domain import alerts
from actors.domain import prenotification_doc as doc
from actors.domain import prenotify as pn
from actors.domain.destination import Hospital, TraumaLevel, travel
from actors.domain.errors import InvalidArgumentError, NotBuiltError, PreconditionError
from actors.domain.model import (
    AlertService,
    AlertState,
    CrewLevel,
    Incident,
    IncidentStatus,
    PatientCondition,
    Position,
    Sex,
    Unit,
    UnitKind,
    UnitStatus,
    Urgency,
)

pytestmark = pytest.mark.timeout(30)

T0 = 1_700_000_000.0
SCENE = Position(59.9139, 10.7522)
ULLEVAL = Hospital(
    "ous-ulleval", "OUS Ullevål", "oslo", 59.9366, 10.7370,
    TraumaLevel.REGIONAL_TRAUMA_CENTRE, True, False, True,
)  # fmt: skip
AHUS = Hospital(
    "ahus-lorenskog", "Ahus", "oslo", 59.9300, 10.9580, TraumaLevel.ACUTE_TRAUMA, True, True, False
)
STROKE = pn.PatientData(
    PatientCondition.STROKE, age=74, sex=Sex.FEMALE, findings="right-sided weakness, aphasia",
    symptom_onset_at=T0 - 1800,
)  # fmt: skip


def incident(units: tuple[str, ...] = ("u1",)) -> Incident:
    return Incident(
        id="OSL-000001",
        region="oslo",
        status=IncidentStatus.ON_SCENE,
        position=SCENE,
        created_at=T0,
        updated_at=T0,
        urgency=Urgency.AKUTT,
        criteria_code="A.28.01",
        assigned_unit_ids=list(units),
    )


def unit(status: UnitStatus = UnitStatus.ON_SCENE, pos: Position = SCENE, **kw) -> Unit:
    return Unit(
        id=kw.pop("id", "u1"),
        call_sign="Oslo 11",
        region="oslo",
        kind=kw.pop("kind", UnitKind.ROAD_AMBULANCE),
        crew=CrewLevel.PARAMEDIC,
        status=status,
        position=pos,
        station="",
        updated_at=T0,
        incident_id="OSL-000001",
    )


def sent(inc: Incident | None = None, hospital: Hospital = ULLEVAL, now: float = T0):
    inc = inc or incident()
    eta = pn.transport_eta(unit(), inc, hospital, now)
    return pn.send(inc, hospital, "u1", STROKE, eta, "dispatcher kari", now)


# ---------------------------------------------------------------- the ETA


def test_eta_on_scene_is_scene_to_hospital_leaving_now() -> None:
    eta = pn.transport_eta(unit(), incident(), ULLEVAL, T0)
    leg = travel(SCENE.lat, SCENE.lon, ULLEVAL.lat, ULLEVAL.lon)
    assert eta.eta_s == pytest.approx(leg.eta_s)
    assert eta.expected_arrival == pytest.approx(T0 + leg.eta_s)
    assert eta.reason.startswith("on scene, leaving now: road ")


def test_eta_transporting_is_from_the_unit() -> None:
    moved = Position(59.80, 10.60)
    eta = pn.transport_eta(unit(UnitStatus.TRANSPORTING, moved), incident(), ULLEVAL, T0)
    assert eta.eta_s == pytest.approx(travel(59.80, 10.60, ULLEVAL.lat, ULLEVAL.lon).eta_s)
    assert eta.reason.startswith("transporting: ")


def test_eta_en_route_adds_the_way_to_the_scene_without_time_on_scene() -> None:
    away = Position(59.85, 10.80)
    eta = pn.transport_eta(unit(UnitStatus.EN_ROUTE, away), incident(), ULLEVAL, T0)
    to_scene = travel(away.lat, away.lon, SCENE.lat, SCENE.lon).eta_s
    on = travel(SCENE.lat, SCENE.lon, ULLEVAL.lat, ULLEVAL.lon).eta_s
    assert eta.eta_s == pytest.approx(to_scene + on)
    assert "no time on scene counted" in eta.reason


def test_eta_refused_when_the_unit_has_no_transport_ahead() -> None:
    for status in (UnitStatus.AT_HOSPITAL, UnitStatus.AVAILABLE_MOBILE):
        with pytest.raises(PreconditionError, match=status.value):
            pn.transport_eta(unit(status), incident(), ULLEVAL, T0)
    with pytest.raises(NotBuiltError):
        pn.transport_eta(unit(kind=UnitKind.BOAT_AMBULANCE), incident(), ULLEVAL, T0)


# ---------------------------------------------------------------- sending


def test_send_records_the_patient_and_an_absolute_expected_arrival() -> None:
    inc = incident()
    new, alert, replaced = sent(inc)
    assert replaced is None and inc.alerts == []  # input untouched
    assert alert.service is AlertService.HOSPITAL and alert.state is AlertState.SENT
    assert (alert.recipient, alert.sent_at, alert.sent_by) == (ULLEVAL.id, T0, "dispatcher kari")
    assert alert.criteria_code == "A.28.01"
    pre = alert.prenotification
    assert pre is not None
    assert (pre.age, pre.sex, pre.condition, pre.urgency) == (
        74, Sex.FEMALE, PatientCondition.STROKE, Urgency.AKUTT,
    )  # fmt: skip
    assert pre.expected_arrival > T0 and pre.symptom_onset_at == T0 - 1800
    assert pn.open_for_unit(new, "u1") == [alert]
    # The record survives its JSON form (the incident's value in etcd).
    assert Incident.decode(new.encode()).alerts == new.alerts


def test_same_hospital_twice_is_refused_another_hospital_replaces() -> None:
    first, _, _ = sent()
    with pytest.raises(PreconditionError, match="already has pre-notification a1"):
        sent(first)
    second, a2, replaced = sent(first, AHUS)
    assert replaced is not None and replaced.id == "a1"
    old = next(a for a in second.alerts if a.id == "a1")
    assert old.prenotification.replaced_by == a2.id and "Ahus" in old.note
    assert old.state is AlertState.SENT  # state kept; it is closed by replaced_by
    assert pn.open_for_unit(second, "u1") == [a2]


def test_send_refused_for_an_unassigned_unit_or_a_closed_incident() -> None:
    inc = incident(units=("u2",))
    eta = pn.transport_eta(unit(), inc, ULLEVAL, T0)
    with pytest.raises(PreconditionError, match="not assigned"):
        pn.send(inc, ULLEVAL, "u1", STROKE, eta, "k", T0)
    closed = incident()
    closed.status = IncidentStatus.CLOSED
    with pytest.raises(PreconditionError, match="closed"):
        pn.send(closed, ULLEVAL, "u1", STROKE, eta, "k", T0)


def test_age_outside_0_130_names_the_field() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        pn.PatientData(PatientCondition.STROKE, age=131)
    assert err.value.field == "age"


# ---------------------------------------------------------------- ETA updates


def test_update_due_only_beyond_the_threshold() -> None:
    _, alert, _ = sent()
    at = alert.prenotification.expected_arrival
    assert not pn.eta_update_due(alert, at + 60.0, 60.0)  # exactly the threshold: no
    assert pn.eta_update_due(alert, at + 60.5, 60.0)
    assert pn.eta_update_due(alert, at - 61.0, 60.0)  # earlier counts too


def test_update_writes_the_new_eta_and_refuses_a_stale_one() -> None:
    inc, alert, _ = sent()
    later = pn.TransportEta(alert.prenotification.expected_arrival + 300, 900.0, "transporting: x")
    new = pn.update_eta(inc, alert.id, later, 60.0, T0 + 120)
    pre = new.alerts[0].prenotification
    assert (pre.expected_arrival, pre.eta_updates, pre.eta_updated_at) == (
        later.expected_arrival, 1, T0 + 120,
    )  # fmt: skip
    assert inc.alerts[0].prenotification.eta_updates == 0  # input untouched
    with pytest.raises(PreconditionError, match="within 60 s"):
        pn.update_eta(new, alert.id, later, 60.0, T0 + 130)  # the same ETA again


def test_arrival_closes_the_pre_notification_and_gives_the_lead_time() -> None:
    inc, alert, _ = sent()
    assert pn.lead_time_s(alert) is None
    arrived = pn.mark_arrived(inc, "u1", T0 + 900)
    done = arrived.alerts[0]
    assert done.prenotification.arrived_at == T0 + 900
    assert pn.lead_time_s(done) == 900.0
    assert not pn.is_open(done) and not pn.eta_update_due(done, T0 + 5000, 60.0)
    with pytest.raises(PreconditionError, match="not open"):
        pn.update_eta(arrived, done.id, pn.TransportEta(T0 + 5000, 1.0, ""), 60.0, T0 + 901)
    assert pn.mark_arrived(arrived, "u1", T0 + 950) is arrived  # nothing left to mark
    assert pn.mark_arrived(inc, "other-unit", T0) is inc


def test_a_unit_leaving_before_the_hospital_withdraws_its_pre_notification() -> None:
    inc, alert, _ = sent()
    new, ids = pn.withdraw_for_unit(inc, "u1", "unit u1 released", T0 + 300)
    assert ids == [alert.id]
    gone = new.alerts[0]
    assert gone.prenotification.withdrawn_at == T0 + 300 and gone.note == "unit u1 released"
    assert gone.state is AlertState.SENT and not pn.is_open(gone)
    assert pn.lead_time_s(gone) is None
    assert pn.withdraw_for_unit(new, "u1", "again", T0 + 301) == (new, [])
    arrived = pn.mark_arrived(inc, "u1", T0 + 600)  # arrived first: nothing to withdraw
    assert pn.withdraw_for_unit(arrived, "u1", "x", T0 + 700) == (arrived, [])


def test_a_settled_pre_notification_is_not_escalated() -> None:
    inc, alert, _ = sent()
    assert alerts.due_for_escalation(inc, T0 + 61, 60.0) == [alert.id]  # unanswered: chased
    arrived = pn.mark_arrived(inc, "u1", T0 + 30)
    assert alerts.due_for_escalation(arrived, T0 + 61, 60.0) == []
    withdrawn, _ = pn.withdraw_for_unit(inc, "u1", "released", T0 + 30)
    assert alerts.due_for_escalation(withdrawn, T0 + 61, 60.0) == []
    replaced, _, _ = sent(inc, AHUS)
    assert alerts.due_for_escalation(replaced, T0 + 61, 60.0) == ["a2"]  # only the new one


def test_a_cancelled_pre_notification_is_not_open() -> None:
    inc, _, _ = sent()
    cancelled = copy.deepcopy(inc)
    cancelled.alerts[0].state = AlertState.CANCELLED
    assert pn.open_for_unit(cancelled, "u1") == []
    assert pn.mark_arrived(cancelled, "u1", T0 + 10) is cancelled


# ---------------------------------------------------------------- the outbox


def test_each_document_the_hospital_must_get_is_due_until_recorded_delivered() -> None:
    inc, alert, _ = sent()
    assert (alert.documents_due(), pn.document_kind(alert)) == (1, "prenotification")
    assert pn.undelivered(inc) == [alert]
    first = pn.mark_delivered(inc, alert.id, 1, T0 + 1)
    assert pn.undelivered(first) == [] and first.alerts[0].prenotification.delivered_at == T0 + 1
    assert inc.alerts[0].prenotification.delivered == 0  # input untouched
    later = pn.TransportEta(alert.prenotification.expected_arrival + 300, 900.0, "x")
    moved = pn.update_eta(first, alert.id, later, 60.0, T0 + 120)
    assert [a.id for a in pn.undelivered(moved)] == [alert.id]
    assert (moved.alerts[0].documents_due(), pn.document_kind(moved.alerts[0])) == (
        2, "eta_update",
    )  # fmt: skip
    updated = pn.mark_delivered(moved, alert.id, 2, T0 + 121)
    withdrawn, _ = pn.withdraw_for_unit(updated, "u1", "released", T0 + 200)
    gone = withdrawn.alerts[0]
    assert (gone.documents_due(), pn.document_kind(gone)) == (3, "withdrawn")
    assert pn.undelivered(pn.mark_delivered(withdrawn, alert.id, 3, T0 + 201)) == []


def test_a_first_document_never_taken_goes_out_with_the_latest_eta() -> None:
    inc, alert, _ = sent()
    later = pn.TransportEta(alert.prenotification.expected_arrival + 300, 900.0, "x")
    moved = pn.update_eta(inc, alert.id, later, 60.0, T0 + 120)
    # Two due, none taken: one document, the first, as the record is now.
    assert (moved.alerts[0].documents_due(), pn.document_kind(moved.alerts[0])) == (
        2, "prenotification",
    )  # fmt: skip
    assert pn.undelivered(pn.mark_delivered(moved, alert.id, 2, T0 + 121)) == []


def test_cancelled_and_replaced_owe_their_hospital_a_withdrawal_arrived_owes_nothing() -> None:
    inc, alert, _ = sent()
    cancelled = alerts.cancel(pn.mark_delivered(inc, alert.id, 1, T0), alert.id, "kari", "x", T0)
    assert pn.document_kind(cancelled.alerts[0]) == "withdrawn"
    assert pn.undelivered(cancelled) == cancelled.alerts
    replaced, new, old = sent(pn.mark_delivered(inc, alert.id, 1, T0), AHUS)
    assert old is not None
    assert {a.id: pn.document_kind(a) for a in pn.undelivered(replaced)} == {
        alert.id: "withdrawn", new.id: "prenotification",
    }  # fmt: skip
    later = pn.TransportEta(alert.prenotification.expected_arrival + 300, 900.0, "x")
    moved = pn.update_eta(inc, alert.id, later, 60.0, T0 + 120)
    arrived = pn.mark_arrived(moved, "u1", T0 + 600)  # an update never taken: moot now
    assert pn.undelivered(arrived) == []


def test_a_record_stored_before_the_outbox_reads_as_all_delivered() -> None:
    """Each document was posted once then; sending them again would page a team twice."""
    inc, alert, _ = sent()
    later = pn.TransportEta(alert.prenotification.expected_arrival + 300, 900.0, "x")
    moved = pn.update_eta(inc, alert.id, later, 60.0, T0 + 120)
    withdrawn, _ = pn.withdraw_for_unit(moved, "u1", "released", T0 + 200)
    stored = json.loads(json.dumps(withdrawn.to_dict()))
    for a in stored["alerts"]:
        del a["prenotification"]["delivered"], a["prenotification"]["delivered_at"]
    old = Incident.from_dict(stored)
    assert old.alerts[0].prenotification.delivered == 3 and pn.undelivered(old) == []
    again = Incident.from_dict(json.loads(json.dumps(withdrawn.to_dict())))
    assert again.alerts[0].prenotification.delivered == 0  # stored with the count: kept
    assert pn.undelivered(again) == again.alerts


def test_told_by_phone_records_every_document_due_and_only_when_owed() -> None:
    inc, alert, _ = sent()
    withdrawn, _ = pn.withdraw_for_unit(pn.mark_delivered(inc, alert.id, 1, T0), "u1", "x", T0)
    told = pn.confirm_by_phone(withdrawn, alert.id, "sykepleier Berg", T0 + 5)
    gone = told.alerts[0]
    assert (gone.prenotification.delivered, gone.prenotification.delivered_at) == (2, T0 + 5)
    assert pn.undelivered(told) == [] and not gone.acknowledged_at  # withdrawn: no ack
    with pytest.raises(PreconditionError, match="nothing is owed"):
        pn.confirm_by_phone(told, alert.id, "x", T0 + 6)
    arrived = pn.mark_arrived(inc, "u1", T0 + 600)  # owed nothing after arrival
    with pytest.raises(PreconditionError, match="nothing is owed"):
        pn.confirm_by_phone(arrived, alert.id, "x", T0 + 601)
    police, _ = alerts.send(inc, AlertService.POLICE_112, "112:oslo", "kari", T0, "x")
    with pytest.raises(InvalidArgumentError, match="not a pre-notification") as err:
        pn.confirm_by_phone(police, police.alerts[-1].id, "x", T0)
    assert err.value.field == "alert_id"


def test_a_first_document_told_by_phone_is_acknowledged_by_whom_was_spoken_to() -> None:
    inc, alert, _ = sent()
    escalated = alerts.escalate(inc, alert.id, T0 + 61, 60.0)  # unanswered: phone them
    told = pn.confirm_by_phone(escalated, alert.id, "slagvakta", T0 + 90)
    done = told.alerts[0]
    assert done.state is AlertState.ACKNOWLEDGED
    assert (done.acknowledged_by, done.acknowledged_at) == ("slagvakta", T0 + 90)
    assert alerts.due_for_escalation(told, T0 + 500, 60.0) == []


def test_a_late_or_impossible_delivery_record_is_refused() -> None:
    inc, alert, _ = sent()
    first = pn.mark_delivered(inc, alert.id, 1, T0 + 1)
    with pytest.raises(PreconditionError, match="already recorded"):
        pn.mark_delivered(first, alert.id, 1, T0 + 2)
    with pytest.raises(InvalidArgumentError, match="only 1 are due") as err:
        pn.mark_delivered(inc, alert.id, 2, T0 + 2)
    assert err.value.field == "due"
    police, _ = alerts.send(inc, AlertService.POLICE_112, "112:oslo", "kari", T0, "x")
    with pytest.raises(InvalidArgumentError, match="not a pre-notification"):
        pn.mark_delivered(police, police.alerts[-1].id, 1, T0)
    assert pn.undelivered(police) == [alert]  # the police alert is not in this outbox


# ---------------------------------------------------------------- the document


def test_document_round_trips_through_json_and_validates() -> None:
    inc, alert, _ = sent()
    d = doc.build("prenotification", inc, alert, unit(), "amk.oslo", "AMK Oslo", T0)
    d = json.loads(json.dumps(d))
    doc.validate(d)
    assert d["schema"] == "amk.prenotification/1" and d["sequence"] == 0
    assert d["patient"] == {"age": 74, "sex": "female"}
    assert d["condition"] == "stroke" and d["urgency"] == "akutt"
    assert d["symptom_onset"] == "2023-11-14T21:43:20Z"
    assert d["expected_arrival"].endswith("Z") and d["unit"]["call_sign"] == "Oslo 11"
    assert d["hospital"] == {"id": "ous-ulleval", "name": "OUS Ullevål"}


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("schema",), "eido", "schema"),
        (("kind",), "hello", "kind"),
        (("sequence",), -1, "sequence"),
        (("patient", "age"), 200, "patient.age"),
        (("patient", "sex"), "x", "patient.sex"),
        (("condition",), "flu", "condition"),
        (("expected_arrival",), "2026-11-26 08:00", "expected_arrival"),
        (("symptom_onset",), "yesterday", "symptom_onset"),
        (("unit",), {}, "unit"),
        (("findings",), None, "findings"),
    ],
)
def test_validate_names_the_bad_field(path, value, field) -> None:
    inc, alert, _ = sent()
    d = doc.build("eta_update", inc, alert, unit(), "amk.oslo", "AMK Oslo", T0)
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        doc.validate(d)


def test_no_document_for_an_alert_that_is_not_a_pre_notification() -> None:
    inc, alert, _ = sent()
    with pytest.raises(ValueError):
        doc.build("hello", inc, alert, None, "a", "A", T0)
