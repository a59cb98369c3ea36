"""Estimates: a unit's ETA with the reason in words a dispatcher can check.

The reason spells out every number that went into the time ("road 13.1 km ... + 90 s
turnout = 11.9 min"), so a surprising ranking can be traced to a parameter rather than
taken on trust. Formatting is kept apart from the arithmetic in :mod:`.travel_time`
because the recommender formats only the units it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.domain.eta.geodesy import INF
from actors.domain.eta.parameters import DEFAULT_PARAMETERS, EtaParameters
from actors.domain.eta.road import RoadLeg
from actors.domain.eta.travel_time import ROAD_KINDS, EtaParts, IncidentContext, unit_parts
from actors.domain.model import Unit, UnitKind


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


def _turnout_words(kind: UnitKind, mobile: bool) -> str:
    if kind in ROAD_KINDS:
        return "turnout (mobile)" if mobile else "turnout at station"
    if kind == UnitKind.BOAT_AMBULANCE:
        return "launch (under way)" if mobile else "launch at quay"
    return "launch (airborne)" if mobile else "launch at base"


def _road_words(p: EtaParameters, r: RoadLeg) -> str:
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
    """``unit_parts`` numbers as an :class:`Estimate`, with the reason in words."""
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
