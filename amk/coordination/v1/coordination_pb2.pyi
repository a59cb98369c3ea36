from amk.dispatch.v1 import dispatch_pb2 as _dispatch_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SetCallSharingRequest(_message.Message):
    __slots__ = ("request_id", "region", "sharing")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SHARING_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    region: str
    sharing: bool
    def __init__(self, request_id: _Optional[str] = ..., region: _Optional[str] = ..., sharing: _Optional[bool] = ...) -> None: ...

class SetCallSharingResponse(_message.Message):
    __slots__ = ("region", "sharing")
    REGION_FIELD_NUMBER: _ClassVar[int]
    SHARING_FIELD_NUMBER: _ClassVar[int]
    region: str
    sharing: bool
    def __init__(self, region: _Optional[str] = ..., sharing: _Optional[bool] = ...) -> None: ...

class HandOverRegionRequest(_message.Message):
    __slots__ = ("request_id", "region", "to_centre")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TO_CENTRE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    region: str
    to_centre: str
    def __init__(self, request_id: _Optional[str] = ..., region: _Optional[str] = ..., to_centre: _Optional[str] = ...) -> None: ...

class HandBackRegionRequest(_message.Message):
    __slots__ = ("request_id", "region")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    region: str
    def __init__(self, request_id: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class HandOverIncidentRequest(_message.Message):
    __slots__ = ("request_id", "incident_id", "to_region")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_REGION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    incident_id: str
    to_region: str
    def __init__(self, request_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., to_region: _Optional[str] = ...) -> None: ...

class LendUnitRequest(_message.Message):
    __slots__ = ("request_id", "unit_id", "to_region")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_REGION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    unit_id: str
    to_region: str
    def __init__(self, request_id: _Optional[str] = ..., unit_id: _Optional[str] = ..., to_region: _Optional[str] = ...) -> None: ...

class ExportIncidentRequest(_message.Message):
    __slots__ = ("incident_id",)
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    def __init__(self, incident_id: _Optional[str] = ...) -> None: ...

class EidoDocument(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...

class ImportIncidentRequest(_message.Message):
    __slots__ = ("request_id", "region", "json")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    region: str
    json: str
    def __init__(self, request_id: _Optional[str] = ..., region: _Optional[str] = ..., json: _Optional[str] = ...) -> None: ...

class ImportIncidentResponse(_message.Message):
    __slots__ = ("incident", "warnings")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    incident: _dispatch_pb2.Incident
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, incident: _Optional[_Union[_dispatch_pb2.Incident, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class TimelineEntry(_message.Message):
    __slots__ = ("at", "who", "text")
    AT_FIELD_NUMBER: _ClassVar[int]
    WHO_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    at: float
    who: str
    text: str
    def __init__(self, at: _Optional[float] = ..., who: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class MajorIncident(_message.Message):
    __slots__ = ("id", "region", "position", "kind", "expected_patients", "status", "declared_by", "declared_at", "incident_ids", "reserved_unit_ids", "timeline", "actor_pid", "revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_PATIENTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DECLARED_BY_FIELD_NUMBER: _ClassVar[int]
    DECLARED_AT_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_IDS_FIELD_NUMBER: _ClassVar[int]
    RESERVED_UNIT_IDS_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_PID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    region: str
    position: _dispatch_pb2.Position
    kind: str
    expected_patients: int
    status: str
    declared_by: str
    declared_at: float
    incident_ids: _containers.RepeatedScalarFieldContainer[str]
    reserved_unit_ids: _containers.RepeatedScalarFieldContainer[str]
    timeline: _containers.RepeatedCompositeFieldContainer[TimelineEntry]
    actor_pid: int
    revision: int
    def __init__(self, id: _Optional[str] = ..., region: _Optional[str] = ..., position: _Optional[_Union[_dispatch_pb2.Position, _Mapping]] = ..., kind: _Optional[str] = ..., expected_patients: _Optional[int] = ..., status: _Optional[str] = ..., declared_by: _Optional[str] = ..., declared_at: _Optional[float] = ..., incident_ids: _Optional[_Iterable[str]] = ..., reserved_unit_ids: _Optional[_Iterable[str]] = ..., timeline: _Optional[_Iterable[_Union[TimelineEntry, _Mapping]]] = ..., actor_pid: _Optional[int] = ..., revision: _Optional[int] = ...) -> None: ...

class DeclareMajorIncidentRequest(_message.Message):
    __slots__ = ("request_id", "region", "position", "kind", "expected_patients")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_PATIENTS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    region: str
    position: _dispatch_pb2.Position
    kind: str
    expected_patients: int
    def __init__(self, request_id: _Optional[str] = ..., region: _Optional[str] = ..., position: _Optional[_Union[_dispatch_pb2.Position, _Mapping]] = ..., kind: _Optional[str] = ..., expected_patients: _Optional[int] = ...) -> None: ...

class GetMajorIncidentRequest(_message.Message):
    __slots__ = ("major_incident_id",)
    MAJOR_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    major_incident_id: str
    def __init__(self, major_incident_id: _Optional[str] = ...) -> None: ...

class ListMajorIncidentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMajorIncidentsResponse(_message.Message):
    __slots__ = ("major_incidents",)
    MAJOR_INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    major_incidents: _containers.RepeatedCompositeFieldContainer[MajorIncident]
    def __init__(self, major_incidents: _Optional[_Iterable[_Union[MajorIncident, _Mapping]]] = ...) -> None: ...

class LinkToMajorIncidentRequest(_message.Message):
    __slots__ = ("request_id", "major_incident_id", "incident_ids")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MAJOR_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_IDS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    major_incident_id: str
    incident_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., major_incident_id: _Optional[str] = ..., incident_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReserveUnitsRequest(_message.Message):
    __slots__ = ("request_id", "major_incident_id", "unit_ids")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MAJOR_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_IDS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    major_incident_id: str
    unit_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., major_incident_id: _Optional[str] = ..., unit_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class StandDownMajorIncidentRequest(_message.Message):
    __slots__ = ("request_id", "major_incident_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MAJOR_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    major_incident_id: str
    def __init__(self, request_id: _Optional[str] = ..., major_incident_id: _Optional[str] = ...) -> None: ...
