"""Norway's outline from Natural Earth (public domain), for the seed's coverage test.

Issue #15 asks the national areas to be checked against the Natural Earth outline. The
machine reaches only the package registries, so the data comes from a package there:
geopandas 0.14 ships Natural Earth's 1:110m countries (``ne_110m_admin_0_countries``)
as ``geopandas/datasets/naturalearth_lowres``. This module reads that shapefile with the
standard library only (the polygon records of the ``.shp`` file, the ``name`` column of
the ``.dbf``) and writes Norway's polygons as GeoJSON::

    python -m pip download geopandas==0.14.4 --no-deps -d /tmp/gpd
    python -m clients.natural_earth /tmp/gpd/geopandas-0.14.4-py3-none-any.whl

The output, ``tests/data/natural-earth-110m-norway.geojson``, is committed: the test
reads it, and nothing is fetched at run time. "Made with Natural Earth."
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "natural-earth-110m-norway.geojson"
MEMBER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
POLYGON = 5  # the shapefile's shape type of polygons

Ring = list[tuple[float, float]]


def polygons(shp: bytes) -> list[list[Ring]]:
    """Every record of a polygon shapefile as its rings of (lon, lat), in record order
    (a null shape is an empty list)."""
    if struct.unpack(">i", shp[:4])[0] != 9994:
        raise ValueError("not a shapefile (file code)")
    end = struct.unpack(">i", shp[24:28])[0] * 2
    out: list[list[Ring]] = []
    at = 100
    while at < end:
        length = struct.unpack(">i", shp[at + 4 : at + 8])[0] * 2
        body = shp[at + 8 : at + 8 + length]
        at += 8 + length
        kind = struct.unpack("<i", body[:4])[0]
        if kind == 0:
            out.append([])
            continue
        if kind != POLYGON:
            raise ValueError(f"shape type {kind}: only polygons are read")
        n_parts, n_points = struct.unpack("<2i", body[36:44])
        starts = list(struct.unpack(f"<{n_parts}i", body[44 : 44 + 4 * n_parts]))
        base = 44 + 4 * n_parts
        pts = [struct.unpack_from("<2d", body, base + 16 * i) for i in range(n_points)]
        bounds = [*starts, n_points]
        out.append([list(pts[bounds[i] : bounds[i + 1]]) for i in range(n_parts)])
    return out


def column(dbf: bytes, name: str, encoding: str = "utf-8") -> list[str]:
    """One text column of a dBASE table, by field name, in record order (``encoding``:
    the shapefile's ``.cpg``)."""
    n_records, header_len, record_len = struct.unpack("<IHH", dbf[4:12])
    fields: list[tuple[str, int, int]] = []  # name, offset in the record, length
    offset = 1  # the deletion flag
    for at in range(32, header_len - 1, 32):
        raw = dbf[at : at + 32]
        field = raw[:11].split(b"\0", 1)[0].decode("ascii")
        fields.append((field, offset, raw[16]))
        offset += raw[16]
    matches = [(o, n) for f, o, n in fields if f.lower() == name.lower()]
    if not matches:
        raise ValueError(f"no column {name!r}; columns: {[f for f, _, _ in fields]}")
    o, n = matches[0]
    out = []
    for i in range(n_records):
        start = header_len + i * record_len + o
        out.append(dbf[start : start + n].decode(encoding).strip())
    return out


def country(shp: bytes, dbf: bytes, name: str, encoding: str = "utf-8") -> list[list[Ring]]:
    """The rings of one country, grouped into polygons (outer ring first, its holes
    after: in a shapefile an outer ring runs clockwise, a hole counter-clockwise)."""
    names = column(dbf, "name", encoding)
    shapes = polygons(shp)
    if len(names) != len(shapes):
        raise ValueError(f"{len(names)} names for {len(shapes)} shapes")
    rings = [r for n, s in zip(names, shapes, strict=True) if n == name for r in s]
    if not rings:
        raise ValueError(f"no country named {name!r}")
    grouped: list[list[Ring]] = []
    for ring in rings:
        if _signed_area(ring) < 0 or not grouped:  # clockwise: a new outer ring
            grouped.append([ring])
        else:
            grouped[-1].append(ring)
    return grouped


def _signed_area(ring: Ring) -> float:
    """Positive counter-clockwise, negative clockwise (the shoelace formula)."""
    pairs = zip(ring, ring[1:] + ring[:1], strict=True)
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs) / 2


def from_wheel(wheel: Path, name: str = "Norway") -> dict:
    with zipfile.ZipFile(wheel) as z:
        shp, dbf = z.read(MEMBER + ".shp"), z.read(MEMBER + ".dbf")
        encoding = z.read(MEMBER + ".cpg").decode("ascii").strip()  # ISO-8859-1
    parts = country(shp, dbf, name, encoding)
    return {
        "type": "FeatureCollection",
        "name": f"Natural Earth 1:110m admin 0 countries: {name}",
        "attribution": "Made with Natural Earth (public domain), ne_110m_admin_0_countries "
        "as shipped in geopandas 0.14.4 (geopandas/datasets/naturalearth_lowres)",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": name},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [[[round(x, 6), round(y, 6)] for x, y in ring] for ring in polygon]
                        for polygon in parts
                    ],
                },
            }
        ],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m clients.natural_earth", description=__doc__)
    p.add_argument("wheel", type=Path, help="geopandas-0.14.4-py3-none-any.whl")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    data = from_wheel(args.wheel)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    polys = data["features"][0]["geometry"]["coordinates"]
    print(f"{args.out}: Norway, {len(polys)} polygons, {sum(len(p[0]) for p in polys)} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
