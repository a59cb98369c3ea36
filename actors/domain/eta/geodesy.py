"""Distances on the Earth, and the few constants the ETA model takes as definitions.

Great-circle distance by the haversine formula on a spherical Earth of the IUGG mean
radius (6371.0088 km); the knot is 1.852 km/h. These are the only fixed numbers in the
model: everything else is an assumption in :class:`EtaParameters`.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180.0  # one degree of great circle, ~111.195 km
KNOT_KMH = 1.852
INF = math.inf


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two WGS84 positions (spherical Earth)."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    s_lat = math.sin((p2 - p1) * 0.5)
    s_lon = math.sin(math.radians(lon2 - lon1) * 0.5)
    a = s_lat * s_lat + math.cos(p1) * math.cos(p2) * s_lon * s_lon
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
