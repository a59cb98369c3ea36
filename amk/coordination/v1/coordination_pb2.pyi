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
