from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class HandOverRegionRequest(_message.Message):
    __slots__ = ("instance", "region", "to_record", "who")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TO_RECORD_FIELD_NUMBER: _ClassVar[int]
    WHO_FIELD_NUMBER: _ClassVar[int]
    instance: str
    region: str
    to_record: bytes
    who: str
    def __init__(self, instance: _Optional[str] = ..., region: _Optional[str] = ..., to_record: _Optional[bytes] = ..., who: _Optional[str] = ...) -> None: ...

class HandOverRegionResponse(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    def __init__(self, envelope: _Optional[bytes] = ...) -> None: ...

class ExecuteRequest(_message.Message):
    __slots__ = ("instance", "commands")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    instance: str
    commands: bytes
    def __init__(self, instance: _Optional[str] = ..., commands: _Optional[bytes] = ...) -> None: ...

class ExecuteResponse(_message.Message):
    __slots__ = ("envelopes",)
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    envelopes: bytes
    def __init__(self, envelopes: _Optional[bytes] = ...) -> None: ...
