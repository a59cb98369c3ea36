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
not, at station or mobile). Within a bucket the ETA is bounded below by a function of
that distance alone (turnout, plus the straight line at the kind's speed; for road
units the two-band road time of the straight line), increasing in the distance. A list
is then searched across its buckets at once (filter and refine, exact, not a heuristic):
an upper bound of the ``limit``-th best ETA from the units nearest the incident in the
largest bucket, then every unit whose lower bound is under the current ``limit``-th best,
smallest bound first, until the next bound is over it. A road unit whose plain road time
(no barrier, a few multiplications) is already over it is skipped before the way round
a fjord is solved. Lists are searched only when the rules read them: air when air is
considered, the best doctor when none made the list, rapid-response cars for haster /
vanlig only when the ambulances leave room, boats only up to the best ambulance's ETA.
The bounds use 90 % of the equirectangular distance, which stays below the great-circle
distance for positions within a few hundred km of the incident. Reasons are formatted
only for the units returned.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from actors.domain.errors import InvalidArgumentError
from actors.domain.eta import (
    DEFAULT_PARAMETERS,
    INF,
    KM_PER_DEG,
    KNOT_KMH,
    ROAD_KINDS,
    EtaParameters,
    EtaParts,
    IncidentContext,
    haversine_km,
    in_town,
    to_estimate,
    unit_parts,
)
from actors.domain.eta.road import plain_road_s
from actors.domain.model import CrewLevel, Unit, UnitKind, UnitStatus, Urgency
from actors.domain.phrases import EN, NB, Said, say

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
    reason_nb: str = ""  # both in Norwegian (actors/domain/phrases.py)
    note_nb: str = ""


class _Bucket:
    """Available units of one (kind, doctor or not, mobile or not), with distances.

    ``lower(d2)`` bounds the ETA of a unit at squared equirectangular distance ``d2``
    (degrees) from below: ``base + s1 * min(d, edge) + s2 * max(d - edge, 0)`` with
    ``d = sqrt(d2)``; one band (``edge`` infinite) for every kind but the road ones.
    """

    __slots__ = (
        "base",
        "d2",
        "doctor",
        "edge",
        "hi2",
        "kind",
        "lo2",
        "parts",
        "road",
        "s1",
        "s2",
        "units",
    )

    def __init__(
        self,
        kind: UnitKind,
        doctor: bool,
        base: float,
        bands: tuple[float, float, float],
        lo_km: float,
        hi_km: float,
    ):
        self.kind = kind
        self.doctor = doctor
        self.road = kind in ROAD_KINDS
        self.base = base  # lower bound of the ETA at distance 0 (s)
        self.s1, self.edge, self.s2 = bands  # s per degree, band edge (degrees), s per degree
        self.lo2 = (lo_km / KM_PER_DEG) ** 2  # usable only between lo and hi (squared degrees)
        self.hi2 = (hi_km / KM_PER_DEG) ** 2 if hi_km != INF else INF
        self.d2: list[float] = []
        self.units: list[Unit] = []
        self.parts: dict[int, EtaParts] = {}  # index -> exact ETA, computed at most once

    def lower(self, d2: float) -> float:
        d = math.sqrt(d2)
        if d <= self.edge:
            return self.base + self.s1 * d
        return self.base + self.s1 * self.edge + self.s2 * (d - self.edge)

    def reach2(self, eta: float) -> float:
        """The largest ``d2`` whose lower bound can be at most ``eta`` (a hair over, for
        rounding: the bound itself decides, this only picks the candidates)."""
        r = eta - self.base
        if r < 0.0:
            return -1.0
        if r == INF:
            return INF
        first = self.s1 * self.edge
        d = r / self.s1 if r <= first else self.edge + (r - first) / self.s2
        return d * d * (1.0 + 1e-9) + 1e-18


_Adder = tuple[float, float, Callable[[float], None], Callable[[Unit], None]]
_Table = dict[UnitStatus, dict[UnitKind, dict[CrewLevel, _Adder]]]


