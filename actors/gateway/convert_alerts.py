"""Between the public API (protobuf) and the domain for alerts to the other services and
pre-notifications to hospitals: requests in (every field checked, a bad one named by
:class:`InvalidArgumentError`). Their records out are in :mod:`actors.gateway.convert`
(``alert_pb``), which every incident answer carries."""

from __future__ import annotations

from actors.domain import validation as v
from actors.domain.commands import (
    AcknowledgeAlert,
    CancelAlert,
    ConfirmPreNotificationByPhone,
    SendAlert,
    SendPreNotification,
)
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import AlertService, PatientCondition, Sex
from actors.gateway.convert import from_pb_enum, timestamp_s
from amk.dispatch.v1 import dispatch_pb2 as pb

SYMPTOM_ONSET_MAX_AGE_S = 7 * 86400.0  # older is not an onset a hospital acts on
FUTURE_SLACK_S = 5.0  # clocks apart


def send_prenotification(
    req: pb.SendPreNotificationRequest, hospitals: set[str], now: float, who: str
) -> SendPreNotification:
    """Every field checked; the hospital must be one of the seed's."""
    hospital = v.entity_id(req.hospital_id, "hospital_id")
    if hospital not in hospitals:
        raise InvalidArgumentError("hospital_id", f"unknown hospital {hospital!r}")
    condition = from_pb_enum(PatientCondition, req.condition, "condition")
    sex = from_pb_enum(Sex, req.sex, "sex", optional=True) or Sex.UNKNOWN
    age = req.age if req.HasField("age") else None
    if age is not None and not 0 <= age <= 130:
        raise InvalidArgumentError("age", f"{age} is outside 0..130")
    onset = 0.0
    if req.HasField("symptom_onset"):
        onset = timestamp_s(req.symptom_onset, "symptom_onset")
        if onset > now + FUTURE_SLACK_S:
            raise InvalidArgumentError("symptom_onset", "is in the future")
        if onset < now - SYMPTOM_ONSET_MAX_AGE_S:
            raise InvalidArgumentError("symptom_onset", "is more than 7 days ago")
    return SendPreNotification(
        request_id=v.request_id(req.request_id),
        incident_id=v.entity_id(req.incident_id, "incident_id"),
        hospital_id=hospital,
        condition=condition,  # type: ignore[arg-type]
        unit_id=v.entity_id(req.unit_id, "unit_id") if req.unit_id else "",
        age=age,
        sex=sex,
        findings=v.text(req.findings, "findings", limit=v.MAX_NOTE),
        free_text=v.text(req.free_text, "free_text", limit=v.MAX_NOTE),
        symptom_onset_at=onset,
        who=who,
    )


def send_alert(req: pb.SendAlertRequest, who: str) -> SendAlert:
    service = from_pb_enum(AlertService, req.service, "service")
    if service is AlertService.HOSPITAL:
        raise InvalidArgumentError("service", "a hospital is pre-notified with SendPreNotification")
    if service is AlertService.AIR_AMBULANCE:
        raise InvalidArgumentError(
            "service", "an air ambulance request is RequestAirAmbulance (amk air request)"
        )
    return SendAlert(
        request_id=v.request_id(req.request_id),
        incident_id=v.entity_id(req.incident_id, "incident_id"),
        service=service,  # type: ignore[arg-type]
        reason=v.text(req.reason, "reason", limit=v.MAX_NOTE),
        who=who,
        phoned_to=_phoned_to(req.phoned_to),
    )


PHONED_TO_MAX = 200


def _phoned_to(text: str) -> str:
    """Whom the dispatcher told by phone; blank only when not given at all (a field of
    spaces is a mistake, not "use the link")."""
    given = v.text(text, "phoned_to", limit=PHONED_TO_MAX)
    if given and not given.strip():
        raise InvalidArgumentError("phoned_to", "is blank: whom at the other centre you told")
    return given.strip()


def acknowledge_alert(req: pb.AcknowledgeAlertRequest, who: str) -> AcknowledgeAlert:
    by = v.text(req.acknowledged_by, "acknowledged_by", limit=v.MAX_ID * 4)
    return AcknowledgeAlert(
        request_id=v.request_id(req.request_id),
        incident_id=v.entity_id(req.incident_id, "incident_id"),
        alert_id=v.entity_id(req.alert_id, "alert_id"),
        by=by.strip() or who,
        who=who,
    )


def confirm_by_phone(
    req: pb.ConfirmPreNotificationByPhoneRequest, who: str
) -> ConfirmPreNotificationByPhone:
    return ConfirmPreNotificationByPhone(
        request_id=v.request_id(req.request_id),
        incident_id=v.entity_id(req.incident_id, "incident_id"),
        alert_id=v.entity_id(req.alert_id, "alert_id"),
        spoke_with=v.text(req.spoke_with, "spoke_with", limit=v.MAX_ID * 4).strip(),
        who=who,
    )


def cancel_alert(req: pb.CancelAlertRequest, who: str) -> CancelAlert:
    return CancelAlert(
        request_id=v.request_id(req.request_id),
        incident_id=v.entity_id(req.incident_id, "incident_id"),
        alert_id=v.entity_id(req.alert_id, "alert_id"),
        reason=v.text(req.reason, "reason", limit=v.MAX_NOTE),
        who=who,
    )
