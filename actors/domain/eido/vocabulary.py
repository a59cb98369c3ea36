"""The registry values and tables both directions of the EIDO mapping share.

Registry-text values (incident/unit status, resource type, roles, location type) follow
the NENA samples where they show one; the NENA registries themselves were not available
when this was written, so those strings are our best reading, kept here in one place so a
correction is one edit.
"""

from __future__ import annotations

from actors.domain.model import IncidentStatus, UnitKind, UnitStatus, Urgency

EIDO_VERSION = "1.0"
INCIDENT_TYPE = "Medical"  # incidentTypeCommonRegistryText: every AMK incident is medical
AGENCY_TYPE = ["ems"]  # IANA urn:emergency:service:responder.ems, prefix removed
AGENCY_ROLES = ["CallReceiving", "Dispatch"]  # an AMK centre answers 113 and dispatches
AGENT_ROLES = ["Call Taking", "Dispatching"]  # AMK operators do both
LOCATION_TYPE_INCIDENT = "Incident"
LOCATION_TYPE_UNIT = "Unit"
CALL_TYPE = "emergency"  # standardPrimaryCallType, as in the NENA samples
CALL_STATE = "callAnswered"  # we do not track the call itself; an incident means answered
RESOURCE_ATTRIBUTE_OTHER = "Other"  # the schema: internal text must then say what it is
COUNTRY_CODE = "+47"  # phone-context for numbers written without a country code

# Our enums to the schema's registry texts and priorities.
STATUS_COMMON = {
    IncidentStatus.RECEIVED: "Active",
    IncidentStatus.TRIAGED: "Active",
    IncidentStatus.DISPATCHED: "Active",
    IncidentStatus.ON_SCENE: "Active",
    IncidentStatus.TRANSPORTING: "Active",
    IncidentStatus.AT_HOSPITAL: "Active",
    IncidentStatus.CLOSED: "Closed",
    IncidentStatus.CANCELLED: "Closed",
}
PRIORITY_IDENTIFIER = {Urgency.AKUTT: "highest", Urgency.HASTER: "high", Urgency.VANLIG: "normal"}
COMMON_PRIORITY = {Urgency.AKUTT: 10, Urgency.HASTER: 6, Urgency.VANLIG: 3}  # 10 = highest
UNIT_STATUS_COMMON = {
    UnitStatus.AVAILABLE_AT_STATION: "Available",
    UnitStatus.AVAILABLE_MOBILE: "Available",
    UnitStatus.ASSIGNED: "Dispatched",
    UnitStatus.EN_ROUTE: "Enroute",
    UnitStatus.ON_SCENE: "OnScene",
    UnitStatus.TRANSPORTING: "Transporting",
    UnitStatus.AT_HOSPITAL: "AtHospital",
    UnitStatus.OUT_OF_SERVICE: "OutOfService",
}
RESOURCE_TYPE_COMMON = {
    UnitKind.ROAD_AMBULANCE: "Ambulance",
    UnitKind.RAPID_RESPONSE_CAR: "RapidResponseVehicle",
    UnitKind.BOAT_AMBULANCE: "Boat",
    UnitKind.HELICOPTER: "Helicopter",
    UnitKind.FIXED_WING: "FixedWingAircraft",
}