def _buckets(p: EtaParameters, ctx: IncidentContext) -> tuple[_Table, list[_Bucket]]:
    """status -> kind -> crew -> (lo2, hi2, append d2, append unit) of the unit's bucket;
    and every bucket once (EMT and paramedic crews share their buckets)."""
    m = KM_PER_DEG * BOUND_MARGIN  # km of great circle per equirectangular degree, at least
    road = (
        3600.0 * p.road_detour_urban / p.road_speed_urban_kmh * m,
        p.road_urban_km / m,
        3600.0 * p.road_detour_rural / p.road_speed_rural_kmh * m,
    )

    def line(s_per_km: float) -> tuple[float, float, float]:
        return (s_per_km * m, INF, 0.0)

    air = ctx.airport()
    fw_base_off = 3600.0 * air[1] / p.fixed_wing_speed_kmh if air else 0.0
    per_kind = {
        UnitKind.ROAD_AMBULANCE: (road, 0.0, 0.0, INF),
        UnitKind.RAPID_RESPONSE_CAR: (road, 0.0, 0.0, INF),
        UnitKind.BOAT_AMBULANCE: (
            line(3600.0 * p.boat_detour / (p.boat_speed_kn * KNOT_KMH)),
            p.boat_shore_s,
            0.0,
            p.boat_range_km / BOUND_MARGIN,
        ),
        UnitKind.HELICOPTER: (
            line(3600.0 / p.heli_speed_kmh),
            0.0,
            0.0,
            p.heli_max_km / BOUND_MARGIN,
        ),
        # flight to the airport nearest the incident >= distance - that airport's distance
        UnitKind.FIXED_WING: (
            line(3600.0 / p.fixed_wing_speed_kmh),
            p.fixed_wing_ground_s - fw_base_off,
            p.fixed_wing_min_km * BOUND_MARGIN,
            INF,
        ),
    }
    table: _Table = {AVAILABLE: {} for AVAILABLE in _AVAILABLE}
    every: list[_Bucket] = []
    for kind, (bands, extra, lo, hi) in per_kind.items():
        for status, mobile in _AVAILABLE.items():
            by_doctor = {}
            for doctor in (False, True):
                b = _Bucket(kind, doctor, p.turnout_s(kind, mobile) + extra, bands, lo, hi)
                by_doctor[doctor] = (b.lo2, b.hi2, b.d2.append, b.units.append)
                every.append(b)
            table[status][kind] = {crew: by_doctor[crew == CrewLevel.DOCTOR] for crew in CrewLevel}
    return table, every


_AVAILABLE = {UnitStatus.AVAILABLE_AT_STATION: False, UnitStatus.AVAILABLE_MOBILE: True}

_Ranked = tuple[float, str, Unit, EtaParts]  # (eta, unit id, unit, parts)


def _parts(b: _Bucket, i: int, ctx: IncidentContext) -> EtaParts:
    x = b.parts.get(i)
    if x is None:
        x = b.parts[i] = unit_parts(ctx, b.units[i])
    return x


def _seed(buckets: list[_Bucket], k: int, ctx: IncidentContext) -> float:
    """An upper bound of the ``k``-th best ETA over ``buckets``: the ``k``-th best of the
    units nearest the incident in the largest bucket (4× as many again while fewer than
    ``k`` of them are usable); INF when that bucket has fewer than ``k`` usable units."""
    b = max(buckets, key=lambda b: len(b.d2))
    d2 = b.d2
    n = len(d2)
    m = k
    while True:
        if m >= n:
            near: Iterable[int] = range(n)
        else:
            v = heapq.nsmallest(m, d2)[-1]
            near = [i for i, w in enumerate(d2) if w <= v]
        etas = [e for i in near if (e := _parts(b, i, ctx).eta_s) != INF]
        if len(etas) >= k:
            return heapq.nsmallest(k, etas)[-1]
        if m >= n:
            return INF
        m *= 4


def _search(
    buckets: list[_Bucket], k: int, ctx: IncidentContext, kth: float = INF
) -> list[_Ranked]:
    """The exact ``k`` best usable units of ``buckets`` by (ETA, id), among those whose
    ETA is at most ``kth``.

    Candidates (lower bound at most the seed's ``kth``) are taken smallest bound first;
    the first bound over the current ``k``-th best ETA ends the search, since every later
    bound is larger still. Units tied with the ``k``-th best are kept: the id decides."""
    if not any(b.d2 for b in buckets):
        return []
    if kth == INF:
        kth = _seed(buckets, k, ctx)
    cands: list[tuple[float, int, int]] = []
    for bi, b in enumerate(buckets):
        d2 = b.d2
        reach = b.reach2(kth)
        if not d2 or reach < 0.0:
            continue
        lower = b.lower
        if reach == INF:
            cands.extend([(lower(v), bi, i) for i, v in enumerate(d2)])
        else:
            cands.extend([(lower(v), bi, i) for i, v in enumerate(d2) if v <= reach])
    cands.sort()
    p, lat, lon = ctx.p, ctx.lat, ctx.lon
    out: list[_Ranked] = []
    worst: list[float] = []  # max-heap (negated) of the k best ETAs so far
    for lb, bi, i in cands:
        if lb > kth:
            break
        b = buckets[bi]
        u = b.units[i]
        x = b.parts.get(i)
        if x is None:
            if b.road:  # the plain road time bounds the way round a barrier from below
                pos = u.position
                if b.base + plain_road_s(p, haversine_km(pos.lat, pos.lon, lat, lon)) > kth:
                    continue
            x = b.parts[i] = unit_parts(ctx, u)
        e = x.eta_s
        if e <= kth and e != INF:
            out.append((e, u.id, u, x))
            if len(worst) < k:
                heapq.heappush(worst, -e)
            else:
                heapq.heappushpop(worst, -e)
            if len(worst) >= k:
                kth = -worst[0]
    out.sort(key=_key)
    return out[:k]


