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
from actors.domain.phrases import EN, NB, Words


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
    reason_nb: str = ""  # the reason in Norwegian (actors/domain/phrases.py)


def _turnout_words(w: Words, kind: UnitKind, mobile: bool) -> str:
    if kind in ROAD_KINDS:
        return w.turnout_mobile if mobile else w.turnout_station
    if kind == UnitKind.BOAT_AMBULANCE:
        return w.launch_under_way if mobile else w.launch_quay
    return w.launch_airborne if mobile else w.launch_base


def _road_words(w: Words, p: EtaParameters, r: RoadLeg) -> str:
    n, g = w.num, w.g
    speeds = {"vu": g(p.road_speed_urban_kmh), "vr": g(p.road_speed_rural_kmh)}
    urban_rural = {"urban_km": n(r.urban_km), "rural_km": n(r.rural_km), **speeds}
    if r.barrier:
        return w.road_around.format(
            km=n(r.km),
            barrier=r.barrier,
            way=w.via.format(via=r.via) if r.via else "",
            legs_km=n(r.urban_km + r.rural_km),
            du=g(r.detour_urban),
            straight_km=n(r.straight_km),
            **urban_rural,
        )
    return w.road.format(km=n(r.km), du=g(r.detour_urban), dr=g(r.detour_rural), **urban_rural)


def reason(w: Words, p: EtaParameters, kind: UnitKind, x: EtaParts) -> str:
    """The estimate ``x`` in ``w``'s words, every number that went into it."""
    n, g = w.num, w.g
    turn = f"{x.turnout_s:.0f} s {_turnout_words(w, kind, x.mobile)}"
    if x.road is not None and x.airport is None:
        body = f"{_road_words(w, p, x.road)} + {turn}"
    elif kind == UnitKind.BOAT_AMBULANCE:
        body = w.water.format(
            km=n(x.distance_km),
            straight_km=n(x.straight_km),
            detour=g(p.boat_detour),
            kn=g(p.boat_speed_kn),
            turn=turn,
            shore=f"{p.boat_shore_s:.0f}",
        )
    elif kind == UnitKind.HELICOPTER:
        body = w.helicopter.format(km=n(x.distance_km), kmh=g(p.heli_speed_kmh), turn=turn)
    else:
        assert x.airport is not None and x.road is not None
        body = w.fixed_wing.format(
            km=n(x.distance_km - x.road.km),
            airport=x.airport.name,
            kmh=g(p.fixed_wing_speed_kmh),
            turn=turn,
            ground=f"{p.fixed_wing_ground_s:.0f}",
            road=_road_words(w, p, x.road),
        )
    return w.total.format(body=body, min=n(x.eta_s / 60.0))


def to_estimate(p: EtaParameters, unit: Unit, x: EtaParts) -> Estimate:
    """``unit_parts`` numbers as an :class:`Estimate`, with the reason in words."""
    if x.why_not:
        return Estimate(unit.id, unit.kind, INF, x.distance_km, x.mode, "", False, x.why_not)
    return Estimate(
        unit.id,
        unit.kind,
        x.eta_s,
        x.distance_km,
        x.mode,
        reason(EN, p, unit.kind, x),
        reason_nb=reason(NB, p, unit.kind, x),
    )


def estimate(
    unit: Unit, lat: float, lon: float, params: EtaParameters = DEFAULT_PARAMETERS
) -> Estimate:
    """How long ``unit`` needs to reach (lat, lon), and why (see the module docstring)."""
    return to_estimate(params, unit, unit_parts(IncidentContext(params, lat, lon), unit))


def eta_s(unit: Unit, lat: float, lon: float, params: EtaParameters = DEFAULT_PARAMETERS) -> float:
    """Just the ETA in seconds (infinite when unusable): ``estimate(...).eta_s``."""
    return unit_parts(IncidentContext(params, lat, lon), unit).eta_s
