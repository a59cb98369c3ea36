"""The web console's offline map data (issue #14, docs/web-console.md).

- The regions: one feature per municipality of each area region of the **running**
  seed, with the properties ``region`` (the region id), ``kommunenummer`` and ``name``.
  The web server builds them at start (:func:`regions_geojson`) and serves them at
  ``GET /api/geo/regions``, so the map is the whole country under ``amk up --seed
  cluster/seed/norway.toml`` and Helse Sør-Øst under the default seed, and a seed of
  one's own needs no build step. It is cheap: 99-121 ms for the whole country, 59-82 ms
  for Helse Sør-Øst (the municipalities read, 357 or 146 features rounded and written;
  2 cores at load average 5.5), so nothing per seed is committed. The page fills each
  with the colour of the centre that owns its region now. Source: Kartverket's 2024
  municipalities (``actors/domain/data/kommuner-2024-s.geojson``).
- ``static/geo/norway.geojson``: Norway's outline, from
  ``../shared/data/geo/norge-2024-s.geojson`` beside the repository. That input is not on
  CI machines, so the output is committed and a build without it says so and keeps the
  committed file.

Both are © Kartverket, CC BY 4.0: the attribution rides in each collection's top-level
``properties`` and the page shows it on the map. Coordinates are rounded to 3 decimals
(about 100 m, plenty for a region's boundary on a screen); rings that rounding leaves
degenerate are dropped. Health networks reach no tile server, so these are the whole map.

Run: ``python -m clients.web.geo_build`` (the outline; ``--seed FILE --regions-out FILE``
also writes a seed's regions, to look at).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from actors.domain.municipality import DATA, Municipality, match, municipalities
from cluster.seed_model import Seed

REPO = Path(__file__).resolve().parents[2]
GEO = Path(__file__).resolve().parent / "static" / "geo"
OUTLINE_OUT = GEO / "norway.geojson"
OUTLINE_IN = REPO.parent / "shared" / "data" / "geo" / "norge-2024-s.geojson"
MUNICIPALITIES_IN = DATA / "kommuner-2024-s.geojson"

ATTRIBUTION = "© Kartverket (CC BY 4.0)"
SOURCE = "Kartverket, administrative units 2024 (Geonorge), simplified"
DECIMALS = 3
# The regions of any shipped seed and the outline together stay under this (the page
# loads both at start).
MAX_BYTES = 1_500_000
# Outline islands smaller than this (square degrees after rounding) are dropped, only
# when the files would otherwise exceed MAX_BYTES (they do not today: 0 keeps them all).
MIN_ISLAND_DEG2 = 0.0

Point = tuple[float, float]
Ring = list[Point]


class GeoBuildError(Exception):
    """The inputs do not fit together (a seed municipality with no outline, ...)."""


# ---------------------------------------------------------------- geometry


def ring_area(ring: Sequence[Point]) -> float:
    """Shoelace area in square degrees (absolute); 0 for a degenerate ring."""
    total = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        total += x0 * y1 - x1 * y0
    return abs(total) / 2


def round_ring(ring: Iterable[Sequence[float]]) -> Ring | None:
    """The ring rounded to DECIMALS, repeated points removed, closed; None when rounding
    leaves it degenerate (fewer than 3 distinct points, or no area)."""
    out: Ring = []
    for p in ring:
        q = (round(p[0], DECIMALS), round(p[1], DECIMALS))
        if not out or q != out[-1]:
            out.append(q)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    if len(set(out)) < 3:
        return None
    out.append(out[0])
    return out if ring_area(out) > 0 else None


def round_polygons(
    polygons: Iterable[Sequence[Sequence[Sequence[float]]]], min_area: float = 0.0
) -> list[list[Ring]]:
    """Each polygon (outer ring, then holes) rounded; a polygon whose outer ring goes
    degenerate or is under ``min_area`` is dropped whole, a degenerate hole alone."""
    out = []
    for outer, *holes in polygons:
        shell = round_ring(outer)
        if shell is None or ring_area(shell) < min_area:
            continue
        kept = [h for h in (round_ring(h) for h in holes) if h is not None]
        out.append([shell, *kept])
    return out


def geometry(polygons: list[list[Ring]]) -> dict:
    """A GeoJSON Polygon for one polygon, else a MultiPolygon."""
    coords = [[[list(p) for p in ring] for ring in poly] for poly in polygons]
    if len(coords) == 1:
        return {"type": "Polygon", "coordinates": coords[0]}
    return {"type": "MultiPolygon", "coordinates": coords}


def _polygons_of(geom: dict) -> list:
    return [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]


# ---------------------------------------------------------------- matching


def match_municipality(name: str, candidates: Sequence[Municipality]) -> Municipality:
    """The municipality the seed means by ``name`` (:func:`actors.domain.municipality.match`),
    as a GeoBuildError when there is none or more than one."""
    try:
        return match(name, candidates)
    except ValueError as exc:
        raise GeoBuildError(str(exc)) from exc


# ---------------------------------------------------------------- the two files


def _collection(features: list[dict], title: str) -> dict:
    return {
        "type": "FeatureCollection",
        "properties": {
            "title": title,
            "attribution": ATTRIBUTION,
            "source": SOURCE,
            "built_by": "python -m clients.web.geo_build",
        },
        "features": features,
    }


def build_regions(seed: Seed, candidates: Sequence[Municipality] | None = None) -> dict:
    """One feature per municipality of each area region of ``seed``. Every seed
    municipality must match exactly one outline, and none may be in two regions."""
    candidates = municipalities(MUNICIPALITIES_IN) if candidates is None else candidates
    features = []
    owner: dict[str, str] = {}
    for region in seed.area_regions():
        if not region.municipalities:
            raise GeoBuildError(f"region {region.id}: lists no municipalities")
        for name in region.municipalities:
            m = match_municipality(name, candidates)
            if m.number in owner:
                raise GeoBuildError(
                    f"municipality {m.number} {m.name}: in regions {owner[m.number]} "
                    f"and {region.id}"
                )
            owner[m.number] = region.id
            polygons = round_polygons(m.polygons)
            if not polygons:
                raise GeoBuildError(f"municipality {m.number} {m.name}: nothing left rounded")
            features.append(
                {
                    "type": "Feature",
                    "properties": {"region": region.id, "kommunenummer": m.number, "name": m.name},
                    "geometry": geometry(polygons),
                }
            )
    features.sort(key=lambda f: (f["properties"]["region"], f["properties"]["kommunenummer"]))
    return _collection(features, "AMK regions of the seed, by municipality")


def build_outline(path: Path = OUTLINE_IN, min_island: float = MIN_ISLAND_DEG2) -> dict:
    """Norway's outline from Kartverket's ``norge-2024-s.geojson``, rounded."""
    if not path.is_file():
        raise FileNotFoundError(
            f"Norway's outline {path} is missing (the shared data lies beside the repository "
            "on developers' machines, not on CI's): the committed norway.geojson is kept"
        )
    source = json.loads(path.read_text(encoding="utf-8"))
    polygons = []
    for feature in source["features"]:
        polygons += round_polygons(_polygons_of(feature["geometry"]), min_island)
    feature = {"type": "Feature", "properties": {"name": "Norge"}, "geometry": geometry(polygons)}
    return _collection([feature], "Norway's outline")


def dumps(collection: dict) -> str:
    """Compact JSON, one feature to a line (small, and its diffs readable)."""
    head = {k: v for k, v in collection.items() if k != "features"}
    lines = [
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]
    ]
    prefix = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    return prefix + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def regions_geojson(seed: Seed) -> bytes:
    """The regions of ``seed`` as the web server serves them (UTF-8 GeoJSON)."""
    return dumps(build_regions(seed)).encode()


def main(argv: list[str] | None = None) -> int:
    """Write the outline (exit 1 when its input is missing) and, with ``--regions-out``,
    the regions of ``--seed``."""
    parser = argparse.ArgumentParser(prog="python -m clients.web.geo_build", description=__doc__)
    parser.add_argument("--seed", type=Path, default=None, help="seed TOML (default: HSØ)")
    parser.add_argument(
        "--regions-out", type=Path, default=None, help="also write the seed's regions here"
    )
    parser.add_argument("--outline", type=Path, default=OUTLINE_IN, help="norge-2024-s.geojson")
    args = parser.parse_args(argv)
    if args.regions_out is not None:
        try:
            regions = regions_geojson(Seed.load(args.seed))
        except GeoBuildError as exc:
            print(f"geo_build: {exc}", file=sys.stderr)
            return 2
        args.regions_out.write_bytes(regions)
        print(f"wrote {args.regions_out} ({len(regions):,} bytes)")
    try:
        outline = dumps(build_outline(args.outline))
    except FileNotFoundError as exc:
        print(f"geo_build: {exc}", file=sys.stderr)
        return 1
    GEO.mkdir(parents=True, exist_ok=True)
    OUTLINE_OUT.write_text(outline, encoding="utf-8")
    print(f"wrote {OUTLINE_OUT.relative_to(REPO)} ({len(outline.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
