"""An explainable ETA model: how long a unit needs to reach a position.

No road network, no live traffic: a few numbers per unit kind, each of which a
dispatcher can read back in the estimate's ``reason`` ("road 13.1 km ... + 90 s
turnout = 11.9 min"). Every number below is an **assumption, tunable** through
:class:`EtaParameters`; none is a measured Norwegian figure. The only fixed constants
are definitions: the mean Earth radius (6371.0088 km, IUGG) and the knot (1.852 km/h).

Distances
    Great-circle distance by the haversine formula (:func:`haversine_km`).

Road ambulance and rapid-response car (mode ``road``)
    The straight line is split in two bands. The first ``road_urban_km`` (8 km) of it
    count as *urban*: roads wind more (detour ×1.3) and are slow under blue lights
    (50 km/h), because stations sit in towns and the start and the search for the
    address are the slow part of a trip. The rest counts as *rural*: detour ×1.4 (roads
    follow valleys and fjords) at 80 km/h. One band model instead of a town map keeps
    the time continuous and increasing with distance, so a farther unit never looks
    faster. Turnout: 90 s for an ambulance at its station, 60 s for a rapid-response
    car at its station, 30 s for either when already mobile. Motorways are not told
    apart, so long motorway trips come out slow (Oslo to Hamar: ~108 min); the ranking
    among nearby units, which is what dispatch needs, is what the bands are for.

Barriers (fjords and lakes the road must go around)
    A :class:`Barrier` is a polyline along a water body with, at each end, either a
    label naming where roads go round it (a bridge, the head of a fjord, a tunnel) or
    nothing (the water goes on to the open sea: no way round there). When the straight
    line from unit to incident crosses a barrier, the road leg is the shortest path of
    straight legs around the barrier: via its passable end(s), bending round its corners
    (a tiny visibility graph); without a way round the road is unusable. That path is
    multiplied by ``barrier_detour`` (×1.15: roads along a shore are fairly direct) and
    driven with the same urban/rural speed bands. The barrier time is never less than the
    plain straight-line time. Each crossed barrier is solved on its own; when several are
    crossed the longest way round counts (an underestimate when two barriers chain).
    The defaults, coordinates approximate and hand-placed, are:

    - *Indre Oslofjord at Nesodden*: Bunnefjorden and Vestfjorden; roads go round
      the inner end of Bunnefjorden. Nesoddtangen is about 7 km from central Oslo
      over the water but about 40 km by road; the model gives ~41 km from the Sentrum
      station.
    - *Oslofjorden, Drøbak to Færder*: Vestfold/Hurum against Follo/Østfold; the way
      round is the Oslofjord tunnel (Hurum-Frogn). The Horten-Moss ferry is ignored.
    - *Drammensfjorden*: round by the bridges in Drammen; the Svelvik-Verket ferry is
      ignored.
    - *Mjøsa*: Gjøvik/Toten against Hamar/Stange; round by Mjøsbrua (Moelv-Biri) in the
      north or Minnesund (E6) in the south.

Boat ambulance (mode ``water``)
    Straight line ×1.2 (around islands and skerries) at 25 knots, plus 5 min launch at the
    quay (1 min if already under way) and a fixed 2 min from the quay to the patient.
    Barriers do not apply (a boat crosses the fjord). Usable only within
    ``boat_range_km`` (25 km) of the boat's position: the model has no coastline, so this
    radius stands for "coastal and island positions in the boat's own waters"; an inland
    address inside the radius would also pass (the recommender lists a boat only when it
    beats the road, see ``recommend.py``).

Helicopter (mode ``air``)
    10 min launch by day at the base (2 min if already airborne) plus the straight line at
    240 km/h cruise. Night, weather and landing-site limits are not modelled: raise
    ``heli_launch_s`` or leave the unit out. Usable up to ``heli_max_km`` (250 km).

Fixed wing (mode ``air+road``)
    30 min launch at its base (5 min if airborne), straight line at 450 km/h from the unit
    to the airport nearest the incident, 10 min for landing, taxi and handover, then the
    road leg from that airport to the incident with the road model (no turnout). Offered
    only when the incident is more than ``fixed_wing_min_km`` (150 km) away; closer, a
    helicopter or the road is assumed to be the better tool.

``status`` is used only for turnout (``available_mobile`` is "already under way"); who
is free to go is the recommender's business, not this model's.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import NamedTuple

from actors.domain.model import Unit, UnitKind, UnitStatus

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
KM_PER_DEG = math.pi * EARTH_RADIUS_KM / 180.0  # one degree of great circle, ~111.195 km
KNOT_KMH = 1.852
INF = math.inf

ROAD_KINDS = frozenset({UnitKind.ROAD_AMBULANCE, UnitKind.RAPID_RESPONSE_CAR})


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two WGS84 positions (spherical Earth)."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    s_lat = math.sin((p2 - p1) * 0.5)
    s_lon = math.sin(math.radians(lon2 - lon1) * 0.5)
    a = s_lat * s_lat + math.cos(p1) * math.cos(p2) * s_lon * s_lon
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class Town(NamedTuple):
    """A built-up area: a centre and a radius (used for the "in town" rule)."""

    name: str
    lat: float
    lon: float
    radius_km: float


class Airport(NamedTuple):
    id: str
    name: str
    lat: float
    lon: float


def _cross(a: tuple[float, float], b: tuple[float, float], seg: tuple[float, ...]) -> bool:
    """Whether segment a-b properly crosses ``seg`` (lat1, lon1, lat2, lon2).

    Orientation tests on raw (lat, lon): crossing is preserved by the affine map to any
    local plane, so no projection is needed. Touching or collinear overlap is not a
    crossing (a path may run along a shore or start on it).
    """
    ay, ax = a
    by, bx = b
    cy, cx, dy, dx = seg
    d1 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
    d2 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
    if not ((d1 > 0.0 > d2) or (d1 < 0.0 < d2)):
        return False
    d3 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    d4 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
    return (d3 > 0.0 > d4) or (d3 < 0.0 < d4)


class _BarrierGeometry:
    """Precomputed segments, bounding box and waypoints of one barrier."""

    __slots__ = ("adj", "box", "labels", "nodes", "segs")

    OFFSET_KM = 0.05  # waypoints sit 50 m off the water line, beyond ends and corners

    def __init__(self, points: tuple[tuple[float, float], ...], start: str, end: str) -> None:
        if len(points) < 2:
            raise ValueError("a barrier needs at least two points")
        lat0 = sum(p[0] for p in points) / len(points)
        kx = math.cos(math.radians(lat0)) * KM_PER_DEG
        xy = [(lon * kx, lat * KM_PER_DEG) for lat, lon in points]

        def offset(x: float, y: float, ux: float, uy: float) -> tuple[float, float] | None:
            n = math.hypot(ux, uy)
            if n < 1e-12:
                return None
            x += ux / n * self.OFFSET_KM
            y += uy / n * self.OFFSET_KM
            return (y / KM_PER_DEG, x / kx)

        self.segs = [(*points[i], *points[i + 1]) for i in range(len(points) - 1)]
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        self.box = (min(lats), max(lats), min(lons), max(lons))
        nodes: list[tuple[float, float]] = []
        labels: list[str] = []
        if start:  # just beyond the first point, away from the second
            w = offset(*xy[0], xy[0][0] - xy[1][0], xy[0][1] - xy[1][1])
            if w:
                nodes.append(w)
                labels.append(start)
        for i in range(1, len(xy) - 1):  # the convex side of each corner
            (px, py), (vx, vy), (nx, ny) = xy[i - 1], xy[i], xy[i + 1]
            d1 = math.hypot(vx - px, vy - py) or 1.0
            d2 = math.hypot(vx - nx, vy - ny) or 1.0
            w = offset(vx, vy, (vx - px) / d1 + (vx - nx) / d2, (vy - py) / d1 + (vy - ny) / d2)
            if w:
                nodes.append(w)
                labels.append("")
        if end:
            w = offset(*xy[-1], xy[-1][0] - xy[-2][0], xy[-1][1] - xy[-2][1])
            if w:
                nodes.append(w)
                labels.append(end)
        self.nodes = nodes
        self.labels = labels
        # waypoint-to-waypoint edges do not depend on the query: computed once
        self.adj: list[list[tuple[int, float]]] = [[] for _ in nodes]
        for i in range(len(nodes)):
            for j in range(i + 1, len(nodes)):
                if self.visible(nodes[i], nodes[j]):
                    km = haversine_km(*nodes[i], *nodes[j])
                    self.adj[i].append((j, km))
                    self.adj[j].append((i, km))

    def visible(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        return not any(_cross(a, b, s) for s in self.segs)

    def crosses(self, lat1: float, lon1: float, lat2: float, lon2: float) -> bool:
        lo_lat, hi_lat, lo_lon, hi_lon = self.box
        if (
            (lat1 < lo_lat and lat2 < lo_lat)
            or (lat1 > hi_lat and lat2 > hi_lat)
            or (lon1 < lo_lon and lon2 < lo_lon)
            or (lon1 > hi_lon and lon2 > hi_lon)
        ):
            return False
        return not self.visible((lat1, lon1), (lat2, lon2))

    def to_goal(self, lat: float, lon: float) -> list[float]:
        """km from each waypoint straight to (lat, lon); inf where the water is in the way."""
        b = (lat, lon)
        return [haversine_km(*w, *b) if self.visible(w, b) else INF for w in self.nodes]

    def around(
        self,
        lat1: float,
        lon1: float,
        lat2: float,
        lon2: float,
        goal_km: list[float] | None = None,
    ) -> tuple[float, str]:
        """Shortest way round (km of straight legs, the passable end used), or (inf, "").

        ``goal_km`` is ``to_goal(lat2, lon2)`` when the caller has it (one incident, many
        units)."""
        a = (lat1, lon1)
        nodes = self.nodes
        m = len(nodes)
        # Dijkstra over the waypoints; edges from the start and to the goal per query
        if goal_km is None:
            goal_km = self.to_goal(lat2, lon2)
        dist = [INF] * m
        via = [""] * m
        heap: list[tuple[float, int]] = []
        for i, w in enumerate(nodes):
            if self.visible(a, w):
                dist[i] = haversine_km(*a, *w)
                via[i] = self.labels[i]
                heap.append((dist[i], i))
        heapq.heapify(heap)
        best, best_via = INF, ""
        while heap:
            d, i = heapq.heappop(heap)
            if d > dist[i] or d >= best:
                continue
            if d + goal_km[i] < best:
                best, best_via = d + goal_km[i], via[i]
            for j, km in self.adj[i]:
                nd = d + km
                if nd < dist[j]:
                    dist[j] = nd
                    via[j] = via[i] or self.labels[j]
                    heapq.heappush(heap, (nd, j))
        return best, best_via


@dataclass(frozen=True)
class Barrier:
    """Water the road must go around: a polyline (lat, lon) along it.

    ``around_start`` / ``around_end`` name where roads pass the first / last point (a
    bridge, a tunnel, the head of the fjord); empty means open water (no way round).
    """

    name: str
    points: tuple[tuple[float, float], ...]
    around_start: str = ""
    around_end: str = ""
    geometry: _BarrierGeometry = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "geometry", _BarrierGeometry(self.points, self.around_start, self.around_end)
        )


DEFAULT_BARRIERS: tuple[Barrier, ...] = (
    Barrier(
        "Indre Oslofjord at Nesodden",
        (
            (59.735, 10.725),  # inner end of Bunnefjorden
            (59.790, 10.725),
            (59.850, 10.720),  # Bunnefjorden mouth, east of Nesodden
            (59.885, 10.665),  # off Nesoddtangen, south of Bygdøy
            (59.840, 10.615),  # Vestfjorden, west of Nesodden
            (59.760, 10.565),
            (59.690, 10.585),  # towards the Drøbak sound (open water)
        ),
        around_start="the inner end of Bunnefjorden",
    ),
    Barrier(
        "Oslofjorden (Drøbak to Færder)",
        (
            (59.665, 10.613),  # Oslofjord tunnel, Hurum-Frogn
            (59.550, 10.615),
            (59.420, 10.550),  # between Horten and Moss (ferry ignored)
            (59.250, 10.580),
            (59.050, 10.620),
            (58.900, 10.650),  # Færder: the open Skagerrak
        ),
        around_start="the Oslofjord tunnel (Hurum-Frogn)",
    ),
    Barrier(
        "Drammensfjorden",
        (
            (59.735, 10.235),  # Drammen: bridges over the river mouth
            (59.680, 10.310),
            (59.624, 10.385),  # Svelvikstrømmen (ferry ignored)
            (59.540, 10.400),
            (59.450, 10.470),  # Breiangen, towards the Oslofjord
        ),
        around_start="the bridges in Drammen",
    ),
    Barrier(
        "Mjøsa",
        (
            (60.928, 10.666),  # Mjøsbrua, Moelv-Biri
            (60.870, 10.760),
            (60.800, 10.830),  # between Gjøvik and Nes/Hamar
            (60.720, 10.910),
            (60.620, 10.990),
            (60.520, 11.080),
            (60.400, 11.215),  # Minnesund, E6 bridge
        ),
        around_start="Mjøsbrua (Moelv-Biri)",
        around_end="Minnesund (E6)",
    ),
)

# Built-up areas of Helse Sør-Øst (centre, radius; approximate). Used only by the
# recommender's "in town" threshold for considering air.
DEFAULT_TOWNS: tuple[Town, ...] = (
    Town("Oslo", 59.913, 10.752, 10.0),
    Town("Bærum (Sandvika)", 59.891, 10.524, 5.0),
    Town("Asker", 59.834, 10.435, 3.0),
    Town("Lørenskog/Lillestrøm", 59.944, 11.000, 5.0),
    Town("Ski", 59.719, 10.835, 3.0),
    Town("Jessheim", 60.142, 11.175, 3.0),
    Town("Drammen", 59.744, 10.204, 5.0),
    Town("Kongsberg", 59.668, 9.650, 3.0),
    Town("Hønefoss", 60.168, 10.256, 3.0),
    Town("Moss", 59.434, 10.658, 3.0),
    Town("Fredrikstad", 59.218, 10.934, 4.0),
    Town("Sarpsborg", 59.284, 11.110, 3.0),
    Town("Halden", 59.123, 11.387, 3.0),
    Town("Tønsberg", 59.267, 10.407, 4.0),
    Town("Sandefjord", 59.131, 10.216, 3.0),
    Town("Larvik", 59.053, 10.027, 3.0),
    Town("Skien/Porsgrunn", 59.170, 9.630, 5.0),
    Town("Kristiansand", 58.146, 7.996, 5.0),
    Town("Arendal", 58.461, 8.772, 3.0),
    Town("Hamar", 60.795, 11.068, 3.0),
    Town("Gjøvik", 60.795, 10.692, 3.0),
    Town("Lillehammer", 61.115, 10.466, 3.0),
)

# The airports of the seed (cluster/seed/helse_sor_ost.toml); a unit test keeps them equal.
DEFAULT_AIRPORTS: tuple[Airport, ...] = (
    Airport("engm", "Oslo lufthavn Gardermoen", 60.1939, 11.1004),
    Airport("ento", "Sandefjord lufthavn Torp", 59.1867, 10.2586),
    Airport("enry", "Moss lufthavn Rygge", 59.3789, 10.7856),
    Airport("encn", "Kristiansand lufthavn Kjevik", 58.2042, 8.0854),
    Airport("ensn", "Skien lufthavn Geiteryggen", 59.1850, 9.5669),
    Airport("enno", "Notodden lufthavn Tuven", 59.5657, 9.2122),
    Airport("enfg", "Fagernes lufthavn Leirin", 61.0156, 9.2881),
    Airport("endi", "Geilo lufthavn Dagali", 60.4167, 8.5135),
    Airport("enha", "Hamar flyplass Stafsberg", 60.8181, 11.0680),
    Airport("enro", "Røros lufthavn", 62.5784, 11.3423),
)


@dataclass(frozen=True)
class EtaParameters:
    """The model's numbers: all assumptions, all tunable (see the module docstring)."""

    # road (ambulance, rapid-response car)
    road_urban_km: float = 8.0  # first km of the straight line counted as urban
    road_detour_urban: float = 1.3
    road_detour_rural: float = 1.4
    road_speed_urban_kmh: float = 50.0
    road_speed_rural_kmh: float = 80.0
    barrier_detour: float = 1.15
    ambulance_turnout_s: float = 90.0
    rapid_response_turnout_s: float = 60.0
    road_mobile_turnout_s: float = 30.0
    # boat ambulance
    boat_speed_kn: float = 25.0
    boat_detour: float = 1.2
    boat_launch_s: float = 300.0
    boat_mobile_launch_s: float = 60.0
    boat_shore_s: float = 120.0  # quay to patient
    boat_range_km: float = 25.0
    # helicopter
    heli_speed_kmh: float = 240.0
    heli_launch_s: float = 600.0  # by day
    heli_mobile_launch_s: float = 120.0
    heli_max_km: float = 250.0
    # fixed wing
    fixed_wing_speed_kmh: float = 450.0
    fixed_wing_launch_s: float = 1800.0
    fixed_wing_mobile_launch_s: float = 300.0
    fixed_wing_ground_s: float = 600.0  # landing, taxi, handover to the road leg
    fixed_wing_min_km: float = 150.0
    # geography (plain data)
    barriers: tuple[Barrier, ...] = DEFAULT_BARRIERS
    airports: tuple[Airport, ...] = DEFAULT_AIRPORTS
    towns: tuple[Town, ...] = DEFAULT_TOWNS

    def turnout_s(self, kind: UnitKind, mobile: bool) -> float:
        """Time from "go" until the unit is moving towards the incident."""
        if kind == UnitKind.ROAD_AMBULANCE:
            return self.road_mobile_turnout_s if mobile else self.ambulance_turnout_s
        if kind == UnitKind.RAPID_RESPONSE_CAR:
            return self.road_mobile_turnout_s if mobile else self.rapid_response_turnout_s
        if kind == UnitKind.BOAT_AMBULANCE:
            return self.boat_mobile_launch_s if mobile else self.boat_launch_s
        if kind == UnitKind.HELICOPTER:
            return self.heli_mobile_launch_s if mobile else self.heli_launch_s
        return self.fixed_wing_mobile_launch_s if mobile else self.fixed_wing_launch_s

    def road_s_per_km_min(self) -> float:
        """The fewest road seconds per straight-line km (a lower bound for pruning)."""
        return 3600.0 * min(
            self.road_detour_urban / self.road_speed_urban_kmh,
            self.road_detour_rural / self.road_speed_rural_kmh,
        )


