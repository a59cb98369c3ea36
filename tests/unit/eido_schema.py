"""NENA's EIDO schema as a validator, for the EIDO tests (not a test module itself).

The schema is NENA's own OpenAPI file (``/work/shared/specs/eido/openapi.yaml``, from
NENA911/EIDO-JSON); it is loaded here only, never by the package at runtime. Besides the
schema, a document must hold every component its references point at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

Validate = Callable[[dict[str, Any]], None]


SCHEMA_PATH = Path(__file__).resolve().parents[3] / "shared/specs/eido/openapi.yaml"
SCHEMA_URI = "urn:nena:eido-json:openapi.yaml"
ROOT = "EmergencyIncidentDataObjectType"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+\Z")


def _format_checker() -> Any:
    """jsonschema checks "date-time" and "uri" only with optional packages the venv does
    not have; these two checks make the schema's formats count."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            return False
        datetime.fromisoformat(value)
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(URI.match(value))

    return checker


def _fix_upstream_typos(node: Any, path: str = "") -> list[str]:
    """NENA's file has ``minItems: 1,`` (AgentType.agentRoleRegistryText): YAML reads the
    string "1,", and jsonschema then fails with a TypeError on any agent. Read it as the
    integer the authors meant; report what was changed."""
    fixed = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("minItems", "maxItems") and isinstance(value, str):
                node[key] = int(value.rstrip(","))
                fixed.append(f"{path}/{key}")
            else:
                fixed += _fix_upstream_typos(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            fixed += _fix_upstream_typos(value, f"{path}/{i}")
    return fixed


def component_ids(doc: dict[str, Any]) -> set[str]:
    """Every ``$id`` a ReferenceType may point at: the document and its components."""
    ids = {doc["$id"]}
    for key, value in doc.items():
        items = value if isinstance(value, list) else [value]
        if key.endswith("Component"):
            for item in items:
                if isinstance(item, dict) and "$id" in item:
                    ids.add(item["$id"])
                    for sub in item.get("dispositionComponent", []):
                        ids.add(sub["$id"])
    return ids


def dangling_refs(doc: dict[str, Any]) -> list[str]:
    """References (``{"$ref": id}``) to a component the document does not hold."""
    ids = component_ids(doc)
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if set(node) == {"$ref"}:
                if node["$ref"] not in ids:
                    found.append(f"{path}: {node['$ref']}")
                return
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(doc, "")
    return found


def load_spec() -> dict[str, Any]:
    """NENA's OpenAPI file as data, its known typo mended; skips when it is not there."""
    if not SCHEMA_PATH.exists():
        pytest.skip(f"NENA EIDO schema not found at {SCHEMA_PATH} (shared specs not checked out)")
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    fixed = _fix_upstream_typos(data)
    assert set(fixed) <= {
        "/components/schemas/AgentType/allOf/1/properties/agentRoleRegistryText/minItems"
    }, fixed
    return data


def schema_validator(spec: dict[str, Any]) -> Validate:
    """``validate(doc)``: raises jsonschema.ValidationError unless ``doc`` is a valid
    EmergencyIncidentDataObjectType whose references all resolve inside it.

    The OpenAPI file is registered as one resource; its ``#/components/schemas/...``
    references resolve within it. OpenAPI 3.0 schemas are draft-4 dialect.
    """
    from jsonschema import Draft4Validator, ValidationError
    from referencing import Registry
    from referencing.jsonschema import DRAFT4

    registry = Registry().with_resource(SCHEMA_URI, DRAFT4.create_resource(spec))
    schema = {"$ref": f"{SCHEMA_URI}#/components/schemas/{ROOT}"}
    validator = Draft4Validator(schema, registry=registry, format_checker=_format_checker())

    def run(doc: dict[str, Any]) -> None:
        errors = list(validator.iter_errors(doc))
        if errors:
            lines = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
            raise ValidationError("\n".join(lines))
        dangling = dangling_refs(doc)
        if dangling:
            raise ValidationError(f"references to absent components: {dangling}")

    return run
