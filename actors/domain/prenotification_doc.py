"""The document a hospital receives: ``amk.prenotification/1``, a small JSON (issue #19).

**Why not EIDO.** EIDO (NENA, the CAD-to-CAD format the cluster speaks with 110 and
112) carries an *incident* between dispatch centres: its place, type, agencies and
units. A hospital's receiving side (the trauma team alarm, the stroke team's
thrombolysis alarm, the cardiologist on call) needs a *patient* on the way: age, sex,
condition, findings, when the symptoms began, and when the ambulance will be at the
door. EIDO has no field for a patient's clinical summary or for an arrival time at a
destination; squeezed into its notes they could not be checked by the receiver or
shown as fields. So: ten fields of our own, versioned by ``schema``, checked by
:func:`validate` (the receiving stub in the tests checks every document with it).

**Kinds.** ``prenotification`` (the first), ``eta_update`` (a new expected arrival as
the unit moves), ``withdrawn`` (cancelled, or replaced by another hospital: the
patient is not coming). Each carries ``sequence`` (0 for the first, the update count
after), so a receiver that gets two updates out of order keeps the higher one.

Times are ISO 8601 in UTC (``2026-11-26T08:12:00Z``); ``expected_arrival`` is an
absolute time, since the thrombolysis alarm is set against the clock. The hospital
acknowledges by answering ``{"acknowledged": true, "acknowledged_by": "..."}`` (the
first document; later ones are taken with any 2xx).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from actors.domain.model import Alert, Incident, Unit

SCHEMA = "amk.prenotification/1"
KINDS = ("prenotification", "eta_update", "withdrawn")
SEXES = ("female", "male", "unknown")
CONDITIONS = ("trauma", "stroke", "stemi", "other")


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build(
    kind: str,
    inc: Incident,
    alert: Alert,
    unit: Unit | None,
    sender_id: str,
    sender_name: str,
    now: float,
) -> dict[str, Any]:
    """The document for ``alert`` (a pre-notification) of ``inc``."""
    pre = alert.prenotification
    if kind not in KINDS or pre is None:
        raise ValueError(f"no {kind!r} document for alert {alert.id}")
    return {
        "schema": SCHEMA,
        "kind": kind,
        "sequence": pre.eta_updates,
        "sent_at": iso(now),
        "incident_id": inc.id,
        "alert_id": alert.id,
        "from": {"id": sender_id, "name": sender_name},
        "hospital": {"id": alert.recipient, "name": pre.hospital_name},
        "patient": {"age": pre.age, "sex": pre.sex.value},
        "condition": pre.condition.value,
        "urgency": pre.urgency.value if pre.urgency else None,
        "criteria_code": alert.criteria_code or None,
        "findings": pre.findings,
        "free_text": pre.free_text,
        "symptom_onset": iso(pre.symptom_onset_at) if pre.symptom_onset_at else None,
        "unit": {
            "id": pre.unit_id,
            "call_sign": unit.call_sign if unit else "",
            "kind": unit.kind.value if unit else "",
        },
        "expected_arrival": iso(pre.expected_arrival),
        "eta_reason": pre.eta_reason,
        "reason": alert.note if kind == "withdrawn" else "",
    }


def _time(doc: dict[str, Any], key: str, *, optional: bool = False) -> None:
    value = doc.get(key)
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.endswith("Z"):
        raise ValueError(f"{key}: an ISO 8601 UTC time ending in Z is required, got {value!r}")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{key}: {value!r} is not an ISO 8601 time") from None


def validate(doc: Any) -> None:
    """Raise ValueError naming the first field that is missing or wrong."""
    if not isinstance(doc, dict):
        raise ValueError("document: a JSON object is required")
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"schema: {SCHEMA!r} expected, got {doc.get('schema')!r}")
    if doc.get("kind") not in KINDS:
        raise ValueError(f"kind: one of {', '.join(KINDS)} expected, got {doc.get('kind')!r}")
    if not isinstance(doc.get("sequence"), int) or doc["sequence"] < 0:
        raise ValueError("sequence: a non-negative integer is required")
    for key in ("incident_id", "alert_id"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise ValueError(f"{key}: a non-empty string is required")
    for key in ("from", "hospital"):
        part = doc.get(key)
        if (
            not isinstance(part, dict)
            or not part.get("id")
            or not isinstance(part.get("name"), str)
        ):
            raise ValueError(f"{key}: an object with id and name is required")
    patient = doc.get("patient")
    if not isinstance(patient, dict):
        raise ValueError("patient: an object is required")
    age = patient.get("age")
    if age is not None and (not isinstance(age, int) or not 0 <= age <= 130):
        raise ValueError(f"patient.age: null or 0..130, got {age!r}")
    if patient.get("sex") not in SEXES:
        raise ValueError(f"patient.sex: one of {', '.join(SEXES)}, got {patient.get('sex')!r}")
    if doc.get("condition") not in CONDITIONS:
        raise ValueError(f"condition: one of {', '.join(CONDITIONS)}, got {doc.get('condition')!r}")
    unit = doc.get("unit")
    if not isinstance(unit, dict) or not unit.get("id"):
        raise ValueError("unit: an object with the transporting unit's id is required")
    for key in ("findings", "free_text", "eta_reason", "reason"):
        if not isinstance(doc.get(key), str):
            raise ValueError(f"{key}: a string is required")
    _time(doc, "sent_at")
    _time(doc, "expected_arrival")
    _time(doc, "symptom_onset", optional=True)
