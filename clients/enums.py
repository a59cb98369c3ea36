"""Short lowercase names for the API's enums ("on_scene", "akutt", "helicopter").

The CLI, the board and scripts speak these names; the wire speaks protobuf numbers.
"""

from __future__ import annotations

from google.protobuf.descriptor import EnumDescriptor

from amk.dispatch.v1 import dispatch_pb2 as pb

# The prefixes double as the keys naming each enum, so callers say which enum they mean
# without importing protobuf wrappers.
URGENCY = "URGENCY_"
INCIDENT_STATUS = "INCIDENT_STATUS_"
UNIT_STATUS = "UNIT_STATUS_"
UNIT_KIND = "UNIT_KIND_"
CREW_LEVEL = "CREW_LEVEL_"
WATCH_KIND = "KIND_"
CALL_STATUS = "CALL_STATUS_"
ALERT_SERVICE = "ALERT_SERVICE_"
ALERT_STATE = "ALERT_STATE_"
AIR_MISSION_STATE = "AIR_MISSION_STATE_"
AIR_DECISION = "AIR_DECISION_"
DESTINATION_CONDITION = "DESTINATION_CONDITION_"
PRE_NOTIFICATION_SEX = "PRE_NOTIFICATION_SEX_"
CPR_STEP = "CPR_STEP_"
CPR_END = "CPR_END_"
CALL_OUTCOME = "CALL_OUTCOME_"

_ENUMS: dict[str, EnumDescriptor] = {
    URGENCY: pb.Urgency.DESCRIPTOR,
    INCIDENT_STATUS: pb.IncidentStatus.DESCRIPTOR,
    UNIT_STATUS: pb.UnitStatus.DESCRIPTOR,
    UNIT_KIND: pb.UnitKind.DESCRIPTOR,
    CREW_LEVEL: pb.CrewLevel.DESCRIPTOR,
    WATCH_KIND: pb.WatchEvent.Kind.DESCRIPTOR,
    CALL_STATUS: pb.CallStatus.DESCRIPTOR,
    AIR_MISSION_STATE: pb.AirMissionState.DESCRIPTOR,
    AIR_DECISION: pb.AirDecision.DESCRIPTOR,
    ALERT_SERVICE: pb.AlertService.DESCRIPTOR,
    ALERT_STATE: pb.AlertState.DESCRIPTOR,
    DESTINATION_CONDITION: pb.DestinationCondition.DESCRIPTOR,
    CPR_STEP: pb.CprStep.DESCRIPTOR,
    CPR_END: pb.CprEnd.DESCRIPTOR,
    CALL_OUTCOME: pb.CallOutcome.DESCRIPTOR,
    PRE_NOTIFICATION_SEX: pb.PreNotificationSex.DESCRIPTOR,
}


def enum_prefix(descriptor: EnumDescriptor) -> str:
    """The common value prefix of an API enum, read off its ``*_UNSPECIFIED`` value.

    Every enum in the API follows that convention, so renderers can shorten any enum
    field generically, including enums added later.
    """
    return descriptor.values_by_number[0].name.removesuffix("UNSPECIFIED")


def _short_names(prefix: str, descriptor: EnumDescriptor) -> dict[str, int]:
    return {
        v.name.removeprefix(prefix).lower(): v.number
        for v in descriptor.values
        if v.number != 0  # UNSPECIFIED is never valid input
    }


#: short lowercase name -> pb value, per enum prefix (UNSPECIFIED left out).
ENUM_NAMES: dict[str, dict[str, int]] = {p: _short_names(p, d) for p, d in _ENUMS.items()}


def _names(prefix: str) -> dict[str, int]:
    try:
        return ENUM_NAMES[prefix]
    except KeyError:
        raise ValueError(f"unknown enum prefix {prefix!r}; known: {', '.join(_ENUMS)}") from None


def _label(prefix: str) -> str:
    return prefix.rstrip("_").lower().replace("_", " ")


def enum_choices(prefix: str) -> list[str]:
    """The short names accepted for one enum, in declaration order (for ``--help``)."""
    return list(_names(prefix))


def enum_name(value: int, prefix: str) -> str:
    """Short lowercase name of a pb enum value: ``on_scene`` for INCIDENT_STATUS_ON_SCENE.

    A value this client does not know (a newer server) comes back as its number rather
    than failing, so old consoles keep displaying new data.
    """
    _names(prefix)
    value_descriptor = _ENUMS[prefix].values_by_number.get(int(value))
    if value_descriptor is None:
        return str(int(value))
    return value_descriptor.name.removeprefix(prefix).lower()


def enum_value(prefix: str, value: str | int) -> int:
    """Map a short name (``"on_scene"``, also ``"on-scene"`` or the full pb name) or a pb
    int to the pb value; ValueError names the allowed values."""
    names = _names(prefix)
    # bool is an int, and True would silently mean value 1.
    if isinstance(value, int) and not isinstance(value, bool):
        if value in names.values():
            return value
    elif isinstance(value, str):
        key = value.strip().lower().replace("-", "_").removeprefix(prefix.lower())
        if key in names:
            return names[key]
    allowed = ", ".join(names)
    raise ValueError(f"unknown {_label(prefix)} {value!r}; allowed: {allowed}")


def _optional_enum(prefix: str, value: str | int | None) -> int:
    # Filters treat "not given" as UNSPECIFIED, which the API reads as "any".
    return 0 if value is None else enum_value(prefix, value)


def urgency_from_name(name: str | int) -> int:
    """``"akutt"`` -> ``pb.URGENCY_AKUTT``."""
    return enum_value(URGENCY, name)


def incident_status_from_name(name: str | int) -> int:
    """``"on_scene"`` -> ``pb.INCIDENT_STATUS_ON_SCENE``."""
    return enum_value(INCIDENT_STATUS, name)


def unit_status_from_name(name: str | int) -> int:
    """``"available_mobile"`` -> ``pb.UNIT_STATUS_AVAILABLE_MOBILE``."""
    return enum_value(UNIT_STATUS, name)


def unit_kind_from_name(name: str | int) -> int:
    """``"helicopter"`` -> ``pb.UNIT_KIND_HELICOPTER``."""
    return enum_value(UNIT_KIND, name)


def crew_level_from_name(name: str | int) -> int:
    """``"paramedic"`` -> ``pb.CREW_LEVEL_PARAMEDIC``."""
    return enum_value(CREW_LEVEL, name)
