"""``GET /api/reference``: what the map and the forms draw from and never changes while
the cluster runs: health regions, regions, centres, hospitals, airports, stations from
the running seed, and the criteria table; and ``GET /api/geo/regions``, the map's regions
of that seed. Public reference data, no patient data, so no login is needed for them;
built once per web server.

Each centre has a fixed colour (a region is drawn in the colour of the centre that owns
it now, so a failover recolours it). The five centres of the shipped seed:

==================  =========  ======
centre              colour     name
==================  =========  ======
oslo                #1f5fa8    blue
vestfold-telemark   #7b1fa2    purple
innlandet           #00838f    teal
sorlandet           #8d5524    brown
vestre-viken        #455a64    slate
==================  =========  ======

None of them is red, yellow or green, the urgency colours of incidents. A centre of
another seed gets one of :data:`SPARE_COLOURS`, picked by a stable hash of its id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

from aiohttp import web

from actors.domain import coverage
from actors.domain.triage import CriteriaTable, default_table
from clients.web.errors import json_response
from clients.web.geo_build import regions_geojson
from cluster.config import ClusterConfig
from cluster.seed_model import Seed

CENTRE_COLOURS: dict[str, str] = {
    "oslo": "#1f5fa8",
    "vestfold-telemark": "#7b1fa2",
    "innlandet": "#00838f",
    "sorlandet": "#8d5524",
    "vestre-viken": "#455a64",
}
SPARE_COLOURS = ("#5e35b1", "#3949ab", "#00695c", "#6d4c41", "#37474f", "#ad1457")
URGENCY_NAMES = {"akutt": "URGENCY_AKUTT", "haster": "URGENCY_HASTER", "vanlig": "URGENCY_VANLIG"}


def centre_colour(centre_id: str) -> str:
    """The centre's colour: fixed for the shipped five, else stable by its id."""
    if centre_id in CENTRE_COLOURS:
        return CENTRE_COLOURS[centre_id]
    digest = hashlib.sha256(centre_id.encode()).digest()
    return SPARE_COLOURS[digest[0] % len(SPARE_COLOURS)]


def stations(seed: Seed) -> list[dict[str, Any]]:
    """The seed's stations (:func:`actors.domain.coverage.stations`) as the console
    reads them."""
    return [
        {
            "id": st.id,
            "name": st.name,
            "region": st.region,
            "lat": st.lat,
            "lon": st.lon,
            "approx": st.approx,
            "units": list(st.units),
        }
        for st in coverage.stations(seed.units)
    ]


def build_reference(
    seed: Seed, criteria: CriteriaTable, prenotified: Collection[str] = ()
) -> dict[str, Any]:
    """The whole answer of ``/api/reference`` (docs/web-console.md). ``prenotified``: the
    hospitals with a pre-notification endpoint configured; the console offers only those
    to send to, and tells the dispatcher to phone the others."""
    return {
        "regions": [
            {
                "id": r.id,
                "code": r.code,
                "name": r.name,
                "kind": r.kind,
                "home": r.home,
                "backups": list(r.backups),
                "partners": list(r.partners),
                "serves": list(r.serves),
                "centre_colour": centre_colour(r.home),
                "health_region": seed.health_region_of(r.id),
            }
            for r in seed.regions
        ],
        "centres": [
            {
                "id": c.id,
                "name": c.name,
                "colour": centre_colour(c.id),
                "lat": c.lat,
                "lon": c.lon,
                "health_region": c.health_region,
            }
            for c in seed.centres
        ],
        "health_regions": [{"id": h.id, "name": h.name} for h in seed.health_regions],
        "hospitals": [
            {
                "id": h.id,
                "name": h.name,
                "region": h.region,
                "lat": h.lat,
                "lon": h.lon,
                "trauma_level": h.trauma_level,
                "stroke_thrombolysis": h.stroke_thrombolysis,
                "stroke_thrombectomy": h.stroke_thrombectomy,
                "pci": h.pci,
                "prenotify": h.id in prenotified,
            }
            for h in seed.hospitals
        ],
        "airports": [
            {"id": a.id, "name": a.name, "lat": a.lat, "lon": a.lon} for a in seed.airports
        ],
        "stations": stations(seed),
        "criteria": [
            {
                "code": c.code,
                "text": c.text,
                "text_no": c.text_no,
                "urgency": URGENCY_NAMES[c.urgency.value],
                "chapter": c.chapter,
            }
            for c in criteria.criteria.values()
        ],
        "chapters": [
            {"number": ch.number, "name": ch.title_no, "name_en": ch.title}
            for ch in sorted(criteria.chapters.values(), key=lambda ch: ch.number)
        ],
    }


REFERENCE = web.AppKey("reference", dict)
REGIONS_GEO = web.AppKey("regions_geo", bytes)


def install(app: web.Application, config: ClusterConfig, regions_geo: bytes | None = None) -> None:
    """Build the answers once (the seed and the table do not change while we run): the
    reference, and the map's regions from the running seed (``regions_geo`` when the
    caller built them already, off the event loop)."""
    app[REFERENCE] = build_reference(config.seed, default_table(), set(config.hospital_endpoints))
    app[REGIONS_GEO] = regions_geo if regions_geo is not None else regions_geojson(config.seed)


async def reference(request: web.Request) -> web.Response:
    """``GET /api/reference``."""
    return json_response(request.app[REFERENCE])


async def regions_geo(request: web.Request) -> web.Response:
    """``GET /api/geo/regions``: the running seed's regions by municipality (GeoJSON,
    © Kartverket CC BY 4.0, the attribution in its ``properties``)."""
    return web.Response(
        body=request.app[REGIONS_GEO],
        content_type="application/geo+json",
        headers={"Cache-Control": "no-store"},
    )
