import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Urgency(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    URGENCY_UNSPECIFIED: _ClassVar[Urgency]
    URGENCY_AKUTT: _ClassVar[Urgency]
    URGENCY_HASTER: _ClassVar[Urgency]
    URGENCY_VANLIG: _ClassVar[Urgency]

class IncidentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INCIDENT_STATUS_UNSPECIFIED: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_RECEIVED: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_TRIAGED: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_DISPATCHED: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_ON_SCENE: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_TRANSPORTING: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_AT_HOSPITAL: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_CLOSED: _ClassVar[IncidentStatus]
    INCIDENT_STATUS_CANCELLED: _ClassVar[IncidentStatus]

class UnitStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNIT_STATUS_UNSPECIFIED: _ClassVar[UnitStatus]
    UNIT_STATUS_AVAILABLE_AT_STATION: _ClassVar[UnitStatus]
    UNIT_STATUS_AVAILABLE_MOBILE: _ClassVar[UnitStatus]
    UNIT_STATUS_ASSIGNED: _ClassVar[UnitStatus]
    UNIT_STATUS_EN_ROUTE: _ClassVar[UnitStatus]
    UNIT_STATUS_ON_SCENE: _ClassVar[UnitStatus]
    UNIT_STATUS_TRANSPORTING: _ClassVar[UnitStatus]
    UNIT_STATUS_AT_HOSPITAL: _ClassVar[UnitStatus]
    UNIT_STATUS_OUT_OF_SERVICE: _ClassVar[UnitStatus]

class UnitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNIT_KIND_UNSPECIFIED: _ClassVar[UnitKind]
    UNIT_KIND_ROAD_AMBULANCE: _ClassVar[UnitKind]
    UNIT_KIND_RAPID_RESPONSE_CAR: _ClassVar[UnitKind]
    UNIT_KIND_BOAT_AMBULANCE: _ClassVar[UnitKind]
    UNIT_KIND_HELICOPTER: _ClassVar[UnitKind]
    UNIT_KIND_FIXED_WING: _ClassVar[UnitKind]

class CrewLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREW_LEVEL_UNSPECIFIED: _ClassVar[CrewLevel]
    CREW_LEVEL_EMT: _ClassVar[CrewLevel]
    CREW_LEVEL_PARAMEDIC: _ClassVar[CrewLevel]
    CREW_LEVEL_DOCTOR: _ClassVar[CrewLevel]

class AlertService(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_SERVICE_UNSPECIFIED: _ClassVar[AlertService]
    ALERT_SERVICE_FIRE_110: _ClassVar[AlertService]
    ALERT_SERVICE_POLICE_112: _ClassVar[AlertService]
    ALERT_SERVICE_AIR_AMBULANCE: _ClassVar[AlertService]
    ALERT_SERVICE_HOSPITAL: _ClassVar[AlertService]
    ALERT_SERVICE_LEGEVAKT_116117: _ClassVar[AlertService]

class DestinationCondition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DESTINATION_CONDITION_UNSPECIFIED: _ClassVar[DestinationCondition]
    DESTINATION_CONDITION_TRAUMA: _ClassVar[DestinationCondition]
    DESTINATION_CONDITION_STROKE: _ClassVar[DestinationCondition]
    DESTINATION_CONDITION_STEMI: _ClassVar[DestinationCondition]
    DESTINATION_CONDITION_OTHER: _ClassVar[DestinationCondition]

class PreNotificationSex(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRE_NOTIFICATION_SEX_UNSPECIFIED: _ClassVar[PreNotificationSex]
    PRE_NOTIFICATION_SEX_FEMALE: _ClassVar[PreNotificationSex]
    PRE_NOTIFICATION_SEX_MALE: _ClassVar[PreNotificationSex]
    PRE_NOTIFICATION_SEX_UNKNOWN: _ClassVar[PreNotificationSex]

class AlertState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_STATE_UNSPECIFIED: _ClassVar[AlertState]
    ALERT_STATE_PROPOSED: _ClassVar[AlertState]
    ALERT_STATE_SENT: _ClassVar[AlertState]
    ALERT_STATE_ACKNOWLEDGED: _ClassVar[AlertState]
    ALERT_STATE_ESCALATED: _ClassVar[AlertState]
    ALERT_STATE_CANCELLED: _ClassVar[AlertState]
    ALERT_STATE_DECLINED: _ClassVar[AlertState]

class AirMissionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AIR_MISSION_STATE_UNSPECIFIED: _ClassVar[AirMissionState]
    AIR_MISSION_STATE_REQUESTED: _ClassVar[AirMissionState]
    AIR_MISSION_STATE_ACCEPTED: _ClassVar[AirMissionState]
    AIR_MISSION_STATE_DECLINED: _ClassVar[AirMissionState]
    AIR_MISSION_STATE_AIRBORNE: _ClassVar[AirMissionState]
    AIR_MISSION_STATE_ON_SCENE: _ClassVar[AirMissionState]
    AIR_MISSION_STATE_TRANSPORTING: _ClassVar[AirMissionState]
    AIR_MISSION_STATE_AT_HOSPITAL: _ClassVar[AirMissionState]
    AIR_MISSION_STATE_COMPLETED: _ClassVar[AirMissionState]
    AIR_MISSION_STATE_ABORTED: _ClassVar[AirMissionState]

class CprStep(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CPR_STEP_UNSPECIFIED: _ClassVar[CprStep]
    CPR_STEP_STARTED: _ClassVar[CprStep]
    CPR_STEP_COMPRESSIONS: _ClassVar[CprStep]
    CPR_STEP_BYSTANDER: _ClassVar[CprStep]
    CPR_STEP_NOT_GIVEN: _ClassVar[CprStep]
    CPR_STEP_ENDED: _ClassVar[CprStep]

class CprEnd(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CPR_END_UNSPECIFIED: _ClassVar[CprEnd]
    CPR_END_ROSC: _ClassVar[CprEnd]
    CPR_END_CALL_LOST: _ClassVar[CprEnd]
    CPR_END_CALLER_STOPPED: _ClassVar[CprEnd]
    CPR_END_OTHERS_TOOK_OVER: _ClassVar[CprEnd]
    CPR_END_NOT_INDICATED: _ClassVar[CprEnd]
    CPR_END_NOT_ARREST: _ClassVar[CprEnd]
    CPR_END_WRONG_INCIDENT: _ClassVar[CprEnd]

class AirDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AIR_DECISION_UNSPECIFIED: _ClassVar[AirDecision]
    AIR_DECISION_ACCEPT: _ClassVar[AirDecision]
    AIR_DECISION_DECLINE: _ClassVar[AirDecision]

class CallStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALL_STATUS_UNSPECIFIED: _ClassVar[CallStatus]
    CALL_STATUS_WAITING: _ClassVar[CallStatus]
    CALL_STATUS_ANSWERED: _ClassVar[CallStatus]
    CALL_STATUS_COMPLETED: _ClassVar[CallStatus]
    CALL_STATUS_ABANDONED: _ClassVar[CallStatus]

class CallOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALL_OUTCOME_UNSPECIFIED: _ClassVar[CallOutcome]
    CALL_OUTCOME_ADVICE: _ClassVar[CallOutcome]
    CALL_OUTCOME_LEGEVAKT: _ClassVar[CallOutcome]
    CALL_OUTCOME_OTHER_SERVICE: _ClassVar[CallOutcome]
    CALL_OUTCOME_NO_NEED: _ClassVar[CallOutcome]
    CALL_OUTCOME_OTHER: _ClassVar[CallOutcome]
    CALL_OUTCOME_DISCONNECTED: _ClassVar[CallOutcome]
URGENCY_UNSPECIFIED: Urgency
URGENCY_AKUTT: Urgency
URGENCY_HASTER: Urgency
URGENCY_VANLIG: Urgency
INCIDENT_STATUS_UNSPECIFIED: IncidentStatus
INCIDENT_STATUS_RECEIVED: IncidentStatus
INCIDENT_STATUS_TRIAGED: IncidentStatus
INCIDENT_STATUS_DISPATCHED: IncidentStatus
INCIDENT_STATUS_ON_SCENE: IncidentStatus
INCIDENT_STATUS_TRANSPORTING: IncidentStatus
INCIDENT_STATUS_AT_HOSPITAL: IncidentStatus
INCIDENT_STATUS_CLOSED: IncidentStatus
INCIDENT_STATUS_CANCELLED: IncidentStatus
UNIT_STATUS_UNSPECIFIED: UnitStatus
UNIT_STATUS_AVAILABLE_AT_STATION: UnitStatus
UNIT_STATUS_AVAILABLE_MOBILE: UnitStatus
UNIT_STATUS_ASSIGNED: UnitStatus
UNIT_STATUS_EN_ROUTE: UnitStatus
UNIT_STATUS_ON_SCENE: UnitStatus
UNIT_STATUS_TRANSPORTING: UnitStatus
UNIT_STATUS_AT_HOSPITAL: UnitStatus
UNIT_STATUS_OUT_OF_SERVICE: UnitStatus
UNIT_KIND_UNSPECIFIED: UnitKind
UNIT_KIND_ROAD_AMBULANCE: UnitKind
UNIT_KIND_RAPID_RESPONSE_CAR: UnitKind
UNIT_KIND_BOAT_AMBULANCE: UnitKind
UNIT_KIND_HELICOPTER: UnitKind
UNIT_KIND_FIXED_WING: UnitKind
CREW_LEVEL_UNSPECIFIED: CrewLevel
CREW_LEVEL_EMT: CrewLevel
CREW_LEVEL_PARAMEDIC: CrewLevel
CREW_LEVEL_DOCTOR: CrewLevel
ALERT_SERVICE_UNSPECIFIED: AlertService
ALERT_SERVICE_FIRE_110: AlertService
ALERT_SERVICE_POLICE_112: AlertService
ALERT_SERVICE_AIR_AMBULANCE: AlertService
ALERT_SERVICE_HOSPITAL: AlertService
ALERT_SERVICE_LEGEVAKT_116117: AlertService
DESTINATION_CONDITION_UNSPECIFIED: DestinationCondition
DESTINATION_CONDITION_TRAUMA: DestinationCondition
DESTINATION_CONDITION_STROKE: DestinationCondition
DESTINATION_CONDITION_STEMI: DestinationCondition
DESTINATION_CONDITION_OTHER: DestinationCondition
PRE_NOTIFICATION_SEX_UNSPECIFIED: PreNotificationSex
PRE_NOTIFICATION_SEX_FEMALE: PreNotificationSex
PRE_NOTIFICATION_SEX_MALE: PreNotificationSex
PRE_NOTIFICATION_SEX_UNKNOWN: PreNotificationSex
ALERT_STATE_UNSPECIFIED: AlertState
ALERT_STATE_PROPOSED: AlertState
ALERT_STATE_SENT: AlertState
ALERT_STATE_ACKNOWLEDGED: AlertState
ALERT_STATE_ESCALATED: AlertState
ALERT_STATE_CANCELLED: AlertState
ALERT_STATE_DECLINED: AlertState
AIR_MISSION_STATE_UNSPECIFIED: AirMissionState
AIR_MISSION_STATE_REQUESTED: AirMissionState
AIR_MISSION_STATE_ACCEPTED: AirMissionState
AIR_MISSION_STATE_DECLINED: AirMissionState
AIR_MISSION_STATE_AIRBORNE: AirMissionState
AIR_MISSION_STATE_ON_SCENE: AirMissionState
AIR_MISSION_STATE_TRANSPORTING: AirMissionState
AIR_MISSION_STATE_AT_HOSPITAL: AirMissionState
AIR_MISSION_STATE_COMPLETED: AirMissionState
AIR_MISSION_STATE_ABORTED: AirMissionState
CPR_STEP_UNSPECIFIED: CprStep
CPR_STEP_STARTED: CprStep
CPR_STEP_COMPRESSIONS: CprStep
CPR_STEP_BYSTANDER: CprStep
CPR_STEP_NOT_GIVEN: CprStep
CPR_STEP_ENDED: CprStep
CPR_END_UNSPECIFIED: CprEnd
CPR_END_ROSC: CprEnd
CPR_END_CALL_LOST: CprEnd
CPR_END_CALLER_STOPPED: CprEnd
CPR_END_OTHERS_TOOK_OVER: CprEnd
CPR_END_NOT_INDICATED: CprEnd
CPR_END_NOT_ARREST: CprEnd
CPR_END_WRONG_INCIDENT: CprEnd
AIR_DECISION_UNSPECIFIED: AirDecision
AIR_DECISION_ACCEPT: AirDecision
AIR_DECISION_DECLINE: AirDecision
CALL_STATUS_UNSPECIFIED: CallStatus
CALL_STATUS_WAITING: CallStatus
CALL_STATUS_ANSWERED: CallStatus
CALL_STATUS_COMPLETED: CallStatus
CALL_STATUS_ABANDONED: CallStatus
CALL_OUTCOME_UNSPECIFIED: CallOutcome
CALL_OUTCOME_ADVICE: CallOutcome
CALL_OUTCOME_LEGEVAKT: CallOutcome
CALL_OUTCOME_OTHER_SERVICE: CallOutcome
CALL_OUTCOME_NO_NEED: CallOutcome
CALL_OUTCOME_OTHER: CallOutcome
CALL_OUTCOME_DISCONNECTED: CallOutcome

class Position(_message.Message):
    __slots__ = ("lat", "lon", "accuracy_m")
    LAT_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_M_FIELD_NUMBER: _ClassVar[int]
    lat: float
    lon: float
    accuracy_m: float
    def __init__(self, lat: _Optional[float] = ..., lon: _Optional[float] = ..., accuracy_m: _Optional[float] = ...) -> None: ...

class Note(_message.Message):
    __slots__ = ("text", "author", "at")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    text: str
    author: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, text: _Optional[str] = ..., author: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UrgencyChange(_message.Message):
    __slots__ = ("urgency", "criteria_code", "at")
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_CODE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    urgency: Urgency
    criteria_code: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, urgency: _Optional[_Union[Urgency, str]] = ..., criteria_code: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Incident(_message.Message):
    __slots__ = ("id", "region", "status", "urgency", "position", "address", "caller_number", "complaint_chapter", "criteria_code", "notes", "assigned_unit_ids", "created_at", "updated_at", "urgency_history", "revision", "archived", "alerts", "cpr", "warnings")
    ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CALLER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    COMPLAINT_CHAPTER_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_CODE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_UNIT_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    URGENCY_HISTORY_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    CPR_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    region: str
    status: IncidentStatus
    urgency: Urgency
    position: Position
    address: str
    caller_number: str
    complaint_chapter: int
    criteria_code: str
    notes: _containers.RepeatedCompositeFieldContainer[Note]
    assigned_unit_ids: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    urgency_history: _containers.RepeatedCompositeFieldContainer[UrgencyChange]
    revision: int
    archived: bool
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    cpr: CprGuidance
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., region: _Optional[str] = ..., status: _Optional[_Union[IncidentStatus, str]] = ..., urgency: _Optional[_Union[Urgency, str]] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., address: _Optional[str] = ..., caller_number: _Optional[str] = ..., complaint_chapter: _Optional[int] = ..., criteria_code: _Optional[str] = ..., notes: _Optional[_Iterable[_Union[Note, _Mapping]]] = ..., assigned_unit_ids: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., urgency_history: _Optional[_Iterable[_Union[UrgencyChange, _Mapping]]] = ..., revision: _Optional[int] = ..., archived: _Optional[bool] = ..., alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., cpr: _Optional[_Union[CprGuidance, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class CprGuidance(_message.Message):
    __slots__ = ("started_at", "started_by", "compressions_at", "compressions_by", "bystander", "not_given_at", "not_given_by", "not_given_reason", "ended_at", "ended_by", "end")
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_BY_FIELD_NUMBER: _ClassVar[int]
    COMPRESSIONS_AT_FIELD_NUMBER: _ClassVar[int]
    COMPRESSIONS_BY_FIELD_NUMBER: _ClassVar[int]
    BYSTANDER_FIELD_NUMBER: _ClassVar[int]
    NOT_GIVEN_AT_FIELD_NUMBER: _ClassVar[int]
    NOT_GIVEN_BY_FIELD_NUMBER: _ClassVar[int]
    NOT_GIVEN_REASON_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_BY_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    started_at: _timestamp_pb2.Timestamp
    started_by: str
    compressions_at: _timestamp_pb2.Timestamp
    compressions_by: str
    bystander: bool
    not_given_at: _timestamp_pb2.Timestamp
    not_given_by: str
    not_given_reason: str
    ended_at: _timestamp_pb2.Timestamp
    ended_by: str
    end: CprEnd
    def __init__(self, started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_by: _Optional[str] = ..., compressions_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., compressions_by: _Optional[str] = ..., bystander: _Optional[bool] = ..., not_given_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., not_given_by: _Optional[str] = ..., not_given_reason: _Optional[str] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_by: _Optional[str] = ..., end: _Optional[_Union[CprEnd, str]] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("id", "incident_id", "service", "state", "action_card", "criteria_code", "reason", "recipient", "proposed_at", "sent_at", "sent_by", "acknowledged_at", "acknowledged_by", "escalated_at", "cancelled_at", "cancelled_by", "note", "prenotification", "air_kind", "mission_id", "delivered_at", "declined_at", "declined_by", "aircraft_unit_id", "base_doctor", "mission_state", "mission_updated_at", "withdrawn_at", "withdrawn_by", "withdrawal_delivered_at", "withdrawal_owed", "withdrawal_answer")
    ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ACTION_CARD_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    PROPOSED_AT_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    SENT_BY_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_AT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    PRENOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    AIR_KIND_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    DECLINED_AT_FIELD_NUMBER: _ClassVar[int]
    DECLINED_BY_FIELD_NUMBER: _ClassVar[int]
    AIRCRAFT_UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_DOCTOR_FIELD_NUMBER: _ClassVar[int]
    MISSION_STATE_FIELD_NUMBER: _ClassVar[int]
    MISSION_UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_AT_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_BY_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWAL_DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWAL_OWED_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWAL_ANSWER_FIELD_NUMBER: _ClassVar[int]
    id: str
    incident_id: str
    service: AlertService
    state: AlertState
    action_card: str
    criteria_code: str
    reason: str
    recipient: str
    proposed_at: _timestamp_pb2.Timestamp
    sent_at: _timestamp_pb2.Timestamp
    sent_by: str
    acknowledged_at: _timestamp_pb2.Timestamp
    acknowledged_by: str
    escalated_at: _timestamp_pb2.Timestamp
    cancelled_at: _timestamp_pb2.Timestamp
    cancelled_by: str
    note: str
    prenotification: PreNotification
    air_kind: UnitKind
    mission_id: str
    delivered_at: _timestamp_pb2.Timestamp
    declined_at: _timestamp_pb2.Timestamp
    declined_by: str
    aircraft_unit_id: str
    base_doctor: str
    mission_state: AirMissionState
    mission_updated_at: _timestamp_pb2.Timestamp
    withdrawn_at: _timestamp_pb2.Timestamp
    withdrawn_by: str
    withdrawal_delivered_at: _timestamp_pb2.Timestamp
    withdrawal_owed: bool
    withdrawal_answer: AirMissionState
    def __init__(self, id: _Optional[str] = ..., incident_id: _Optional[str] = ..., service: _Optional[_Union[AlertService, str]] = ..., state: _Optional[_Union[AlertState, str]] = ..., action_card: _Optional[str] = ..., criteria_code: _Optional[str] = ..., reason: _Optional[str] = ..., recipient: _Optional[str] = ..., proposed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_by: _Optional[str] = ..., acknowledged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acknowledged_by: _Optional[str] = ..., escalated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancelled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancelled_by: _Optional[str] = ..., note: _Optional[str] = ..., prenotification: _Optional[_Union[PreNotification, _Mapping]] = ..., air_kind: _Optional[_Union[UnitKind, str]] = ..., mission_id: _Optional[str] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., declined_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., declined_by: _Optional[str] = ..., aircraft_unit_id: _Optional[str] = ..., base_doctor: _Optional[str] = ..., mission_state: _Optional[_Union[AirMissionState, str]] = ..., mission_updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., withdrawn_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., withdrawn_by: _Optional[str] = ..., withdrawal_delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., withdrawal_owed: _Optional[bool] = ..., withdrawal_answer: _Optional[_Union[AirMissionState, str]] = ...) -> None: ...

class PreNotification(_message.Message):
    __slots__ = ("hospital_id", "hospital_name", "condition", "age", "sex", "urgency", "findings", "free_text", "symptom_onset", "unit_id", "expected_arrival", "eta_reason", "eta_updated_at", "eta_updates", "arrived_at", "replaced_by", "lead_time_s", "withdrawn_at", "documents_due", "documents_delivered", "delivered_at")
    HOSPITAL_ID_FIELD_NUMBER: _ClassVar[int]
    HOSPITAL_NAME_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    FREE_TEXT_FIELD_NUMBER: _ClassVar[int]
    SYMPTOM_ONSET_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_ARRIVAL_FIELD_NUMBER: _ClassVar[int]
    ETA_REASON_FIELD_NUMBER: _ClassVar[int]
    ETA_UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETA_UPDATES_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLACED_BY_FIELD_NUMBER: _ClassVar[int]
    LEAD_TIME_S_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_AT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_DUE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    hospital_id: str
    hospital_name: str
    condition: DestinationCondition
    age: int
    sex: PreNotificationSex
    urgency: Urgency
    findings: str
    free_text: str
    symptom_onset: _timestamp_pb2.Timestamp
    unit_id: str
    expected_arrival: _timestamp_pb2.Timestamp
    eta_reason: str
    eta_updated_at: _timestamp_pb2.Timestamp
    eta_updates: int
    arrived_at: _timestamp_pb2.Timestamp
    replaced_by: str
    lead_time_s: float
    withdrawn_at: _timestamp_pb2.Timestamp
    documents_due: int
    documents_delivered: int
    delivered_at: _timestamp_pb2.Timestamp
    def __init__(self, hospital_id: _Optional[str] = ..., hospital_name: _Optional[str] = ..., condition: _Optional[_Union[DestinationCondition, str]] = ..., age: _Optional[int] = ..., sex: _Optional[_Union[PreNotificationSex, str]] = ..., urgency: _Optional[_Union[Urgency, str]] = ..., findings: _Optional[str] = ..., free_text: _Optional[str] = ..., symptom_onset: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unit_id: _Optional[str] = ..., expected_arrival: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., eta_reason: _Optional[str] = ..., eta_updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., eta_updates: _Optional[int] = ..., arrived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replaced_by: _Optional[str] = ..., lead_time_s: _Optional[float] = ..., withdrawn_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., documents_due: _Optional[int] = ..., documents_delivered: _Optional[int] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Unit(_message.Message):
    __slots__ = ("id", "call_sign", "region", "kind", "crew", "status", "position", "station", "incident_id", "updated_at", "revision", "air_mission_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    CALL_SIGN_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CREW_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    STATION_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AIR_MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    call_sign: str
    region: str
    kind: UnitKind
    crew: CrewLevel
    status: UnitStatus
    position: Position
    station: str
    incident_id: str
    updated_at: _timestamp_pb2.Timestamp
    revision: int
    air_mission_id: str
    def __init__(self, id: _Optional[str] = ..., call_sign: _Optional[str] = ..., region: _Optional[str] = ..., kind: _Optional[_Union[UnitKind, str]] = ..., crew: _Optional[_Union[CrewLevel, str]] = ..., status: _Optional[_Union[UnitStatus, str]] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., station: _Optional[str] = ..., incident_id: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ..., air_mission_id: _Optional[str] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("incident", "unit", "from_incident")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    FROM_INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: Incident
    unit: Unit
    from_incident: Incident
    def __init__(self, incident: _Optional[_Union[Incident, _Mapping]] = ..., unit: _Optional[_Union[Unit, _Mapping]] = ..., from_incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class CreateIncidentRequest(_message.Message):
    __slots__ = ("request_id", "region", "position", "address", "caller_number", "complaint_chapter", "criteria_code", "notes", "call_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CALLER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    COMPLAINT_CHAPTER_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_CODE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    region: str
    position: Position
    address: str
    caller_number: str
    complaint_chapter: int
    criteria_code: str
    notes: str
    call_id: str
    def __init__(self, request_id: _Optional[str] = ..., region: _Optional[str] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., address: _Optional[str] = ..., caller_number: _Optional[str] = ..., complaint_chapter: _Optional[int] = ..., criteria_code: _Optional[str] = ..., notes: _Optional[str] = ..., call_id: _Optional[str] = ...) -> None: ...

class GetIncidentRequest(_message.Message):
    __slots__ = ("incident_id",)
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    def __init__(self, incident_id: _Optional[str] = ...) -> None: ...

class RecommendDestinationRequest(_message.Message):
    __slots__ = ("incident_id", "condition", "unit_id", "limit")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    condition: DestinationCondition
    unit_id: str
    limit: int
    def __init__(self, incident_id: _Optional[str] = ..., condition: _Optional[_Union[DestinationCondition, str]] = ..., unit_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class Destination(_message.Message):
    __slots__ = ("rank", "hospital_id", "hospital_name", "region", "eta_s", "distance_km", "mode", "reason", "note", "capable", "uncertain", "expected_arrival", "trauma_level", "stroke_thrombolysis", "stroke_thrombectomy", "pci", "reason_nb", "note_nb")
    RANK_FIELD_NUMBER: _ClassVar[int]
    HOSPITAL_ID_FIELD_NUMBER: _ClassVar[int]
    HOSPITAL_NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ETA_S_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    CAPABLE_FIELD_NUMBER: _ClassVar[int]
    UNCERTAIN_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_ARRIVAL_FIELD_NUMBER: _ClassVar[int]
    TRAUMA_LEVEL_FIELD_NUMBER: _ClassVar[int]
    STROKE_THROMBOLYSIS_FIELD_NUMBER: _ClassVar[int]
    STROKE_THROMBECTOMY_FIELD_NUMBER: _ClassVar[int]
    PCI_FIELD_NUMBER: _ClassVar[int]
    REASON_NB_FIELD_NUMBER: _ClassVar[int]
    NOTE_NB_FIELD_NUMBER: _ClassVar[int]
    rank: int
    hospital_id: str
    hospital_name: str
    region: str
    eta_s: float
    distance_km: float
    mode: str
    reason: str
    note: str
    capable: bool
    uncertain: _containers.RepeatedScalarFieldContainer[str]
    expected_arrival: _timestamp_pb2.Timestamp
    trauma_level: str
    stroke_thrombolysis: bool
    stroke_thrombectomy: bool
    pci: bool
    reason_nb: str
    note_nb: str
    def __init__(self, rank: _Optional[int] = ..., hospital_id: _Optional[str] = ..., hospital_name: _Optional[str] = ..., region: _Optional[str] = ..., eta_s: _Optional[float] = ..., distance_km: _Optional[float] = ..., mode: _Optional[str] = ..., reason: _Optional[str] = ..., note: _Optional[str] = ..., capable: _Optional[bool] = ..., uncertain: _Optional[_Iterable[str]] = ..., expected_arrival: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trauma_level: _Optional[str] = ..., stroke_thrombolysis: _Optional[bool] = ..., stroke_thrombectomy: _Optional[bool] = ..., pci: _Optional[bool] = ..., reason_nb: _Optional[str] = ..., note_nb: _Optional[str] = ...) -> None: ...

class RecommendDestinationResponse(_message.Message):
    __slots__ = ("condition", "condition_reason", "origin", "destinations")
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    CONDITION_REASON_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    condition: DestinationCondition
    condition_reason: str
    origin: str
    destinations: _containers.RepeatedCompositeFieldContainer[Destination]
    def __init__(self, condition: _Optional[_Union[DestinationCondition, str]] = ..., condition_reason: _Optional[str] = ..., origin: _Optional[str] = ..., destinations: _Optional[_Iterable[_Union[Destination, _Mapping]]] = ...) -> None: ...

class SendPreNotificationRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "hospital_id", "condition", "unit_id", "age", "sex", "findings", "free_text", "symptom_onset")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    HOSPITAL_ID_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    FREE_TEXT_FIELD_NUMBER: _ClassVar[int]
    SYMPTOM_ONSET_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    hospital_id: str
    condition: DestinationCondition
    unit_id: str
    age: int
    sex: PreNotificationSex
    findings: str
    free_text: str
    symptom_onset: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., hospital_id: _Optional[str] = ..., condition: _Optional[_Union[DestinationCondition, str]] = ..., unit_id: _Optional[str] = ..., age: _Optional[int] = ..., sex: _Optional[_Union[PreNotificationSex, str]] = ..., findings: _Optional[str] = ..., free_text: _Optional[str] = ..., symptom_onset: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConfirmPreNotificationByPhoneRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "alert_id", "spoke_with")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    SPOKE_WITH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    alert_id: str
    spoke_with: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., spoke_with: _Optional[str] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("incident_id",)
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    def __init__(self, incident_id: _Optional[str] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ...) -> None: ...

class SendAlertRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "service", "reason", "phoned_to")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PHONED_TO_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    service: AlertService
    reason: str
    phoned_to: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., service: _Optional[_Union[AlertService, str]] = ..., reason: _Optional[str] = ..., phoned_to: _Optional[str] = ...) -> None: ...

class AcknowledgeAlertRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "alert_id", "acknowledged_by")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    alert_id: str
    acknowledged_by: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., acknowledged_by: _Optional[str] = ...) -> None: ...

class CancelAlertRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "alert_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    alert_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., alert_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RequestAirAmbulanceRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "kind", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    kind: UnitKind
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., kind: _Optional[_Union[UnitKind, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class AnswerAirRequestRequest(_message.Message):
    __slots__ = ("request_id", "mission_id", "decision", "unit_id", "base_doctor", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_DOCTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    mission_id: str
    decision: AirDecision
    unit_id: str
    base_doctor: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., mission_id: _Optional[str] = ..., decision: _Optional[_Union[AirDecision, str]] = ..., unit_id: _Optional[str] = ..., base_doctor: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AirAbortMissionRequest(_message.Message):
    __slots__ = ("request_id", "mission_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    mission_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., mission_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AirGetMissionRequest(_message.Message):
    __slots__ = ("mission_id",)
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    mission_id: str
    def __init__(self, mission_id: _Optional[str] = ...) -> None: ...

class AirListMissionsRequest(_message.Message):
    __slots__ = ("regions", "include_closed", "incident_id")
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedScalarFieldContainer[str]
    include_closed: bool
    incident_id: str
    def __init__(self, regions: _Optional[_Iterable[str]] = ..., include_closed: _Optional[bool] = ..., incident_id: _Optional[str] = ...) -> None: ...

class AirMissionEvent(_message.Message):
    __slots__ = ("state", "at", "by", "note")
    STATE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    state: AirMissionState
    at: _timestamp_pb2.Timestamp
    by: str
    note: str
    def __init__(self, state: _Optional[_Union[AirMissionState, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., by: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class AirMission(_message.Message):
    __slots__ = ("id", "region", "incident_id", "incident_region", "alert_id", "kind", "state", "position", "urgency", "criteria_code", "address", "reason", "requested_by", "requested_at", "received_at", "unit_id", "base_doctor", "answered_by", "answered_at", "decline_reason", "updated_at", "closed_at", "events", "reported", "revision", "archived", "withdrawn_at", "withdrawn_by", "withdrawal_reason", "withdrawal_answer")
    ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_REGION_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_CODE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_DOCTOR_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    DECLINE_REASON_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    REPORTED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_AT_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_BY_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWAL_REASON_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWAL_ANSWER_FIELD_NUMBER: _ClassVar[int]
    id: str
    region: str
    incident_id: str
    incident_region: str
    alert_id: str
    kind: UnitKind
    state: AirMissionState
    position: Position
    urgency: Urgency
    criteria_code: str
    address: str
    reason: str
    requested_by: str
    requested_at: _timestamp_pb2.Timestamp
    received_at: _timestamp_pb2.Timestamp
    unit_id: str
    base_doctor: str
    answered_by: str
    answered_at: _timestamp_pb2.Timestamp
    decline_reason: str
    updated_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    events: _containers.RepeatedCompositeFieldContainer[AirMissionEvent]
    reported: bool
    revision: int
    archived: bool
    withdrawn_at: _timestamp_pb2.Timestamp
    withdrawn_by: str
    withdrawal_reason: str
    withdrawal_answer: AirMissionState
    def __init__(self, id: _Optional[str] = ..., region: _Optional[str] = ..., incident_id: _Optional[str] = ..., incident_region: _Optional[str] = ..., alert_id: _Optional[str] = ..., kind: _Optional[_Union[UnitKind, str]] = ..., state: _Optional[_Union[AirMissionState, str]] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., urgency: _Optional[_Union[Urgency, str]] = ..., criteria_code: _Optional[str] = ..., address: _Optional[str] = ..., reason: _Optional[str] = ..., requested_by: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unit_id: _Optional[str] = ..., base_doctor: _Optional[str] = ..., answered_by: _Optional[str] = ..., answered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decline_reason: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., events: _Optional[_Iterable[_Union[AirMissionEvent, _Mapping]]] = ..., reported: _Optional[bool] = ..., revision: _Optional[int] = ..., archived: _Optional[bool] = ..., withdrawn_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., withdrawn_by: _Optional[str] = ..., withdrawal_reason: _Optional[str] = ..., withdrawal_answer: _Optional[_Union[AirMissionState, str]] = ...) -> None: ...

class AirListMissionsResponse(_message.Message):
    __slots__ = ("missions",)
    MISSIONS_FIELD_NUMBER: _ClassVar[int]
    missions: _containers.RepeatedCompositeFieldContainer[AirMission]
    def __init__(self, missions: _Optional[_Iterable[_Union[AirMission, _Mapping]]] = ...) -> None: ...

class GetIncidentHistoryRequest(_message.Message):
    __slots__ = ("incident_id",)
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    def __init__(self, incident_id: _Optional[str] = ...) -> None: ...

class JournalEntry(_message.Message):
    __slots__ = ("at", "command", "who", "writer", "region", "request_id", "tokens", "revision", "archived", "details_json")
    class TokensEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    AT_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    WHO_FIELD_NUMBER: _ClassVar[int]
    WRITER_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    command: str
    who: str
    writer: str
    region: str
    request_id: str
    tokens: _containers.ScalarMap[str, int]
    revision: int
    archived: bool
    details_json: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., command: _Optional[str] = ..., who: _Optional[str] = ..., writer: _Optional[str] = ..., region: _Optional[str] = ..., request_id: _Optional[str] = ..., tokens: _Optional[_Mapping[str, int]] = ..., revision: _Optional[int] = ..., archived: _Optional[bool] = ..., details_json: _Optional[str] = ...) -> None: ...

class IncidentHistory(_message.Message):
    __slots__ = ("incident_id", "entries", "alerts")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    entries: _containers.RepeatedCompositeFieldContainer[JournalEntry]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    def __init__(self, incident_id: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[JournalEntry, _Mapping]]] = ..., alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ...) -> None: ...

class SearchIncidentsRequest(_message.Message):
    __slots__ = ("regions", "since", "until", "near", "radius_m", "text", "limit")
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    NEAR_FIELD_NUMBER: _ClassVar[int]
    RADIUS_M_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedScalarFieldContainer[str]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    near: Position
    radius_m: float
    text: str
    limit: int
    def __init__(self, regions: _Optional[_Iterable[str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., near: _Optional[_Union[Position, _Mapping]] = ..., radius_m: _Optional[float] = ..., text: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class SearchIncidentsResponse(_message.Message):
    __slots__ = ("incidents", "truncated")
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    incidents: _containers.RepeatedCompositeFieldContainer[Incident]
    truncated: bool
    def __init__(self, incidents: _Optional[_Iterable[_Union[Incident, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class GetBoardAtRequest(_message.Message):
    __slots__ = ("at", "regions")
    AT_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    regions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., regions: _Optional[_Iterable[str]] = ...) -> None: ...

class RegionOwnerAt(_message.Message):
    __slots__ = ("region", "centre", "instance", "fencing_token", "since", "how")
    REGION_FIELD_NUMBER: _ClassVar[int]
    CENTRE_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    HOW_FIELD_NUMBER: _ClassVar[int]
    region: str
    centre: str
    instance: str
    fencing_token: int
    since: _timestamp_pb2.Timestamp
    how: str
    def __init__(self, region: _Optional[str] = ..., centre: _Optional[str] = ..., instance: _Optional[str] = ..., fencing_token: _Optional[int] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., how: _Optional[str] = ...) -> None: ...

class BoardAt(_message.Message):
    __slots__ = ("at", "incidents", "units", "owners", "versions")
    AT_FIELD_NUMBER: _ClassVar[int]
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    OWNERS_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    incidents: _containers.RepeatedCompositeFieldContainer[Incident]
    units: _containers.RepeatedCompositeFieldContainer[Unit]
    owners: _containers.RepeatedCompositeFieldContainer[RegionOwnerAt]
    versions: int
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., incidents: _Optional[_Iterable[_Union[Incident, _Mapping]]] = ..., units: _Optional[_Iterable[_Union[Unit, _Mapping]]] = ..., owners: _Optional[_Iterable[_Union[RegionOwnerAt, _Mapping]]] = ..., versions: _Optional[int] = ...) -> None: ...

class ListIncidentsRequest(_message.Message):
    __slots__ = ("regions", "status", "urgency", "include_closed")
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedScalarFieldContainer[str]
    status: IncidentStatus
    urgency: Urgency
    include_closed: bool
    def __init__(self, regions: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[IncidentStatus, str]] = ..., urgency: _Optional[_Union[Urgency, str]] = ..., include_closed: _Optional[bool] = ...) -> None: ...

class ListIncidentsResponse(_message.Message):
    __slots__ = ("incidents",)
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    incidents: _containers.RepeatedCompositeFieldContainer[Incident]
    def __init__(self, incidents: _Optional[_Iterable[_Union[Incident, _Mapping]]] = ...) -> None: ...

class TriageIncidentRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "criteria_code")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_CODE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    criteria_code: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., criteria_code: _Optional[str] = ...) -> None: ...

class ChangeIncidentStatusRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "status")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    status: IncidentStatus
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., status: _Optional[_Union[IncidentStatus, str]] = ...) -> None: ...

class AddIncidentNoteRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "text")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    text: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class ChangeIncidentLocationRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "position", "address", "clear_address")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CLEAR_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    position: Position
    address: str
    clear_address: bool
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., address: _Optional[str] = ..., clear_address: _Optional[bool] = ...) -> None: ...

class RecordCprGuidanceRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "step", "reason", "end")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    step: CprStep
    reason: str
    end: CprEnd
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., step: _Optional[_Union[CprStep, str]] = ..., reason: _Optional[str] = ..., end: _Optional[_Union[CprEnd, str]] = ...) -> None: ...

class ListUnitsRequest(_message.Message):
    __slots__ = ("regions", "status", "kind")
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedScalarFieldContainer[str]
    status: UnitStatus
    kind: UnitKind
    def __init__(self, regions: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[UnitStatus, str]] = ..., kind: _Optional[_Union[UnitKind, str]] = ...) -> None: ...

class ListUnitsResponse(_message.Message):
    __slots__ = ("units",)
    UNITS_FIELD_NUMBER: _ClassVar[int]
    units: _containers.RepeatedCompositeFieldContainer[Unit]
    def __init__(self, units: _Optional[_Iterable[_Union[Unit, _Mapping]]] = ...) -> None: ...

class GetUnitRequest(_message.Message):
    __slots__ = ("unit_id",)
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    unit_id: str
    def __init__(self, unit_id: _Optional[str] = ...) -> None: ...

class ChangeUnitStatusRequest(_message.Message):
    __slots__ = ("request_id", "unit_id", "status", "occurred_at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    unit_id: str
    status: UnitStatus
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., unit_id: _Optional[str] = ..., status: _Optional[_Union[UnitStatus, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportUnitPositionRequest(_message.Message):
    __slots__ = ("request_id", "unit_id", "position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    unit_id: str
    position: Position
    def __init__(self, request_id: _Optional[str] = ..., unit_id: _Optional[str] = ..., position: _Optional[_Union[Position, _Mapping]] = ...) -> None: ...

class StreamUnitPositionsSummary(_message.Message):
    __slots__ = ("accepted", "rejected")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected: int
    def __init__(self, accepted: _Optional[int] = ..., rejected: _Optional[int] = ...) -> None: ...

class RecommendUnitsRequest(_message.Message):
    __slots__ = ("incident_id", "limit")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    limit: int
    def __init__(self, incident_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class Recommendation(_message.Message):
    __slots__ = ("rank", "unit", "eta_s", "distance_km", "mode", "reason", "note", "reason_nb", "note_nb")
    RANK_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    ETA_S_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REASON_NB_FIELD_NUMBER: _ClassVar[int]
    NOTE_NB_FIELD_NUMBER: _ClassVar[int]
    rank: int
    unit: Unit
    eta_s: float
    distance_km: float
    mode: str
    reason: str
    note: str
    reason_nb: str
    note_nb: str
    def __init__(self, rank: _Optional[int] = ..., unit: _Optional[_Union[Unit, _Mapping]] = ..., eta_s: _Optional[float] = ..., distance_km: _Optional[float] = ..., mode: _Optional[str] = ..., reason: _Optional[str] = ..., note: _Optional[str] = ..., reason_nb: _Optional[str] = ..., note_nb: _Optional[str] = ...) -> None: ...

class RecommendUnitsResponse(_message.Message):
    __slots__ = ("recommendations", "diversions")
    RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    DIVERSIONS_FIELD_NUMBER: _ClassVar[int]
    recommendations: _containers.RepeatedCompositeFieldContainer[Recommendation]
    diversions: _containers.RepeatedCompositeFieldContainer[Recommendation]
    def __init__(self, recommendations: _Optional[_Iterable[_Union[Recommendation, _Mapping]]] = ..., diversions: _Optional[_Iterable[_Union[Recommendation, _Mapping]]] = ...) -> None: ...

class AssignUnitRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "unit_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    unit_id: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., unit_id: _Optional[str] = ...) -> None: ...

class ReleaseUnitRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "unit_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    unit_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., unit_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DivertUnitRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "unit_id", "from_incident_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    unit_id: str
    from_incident_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., unit_id: _Optional[str] = ..., from_incident_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("regions", "from_revision")
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedScalarFieldContainer[str]
    from_revision: int
    def __init__(self, regions: _Optional[_Iterable[str]] = ..., from_revision: _Optional[int] = ...) -> None: ...

class WatchEvent(_message.Message):
    __slots__ = ("kind", "revision", "region", "incident", "unit", "region_status", "removed_id", "message")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[WatchEvent.Kind]
        KIND_SNAPSHOT_INCIDENT: _ClassVar[WatchEvent.Kind]
        KIND_SNAPSHOT_UNIT: _ClassVar[WatchEvent.Kind]
        KIND_SNAPSHOT_DONE: _ClassVar[WatchEvent.Kind]
        KIND_INCIDENT_CHANGED: _ClassVar[WatchEvent.Kind]
        KIND_UNIT_CHANGED: _ClassVar[WatchEvent.Kind]
        KIND_INCIDENT_REMOVED: _ClassVar[WatchEvent.Kind]
        KIND_UNIT_REMOVED: _ClassVar[WatchEvent.Kind]
        KIND_REGION_OWNER_CHANGED: _ClassVar[WatchEvent.Kind]
    KIND_UNSPECIFIED: WatchEvent.Kind
    KIND_SNAPSHOT_INCIDENT: WatchEvent.Kind
    KIND_SNAPSHOT_UNIT: WatchEvent.Kind
    KIND_SNAPSHOT_DONE: WatchEvent.Kind
    KIND_INCIDENT_CHANGED: WatchEvent.Kind
    KIND_UNIT_CHANGED: WatchEvent.Kind
    KIND_INCIDENT_REMOVED: WatchEvent.Kind
    KIND_UNIT_REMOVED: WatchEvent.Kind
    KIND_REGION_OWNER_CHANGED: WatchEvent.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    REGION_STATUS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: WatchEvent.Kind
    revision: int
    region: str
    incident: Incident
    unit: Unit
    region_status: RegionStatus
    removed_id: str
    message: str
    def __init__(self, kind: _Optional[_Union[WatchEvent.Kind, str]] = ..., revision: _Optional[int] = ..., region: _Optional[str] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ..., unit: _Optional[_Union[Unit, _Mapping]] = ..., region_status: _Optional[_Union[RegionStatus, _Mapping]] = ..., removed_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class WatchEventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[WatchEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[WatchEvent, _Mapping]]] = ...) -> None: ...

class GetClusterStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CentreStatus(_message.Message):
    __slots__ = ("id", "name", "alive", "node_id", "pid", "lease_id", "lease_ttl_s", "lease_valid_for_s", "regions_owned", "instance", "health_region")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALIVE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_S_FIELD_NUMBER: _ClassVar[int]
    LEASE_VALID_FOR_S_FIELD_NUMBER: _ClassVar[int]
    REGIONS_OWNED_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_REGION_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    alive: bool
    node_id: str
    pid: int
    lease_id: int
    lease_ttl_s: int
    lease_valid_for_s: float
    regions_owned: _containers.RepeatedScalarFieldContainer[str]
    instance: str
    health_region: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., alive: _Optional[bool] = ..., node_id: _Optional[str] = ..., pid: _Optional[int] = ..., lease_id: _Optional[int] = ..., lease_ttl_s: _Optional[int] = ..., lease_valid_for_s: _Optional[float] = ..., regions_owned: _Optional[_Iterable[str]] = ..., instance: _Optional[str] = ..., health_region: _Optional[str] = ...) -> None: ...

class RegionStatus(_message.Message):
    __slots__ = ("id", "name", "home_centre", "owner_centre", "owner_instance", "fencing_token", "lease_id", "lease_ttl_left_s", "standbys", "incidents", "units", "last_takeover", "last_takeover_ms", "owner_site", "health_region", "last_takeover_by", "last_takeover_from", "last_takeover_token", "last_takeover_at", "last_takeover_handed")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    HOME_CENTRE_FIELD_NUMBER: _ClassVar[int]
    OWNER_CENTRE_FIELD_NUMBER: _ClassVar[int]
    OWNER_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_LEFT_S_FIELD_NUMBER: _ClassVar[int]
    STANDBYS_FIELD_NUMBER: _ClassVar[int]
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    LAST_TAKEOVER_FIELD_NUMBER: _ClassVar[int]
    LAST_TAKEOVER_MS_FIELD_NUMBER: _ClassVar[int]
    OWNER_SITE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_REGION_FIELD_NUMBER: _ClassVar[int]
    LAST_TAKEOVER_BY_FIELD_NUMBER: _ClassVar[int]
    LAST_TAKEOVER_FROM_FIELD_NUMBER: _ClassVar[int]
    LAST_TAKEOVER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LAST_TAKEOVER_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_TAKEOVER_HANDED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    home_centre: str
    owner_centre: str
    owner_instance: str
    fencing_token: int
    lease_id: int
    lease_ttl_left_s: int
    standbys: _containers.RepeatedScalarFieldContainer[str]
    incidents: int
    units: int
    last_takeover: str
    last_takeover_ms: float
    owner_site: str
    health_region: str
    last_takeover_by: str
    last_takeover_from: str
    last_takeover_token: int
    last_takeover_at: _timestamp_pb2.Timestamp
    last_takeover_handed: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., home_centre: _Optional[str] = ..., owner_centre: _Optional[str] = ..., owner_instance: _Optional[str] = ..., fencing_token: _Optional[int] = ..., lease_id: _Optional[int] = ..., lease_ttl_left_s: _Optional[int] = ..., standbys: _Optional[_Iterable[str]] = ..., incidents: _Optional[int] = ..., units: _Optional[int] = ..., last_takeover: _Optional[str] = ..., last_takeover_ms: _Optional[float] = ..., owner_site: _Optional[str] = ..., health_region: _Optional[str] = ..., last_takeover_by: _Optional[str] = ..., last_takeover_from: _Optional[str] = ..., last_takeover_token: _Optional[int] = ..., last_takeover_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_takeover_handed: _Optional[bool] = ...) -> None: ...

class HealthRegion(_message.Message):
    __slots__ = ("id", "name")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class SiteStatus(_message.Message):
    __slots__ = ("name", "live", "gateways", "host", "pid", "started_at", "ray_address", "active_centres", "standby_centres")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    GATEWAYS_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    RAY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CENTRES_FIELD_NUMBER: _ClassVar[int]
    STANDBY_CENTRES_FIELD_NUMBER: _ClassVar[int]
    name: str
    live: bool
    gateways: _containers.RepeatedScalarFieldContainer[str]
    host: str
    pid: int
    started_at: float
    ray_address: str
    active_centres: _containers.RepeatedScalarFieldContainer[str]
    standby_centres: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., live: _Optional[bool] = ..., gateways: _Optional[_Iterable[str]] = ..., host: _Optional[str] = ..., pid: _Optional[int] = ..., started_at: _Optional[float] = ..., ray_address: _Optional[str] = ..., active_centres: _Optional[_Iterable[str]] = ..., standby_centres: _Optional[_Iterable[str]] = ...) -> None: ...

class GatewayStatus(_message.Message):
    __slots__ = ("address", "alive", "pid", "restarts", "last_restart_at", "last_restart_s", "incarnation", "last_error")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ALIVE_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    LAST_RESTART_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RESTART_S_FIELD_NUMBER: _ClassVar[int]
    INCARNATION_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    address: str
    alive: bool
    pid: int
    restarts: int
    last_restart_at: float
    last_restart_s: float
    incarnation: str
    last_error: str
    def __init__(self, address: _Optional[str] = ..., alive: _Optional[bool] = ..., pid: _Optional[int] = ..., restarts: _Optional[int] = ..., last_restart_at: _Optional[float] = ..., last_restart_s: _Optional[float] = ..., incarnation: _Optional[str] = ..., last_error: _Optional[str] = ...) -> None: ...

class EtcdMemberStatus(_message.Message):
    __slots__ = ("endpoint", "member_id", "db_size_bytes", "db_size_in_use_bytes", "quota_bytes", "leader", "error")
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    DB_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    DB_SIZE_IN_USE_BYTES_FIELD_NUMBER: _ClassVar[int]
    QUOTA_BYTES_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    endpoint: str
    member_id: int
    db_size_bytes: int
    db_size_in_use_bytes: int
    quota_bytes: int
    leader: bool
    error: str
    def __init__(self, endpoint: _Optional[str] = ..., member_id: _Optional[int] = ..., db_size_bytes: _Optional[int] = ..., db_size_in_use_bytes: _Optional[int] = ..., quota_bytes: _Optional[int] = ..., leader: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class CredentialLists(_message.Message):
    __slots__ = ("read", "read_age_s", "revoked_certificates", "suspended", "poll_s")
    READ_FIELD_NUMBER: _ClassVar[int]
    READ_AGE_S_FIELD_NUMBER: _ClassVar[int]
    REVOKED_CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    SUSPENDED_FIELD_NUMBER: _ClassVar[int]
    POLL_S_FIELD_NUMBER: _ClassVar[int]
    read: bool
    read_age_s: float
    revoked_certificates: int
    suspended: int
    poll_s: float
    def __init__(self, read: _Optional[bool] = ..., read_age_s: _Optional[float] = ..., revoked_certificates: _Optional[int] = ..., suspended: _Optional[int] = ..., poll_s: _Optional[float] = ...) -> None: ...

class ClusterStatus(_message.Message):
    __slots__ = ("centres", "regions", "etcd_revision", "etcd_endpoints", "gateway", "gateways", "etcd_members", "site", "sites", "health_regions", "credential_lists", "insecure")
    CENTRES_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    ETCD_REVISION_FIELD_NUMBER: _ClassVar[int]
    ETCD_ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    GATEWAYS_FIELD_NUMBER: _ClassVar[int]
    ETCD_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    SITES_FIELD_NUMBER: _ClassVar[int]
    HEALTH_REGIONS_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_LISTS_FIELD_NUMBER: _ClassVar[int]
    INSECURE_FIELD_NUMBER: _ClassVar[int]
    centres: _containers.RepeatedCompositeFieldContainer[CentreStatus]
    regions: _containers.RepeatedCompositeFieldContainer[RegionStatus]
    etcd_revision: int
    etcd_endpoints: _containers.RepeatedScalarFieldContainer[str]
    gateway: str
    gateways: _containers.RepeatedCompositeFieldContainer[GatewayStatus]
    etcd_members: _containers.RepeatedCompositeFieldContainer[EtcdMemberStatus]
    site: str
    sites: _containers.RepeatedCompositeFieldContainer[SiteStatus]
    health_regions: _containers.RepeatedCompositeFieldContainer[HealthRegion]
    credential_lists: CredentialLists
    insecure: bool
    def __init__(self, centres: _Optional[_Iterable[_Union[CentreStatus, _Mapping]]] = ..., regions: _Optional[_Iterable[_Union[RegionStatus, _Mapping]]] = ..., etcd_revision: _Optional[int] = ..., etcd_endpoints: _Optional[_Iterable[str]] = ..., gateway: _Optional[str] = ..., gateways: _Optional[_Iterable[_Union[GatewayStatus, _Mapping]]] = ..., etcd_members: _Optional[_Iterable[_Union[EtcdMemberStatus, _Mapping]]] = ..., site: _Optional[str] = ..., sites: _Optional[_Iterable[_Union[SiteStatus, _Mapping]]] = ..., health_regions: _Optional[_Iterable[_Union[HealthRegion, _Mapping]]] = ..., credential_lists: _Optional[_Union[CredentialLists, _Mapping]] = ..., insecure: _Optional[bool] = ...) -> None: ...

class Call(_message.Message):
    __slots__ = ("id", "region", "status", "caller_number", "position", "arrived_at", "urgency_hint", "shared_to", "answered_by", "call_taker", "answered_at", "incident_id", "revision", "outcome", "outcome_note", "closed_at", "closed_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CALLER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_AT_FIELD_NUMBER: _ClassVar[int]
    URGENCY_HINT_FIELD_NUMBER: _ClassVar[int]
    SHARED_TO_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    CALL_TAKER_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_NOTE_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    region: str
    status: CallStatus
    caller_number: str
    position: Position
    arrived_at: _timestamp_pb2.Timestamp
    urgency_hint: Urgency
    shared_to: str
    answered_by: str
    call_taker: str
    answered_at: _timestamp_pb2.Timestamp
    incident_id: str
    revision: int
    outcome: CallOutcome
    outcome_note: str
    closed_at: _timestamp_pb2.Timestamp
    closed_by: str
    def __init__(self, id: _Optional[str] = ..., region: _Optional[str] = ..., status: _Optional[_Union[CallStatus, str]] = ..., caller_number: _Optional[str] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., arrived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., urgency_hint: _Optional[_Union[Urgency, str]] = ..., shared_to: _Optional[str] = ..., answered_by: _Optional[str] = ..., call_taker: _Optional[str] = ..., answered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., incident_id: _Optional[str] = ..., revision: _Optional[int] = ..., outcome: _Optional[_Union[CallOutcome, str]] = ..., outcome_note: _Optional[str] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_by: _Optional[str] = ...) -> None: ...

class ReceiveCallRequest(_message.Message):
    __slots__ = ("request_id", "caller_number", "position", "arrived_at", "urgency_hint")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CALLER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_AT_FIELD_NUMBER: _ClassVar[int]
    URGENCY_HINT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    caller_number: str
    position: Position
    arrived_at: _timestamp_pb2.Timestamp
    urgency_hint: Urgency
    def __init__(self, request_id: _Optional[str] = ..., caller_number: _Optional[str] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., arrived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., urgency_hint: _Optional[_Union[Urgency, str]] = ...) -> None: ...

class AbandonCallRequest(_message.Message):
    __slots__ = ("request_id", "call_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    call_id: str
    def __init__(self, request_id: _Optional[str] = ..., call_id: _Optional[str] = ...) -> None: ...

class SignInRequest(_message.Message):
    __slots__ = ("centre", "call_taker")
    CENTRE_FIELD_NUMBER: _ClassVar[int]
    CALL_TAKER_FIELD_NUMBER: _ClassVar[int]
    centre: str
    call_taker: str
    def __init__(self, centre: _Optional[str] = ..., call_taker: _Optional[str] = ...) -> None: ...

class SignOutRequest(_message.Message):
    __slots__ = ("centre", "call_taker")
    CENTRE_FIELD_NUMBER: _ClassVar[int]
    CALL_TAKER_FIELD_NUMBER: _ClassVar[int]
    centre: str
    call_taker: str
    def __init__(self, centre: _Optional[str] = ..., call_taker: _Optional[str] = ...) -> None: ...

class CallTakerStatus(_message.Message):
    __slots__ = ("centre", "call_taker", "signed_in", "free_call_takers", "signed_in_call_takers")
    CENTRE_FIELD_NUMBER: _ClassVar[int]
    CALL_TAKER_FIELD_NUMBER: _ClassVar[int]
    SIGNED_IN_FIELD_NUMBER: _ClassVar[int]
    FREE_CALL_TAKERS_FIELD_NUMBER: _ClassVar[int]
    SIGNED_IN_CALL_TAKERS_FIELD_NUMBER: _ClassVar[int]
    centre: str
    call_taker: str
    signed_in: bool
    free_call_takers: int
    signed_in_call_takers: int
    def __init__(self, centre: _Optional[str] = ..., call_taker: _Optional[str] = ..., signed_in: _Optional[bool] = ..., free_call_takers: _Optional[int] = ..., signed_in_call_takers: _Optional[int] = ...) -> None: ...

class AnswerNextCallRequest(_message.Message):
    __slots__ = ("request_id", "centre", "call_taker")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CENTRE_FIELD_NUMBER: _ClassVar[int]
    CALL_TAKER_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    centre: str
    call_taker: str
    def __init__(self, request_id: _Optional[str] = ..., centre: _Optional[str] = ..., call_taker: _Optional[str] = ...) -> None: ...

class AnswerNextCallResponse(_message.Message):
    __slots__ = ("call", "none_waiting")
    CALL_FIELD_NUMBER: _ClassVar[int]
    NONE_WAITING_FIELD_NUMBER: _ClassVar[int]
    call: Call
    none_waiting: bool
    def __init__(self, call: _Optional[_Union[Call, _Mapping]] = ..., none_waiting: _Optional[bool] = ...) -> None: ...

class LinkCallRequest(_message.Message):
    __slots__ = ("request_id", "call_id", "incident_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    call_id: str
    incident_id: str
    def __init__(self, request_id: _Optional[str] = ..., call_id: _Optional[str] = ..., incident_id: _Optional[str] = ...) -> None: ...

class CloseCallRequest(_message.Message):
    __slots__ = ("request_id", "call_id", "outcome", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    call_id: str
    outcome: CallOutcome
    note: str
    def __init__(self, request_id: _Optional[str] = ..., call_id: _Optional[str] = ..., outcome: _Optional[_Union[CallOutcome, str]] = ..., note: _Optional[str] = ...) -> None: ...

class ListCallsRequest(_message.Message):
    __slots__ = ("regions", "status")
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedScalarFieldContainer[str]
    status: CallStatus
    def __init__(self, regions: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[CallStatus, str]] = ...) -> None: ...

class ListCallsResponse(_message.Message):
    __slots__ = ("calls",)
    CALLS_FIELD_NUMBER: _ClassVar[int]
    calls: _containers.RepeatedCompositeFieldContainer[Call]
    def __init__(self, calls: _Optional[_Iterable[_Union[Call, _Mapping]]] = ...) -> None: ...

class ListCallerHistoryRequest(_message.Message):
    __slots__ = ("call_id", "hours")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    hours: int
    def __init__(self, call_id: _Optional[str] = ..., hours: _Optional[int] = ...) -> None: ...

class CallerContact(_message.Message):
    __slots__ = ("kind", "id", "region", "at", "urgency", "status", "criteria_code", "outcome", "incident_id", "archived")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    region: str
    at: _timestamp_pb2.Timestamp
    urgency: Urgency
    status: str
    criteria_code: str
    outcome: CallOutcome
    incident_id: str
    archived: bool
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ..., region: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., urgency: _Optional[_Union[Urgency, str]] = ..., status: _Optional[str] = ..., criteria_code: _Optional[str] = ..., outcome: _Optional[_Union[CallOutcome, str]] = ..., incident_id: _Optional[str] = ..., archived: _Optional[bool] = ...) -> None: ...

class CallerHistory(_message.Message):
    __slots__ = ("call", "contacts", "total", "hours", "archive_unavailable")
    CALL_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    ARCHIVE_UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    call: Call
    contacts: _containers.RepeatedCompositeFieldContainer[CallerContact]
    total: int
    hours: int
    archive_unavailable: bool
    def __init__(self, call: _Optional[_Union[Call, _Mapping]] = ..., contacts: _Optional[_Iterable[_Union[CallerContact, _Mapping]]] = ..., total: _Optional[int] = ..., hours: _Optional[int] = ..., archive_unavailable: _Optional[bool] = ...) -> None: ...

class GetCallMetricsRequest(_message.Message):
    __slots__ = ("regions",)
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, regions: _Optional[_Iterable[str]] = ...) -> None: ...

class RegionCallMetrics(_message.Message):
    __slots__ = ("region", "received", "answered", "waiting", "abandoned", "answered_within_10s", "answer_p50_s", "answer_p90_s", "overflowed", "shared", "closed")
    REGION_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    ABANDONED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_WITHIN_10S_FIELD_NUMBER: _ClassVar[int]
    ANSWER_P50_S_FIELD_NUMBER: _ClassVar[int]
    ANSWER_P90_S_FIELD_NUMBER: _ClassVar[int]
    OVERFLOWED_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    region: str
    received: int
    answered: int
    waiting: int
    abandoned: int
    answered_within_10s: float
    answer_p50_s: float
    answer_p90_s: float
    overflowed: int
    shared: int
    closed: _containers.RepeatedCompositeFieldContainer[CallOutcomeCount]
    def __init__(self, region: _Optional[str] = ..., received: _Optional[int] = ..., answered: _Optional[int] = ..., waiting: _Optional[int] = ..., abandoned: _Optional[int] = ..., answered_within_10s: _Optional[float] = ..., answer_p50_s: _Optional[float] = ..., answer_p90_s: _Optional[float] = ..., overflowed: _Optional[int] = ..., shared: _Optional[int] = ..., closed: _Optional[_Iterable[_Union[CallOutcomeCount, _Mapping]]] = ...) -> None: ...

class CallOutcomeCount(_message.Message):
    __slots__ = ("outcome", "count")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    outcome: CallOutcome
    count: int
    def __init__(self, outcome: _Optional[_Union[CallOutcome, str]] = ..., count: _Optional[int] = ...) -> None: ...

class CallMetrics(_message.Message):
    __slots__ = ("regions",)
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedCompositeFieldContainer[RegionCallMetrics]
    def __init__(self, regions: _Optional[_Iterable[_Union[RegionCallMetrics, _Mapping]]] = ...) -> None: ...

class GetKpisRequest(_message.Message):
    __slots__ = ("regions", "since")
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedScalarFieldContainer[str]
    since: _timestamp_pb2.Timestamp
    def __init__(self, regions: _Optional[_Iterable[str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class KpiExclusion(_message.Message):
    __slots__ = ("reason", "count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: str
    count: int
    def __init__(self, reason: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class KpiFigure(_message.Message):
    __slots__ = ("region", "urgency", "measure", "count", "p50_s", "p90_s", "target_s", "target_share", "share_within_target", "target_text", "area", "excluded", "abandoned", "unanswered_after_limit", "limit_s", "alert_service", "condition")
    REGION_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    P50_S_FIELD_NUMBER: _ClassVar[int]
    P90_S_FIELD_NUMBER: _ClassVar[int]
    TARGET_S_FIELD_NUMBER: _ClassVar[int]
    TARGET_SHARE_FIELD_NUMBER: _ClassVar[int]
    SHARE_WITHIN_TARGET_FIELD_NUMBER: _ClassVar[int]
    TARGET_TEXT_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_FIELD_NUMBER: _ClassVar[int]
    ABANDONED_FIELD_NUMBER: _ClassVar[int]
    UNANSWERED_AFTER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    ALERT_SERVICE_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    region: str
    urgency: Urgency
    measure: str
    count: int
    p50_s: float
    p90_s: float
    target_s: float
    target_share: float
    share_within_target: float
    target_text: str
    area: str
    excluded: _containers.RepeatedCompositeFieldContainer[KpiExclusion]
    abandoned: int
    unanswered_after_limit: int
    limit_s: float
    alert_service: AlertService
    condition: DestinationCondition
    def __init__(self, region: _Optional[str] = ..., urgency: _Optional[_Union[Urgency, str]] = ..., measure: _Optional[str] = ..., count: _Optional[int] = ..., p50_s: _Optional[float] = ..., p90_s: _Optional[float] = ..., target_s: _Optional[float] = ..., target_share: _Optional[float] = ..., share_within_target: _Optional[float] = ..., target_text: _Optional[str] = ..., area: _Optional[str] = ..., excluded: _Optional[_Iterable[_Union[KpiExclusion, _Mapping]]] = ..., abandoned: _Optional[int] = ..., unanswered_after_limit: _Optional[int] = ..., limit_s: _Optional[float] = ..., alert_service: _Optional[_Union[AlertService, str]] = ..., condition: _Optional[_Union[DestinationCondition, str]] = ...) -> None: ...

class Kpis(_message.Message):
    __slots__ = ("figures",)
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    figures: _containers.RepeatedCompositeFieldContainer[KpiFigure]
    def __init__(self, figures: _Optional[_Iterable[_Union[KpiFigure, _Mapping]]] = ...) -> None: ...

class GetCoverageRequest(_message.Message):
    __slots__ = ("regions",)
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, regions: _Optional[_Iterable[str]] = ...) -> None: ...

class StationCoverage(_message.Message):
    __slots__ = ("station_id", "name", "region", "position", "based", "free_here", "nearest", "area", "target_s", "covered", "state", "target_max_s")
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    BASED_FIELD_NUMBER: _ClassVar[int]
    FREE_HERE_FIELD_NUMBER: _ClassVar[int]
    NEAREST_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    TARGET_S_FIELD_NUMBER: _ClassVar[int]
    COVERED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TARGET_MAX_S_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    name: str
    region: str
    position: Position
    based: _containers.RepeatedScalarFieldContainer[str]
    free_here: _containers.RepeatedScalarFieldContainer[str]
    nearest: Recommendation
    area: str
    target_s: float
    covered: bool
    state: str
    target_max_s: float
    def __init__(self, station_id: _Optional[str] = ..., name: _Optional[str] = ..., region: _Optional[str] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., based: _Optional[_Iterable[str]] = ..., free_here: _Optional[_Iterable[str]] = ..., nearest: _Optional[_Union[Recommendation, _Mapping]] = ..., area: _Optional[str] = ..., target_s: _Optional[float] = ..., covered: _Optional[bool] = ..., state: _Optional[str] = ..., target_max_s: _Optional[float] = ...) -> None: ...

class Coverage(_message.Message):
    __slots__ = ("stations",)
    STATIONS_FIELD_NUMBER: _ClassVar[int]
    stations: _containers.RepeatedCompositeFieldContainer[StationCoverage]
    def __init__(self, stations: _Optional[_Iterable[_Union[StationCoverage, _Mapping]]] = ...) -> None: ...
