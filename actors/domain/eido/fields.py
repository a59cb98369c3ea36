"""Typed access to the fields of a foreign EIDO document, failing with the field's path.

A document from another CAD is untrusted JSON: every read checks the type it expects and
raises :class:`InvalidArgumentError` naming the path (``eido.callComponent[0]...``), so the
operator learns which part of the document to fix rather than getting a ``KeyError``.
"""

from __future__ import annotations

from typing import Any

from actors.domain.eido.formats import parse_time
from actors.domain.errors import InvalidArgumentError


def object_list(obj: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    """``obj[key]`` as an array of objects; [] when absent."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidArgumentError(path, "must be an array")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidArgumentError(f"{path}[{i}]", "must be an object")
    return value


def opt_str(obj: dict[str, Any], key: str, path: str) -> str:
    """``obj[key]`` as a string; "" when absent."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{path}.{key}", "must be a string")
    return value


def opt_time(obj: dict[str, Any], key: str, path: str, warnings: list[str]) -> float | None:
    """``obj[key]`` as epoch seconds; None when absent."""
    if obj.get(key) is None:
        return None
    return parse_time(obj[key], f"{path}.{key}", warnings)


def ref_id(value: Any, path: str) -> str:
    """The component ``$id`` a reference object points at."""
    if not isinstance(value, dict) or not isinstance(value.get("$ref"), str):
        raise InvalidArgumentError(path, 'must be a reference object {"$ref": "<component $id>"}')
    return value["$ref"]


def ref_list(obj: dict[str, Any], key: str, path: str) -> list[str]:
    """``obj[key]`` as an array of references, the ``$id``s they point at."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidArgumentError(f"{path}.{key}", "must be an array of references")
    return [ref_id(v, f"{path}.{key}[{i}]") for i, v in enumerate(value)]


def component_index(doc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every component in the document's top-level arrays by $id, with its path."""
    index: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, value in doc.items():
        if key.endswith("Component") and isinstance(value, list):
            for i, item in enumerate(object_list(doc, key, f"eido.{key}")):
                cid = item.get("$id")
                if isinstance(cid, str) and cid not in index:
                    index[cid] = (f"eido.{key}[{i}]", item)
    return index
