"""Our own additionalDataComponent: what EIDO has no field for, between AMK centres.

The complaint chapter and the urgency history travel as one JSON blob marked with
``EXTENSION_PURPOSE`` and versioned by ``EXTENSION_SCHEMA``. A foreign CAD ignores it; an
AMK centre reads it back. Telephone-guided CPR travels as a note instead
(``writer.py``), readable by people at either end (a foreign CAD too), not as the
record's times: those stay the review of the centre that guided.
"""

from __future__ import annotations

import json
from typing import Any

from actors.domain.eido.fields import object_list
from actors.domain.eido.formats import iso_time, parse_time
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Incident, Urgency, UrgencyChange
from actors.domain.triage import CODE_RE

EXTENSION_PURPOSE = "amk-dispatch-incident-extension"
EXTENSION_SCHEMA = "amk.eido.incident/1"


def write_extension(inc: Incident) -> str | None:
    """The blob for ``inc``, or None when it has nothing EIDO cannot carry itself."""
    if not (inc.complaint_chapter or inc.urgency_history):
        return None
    value = {
        "schema": EXTENSION_SCHEMA,
        "complaintChapter": inc.complaint_chapter,
        "urgencyHistory": [
            {"urgency": u.urgency.value, "criteriaCode": u.criteria_code, "at": iso_time(u.at)}
            for u in inc.urgency_history
        ],
    }
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def read_extension(doc: dict[str, Any], warnings: list[str]) -> dict[str, Any] | None:
    """Our own additional-data blob, if the document came from an AMK centre."""
    found = None
    for i, data in enumerate(
        object_list(doc, "additionalDataComponent", "eido.additionalDataComponent")
    ):
        path = f"eido.additionalDataComponent[{i}]"
        if data.get("urlPurpose") != EXTENSION_PURPOSE:
            warnings.append(f"{path}: additional data not carried")
            continue
        try:
            value = json.loads(data.get("additionalDataByValue") or "")
        except (TypeError, ValueError):
            value = None
        if not isinstance(value, dict) or value.get("schema") != EXTENSION_SCHEMA:
            warnings.append(f"{path}: unreadable {EXTENSION_PURPOSE} data not carried")
            continue
        found = value
    return found


def read_urgency_history(
    extension: dict[str, Any] | None, warnings: list[str]
) -> list[UrgencyChange]:
    """The urgency history in the blob, in time order; unreadable entries are warned."""
    if extension is None:
        return []
    entries = extension.get("urgencyHistory", [])
    if not isinstance(entries, list):
        warnings.append("extension urgencyHistory is not a list; not carried")
        return []
    history = []
    for i, entry in enumerate(entries):
        try:
            code = entry["criteriaCode"]
            if not isinstance(code, str) or not CODE_RE.match(code):
                raise ValueError(code)
            at = parse_time(entry["at"], f"urgencyHistory[{i}].at", warnings)
            history.append(UrgencyChange(Urgency(entry["urgency"]), code, at))
        except (KeyError, TypeError, ValueError, InvalidArgumentError):
            warnings.append(f"extension urgencyHistory[{i}]: unreadable; not carried")
    history.sort(key=lambda u: u.at)
    return history