DEFAULT_PARAMETERS = EtaParameters()


@dataclass(frozen=True, slots=True)
class Estimate:
    """One unit's estimated time to reach a position, with the reason in words.

    ``usable`` is False when the model rules the unit out (out of range, no way round a
    fjord, fixed wing too close); then ``eta_s`` is infinite and ``why_not`` says why.
    """

    unit_id: str
    kind: UnitKind
    eta_s: float
    distance_km: float
    mode: str
    reason: str
    usable: bool = True
    why_not: str = ""


def in_town(lat: float, lon: float, params: EtaParameters = DEFAULT_PARAMETERS) -> str:
    """The name of the town the position lies in, or "" (see ``EtaParameters.towns``)."""
    for t in params.towns:
        if haversine_km(lat, lon, t.lat, t.lon) <= t.radius_km:
            return t.name
    return ""


def nearest_airport(
    lat: float, lon: float, params: EtaParameters = DEFAULT_PARAMETERS
) -> tuple[Airport, float] | None:
    best: tuple[Airport, float] | None = None
    for a in params.airports:
        d = haversine_km(lat, lon, a.lat, a.lon)
        if best is None or d < best[1]:
            best = (a, d)
    return best


# ---------------------------------------------------------------- the numbers
# ``unit_parts`` returns plain numbers so the recommender can rank thousands of units
# without building strings; ``to_estimate`` (and so ``estimate``) formats the same numbers
# into a reason. ``IncidentContext``, ``unit_parts`` and ``to_estimate`` are for
# ``recommend.py``; other callers use ``estimate``.


