"""Each unit kind's time to an incident, as plain numbers.

``unit_parts`` returns numbers so the recommender can rank thousands of units without
building strings; :mod:`.estimates` formats the same numbers into a reason.
``IncidentContext`` and ``unit_parts`` are for ``recommend.py``; other callers use
:func:`estimate`.

Road ambulance and rapid-response car (mode ``road``)
    Turnout plus the road leg (:mod:`.road`).

Boat ambulance (mode ``water``)
    Straight line ×1.2 (around islands and skerries) at 25 knots, plus 5 min launch at
    the quay (1 min if already under way) and a fixed 2 min from the quay to the patient.
    Barriers do not apply (a boat crosses the fjord). Usable only within
    ``boat_range_km`` (25 km) of the boat's position: the model has no coastline, so this
    radius stands for "coastal and island positions in the boat's own waters"; an inland
    address inside the radius would also pass (the recommender lists a boat only when it
    beats the road, see ``recommend.py``).

Helicopter (mode ``air``)
    10 min launch by day at the base (2 min if already airborne) plus the straight line
    at 240 km/h cruise. Night, weather and landing-site limits are not modelled: raise
    ``heli_launch_s`` or leave the unit out. Usable up to ``heli_max_km`` (250 km).

Fixed wing (mode ``air+road``)
    30 min launch at its base (5 min if airborne), straight line at 450 km/h from the
    unit to the airport nearest the incident, 10 min for landing, taxi and handover, then
    the road leg from that airport to the incident with the road model (no turnout).
    Offered only when the incident is more than ``fixed_wing_min_km`` (150 km) away;
    closer, a helicopter or the road is assumed to be the better tool.

``status`` is used only for turnout (``available_mobile`` is "already under way"); who
is free to go is the recommender's business, not this model's.
"""

from __future__ import annotations

from typing import NamedTuple

from actors.domain.eta.geodesy import INF, KNOT_KMH, haversine_km
from actors.domain.eta.parameters import EtaParameters, nearest_airport
from actors.domain.eta.places import Airport
from actors.domain.eta.road import RoadLeg, road_leg
from actors.domain.model import Unit, UnitKind, UnitStatus

ROAD_KINDS = frozenset({UnitKind.ROAD_AMBULANCE, UnitKind.RAPID_RESPONSE_CAR})


class EtaParts(NamedTuple):
    """The numbers behind one estimate (``eta_s`` infinite when ``why_not``)."""

    eta_s: float
    distance_km: float
    mode: str
    why_not: str
    turnout_s: float
    mobile: bool
    straight_km: float
    road: RoadLeg | None = None
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
        road = road_leg(p, ulat, ulon, ctx.lat, ctx.lon, ctx.goals)
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
    road = road_leg(p, ap.lat, ap.lon, ctx.lat, ctx.lon, ctx.goals)
    if road.why_not:
        why = f"no road from {ap.name}: {road.why_not}"
        return EtaParts(INF, gc, "air+road", why, turnout, mobile, gc, road, ap)
    t = turnout + 3600.0 * flight / p.fixed_wing_speed_kmh + p.fixed_wing_ground_s + road.seconds
    return EtaParts(t, flight + road.km, "air+road", "", turnout, mobile, gc, road, ap)
