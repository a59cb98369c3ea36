"""Fjords and lakes the road must go around, and the shortest way round each.

A :class:`Barrier` is a polyline along a water body with, at each end, either a label
naming where roads go round it (a bridge, the head of a fjord, a tunnel) or nothing (the
water goes on to the open sea: no way round there). When the straight line from unit to
incident crosses a barrier, the road leg is the shortest path of straight legs around the
barrier: via its passable end(s), bending round its corners (a tiny visibility graph);
without a way round the road is unusable. How that path is driven is :mod:`.road`'s
business. The defaults, coordinates approximate and hand-placed, are:

- *Indre Oslofjord at Nesodden*: Bunnefjorden and Vestfjorden; roads go round the inner
  end of Bunnefjorden. Nesoddtangen is about 7 km from central Oslo over the water but
  about 40 km by road; the model gives ~41 km from the Sentrum station.
- *Oslofjorden, Drøbak to Færder*: Vestfold/Hurum against Follo/Østfold; the way round
  is the Oslofjord tunnel (Hurum-Frogn). The Horten-Moss ferry is ignored.
- *Drammensfjorden*: round by the bridges in Drammen; the Svelvik-Verket ferry is
  ignored.
- *Mjøsa*: Gjøvik/Toten against Hamar/Stange; round by Mjøsbrua (Moelv-Biri) in the
  north or Minnesund (E6) in the south.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from actors.domain.eta.geodesy import INF, KM_PER_DEG, haversine_km


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