class _Road(NamedTuple):
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


def _road(
    p: EtaParameters,
    lat1: float,
    lon1: float,
    lat2: float,
    lon2: float,
    goals: dict[int, list[float]] | None = None,
) -> _Road:
    """The road leg; ``goals`` caches each barrier's waypoint-to-(lat2, lon2) edges."""
    gc = haversine_km(lat1, lon1, lat2, lon2)
    u = gc if gc < p.road_urban_km else p.road_urban_km
    r = gc - u
    du, dr = p.road_detour_urban, p.road_detour_rural
    t = 3600.0 * (u * du / p.road_speed_urban_kmh + r * dr / p.road_speed_rural_kmh)
    plain = _Road(t, u * du + r * dr, gc, u, r, du, dr, "", "", "")
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
                return _Road(INF, INF, gc, 0.0, 0.0, du, dr, b.name, "", f"no road around {b.name}")
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
    return _Road(bt, km * bd, gc, bu, br, bd, bd, name, via, "")


class EtaParts(NamedTuple):
    """The numbers behind one estimate (``eta_s`` infinite when ``why_not``)."""

    eta_s: float
    distance_km: float
    mode: str
    why_not: str
    turnout_s: float
    mobile: bool
    straight_km: float
    road: _Road | None = None
    airport: Airport | None = None


