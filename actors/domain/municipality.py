"""Which municipality a place is in, and whether it is urban or rural, for the response-
time targets (12 min urban, 25 min rural; :mod:`actors.domain.response_time`).

Municipalities: Kartverket's 2024 administrative units (``data/kommuner-2024-s.geojson``,
CC BY 4.0, "© Kartverket"; simplified, see ``data/README.md``). A municipality is urban
when all or part of its area belongs to a settlement (SSB's *tettsted*) of more than
10,000 inhabitants, else rural (Helsedirektoratet's rule). ``data/urban_municipalities.toml``
lists the urban ones; while it says ``complete = false``, a municipality it does not
list is **unknown**, never assumed rural, and the mission is held to both targets.

Pure: reads its data files, no network, no Ray, no etcd.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from actors.domain.model import Position
from actors.domain.response_time import RURAL, UNKNOWN, URBAN

DATA = Path(__file__).resolve().parent / "data"
Ring = tuple[tuple[float, float], ...]  # (lon, lat) points, as GeoJSON has them


def _in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Ray casting: whether (lon, lat) is inside the closed ring."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        (xi, yi), (xj, yj) = ring[i], ring[j]
        if (yi > lat) != (yj > lat) and lon < xi + (lat - yi) * (xj - xi) / (yj - yi):
            inside = not inside
        j = i
    return inside


@dataclass(frozen=True, slots=True)
class Municipality:
    number: str  # kommunenummer
    name: str
    polygons: tuple[tuple[Ring, ...], ...]  # each: outer ring, then holes
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

    def contains(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        for outer, *holes in self.polygons:
            if _in_ring(lon, lat, outer) and not any(_in_ring(lon, lat, h) for h in holes):
                return True
        return False


def _polygons(geometry: dict) -> tuple[tuple[Ring, ...], ...]:
    parts = (
        [geometry["coordinates"]]
        if geometry["type"] == "Polygon"
        else geometry["coordinates"]  # MultiPolygon
    )
    return tuple(tuple(tuple((p[0], p[1]) for p in ring) for ring in poly) for poly in parts)


@cache
def municipalities(path: Path = DATA / "kommuner-2024-s.geojson") -> tuple[Municipality, ...]:
    found = []
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        polygons = _polygons(feature["geometry"])
        points = [p for poly in polygons for ring in poly for p in ring]
        bbox = (
            min(p[0] for p in points),
            min(p[1] for p in points),
            max(p[0] for p in points),
            max(p[1] for p in points),
        )
        props = feature["properties"]
        found.append(Municipality(props["kommunenummer"], props["kommunenavn"], polygons, bbox))
    return tuple(found)


#: The counties (2024) by the first two digits of kommunenummer.
COUNTIES = {
    "03": "Oslo",
    "11": "Rogaland",
    "15": "Møre og Romsdal",
    "18": "Nordland",
    "31": "Østfold",
    "32": "Akershus",
    "33": "Buskerud",
    "34": "Innlandet",
    "39": "Vestfold",
    "40": "Telemark",
    "42": "Agder",
    "46": "Vestland",
    "50": "Trøndelag",
    "55": "Troms",
    "56": "Finnmark",
}


def match(name: str, candidates: Sequence[Municipality] | None = None) -> Municipality:
    """The municipality a seed means by ``name``: the only one of that name, or, for a
    name like ``"Våler (Østfold)"``, the one of that name in that county. ValueError
    when there is none or more than one."""
    pool = municipalities() if candidates is None else candidates
    if len(name) == 4 and name.isdigit():  # a kommunenummer (the national seed's areas)
        numbered = [m for m in pool if m.number == name]
        if numbered:
            return numbered[0]
        raise ValueError(f"seed municipality {name}: no municipality of that number")
    bare, county = name, ""
    if name.endswith(")") and " (" in name:
        bare, _, county = name[:-1].partition(" (")
    found = [m for m in pool if m.name == bare]
    if county:
        found = [m for m in found if COUNTIES.get(m.number[:2]) == county]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(f"seed municipality {name!r}: no municipality of that name")
    numbers = ", ".join(f"{m.number} ({COUNTIES.get(m.number[:2], '?')})" for m in found)
    raise ValueError(
        f"seed municipality {name!r} is ambiguous ({numbers}): name it as 'Name (County)'"
    )


def nearest(position: Position, numbers: Collection[str]) -> Municipality | None:
    """Of the municipalities ``numbers``, the one whose outline has the point nearest
    ``position`` (a position at sea or just across the border)."""
    lat, lon = position.lat, position.lon
    coslat = math.cos(math.radians(lat))

    def to_bbox(m: Municipality) -> float:  # no vertex of m is nearer than its box
        x0, y0, x1, y1 = m.bbox
        return math.hypot(max(y0 - lat, 0.0, lat - y1), max(x0 - lon, 0.0, lon - x1) * coslat)

    # Nearest boxes first, and a box farther than the best vertex so far ends the search
    # (a call at sea is placed on the gateway's loop: 31,000 vertices otherwise). Ties
    # go to the earlier municipality, as a scan in order would have it.
    candidates = sorted(
        (to_bbox(m), i, m) for i, m in enumerate(municipalities()) if m.number in numbers
    )
    best: tuple[float, int, Municipality | None] = (math.inf, -1, None)
    for lower, i, m in candidates:
        if lower > best[0]:
            break
        for poly in m.polygons:
            for x, y in poly[0]:
                d = math.hypot(lat - y, (lon - x) * coslat)
                if d < best[0] or (d == best[0] and i < best[1]):
                    best = (d, i, m)
    return best[2]


def locate(position: Position, numbers: Collection[str]) -> Municipality | None:
    """The municipality holding ``position``; at sea, across the border or on a quay
    just outside the simplified coastline, the nearest of ``numbers``."""
    return municipality_of(position) or nearest(position, numbers)


#: Cells of the look-up grid, in degrees (about 28 km north-south).
CELL_DEG = 0.25


def _cell(lon: float, lat: float) -> tuple[int, int]:
    return math.floor(lon / CELL_DEG), math.floor(lat / CELL_DEG)


@cache
def _grid() -> dict[tuple[int, int], tuple[Municipality, ...]]:
    """Each grid cell's municipalities whose box reaches into it, in file order (so a
    point on a shared border goes to the same one as a scan in order). A look-up then
    tests a handful, not all 357 boxes: it runs on a gateway's loop for every 113 call
    and every incident created (measured: 6-36 us a scan, by how far down the file)."""
    cells: dict[tuple[int, int], list[Municipality]] = {}
    for m in municipalities():
        x0, y0, x1, y1 = m.bbox
        (cx0, cy0), (cx1, cy1) = _cell(x0, y0), _cell(x1, y1)
        for cx in range(cx0, cx1 + 1):
            for cy in range(cy0, cy1 + 1):
                cells.setdefault((cx, cy), []).append(m)
    return {cell: tuple(found) for cell, found in cells.items()}


def municipality_of(position: Position) -> Municipality | None:
    """The municipality holding ``position``; None at sea or abroad (the outlines are
    simplified and clipped to the coast, so a quay may fall just outside)."""
    for m in _grid().get(_cell(position.lon, position.lat), ()):
        if m.contains(position.lon, position.lat):
            return m
    return None


@dataclass(frozen=True, slots=True)
class UrbanList:
    numbers: frozenset[str]
    complete: bool  # False: an unlisted municipality is unknown, not rural
    source: str


@cache
def urban_list(path: Path = DATA / "urban_municipalities.toml") -> UrbanList:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    numbers = frozenset(str(m["kommunenummer"]) for m in data["municipality"])
    return UrbanList(numbers, bool(data["complete"]), str(data["source"]))


def area_of(position: Position, urban: UrbanList | None = None) -> str:
    """``urban``, ``rural`` or ``unknown`` for the response-time target of a place (by
    ``urban``, default the shipped list)."""
    m = municipality_of(position)
    if m is None:
        return UNKNOWN
    urban = urban or urban_list()
    if m.number in urban.numbers:
        return URBAN
    return RURAL if urban.complete else UNKNOWN


def place_warning(
    position: Position,
    region: str,
    by_municipality: Mapping[str, str],
    drawn: Collection[str] | None = None,
) -> str:
    """Why an incident's place looks wrong for ``region`` ('' when it does not): it lies
    in a municipality of another region (``by_municipality``: kommunenummer -> region),
    or in one no region of this cluster serves. At sea, abroad, or in a region drawn
    as a polygon (no municipalities): nothing to say. Said, not refused: an AMK does
    make an incident of a neighbour's (a call that reached it, a patient it will hand
    over), but a typo in a coordinate (Bergen for Oslo) should not pass unseen.

    ``drawn``: the regions ``by_municipality`` names, when the caller keeps them (a
    gateway does: this runs on every create, and the set is hundreds of values)."""
    if region not in (set(by_municipality.values()) if drawn is None else drawn):
        return ""  # the region is drawn as a polygon (or has no area): nothing to compare
    found = municipality_of(position)
    if found is None:
        return ""
    holder = by_municipality.get(found.number)
    if holder == region:
        return ""
    if holder is None:
        return f"{found.name} ({found.number}) is outside every region this cluster serves"
    return f"{found.name} is in {holder}'s area, not {region}'s: hand it over if it is theirs"