def _key(r: _Ranked) -> tuple[float, str]:
    return (r[0], r[1])


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
    by_status = table.get
    for u in units:
        t = by_status(u.status)
        if t is None:  # busy or out of service
            continue
        lo2, hi2, add_d2, add_unit = t[u.kind][u.crew]
        pos = u.position
        dy = pos.lat - lat
        dx = (pos.lon - lon) * coslat
        d2 = dx * dx + dy * dy
        if lo2 <= d2 <= hi2:
            add_d2(d2)
            add_unit(u)

    def of(*kinds: UnitKind) -> list[_Bucket]:
        return [b for b in every if b.kind in kinds]

    amb = _search(of(UnitKind.ROAD_AMBULANCE), limit, ctx)
    best_amb = amb[0][0] if amb else INF
    # listed only when faster than the best ambulance: none slower need be looked at
    boats = [
        r for r in _search(of(UnitKind.BOAT_AMBULANCE), limit, ctx, best_amb) if r[0] < best_amb
    ]
    notes: dict[str, Said] = {}
    for r in boats:
        notes[r[1]] = say("boat_faster")

    def air() -> list[_Ranked]:  # only the top ``limit`` can reach the list
        return _search(of(UnitKind.HELICOPTER, UnitKind.FIXED_WING), limit, ctx)

    if urgency is None or urgency == Urgency.AKUTT:
        rrc = _search(of(UnitKind.RAPID_RESPONSE_CAR), limit, ctx)
        best_road = min(best_amb, rrc[0][0] if rrc else INF)
        level = (Urgency.AKUTT.value,) * 2 if urgency else (EN.level_untriaged, NB.level_untriaged)
        town = in_town(lat, lon, params)
        limit_s = rules.remote_road_eta_town_s if town else rules.remote_road_eta_s
        if remote is not None:
            air_ok = remote
            why_air = say("air_remote")
        else:
            air_ok = best_road > limit_s
            if best_road == INF:
                why_air = say("air_no_road_unit")
            else:
                where = say("in_town", town=town) if town else say("outside_towns")
                best, most = (
                    (EN.min(best_road), NB.min(best_road)),
                    (EN.min(limit_s), NB.min(limit_s)),
                )
                why_air = (
                    EN.air_best_road.format(best=best[0], limit=most[0], where=where[0]),
                    NB.air_best_road.format(best=best[1], limit=most[1], where=where[1]),
                )
        flying = air() if air_ok else []
        pool = [*amb, *rrc, *boats, *flying]
        pool.sort(key=_key)
        ranked = pool[:limit]
        for r in flying:
            notes[r[1]] = why_air
        base_note = (
            EN.by_eta_any_crew.format(level=level[0]),
            NB.by_eta_any_crew.format(level=level[1]),
        )
        if not any(r[2].crew == CrewLevel.DOCTOR for r in ranked):
            # the best doctor-staffed unit, if one is within reach (no slower one matters)
            within = rules.doctor_within_s
            known = [r[0] for r in pool if r[2].crew == CrewLevel.DOCTOR]
            doctors = _search([b for b in every if b.doctor], 1, ctx, min([within, *known]))
            if doctors and doctors[0][0] <= within:
                doc = doctors[0]
                notes[doc[1]] = say("doctor_rule", within=within)
                if len(ranked) < limit:
                    ranked.append(doc)
                elif limit > 1:
                    ranked[-1] = doc
    else:
        after = rules.haster_air_after_s if urgency == Urgency.HASTER else rules.vanlig_air_after_s
        if remote is not None:
            air_ok = remote
            why_air = say("air_remote")
        else:
            air_ok = best_amb > after
            why_air = say("air_no_ambulance_within", within=after)
        flying = air() if air_ok else []
        for r in flying:
            notes[r[1]] = why_air
        first = [*amb, *boats, *flying]
        first.sort(key=_key)
        ranked = first[:limit]
        if amb and all(r[1] != amb[0][1] for r in ranked):  # crowded out by air
            ranked[-1] = amb[0]
            notes[amb[0][1]] = say("best_ambulance_kept", urgency=urgency.value)
        if len(ranked) < limit:  # cars only fill the room the ambulances leave
            rrc = _search(of(UnitKind.RAPID_RESPONSE_CAR), limit - len(ranked), ctx)
            ranked.extend(rrc)
            for r in rrc:
                notes[r[1]] = say("car_after_ambulances", urgency=urgency.value)
        base_note = say("ambulances_first", urgency=urgency.value)

    out = []
    for i, (_, uid, u, x) in enumerate(ranked, start=1):
        est = to_estimate(params, u, x)
        note, note_nb = notes.get(uid, base_note)
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
                note=note,
                reason_nb=est.reason_nb,
                note_nb=note_nb,
            )
        )
    return out