class IncidentContext:
    """Per-incident values shared by all units of one call (nearest airport, lazily)."""

    __slots__ = ("_airport", "_looked", "goals", "lat", "lon", "p")

    def __init__(self, p: EtaParameters, lat: float, lon: float) -> None:
        self.p = p
        self.lat = lat
        self.lon = lon
        self.goals: dict[int, list[float]] = {}  # barrier geometry id -> to_goal(incident)
        self._airport: tuple[Airport, float] | None = None
        self._looked = False

    def airport(self) -> tuple[Airport, float] | None:
        if not self._looked:
            self._airport = nearest_airport(self.lat, self.lon, self.p)
            self._looked = True
        return self._airport


def unit_parts(ctx: IncidentContext, unit: Unit) -> EtaParts:
    """The ETA of ``unit`` to the context's incident, as numbers."""
    p = ctx.p
    kind = unit.kind
    mobile = unit.status == UnitStatus.AVAILABLE_MOBILE
    turnout = p.turnout_s(kind, mobile)
    ulat, ulon = unit.position.lat, unit.position.lon
    if kind in ROAD_KINDS:
        road = _road(p, ulat, ulon, ctx.lat, ctx.lon, ctx.goals)
        if road.why_not:
            return EtaParts(INF, road.km, "road", road.why_not, turnout, mobile, road.straight_km)
        return EtaParts(
            turnout + road.seconds, road.km, "road", "", turnout, mobile, road.straight_km, road
        )
    gc = haversine_km(ulat, ulon, ctx.lat, ctx.lon)
    if kind == UnitKind.BOAT_AMBULANCE:
        if gc > p.boat_range_km:
            why = f"boat only within {p.boat_range_km:g} km of its position ({gc:.1f} km away)"
            return EtaParts(INF, gc, "water", why, turnout, mobile, gc)
        km = gc * p.boat_detour
        t = turnout + 3600.0 * km / (p.boat_speed_kn * KNOT_KMH) + p.boat_shore_s
        return EtaParts(t, km, "water", "", turnout, mobile, gc)
    if kind == UnitKind.HELICOPTER:
        if gc > p.heli_max_km:
            why = f"helicopter only within {p.heli_max_km:g} km ({gc:.1f} km away)"
            return EtaParts(INF, gc, "air", why, turnout, mobile, gc)
        t = turnout + 3600.0 * gc / p.heli_speed_kmh
        return EtaParts(t, gc, "air", "", turnout, mobile, gc)
    # fixed wing
    if gc <= p.fixed_wing_min_km:
        why = f"fixed wing only beyond {p.fixed_wing_min_km:g} km ({gc:.1f} km away)"
        return EtaParts(INF, gc, "air+road", why, turnout, mobile, gc)
    near = ctx.airport()
    if near is None:
        return EtaParts(INF, gc, "air+road", "no airports configured", turnout, mobile, gc)
    ap = near[0]
    flight = haversine_km(ulat, ulon, ap.lat, ap.lon)
    road = _road(p, ap.lat, ap.lon, ctx.lat, ctx.lon, ctx.goals)
    if road.why_not:
        why = f"no road from {ap.name}: {road.why_not}"
        return EtaParts(INF, gc, "air+road", why, turnout, mobile, gc, road, ap)
    t = turnout + 3600.0 * flight / p.fixed_wing_speed_kmh + p.fixed_wing_ground_s + road.seconds
    return EtaParts(t, flight + road.km, "air+road", "", turnout, mobile, gc, road, ap)


