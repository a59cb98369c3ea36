"""The road leg: how long a road ambulance or rapid-response car drives.

The straight line is split in two bands. The first ``road_urban_km`` (8 km) of it count
as *urban*: roads wind more (detour ×1.3) and are slow under blue lights (50 km/h),
because stations sit in towns and the start and the search for the address are the slow
part of a trip. The rest counts as *rural*: detour ×1.4 (roads follow valleys and
fjords) at 80 km/h. One band model instead of a town map keeps the time continuous and
increasing with distance, so a farther unit never looks faster. Turnout (not part of
the leg, see :meth:`EtaParameters.turnout_s`): 90 s for an ambulance at its station,
60 s for a rapid-response car at its station, 30 s for either when already mobile.
Motorways are not told apart, so long motorway trips come out slow (Oslo to Hamar:
~108 min); the ranking among nearby units, which is what dispatch needs, is what the
bands are for.

When the straight line crosses a :class:`Barrier`, the way round it is multiplied by
``barrier_detour`` (×1.15: roads along a shore are fairly direct) and driven with the
same speed bands. The barrier time is never less than the plain straight-line time.
Each crossed barrier is solved on its own; when several are crossed the longest way
round counts (an underestimate when two barriers chain).
"""

from __future__ import annotations

from typing import NamedTuple

from actors.domain.eta.geodesy import INF, haversine_km
from actors.domain.eta.parameters import EtaParameters


class RoadLeg(NamedTuple):
    """One road leg's numbers, kept apart so the reason can show each of them."""

    seconds: float  # driving time, no turnout
    km: float  # road km
    straight_km: float
    urban_km: float  # straight (or way-round) km in the urban band
    rural_km: float
    detour_urban: float
    detour_rural: float
    barrier: str  # "" or the barrier's name
    via: str
    why_not: str


def plain_road_s(p: EtaParameters, gc_km: float) -> float:
    """Driving seconds for ``gc_km`` of straight line by the two bands, no barrier.

    ``road_leg`` takes its plain time from here, so for the same ``gc_km`` this is
    exactly its ``seconds`` when no barrier is crossed and never more than them when one
    is: the recommender uses it to skip units before solving the way round a barrier.
    """
    u = gc_km if gc_km < p.road_urban_km else p.road_urban_km
    return 3600.0 * (
        u * p.road_detour_urban / p.road_speed_urban_kmh
        + (gc_km - u) * p.road_detour_rural / p.road_speed_rural_kmh
    )


def road_leg(
    p: EtaParameters,
    lat1: float,
    lon1: float,
    lat2: float,
    lon2: float,
    goals: dict[int, list[float]] | None = None,
) -> RoadLeg:
    """The road leg; ``goals`` caches each barrier's waypoint-to-(lat2, lon2) edges."""
    gc = haversine_km(lat1, lon1, lat2, lon2)
    u = gc if gc < p.road_urban_km else p.road_urban_km
    r = gc - u
    du, dr = p.road_detour_urban, p.road_detour_rural
    t = plain_road_s(p, gc)
    plain = RoadLeg(t, u * du + r * dr, gc, u, r, du, dr, "", "", "")
    worst: tuple[float, str, str] | None = None
    for b in p.barriers:
        g = b.geometry
        if g.crosses(lat1, lon1, lat2, lon2):
            goal = None
            if goals is not None:
                goal = goals.get(id(g))
                if goal is None:
                    goal = goals[id(g)] = g.to_goal(lat2, lon2)
            km, via = g.around(lat1, lon1, lat2, lon2, goal)
            if km == INF:
                return RoadLeg(
                    INF, INF, gc, 0.0, 0.0, du, dr, b.name, "", f"no road around {b.name}"
                )
            if worst is None or km > worst[0]:
                worst = (km, b.name, via)
    if worst is None:
        return plain
    km, name, via = worst
    bu = km if km < p.road_urban_km else p.road_urban_km
    br = km - bu
    bd = p.barrier_detour
    bt = 3600.0 * bd * (bu / p.road_speed_urban_kmh + br / p.road_speed_rural_kmh)
    if bt <= t:
        return plain
    return RoadLeg(bt, km * bd, gc, bu, br, bd, bd, name, via, "")
