"""The fast recommender gives exactly the answers of the straightforward one.

``recommend`` skips units by lower bounds and searches a list only when a rule reads it
(see its module docstring). ``_reference`` below is the plain reading of the rules: the
ETA of every available unit, every list in full, every rule applied as written. Over
many random fleets and incidents, near the fjords and lakes too (where the lower bound,
which ignores barriers, is loosest), with ties (units sharing a position), every
urgency, ``remote`` and ``limit``, and thresholds that switch the rules on and off, the
two must agree field by field: rank, unit, ETA, distance, mode, reason and note.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from actors.domain.eta import (
    DEFAULT_PARAMETERS,
    INF,
    EtaParameters,
    IncidentContext,
    in_town,
    to_estimate,
    unit_parts,
)
from actors.domain.model import CrewLevel, Position, Unit, UnitKind, UnitStatus, Urgency
from actors.domain.recommend import (
    DEFAULT_RULES,
    Recommendation,
    RecommendRules,
    recommend,
)

pytestmark = pytest.mark.timeout(120)


def _minutes(s: float) -> str:
    return f"{s / 60.0:.0f} min"


def _reference(
    units: list[Unit],
    lat: float,
    lon: float,
    urgency: Urgency | None,
    *,
    params: EtaParameters = DEFAULT_PARAMETERS,
    rules: RecommendRules = DEFAULT_RULES,
    limit: int = 10,
    remote: bool | None = None,
) -> list[Recommendation]:
    """Every available unit estimated; the rules of ``recommend`` as its docstring says."""
    ctx = IncidentContext(params, lat, lon)
    every = []
    for u in units:
        if u.available:
            x = unit_parts(ctx, u)
            if x.eta_s != INF:
                every.append((x.eta_s, u.id, u, x))
    every.sort(key=lambda r: (r[0], r[1]))

    def top(*kinds: UnitKind) -> list:
        return [r for r in every if r[2].kind in kinds][:limit]

    amb = top(UnitKind.ROAD_AMBULANCE)
    rrc = top(UnitKind.RAPID_RESPONSE_CAR)
    air = sorted(top(UnitKind.HELICOPTER) + top(UnitKind.FIXED_WING), key=lambda r: r[:2])
    doctors = [r for r in every if r[2].crew == CrewLevel.DOCTOR]
    best_amb = amb[0][0] if amb else INF
    best_road = min(best_amb, rrc[0][0] if rrc else INF)
    boats = [r for r in top(UnitKind.BOAT_AMBULANCE) if r[0] < best_amb]
    notes = {r[1]: "boat: faster than the best road ambulance (water shortcut)" for r in boats}
    if urgency is None or urgency == Urgency.AKUTT:
        level = "akutt" if urgency else "untriaged (treated as akutt)"
        town = in_town(lat, lon, params)
        limit_s = rules.remote_road_eta_town_s if town else rules.remote_road_eta_s
        if remote is not None:
            air_ok, why_air = remote, "air: remote (dispatcher)"
        else:
            air_ok = best_road > limit_s
            where = f"in {town}" if town else "outside towns"
            why_air = (
                "air: no road unit available"
                if best_road == INF
                else f"air: best road ETA {_minutes(best_road)} > {_minutes(limit_s)} ({where})"
            )
        ranked = sorted([*amb, *rrc, *boats, *(air if air_ok else [])], key=lambda r: r[:2])
        ranked = ranked[:limit]
        for r in air:
            notes[r[1]] = why_air
        base_note = f"{level}: by ETA, any crew"
        if not any(r[2].crew == CrewLevel.DOCTOR for r in ranked):
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
            air_ok, why_air = remote, "air: remote (dispatcher)"
        else:
            air_ok = best_amb > after
            why_air = f"air: no road ambulance within {_minutes(after)}"
        for r in air:
            notes[r[1]] = why_air
        ranked = sorted([*amb, *boats, *(air if air_ok else [])], key=lambda r: r[:2])[:limit]
        if amb and all(r[1] != amb[0][1] for r in ranked):
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
        note = notes.get(uid, base_note)
        out.append(
            Recommendation(
                i,
                uid,
                u.call_sign,
                u.region,
                u.kind,
                u.crew,
                est.eta_s,
                est.distance_km,
                est.mode,
                est.reason,
                note,
            )
        )
    return out


# where the fjords and Mjøsa are (Drammen, Nesodden, the Oslofjord, Mjøsa) and Oslo
HOT = ((59.695, 10.17), (59.87, 10.657), (59.5, 10.55), (60.886, 10.60), (60.7, 10.9))
HOT += ((59.91, 10.75),)
AVAILABLE_OR_NOT = (UnitStatus.AVAILABLE_AT_STATION, UnitStatus.AVAILABLE_MOBILE)
AVAILABLE_OR_NOT += (UnitStatus.EN_ROUTE,)


def _place(rng: random.Random, spread: float) -> tuple[float, float]:
    if rng.random() < 0.6:
        lat, lon = rng.choice(HOT)
        return lat + rng.gauss(0.0, spread), lon + rng.gauss(0.0, 1.6 * spread)
    return rng.uniform(58.0, 62.5), rng.uniform(6.5, 12.5)


def _fleet(n: int, rng: random.Random, doctors: float) -> list[Unit]:
    """``n`` units of every kind; a share ``doctors`` of them doctor-staffed (when few
    are, the doctor rule has to reach past the list)."""
    crews = (CrewLevel.EMT, CrewLevel.PARAMEDIC)
    units: list[Unit] = []
    for i in range(n):
        if units and rng.random() < 0.1:  # a tie: the same place as another unit
            pos = rng.choice(units).position
            lat, lon = pos.lat, pos.lon
        else:
            lat, lon = _place(rng, 0.15)
        units.append(
            Unit(
                id=f"u{rng.randrange(10**5):05d}-{i}",  # random ids: ties not decided by order
                call_sign=f"U{i}",
                region="oslo",
                kind=rng.choice(list(UnitKind)),
                crew=CrewLevel.DOCTOR if rng.random() < doctors else rng.choice(crews),
                status=rng.choice(AVAILABLE_OR_NOT),
                position=Position(lat, lon),
                station="",
                updated_at=0.0,
            )
        )
    return units


def test_fast_recommendation_equals_the_reference() -> None:
    rng = random.Random(20261126)
    calls = 0
    for i, size in enumerate((0, 1, 3, 12, 40, 150, 400) * 6):
        units = _fleet(size, rng, 0.33 if i % 2 else 0.05)
        for _ in range(12):
            lat, lon = _place(rng, 0.1)
            urgency = rng.choice((Urgency.AKUTT, Urgency.HASTER, Urgency.VANLIG, None))
            kw: dict = {
                "limit": rng.choice((1, 2, 3, 10)),
                "remote": rng.choice((None, None, True, False)),
            }
            if rng.random() < 0.3:
                kw["rules"] = RecommendRules(
                    doctor_within_s=rng.choice((-1.0, 600.0, 1800.0, INF)),
                    remote_road_eta_s=rng.choice((300.0, 1500.0)),
                    haster_air_after_s=rng.choice((600.0, 2400.0)),
                )
            # The reference writes English only; the Norwegian words: tests/unit/test_phrases.py
            got = [
                dataclasses.replace(r, reason_nb="", note_nb="")
                for r in recommend(units, lat, lon, urgency, **kw)
            ]
            assert got == _reference(units, lat, lon, urgency, **kw), (size, lat, lon, urgency, kw)
            calls += 1
    assert calls == 7 * 6 * 12
