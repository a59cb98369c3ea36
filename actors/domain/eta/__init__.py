"""An explainable ETA model: how long a unit needs to reach a position.

No road network, no live traffic: a few numbers per unit kind, each of which a
dispatcher can read back in the estimate's ``reason`` ("road 13.1 km ... + 90 s
turnout = 11.9 min"). Every number is an **assumption, tunable** through
:class:`EtaParameters`; none is a measured Norwegian figure. The only fixed constants
are definitions (:mod:`.geodesy`).

The parts, each documenting its own assumptions, in dependency order: :mod:`.geodesy`
(distances), :mod:`.places` (towns, airports), :mod:`.barriers` (fjords and lakes the
road goes around), :mod:`.parameters` (the numbers), :mod:`.road` (the road leg),
:mod:`.travel_time` (each unit kind's time, as numbers) and :mod:`.estimates` (the same
numbers in words).
"""

from __future__ import annotations

from actors.domain.eta.barriers import DEFAULT_BARRIERS, Barrier
from actors.domain.eta.estimates import Estimate, estimate, eta_s, to_estimate
from actors.domain.eta.geodesy import EARTH_RADIUS_KM, INF, KM_PER_DEG, KNOT_KMH, haversine_km
from actors.domain.eta.parameters import (
    DEFAULT_PARAMETERS,
    EtaParameters,
    in_town,
    nearest_airport,
)
from actors.domain.eta.places import DEFAULT_AIRPORTS, DEFAULT_TOWNS, Airport, Town
from actors.domain.eta.travel_time import ROAD_KINDS, EtaParts, IncidentContext, unit_parts

__all__ = [
    "DEFAULT_AIRPORTS",
    "DEFAULT_BARRIERS",
    "DEFAULT_PARAMETERS",
    "DEFAULT_TOWNS",
    "EARTH_RADIUS_KM",
    "INF",
    "KM_PER_DEG",
    "KNOT_KMH",
    "ROAD_KINDS",
    "Airport",
    "Barrier",
    "Estimate",
    "EtaParameters",
    "EtaParts",
    "IncidentContext",
    "Town",
    "estimate",
    "eta_s",
    "haversine_km",
    "in_town",
    "nearest_airport",
    "to_estimate",
    "unit_parts",
]
