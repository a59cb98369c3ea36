"""Positions as PIDF-LO (RFC 4119/5491), the XML an EIDO location carries by value.

We write a gml:Point, or a gs:Circle whose radius is our accuracy in metres. We read the
first geodetic shape of a foreign document: circles and spheres keep their radius as the
accuracy, ellipses their semi-major axis, other shapes their centre. The parser refuses
DOCTYPEs and entities: the XML comes from outside and must not expand.
"""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as ET
from typing import Any

from actors.domain import validation
from actors.domain.eido.formats import iso_time
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Position

NS_PIDF = "urn:ietf:params:xml:ns:pidf"
NS_GP = "urn:ietf:params:xml:ns:pidf:geopriv10"
NS_GML = "http://www.opengis.net/gml"
NS_GS = "http://www.opengis.net/pidflo/1.0"
SRS_2D = "urn:ogc:def:crs:EPSG::4326"
SRS_3D = "urn:ogc:def:crs:EPSG::4979"
UOM_METRE = "urn:ogc:def:uom:EPSG::9001"
MAX_PIDF_CHARS = 65_536


def pidf_location(pos: Position, entity: str, at: float) -> str:
    """A PIDF-LO document (RFC 4119/5491): a point, or a circle of the accuracy radius."""
    where = f"{pos.lat!r} {pos.lon!r}"
    if pos.accuracy_m > 0:
        shape = (
            f'<gs:Circle srsName="{SRS_2D}"><gml:pos>{where}</gml:pos>'
            f'<gs:radius uom="{UOM_METRE}">{pos.accuracy_m!r}</gs:radius></gs:Circle>'
        )
    else:
        shape = f'<gml:Point srsName="{SRS_2D}"><gml:pos>{where}</gml:pos></gml:Point>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<presence xmlns="{NS_PIDF}" xmlns:gp="{NS_GP}" xmlns:gml="{NS_GML}" '
        f'xmlns:gs="{NS_GS}" entity="{html.escape(entity, quote=True)}">'
        f'<tuple id="location"><status><gp:geopriv><gp:location-info>{shape}'
        "</gp:location-info><gp:usage-rules/></gp:geopriv></status>"
        f"<timestamp>{iso_time(at)}</timestamp></tuple></presence>"
    )


def parse_pidf(text: Any, path: str, warnings: list[str]) -> Position:
    """The first geodetic shape in a PIDF-LO document, as a position with accuracy."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError(path, "must be a PIDF-LO XML string")
    if len(text) > MAX_PIDF_CHARS:
        raise InvalidArgumentError(path, f"longer than {MAX_PIDF_CHARS} characters")
    if "<!doctype" in text.lower() or "<!entity" in text.lower():
        raise InvalidArgumentError(path, "must not declare a DOCTYPE or entities")
    try:
        root = ET.fromstring(text.strip())
    except ET.ParseError as e:
        raise InvalidArgumentError(path, f"is not well-formed XML ({e})") from None

    shapes = [
        child
        for info in root.iter(f"{{{NS_GP}}}location-info")
        for child in info
        if child.find(f".//{{{NS_GML}}}pos") is not None
    ]
    if not shapes:
        civic = any(el.tag.endswith("}civicAddress") for el in root.iter())
        what = "only a civic address" if civic else "no gml:pos"
        raise InvalidArgumentError(path, f"has {what}; a geodetic position is required")
    if len(shapes) > 1:
        warnings.append(f"{path}: {len(shapes) - 1} further shape(s) not carried")
    shape = shapes[0]
    name = shape.tag.rsplit("}", 1)[-1]

    srs = shape.get("srsName")
    if srs is None:
        warnings.append(f"{path}: no srsName; read as {SRS_2D}")
    elif srs not in (SRS_2D, SRS_3D):
        raise InvalidArgumentError(path, f"srsName {srs!r} is not WGS 84 (EPSG 4326/4979)")
    pos = shape.find(f".//{{{NS_GML}}}pos")
    parts = ("" if pos is None else pos.text or "").split()
    if len(parts) not in (2, 3):
        raise InvalidArgumentError(f"{path}.pos", f"{' '.join(parts)!r} is not 'lat lon [alt]'")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidArgumentError(f"{path}.pos", f"{' '.join(parts)!r} is not numeric") from None
    if len(parts) == 3:
        warnings.append(f"{path}: altitude not carried")

    accuracy = 0.0
    radius_tag = {"Circle": "radius", "Sphere": "radius"}.get(name)
    axis_tag = {"Ellipse": "semiMajorAxis", "Ellipsoid": "semiMajorAxis"}.get(name)
    tag = radius_tag or axis_tag
    if tag is not None:
        el = shape.find(f"{{{NS_GS}}}{tag}")
        if el is None:
            raise InvalidArgumentError(f"{path}.{tag}", f"is required in a {name}")
        uom = el.get("uom")
        try:
            accuracy = float(el.text or "")
        except ValueError:
            raise InvalidArgumentError(f"{path}.{tag}", f"{el.text!r} is not numeric") from None
        if uom not in (None, UOM_METRE):
            warnings.append(f"{path}.{tag}: unit {uom!r} is not metres; accuracy not carried")
            accuracy = 0.0
        elif axis_tag:
            warnings.append(f"{path}: {name} read as a circle of its semi-major axis")
    elif name != "Point":
        warnings.append(f"{path}: {name} read as its centre point; uncertainty not carried")
    if not math.isfinite(accuracy) or accuracy < 0:
        raise InvalidArgumentError(f"{path}.accuracy_m", f"{accuracy} is not a distance")
    return validation.position(lat, lon, accuracy, field=path)
