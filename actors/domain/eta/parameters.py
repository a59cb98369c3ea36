"""The ETA model's numbers, all assumptions and all tunable, in one record.

:class:`EtaParameters` holds every speed, detour, turnout and range the model uses, and
the geography (barriers, airports, towns) as plain data, so a centre can tune the model
or test it against hand calculations without touching the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.domain.eta.barriers import DEFAULT_BARRIERS, Barrier
from actors.domain.eta.geodesy import haversine_km
from actors.domain.eta.places import DEFAULT_AIRPORTS, DEFAULT_TOWNS, Airport, Town
from actors.domain.model import UnitKind


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


DEFAULT_PARAMETERS = EtaParameters()


def in_town(lat: float, lon: float, params: EtaParameters = DEFAULT_PARAMETERS) -> str:
    """The name of the town the position lies in, or "" (see ``EtaParameters.towns``)."""
    for t in params.towns:
        if haversine_km(lat, lon, t.lat, t.lon) <= t.radius_km:
            return t.name
    return ""


def nearest_airport(
    lat: float, lon: float, params: EtaParameters = DEFAULT_PARAMETERS
) -> tuple[Airport, float] | None:
    """The airport nearest (lat, lon) and its distance in km; None without airports."""
    best: tuple[Airport, float] | None = None
    for a in params.airports:
        d = haversine_km(lat, lon, a.lat, a.lon)
        if best is None or d < best[1]:
            best = (a, d)
    return best
