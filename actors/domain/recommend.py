"""Unit recommendation: which available units to send, ranked by ETA, with the reason.

Only units that are free (``available_at_station`` / ``available_mobile``) are ranked;
units of neighbouring regions are simply part of ``units`` (the caller passes them).
ETAs come from :mod:`actors.domain.eta`; each recommendation carries its estimate's
``reason`` and a ``note`` naming the rule that put it on the list.

Rules (thresholds in :class:`RecommendRules`; assumptions, tunable):

- **Akutt** (and untriaged, ``urgency=None``: assume the worst): surface units (road
  ambulances, rapid-response cars) by ETA regardless of crew. Air (helicopter, fixed
  wing) joins the ranking only when the position is *remote*: the best road ETA is over
  25 min, or over 12 min when the position is in a town (``EtaParameters.towns``) since
  in town that means the local units are all busy. ``remote=True/False`` overrides the
  rule (the dispatcher knows it is a mountain or an island). At least one doctor-staffed
  unit (any kind with ``crew == doctor``: the helicopters, the doctor cars) is on the list
  when one can be there within 45 min, whether or not air is otherwise considered: if
  none made the list by ETA, the best one replaces the last entry (it is appended when
  the list is not full; with ``limit=1`` the single entry stays the fastest).
- **Haster / Vanlig**: road ambulances first (they can transport), by ETA; air joins them
  only when no road ambulance can be there within 40 min (haster) / 60 min (vanlig) or
  ``remote=True``, and then the best road ambulance stays on the list (it replaces the
  last entry if air crowded it out); rapid-response cars come after (they cannot
  transport, and a doctor car should stay free for red calls).
- **Boats** (any urgency) are listed only when faster than the best road ambulance: the
  water shortcut across a fjord, or an island. The ETA model has no coastline, so a boat
  that is slower than the road is most likely being offered for an inland address.
- Ties are broken by unit id, so the order is stable.

Speed: one pass over ``units`` computes, per available unit, only an equirectangular
squared distance (no trigonometry) and files the unit in a bucket by (kind, doctor or
not, at station or mobile). Within a bucket the ETA is bounded below by
``base + spd × distance``, increasing in the distance, so the exact top ``limit`` is
found by estimating the ``limit`` nearest, then, nearest first, only the units whose
lower bound is under the ``limit``-th best ETA so far (filter and refine: exact, not a
heuristic). The bound
uses 90 % of the equirectangular distance, which stays below the great-circle distance
for positions within a few hundred km of the incident. Reasons are formatted only for
the units returned.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass

from actors.domain.errors import InvalidArgumentError
from actors.domain.eta import (
    DEFAULT_PARAMETERS,
    INF,
    KM_PER_DEG,
    KNOT_KMH,
    EtaParameters,
    EtaParts,
    IncidentContext,
    in_town,
    to_estimate,
    unit_parts,
)
from actors.domain.model import CrewLevel, Unit, UnitKind, UnitStatus, Urgency

BOUND_MARGIN = 0.9  # the lower bound uses 90 % of the equirectangular distance


@dataclass(frozen=True)
class RecommendRules:
    """Thresholds of the recommendation rules (assumptions, tunable)."""

    remote_road_eta_s: float = 25 * 60.0
    remote_road_eta_town_s: float = 12 * 60.0
    doctor_within_s: float = 45 * 60.0
    haster_air_after_s: float = 40 * 60.0
    vanlig_air_after_s: float = 60 * 60.0


DEFAULT_RULES = RecommendRules()


@dataclass(frozen=True, slots=True)
class Recommendation:
    rank: int  # 1-based
    unit_id: str
    call_sign: str
    region: str
    kind: UnitKind
    crew: CrewLevel
    eta_s: float
    distance_km: float
    mode: str
    reason: str  # the ETA in words (from the Estimate)
    note: str  # the rule that put the unit on the list


class _Bucket:
    """Available units of one (kind, doctor or not, mobile or not), with distances."""

    __slots__ = ("base", "d2", "hi2", "kind", "lo2", "spd", "units")

    def __init__(self, kind: UnitKind, base: float, spd: float, lo_km: float, hi_km: float):
        self.kind = kind
        self.base = base  # lower bound of the ETA at distance 0 (s)
        self.spd = spd  # lower bound of the seconds per equirectangular degree
        self.lo2 = (lo_km / KM_PER_DEG) ** 2  # usable only between lo and hi (squared degrees)
        self.hi2 = (hi_km / KM_PER_DEG) ** 2 if hi_km != INF else INF
        self.d2: list[float] = []
        self.units: list[Unit] = []


_Table = dict[UnitKind, dict[str, dict[str, _Bucket]]]


def _buckets(p: EtaParameters, ctx: IncidentContext) -> tuple[_Table, list[tuple[bool, _Bucket]]]:
    """kind -> crew -> available status -> bucket; and every bucket once, with whether
    it holds doctor-staffed units (EMT and paramedic crews share their buckets)."""
    road_spd = p.road_s_per_km_min()
    air = ctx.airport()
    fw_base_off = 3600.0 * air[1] / p.fixed_wing_speed_kmh if air else 0.0
    per_km = {
        UnitKind.ROAD_AMBULANCE: (road_spd, 0.0, 0.0, INF),
        UnitKind.RAPID_RESPONSE_CAR: (road_spd, 0.0, 0.0, INF),
        UnitKind.BOAT_AMBULANCE: (
            3600.0 * p.boat_detour / (p.boat_speed_kn * KNOT_KMH),
            p.boat_shore_s,
            0.0,
            p.boat_range_km / BOUND_MARGIN,
        ),
        UnitKind.HELICOPTER: (3600.0 / p.heli_speed_kmh, 0.0, 0.0, p.heli_max_km / BOUND_MARGIN),
        # flight to the airport nearest the incident >= distance - that airport's distance
        UnitKind.FIXED_WING: (
            3600.0 / p.fixed_wing_speed_kmh,
            p.fixed_wing_ground_s - fw_base_off,
            p.fixed_wing_min_km * BOUND_MARGIN,
            INF,
        ),
    }
    table: _Table = {}
    every: list[tuple[bool, _Bucket]] = []
    for kind, (s_per_km, extra, lo, hi) in per_km.items():
        spd = s_per_km * KM_PER_DEG * BOUND_MARGIN
        pair: dict[bool, dict[str, _Bucket]] = {}
        for doctor in (False, True):
            pair[doctor] = {}
            for status, mobile in (
                (UnitStatus.AVAILABLE_AT_STATION, False),
                (UnitStatus.AVAILABLE_MOBILE, True),
            ):
                b = _Bucket(kind, p.turnout_s(kind, mobile) + extra, spd, lo, hi)
                pair[doctor][status] = b
                every.append((doctor, b))
        table[kind] = {crew: pair[crew == CrewLevel.DOCTOR] for crew in CrewLevel}
    return table, every


_Ranked = tuple[float, str, Unit, EtaParts]  # (eta, unit id, unit, parts)


def _top(b: _Bucket, k: int, ctx: IncidentContext) -> list[_Ranked]:
    """The exact ``k`` best usable units of a bucket by (ETA, id).

    Estimate the ``k`` nearest; then, nearest first, every unit whose lower bound does
    not exceed the current ``k``-th best ETA (the bound only grows with the distance, so
    the first unit over it ends the search)."""
    d2, units = b.d2, b.units
    n = len(d2)
    out: list[_Ranked] = []
    if n == 0:
        return out
    if n <= k:
        for u in units:
            x = unit_parts(ctx, u)
            if x.eta_s != INF:
                out.append((x.eta_s, u.id, u, x))
        out.sort(key=_key)
        return out
    first = heapq.nsmallest(k, range(n), key=d2.__getitem__)
    worst: list[float] = []  # max-heap (negated) of the k best ETAs so far
    for i in first:
        u = units[i]
        x = unit_parts(ctx, u)
        if x.eta_s != INF:
            out.append((x.eta_s, u.id, u, x))
            heapq.heappush(worst, -x.eta_s)
    kth = -worst[0] if len(worst) >= k else INF
    if kth == INF:
        rest = list(range(n))
    else:
        d = (kth - b.base) / b.spd
        bound = d * d if d > 0.0 else 0.0
        rest = [i for i, v in enumerate(d2) if v <= bound]
    seen = set(first)
    rest.sort(key=d2.__getitem__)
    base, spd, sqrt = b.base, b.spd, math.sqrt
    for i in rest:
        if base + sqrt(d2[i]) * spd > kth:
            break
        if i in seen:
            continue
        u = units[i]
        x = unit_parts(ctx, u)
        e = x.eta_s
        if e <= kth and e != INF:  # ties at kth are kept: the id decides below
            out.append((e, u.id, u, x))
            if len(worst) < k:
                heapq.heappush(worst, -e)
            else:
                heapq.heappushpop(worst, -e)
            kth = -worst[0] if len(worst) >= k else INF
    out.sort(key=_key)
    return out[:k]


def _key(r: _Ranked) -> tuple[float, str]:
    return (r[0], r[1])


def _merge(lists: Iterable[list[_Ranked]]) -> list[_Ranked]:
    out = [r for lst in lists for r in lst]
    out.sort(key=_key)
    return out


def _minutes(s: float) -> str:
    return f"{s / 60.0:.0f} min"


def recommend(
    units: Iterable[Unit],
    incident_lat: float,
    incident_lon: float,
    urgency: Urgency | None,
    *,
    params: EtaParameters = DEFAULT_PARAMETERS,
    rules: RecommendRules = DEFAULT_RULES,
    limit: int = 10,
    remote: bool | None = None,
) -> list[Recommendation]:
    """The available units to send to (lat, lon), best first (see the module docstring).

    ``remote``: None applies the rule; True / False says whether air is to be considered.
    """
    if not (math.isfinite(incident_lat) and -90.0 <= incident_lat <= 90.0):
        raise InvalidArgumentError("position.lat", "must be between -90 and 90")
    if not (math.isfinite(incident_lon) and -180.0 <= incident_lon <= 180.0):
        raise InvalidArgumentError("position.lon", "must be between -180 and 180")
    if limit < 1:
        raise InvalidArgumentError("limit", "must be at least 1")
    lat, lon = incident_lat, incident_lon
    ctx = IncidentContext(params, lat, lon)
    table, every = _buckets(params, ctx)
    coslat = math.cos(math.radians(lat))

    # the one pass over all units: cheap distance, file by bucket
    for u in units:
        b = table[u.kind][u.crew].get(u.status)
        if b is None:  # busy or out of service
            continue
        pos = u.position
        dy = pos.lat - lat
        dx = (pos.lon - lon) * coslat
        d2 = dx * dx + dy * dy
        if d2 < b.lo2 or d2 > b.hi2:
            continue
        b.d2.append(d2)
        b.units.append(u)

    found: dict[UnitKind, list[list[_Ranked]]] = {kind: [] for kind in table}
    doctors: list[_Ranked] = []  # the best of each doctor-staffed bucket
    for doctor, b in every:
        got = _top(b, limit, ctx)
        found[b.kind].append(got)
        if doctor:
            doctors.extend(got[:1])
    top = {kind: _merge(lists)[:limit] for kind, lists in found.items()}

    amb = top[UnitKind.ROAD_AMBULANCE]
    rrc = top[UnitKind.RAPID_RESPONSE_CAR]
    air = _merge([top[UnitKind.HELICOPTER], top[UnitKind.FIXED_WING]])
    best_amb = amb[0][0] if amb else INF
    best_road = min(best_amb, rrc[0][0] if rrc else INF)
    boats = [r for r in top[UnitKind.BOAT_AMBULANCE] if r[0] < best_amb]
    notes: dict[str, str] = {}
    for r in boats:
        notes[r[1]] = "boat: faster than the best road ambulance (water shortcut)"

    if urgency is None or urgency == Urgency.AKUTT:
        level = "akutt" if urgency else "untriaged (treated as akutt)"
        town = in_town(lat, lon, params)
        limit_s = rules.remote_road_eta_town_s if town else rules.remote_road_eta_s
        if remote is not None:
            air_ok = remote
            why_air = "air: remote (dispatcher)"
        else:
            air_ok = best_road > limit_s
            where = f"in {town}" if town else "outside towns"
            why_air = (
                "air: no road unit available"
                if best_road == INF
                else f"air: best road ETA {_minutes(best_road)} > {_minutes(limit_s)} ({where})"
            )
        pool = [*amb, *rrc, *boats, *(air if air_ok else [])]
        pool.sort(key=_key)
        ranked = pool[:limit]
        for r in air:
            notes[r[1]] = why_air
        base_note = f"{level}: by ETA, any crew"
        if not any(r[2].crew == CrewLevel.DOCTOR for r in ranked):
            doctors.sort(key=_key)
            if doctors and doctors[0][0] <= rules.doctor_within_s:
                doc = doctors[0]
                notes[doc[1]] = (
                    f"doctor-staffed: akutt rule (within {_minutes(rules.doctor_within_s)})"
                )
                if len(ranked) < limit:
                    ranked.append(doc)
                elif limit > 1:
                    ranked[-1] = doc
    else:
        after = rules.haster_air_after_s if urgency == Urgency.HASTER else rules.vanlig_air_after_s
        if remote is not None:
            air_ok = remote
            why_air = "air: remote (dispatcher)"
        else:
            air_ok = best_amb > after
            why_air = f"air: no road ambulance within {_minutes(after)}"
        for r in air:
            notes[r[1]] = why_air
        first = [*amb, *boats, *(air if air_ok else [])]
        first.sort(key=_key)
        ranked = first[:limit]
        if amb and all(r[1] != amb[0][1] for r in ranked):  # crowded out by air
            ranked[-1] = amb[0]
            notes[amb[0][1]] = f"{urgency}: the best road ambulance, kept on the list"
        if len(ranked) < limit:
            ranked.extend(rrc[: limit - len(ranked)])
        for r in rrc:
            notes[r[1]] = f"{urgency}: rapid-response car after the ambulances"
        base_note = f"{urgency}: road ambulances first, by ETA"

    out = []
    for i, (_, uid, u, x) in enumerate(ranked, start=1):
        est = to_estimate(params, u, x)
        out.append(
            Recommendation(
                rank=i,
                unit_id=uid,
                call_sign=u.call_sign,
                region=u.region,
                kind=u.kind,
                crew=u.crew,
                eta_s=est.eta_s,
                distance_km=est.distance_km,
                mode=est.mode,
                reason=est.reason,
                note=notes.get(uid, base_note),
            )
        )
    return out
