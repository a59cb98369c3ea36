"""CAD-to-CAD handover documents in NENA's EIDO JSON format (NENA-STA-021).

``export_incident`` writes one document for an incident and its assigned units;
``import_incident`` reads one into what a CreateIncident needs, with a warning for
everything it could not carry. Pure: no I/O, no schema loading.

The parts: :mod:`.writer` (export, and where each of our fields goes), :mod:`.reader`
(import), :mod:`.pidf` (positions as PIDF-LO XML), :mod:`.extension` (our own
additional-data blob), :mod:`.formats` (times, jCards, tel: URIs, text), :mod:`.fields`
(typed reads of foreign JSON) and :mod:`.vocabulary` (registry values).
"""

from __future__ import annotations

from actors.domain.eido.extension import EXTENSION_PURPOSE, EXTENSION_SCHEMA
from actors.domain.eido.pidf import (
    MAX_PIDF_CHARS,
    NS_GML,
    NS_GP,
    NS_GS,
    NS_PIDF,
    SRS_2D,
    SRS_3D,
    UOM_METRE,
)
from actors.domain.eido.reader import (
    NOT_CARRIED,
    ImportedIncident,
    already_open,
    import_incident,
    import_note,
)
from actors.domain.eido.vocabulary import (
    AGENCY_ROLES,
    AGENCY_TYPE,
    AGENT_ROLES,
    CALL_STATE,
    CALL_TYPE,
    COMMON_PRIORITY,
    COUNTRY_CODE,
    EIDO_VERSION,
    INCIDENT_TYPE,
    LOCATION_TYPE_INCIDENT,
    LOCATION_TYPE_UNIT,
    PRIORITY_IDENTIFIER,
    RESOURCE_ATTRIBUTE_OTHER,
    RESOURCE_TYPE_COMMON,
    STATUS_COMMON,
    UNIT_STATUS_COMMON,
)
from actors.domain.eido.writer import export_incident, incident_tracking_id

__all__ = [
    "AGENCY_ROLES",
    "AGENCY_TYPE",
    "AGENT_ROLES",
    "CALL_STATE",
    "CALL_TYPE",
    "COMMON_PRIORITY",
    "COUNTRY_CODE",
    "EIDO_VERSION",
    "EXTENSION_PURPOSE",
    "EXTENSION_SCHEMA",
    "INCIDENT_TYPE",
    "LOCATION_TYPE_INCIDENT",
    "LOCATION_TYPE_UNIT",
    "MAX_PIDF_CHARS",
    "NOT_CARRIED",
    "NS_GML",
    "NS_GP",
    "NS_GS",
    "NS_PIDF",
    "PRIORITY_IDENTIFIER",
    "RESOURCE_ATTRIBUTE_OTHER",
    "RESOURCE_TYPE_COMMON",
    "SRS_2D",
    "SRS_3D",
    "STATUS_COMMON",
    "UNIT_STATUS_COMMON",
    "UOM_METRE",
    "ImportedIncident",
    "already_open",
    "export_incident",
    "import_incident",
    "import_note",
    "incident_tracking_id",
]