def _turnout_words(kind: UnitKind, mobile: bool) -> str:
    if kind in ROAD_KINDS:
        return "turnout (mobile)" if mobile else "turnout at station"
    if kind == UnitKind.BOAT_AMBULANCE:
        return "launch (under way)" if mobile else "launch at quay"
    return "launch (airborne)" if mobile else "launch at base"


def _road_words(p: EtaParameters, r: _Road) -> str:
    vu, vr = p.road_speed_urban_kmh, p.road_speed_rural_kmh
    if r.barrier:
        way = f" via {r.via}" if r.via else ""
        return (
            f"road {r.km:.1f} km around {r.barrier}{way} "
            f"({r.urban_km + r.rural_km:.1f} km of straight legs ×{r.detour_urban:g}: "
            f"{r.urban_km:.1f} km at {vu:g} km/h + {r.rural_km:.1f} km at {vr:g} km/h; "
            f"straight line {r.straight_km:.1f} km)"
        )
    return (
        f"road {r.km:.1f} km ({r.urban_km:.1f} km ×{r.detour_urban:g} at {vu:g} km/h + "
        f"{r.rural_km:.1f} km ×{r.detour_rural:g} at {vr:g} km/h)"
    )


def _reason(p: EtaParameters, kind: UnitKind, x: EtaParts) -> str:
    turn = f"{x.turnout_s:.0f} s {_turnout_words(kind, x.mobile)}"
    if x.road is not None and x.airport is None:
        body = f"{_road_words(p, x.road)} + {turn}"
    elif kind == UnitKind.BOAT_AMBULANCE:
        body = (
            f"water {x.distance_km:.1f} km ({x.straight_km:.1f} km ×{p.boat_detour:g}) at "
            f"{p.boat_speed_kn:g} kn + {turn} + {p.boat_shore_s:.0f} s quay to patient"
        )
    elif kind == UnitKind.HELICOPTER:
        body = f"air {x.distance_km:.1f} km at {p.heli_speed_kmh:g} km/h + {turn}"
    else:
        assert x.airport is not None and x.road is not None
        flight = x.distance_km - x.road.km
        body = (
            f"air {flight:.1f} km to {x.airport.name} at {p.fixed_wing_speed_kmh:g} km/h + "
            f"{turn} + {p.fixed_wing_ground_s:.0f} s landing and handover, then "
            f"{_road_words(p, x.road)}"
        )
    return f"{body} = {x.eta_s / 60.0:.1f} min"


def to_estimate(p: EtaParameters, unit: Unit, x: EtaParts) -> Estimate:
    if x.why_not:
        return Estimate(unit.id, unit.kind, INF, x.distance_km, x.mode, "", False, x.why_not)
    return Estimate(unit.id, unit.kind, x.eta_s, x.distance_km, x.mode, _reason(p, unit.kind, x))


def estimate(
    unit: Unit, lat: float, lon: float, params: EtaParameters = DEFAULT_PARAMETERS
) -> Estimate:
    """How long ``unit`` needs to reach (lat, lon), and why (see the module docstring)."""
    return to_estimate(params, unit, unit_parts(IncidentContext(params, lat, lon), unit))


def eta_s(unit: Unit, lat: float, lon: float, params: EtaParameters = DEFAULT_PARAMETERS) -> float:
    """Just the ETA in seconds (infinite when unusable): ``estimate(...).eta_s``."""
    return unit_parts(IncidentContext(params, lat, lon), unit).eta_s
