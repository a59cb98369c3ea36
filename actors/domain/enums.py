"""The enumerations of the records in :mod:`actors.domain.model`: urgencies, statuses,
kinds, alert services and states, air mission and call states, the steps of
telephone-guided CPR.

Kept apart from the records so each module stays one thing a newcomer can read; the
records' module imports them, and callers may import them from there with the records
they go with. Values are the records' JSON form in etcd: never renamed.
"""

from __future__ import annotations

from enum import StrEnum


class Urgency(StrEnum):
    AKUTT = "akutt"  # red
    HASTER = "haster"  # yellow
    VANLIG = "vanlig"  # green


class IncidentStatus(StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_HOSPITAL = "at_hospital"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class UnitStatus(StrEnum):
    AVAILABLE_AT_STATION = "available_at_station"
    AVAILABLE_MOBILE = "available_mobile"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_HOSPITAL = "at_hospital"
    OUT_OF_SERVICE = "out_of_service"


class UnitKind(StrEnum):
    ROAD_AMBULANCE = "road_ambulance"
    RAPID_RESPONSE_CAR = "rapid_response_car"
    BOAT_AMBULANCE = "boat_ambulance"
    HELICOPTER = "helicopter"
    FIXED_WING = "fixed_wing"


class CrewLevel(StrEnum):
    EMT = "emt"
    PARAMEDIC = "paramedic"
    DOCTOR = "doctor"


class AlertService(StrEnum):
    """Whom an alert goes to. Values are what a dispatcher says: 110 fire, 112 police,
    116117 the legevakt (its doctor on duty, through its legevaktsentral, alerted with
    the ambulance on a red response); ``air_ambulance``: the AMK-LA region coordinating
    the aircraft; a hospital (pre-notification; ``recipient`` is the hospital's id)."""

    FIRE_110 = "110"
    POLICE_112 = "112"
    LEGEVAKT_116117 = "116117"
    AIR_AMBULANCE = "air_ambulance"
    HOSPITAL = "hospital"


class PatientCondition(StrEnum):
    """What a patient is taken to hospital for, as far as the destination goes: the
    conditions with their own pathway (the national trauma system, the stroke and
    heart attack pathways) and everything else."""

    TRAUMA = "trauma"  # meets the trauma team criteria
    STROKE = "stroke"
    STEMI = "stemi"  # heart attack with ST elevation on the ECG
    OTHER = "other"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class AlertState(StrEnum):
    PROPOSED = "proposed"  # an action card matched; nobody has sent it yet
    SENT = "sent"  # committed as sent; the EIDO document goes out after the commit
    ACKNOWLEDGED = "acknowledged"  # the other centre said it has it (AMK-LA: accepted)
    ESCALATED = "escalated"  # sent, no acknowledgement in time: the console shows it
    CANCELLED = "cancelled"
    DECLINED = "declined"  # AMK-LA answered no (the base doctor's decision, weather...)


#: Alert states in which a hospital pre-notification still stands (the hospital expects
#: the patient); any other means it was cancelled.
PRENOTIFICATION_STANDING: frozenset[AlertState] = frozenset(
    {AlertState.SENT, AlertState.ESCALATED, AlertState.ACKNOWLEDGED}
)


class AirMissionState(StrEnum):
    """An air mission at its AMK-LA, from the request to the aircraft free again
    (transition table: ``actors/domain/air_mission_lifecycle.py``)."""

    REQUESTED = "requested"  # recorded at the AMK-LA; the base has not answered yet
    ACCEPTED = "accepted"  # the base doctor said yes; an aircraft is assigned
    DECLINED = "declined"  # the base (doctor, pilot: weather) said no, with a reason
    AIRBORNE = "airborne"  # the aircraft is en route
    ON_SCENE = "on_scene"  # landed at the patient (or the rendezvous)
    TRANSPORTING = "transporting"  # with the patient on board
    AT_HOSPITAL = "at_hospital"  # landed at the receiving hospital
    COMPLETED = "completed"  # the aircraft is available again after the mission
    ABORTED = "aborted"  # stood down or turned back before reaching the patient


class CallStatus(StrEnum):
    WAITING = "waiting"  # in the queue of the region covering the caller
    ANSWERED = "answered"  # a call-taker is talking to the caller
    COMPLETED = "completed"  # became an incident, was linked to one, or closed without one
    ABANDONED = "abandoned"  # the caller hung up before anyone answered


class CallOutcome(StrEnum):
    """How an answered 113 call ended without an incident (``calls.close``): many end
    with advice or a referral, and none of those needs an ambulance."""

    ADVICE = "advice"  # advice given: the caller manages (self-care, own GP, pharmacy)
    LEGEVAKT = "legevakt"  # referred to the out-of-hours doctor (116117)
    OTHER_SERVICE = "other_service"  # for another service: fire (110), police (112), ...
    NO_NEED = "no_need"  # misdial, pocket call, nobody needs help
    OTHER = "other"  # anything else, said in the note
    DISCONNECTED = "disconnected"  # the line was lost and the caller not reached again


class CprStep(StrEnum):
    """Telephone-guided CPR (telefonveiledet HLR): what the dispatcher records as it
    happens, in this order (``actors/domain/cpr_guidance.py``)."""

    STARTED = "started"  # the dispatcher began guiding the caller
    COMPRESSIONS = "compressions"  # the caller's first chest compressions
    # Instead of both: compressions under way when the guidance began (start timed only).
    BYSTANDER = "bystander"
    # A cardiac arrest recognised, guidance not given (the caller cannot, will not, or it
    # is too late), with why; guidance may still start after it.
    NOT_GIVEN = "not_given"
    # The guidance ended before a unit was on scene, with how (:class:`CprEnd`), or a
    # correction of the record (at any time); the incident may be handed over again.
    ENDED = "ended"


class CprEnd(StrEnum):
    """How telephone-guided CPR ended before a unit was on scene, or a correction of
    what was recorded (``cpr_guidance.CORRECTIONS``: at any time)."""

    ROSC = "rosc"  # the patient breathes normally again (return of circulation)
    CALL_LOST = "call_lost"  # the call was cut and the caller could not be reached
    CALLER_STOPPED = "caller_stopped"  # the caller could not go on
    # First responders (fire, police) or a volunteer with a defibrillator took over: they
    # come by alert, not as our unit, so no unit on scene ends the guidance.
    OTHERS_TOOK_OVER = "others_took_over"
    NOT_INDICATED = "not_indicated"  # resuscitation not indicated (sure signs of death, DNR)
    # Corrections: the record stays (it is the journal's), the review counts it apart.
    NOT_ARREST = "not_arrest"  # not a cardiac arrest after all (starting was still right)
    WRONG_INCIDENT = "wrong_incident"  # recorded on the wrong incident
