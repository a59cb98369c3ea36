"""The ETA model and the unit recommender, checked against hand calculations.

Every expected time below is computed in the test from the documented parameters
(``EtaParameters`` defaults), not copied from the code's output.
"""

from __future__ import annotations

import random
from functools import cache

import pytest

from actors.domain.errors import InvalidArgumentError
from actors.domain.eta import (
    DEFAULT_AIRPORTS,
    KNOT_KMH,
    Barrier,
    EtaParameters,
    estimate,
    eta_s,
    haversine_km,
    in_town,
)
from actors.domain.model import CrewLevel, Position, Unit, UnitKind, UnitStatus, Urgency
from actors.domain.recommend import RecommendRules, recommend
from cluster.config import Seed

pytestmark = pytest.mark.timeout(60)

P = EtaParameters()
AT_STATION = UnitStatus.AVAILABLE_AT_STATION
MOBILE = UnitStatus.AVAILABLE_MOBILE

NESODDTANGEN = (59.8700, 10.6570)
BUNNEFJORD_END = (59.735, 10.725)  # the passable end of the "Indre Oslofjord" barrier
GALDHOPIGGEN = (61.6364, 8.3125)
KONGSBERG = (59.668, 9.650)


def unit(
    uid: str,
    kind: UnitKind,
    lat: float,
    lon: float,
    crew: CrewLevel = CrewLevel.PARAMEDIC,
    status: UnitStatus = AT_STATION,
) -> Unit:
    return Unit(
        id=uid,
        call_sign=uid.upper(),
        region="oslo",
        kind=kind,
        crew=crew,
        status=status,
        position=Position(lat, lon),
        station="",
        updated_at=0.0,
    )


@cache
def _seed() -> Seed:
    return Seed.load()


def seed_units(status: UnitStatus = AT_STATION) -> list[Unit]:
    return [
        Unit(
            id=s.id,
            call_sign=s.call_sign,
            region=s.region,
            kind=UnitKind(s.kind),
            crew=CrewLevel(s.crew),
            status=status,
            position=Position(s.lat, s.lon),
            station=s.station,
            updated_at=0.0,
        )
        for s in _seed().units
    ]


def seed_unit(uid: str) -> Unit:
    return next(u for u in seed_units() if u.id == uid)


def road_s(gc_km: float) -> float:
    """Driving time by the documented band model, no barrier: first 8 km ×1.3 at 50 km/h,
    the rest ×1.4 at 80 km/h."""
    urban = min(gc_km, 8.0)
    return 3600.0 * (urban * 1.3 / 50.0 + (gc_km - urban) * 1.4 / 80.0)


def ids(recs) -> list[str]:
    return [r.unit_id for r in recs]


# ---------------------------------------------------------------- (f) haversine


def test_haversine_oslo_bergen() -> None:
    d = haversine_km(59.9139, 10.7522, 60.3913, 5.3221)  # city centres
    assert d == pytest.approx(305.0, abs=3.0)
    assert haversine_km(60.3913, 5.3221, 59.9139, 10.7522) == pytest.approx(d)
    assert haversine_km(59.9, 10.7, 59.9, 10.7) == 0.0
    # one degree of latitude is ~111.2 km on the mean sphere
    assert haversine_km(60.0, 10.0, 61.0, 10.0) == pytest.approx(111.195, abs=0.01)


# ---------------------------------------------------------------- (e) road formula


def test_road_eta_matches_hand_calculation() -> None:
    ski = seed_unit("osl-a31")  # Ski, at station
    lat, lon = 59.80, 11.00  # north-east of Ski: no fjord in between
    gc = haversine_km(ski.position.lat, ski.position.lon, lat, lon)
    assert gc > 8.0
    hand = 90.0 + 3600.0 * (8.0 * 1.3 / 50.0 + (gc - 8.0) * 1.4 / 80.0)
    est = estimate(ski, lat, lon)
    assert est.usable and est.mode == "road"
    assert est.eta_s == pytest.approx(hand, rel=1e-9)
    assert est.distance_km == pytest.approx(8.0 * 1.3 + (gc - 8.0) * 1.4)
    assert "90 s turnout at station" in est.reason and "at 50 km/h" in est.reason
    assert est.reason.endswith(f"= {hand / 60:.1f} min")
    # already mobile: 30 s instead of 90 s
    ski.status = MOBILE
    assert eta_s(ski, lat, lon) == pytest.approx(hand - 60.0)
    # a short trip stays in the urban band; a rapid-response car turns out in 60 s
    car = unit("car", UnitKind.RAPID_RESPONSE_CAR, 59.91, 10.75)
    gc2 = haversine_km(59.91, 10.75, 59.93, 10.78)
    assert gc2 < 8.0
    assert eta_s(car, 59.93, 10.78) == pytest.approx(60.0 + 3600.0 * gc2 * 1.3 / 50.0)


def test_road_time_grows_with_distance() -> None:
    amb = unit("a", UnitKind.ROAD_AMBULANCE, 60.5, 9.0)
    times = [eta_s(amb, 60.5 + d / 111.195, 9.0) for d in (0, 2, 7.9, 8.1, 20, 80)]
    assert times == sorted(times)


# ---------------------------------------------------------------- (a) boat across a fjord


def test_boat_beats_road_across_the_fjord() -> None:
    boat = seed_unit("osl-b01")  # Oslo harbour
    amb = seed_unit("osl-a12")  # Sentrum ambulance station, Storgata
    lat, lon = NESODDTANGEN
    straight = haversine_km(amb.position.lat, amb.position.lon, lat, lon)
    assert straight < 8.0  # about 7.5 km over the water...

    # boat: straight line ×1.2 at 25 kn + 300 s launch + 120 s quay to patient
    water = haversine_km(boat.position.lat, boat.position.lon, lat, lon)
    boat_hand = 300.0 + 3600.0 * water * 1.2 / (25.0 * KNOT_KMH) + 120.0
    # road: around the inner end of Bunnefjorden (legs ×1.15), first 8 km at 50 km/h
    legs = haversine_km(amb.position.lat, amb.position.lon, *BUNNEFJORD_END) + haversine_km(
        *BUNNEFJORD_END, lat, lon
    )
    road_hand = 90.0 + 3600.0 * 1.15 * (8.0 / 50.0 + (legs - 8.0) / 80.0)

    b = estimate(boat, lat, lon)
    r = estimate(amb, lat, lon)
    assert b.mode == "water" and b.eta_s == pytest.approx(boat_hand, rel=1e-9)
    assert b.eta_s == pytest.approx(16.5 * 60, abs=30)
    assert r.mode == "road" and "around Indre Oslofjord" in r.reason
    assert "inner end of Bunnefjorden" in r.reason
    # the waypoint sits 50 m beyond the fjord's end: a few seconds more than the hand sum
    assert r.eta_s == pytest.approx(road_hand, abs=15.0)
    assert r.distance_km == pytest.approx(1.15 * legs, abs=0.2)
    assert 38.0 < r.distance_km < 44.0  # ...but about 40 km by road
    assert r.eta_s > road_s(straight) + 90.0  # the fjord costs more than the plain detour

    recs = recommend([amb, boat], lat, lon, Urgency.AKUTT)
    assert ids(recs) == ["osl-b01", "osl-a12"]
    assert recs[0].eta_s == pytest.approx(boat_hand)
    assert recs[0].reason == b.reason and "water shortcut" in recs[0].note
    assert [r.rank for r in recs] == [1, 2]


def test_boat_listed_only_when_it_beats_the_road() -> None:
    boat = unit("boat", UnitKind.BOAT_AMBULANCE, 59.9045, 10.7425)
    amb = unit("amb", UnitKind.ROAD_AMBULANCE, 59.913, 10.752)
    # central Oslo, 1 km from both: the ambulance is faster, the boat is left out
    assert ids(recommend([boat, amb], 59.92, 10.76, Urgency.AKUTT)) == ["amb"]
    # beyond 25 km a boat is unusable
    far = estimate(boat, 59.60, 10.60)
    assert not far.usable and "25 km" in far.why_not
    assert far.eta_s == float("inf")


def test_barriers_mjosa_and_no_way_round() -> None:
    gjovik = seed_unit("inn-a14")
    hamar = seed_unit("inn-a11").position
    est = estimate(gjovik, hamar.lat, hamar.lon)
    assert "Mjøsbrua" in est.reason
    straight = haversine_km(gjovik.position.lat, gjovik.position.lon, hamar.lat, hamar.lon)
    assert est.distance_km > 1.8 * straight
    # a barrier with no passable end and the line across it: no road at all
    closed = Barrier("Test fjord", ((59.0, 10.0), (60.0, 10.0)))
    amb = unit("a", UnitKind.ROAD_AMBULANCE, 59.5, 9.9)
    e = estimate(amb, 59.5, 10.1, EtaParameters(barriers=(closed,)))
    assert not e.usable and "Test fjord" in e.why_not
    # going round an end: via (60.0, 10.0) exactly, within the 50 m offset
    open_end = Barrier("Test fjord", ((59.0, 10.0), (60.0, 10.0)), around_end="the head")
    e = estimate(amb, 59.5, 10.1, EtaParameters(barriers=(open_end,)))
    legs = haversine_km(59.5, 9.9, 60.0, 10.0) + haversine_km(60.0, 10.0, 59.5, 10.1)
    assert e.usable and "via the head" in e.reason
    assert e.distance_km == pytest.approx(1.15 * legs, abs=0.15)


# ---------------------------------------------------------------- (b) helicopter, remote


def test_helicopter_wins_in_the_mountains() -> None:
    lat, lon = GALDHOPIGGEN
    recs = recommend(seed_units(), lat, lon, Urgency.AKUTT)
    top = recs[0]
    assert top.unit_id == "inn-h01" and top.kind == UnitKind.HELICOPTER  # Dombås
    base = seed_unit("inn-h01").position
    heli_hand = 600.0 + 3600.0 * haversine_km(base.lat, base.lon, lat, lon) / 240.0
    assert top.eta_s == pytest.approx(heli_hand)
    # the nearest road ambulance (Lom) is over 25 min away: the position is remote
    lom = seed_unit("inn-a24").position
    lom_hand = 90.0 + road_s(haversine_km(lom.lat, lom.lon, lat, lon))
    assert lom_hand > 25 * 60
    assert recs[1].unit_id == "inn-a24" and recs[1].eta_s == pytest.approx(lom_hand)
    assert top.eta_s < lom_hand
    assert "best road ETA" in top.note and "25 min" in top.note
    # the dispatcher can say "not remote": no air by ETA (doctor car Dombås is listed)
    assert all(
        r.kind != UnitKind.HELICOPTER
        for r in recommend(seed_units(), lat, lon, Urgency.AKUTT, remote=False)
    )


def test_no_air_in_town_when_the_road_is_quick() -> None:
    units = [
        unit("amb", UnitKind.ROAD_AMBULANCE, 59.913, 10.752),
        unit("heli", UnitKind.HELICOPTER, 59.9265, 10.962, CrewLevel.DOCTOR),
        unit("doc", UnitKind.RAPID_RESPONSE_CAR, 59.9365, 10.738, CrewLevel.DOCTOR),
    ]
    assert in_town(59.92, 10.76) == "Oslo"
    recs = recommend(units, 59.92, 10.76, Urgency.AKUTT)
    assert ids(recs) == ["amb", "doc"]  # the helicopter is not considered
    # in town, 12 min is the threshold: with the only ambulance ~20 min away, air joins
    far = unit("amb", UnitKind.ROAD_AMBULANCE, 59.913, 11.00)
    road = 90.0 + road_s(haversine_km(59.913, 11.00, 59.92, 10.76))
    assert 12 * 60 < road < 25 * 60
    recs = recommend([far, units[1]], 59.92, 10.76, Urgency.AKUTT)
    assert ids(recs) == ["heli", "amb"]
    assert "> 12 min (in Oslo)" in recs[0].note
    # the same ambulance time outside towns (Hardangervidda) is not remote: no air
    lat, lon = 60.20, 7.90
    assert in_town(lat, lon) == ""
    rural = unit("amb", UnitKind.ROAD_AMBULANCE, lat, lon + 0.24)
    heli = unit("heli", UnitKind.HELICOPTER, lat, lon + 0.5, CrewLevel.PARAMEDIC)
    assert 12 * 60 < eta_s(rural, lat, lon) < 25 * 60
    assert ids(recommend([rural, heli], lat, lon, Urgency.AKUTT)) == ["amb"]


# ---------------------------------------------------------------- (c), (d) availability


@pytest.mark.parametrize(
    "busy",
    [
        UnitStatus.ASSIGNED,
        UnitStatus.EN_ROUTE,
        UnitStatus.ON_SCENE,
        UnitStatus.TRANSPORTING,
        UnitStatus.AT_HOSPITAL,
        UnitStatus.OUT_OF_SERVICE,
    ],
)
def test_unavailable_units_are_skipped(busy: UnitStatus) -> None:
    near = unit("near", UnitKind.ROAD_AMBULANCE, 59.91, 10.75, status=busy)
    far = unit("far", UnitKind.ROAD_AMBULANCE, 59.95, 10.85)
    mobile = unit("mobile", UnitKind.ROAD_AMBULANCE, 59.96, 10.86, status=MOBILE)
    recs = recommend([near, far, mobile], 59.912, 10.752, Urgency.AKUTT)
    assert "near" not in ids(recs)
    assert set(ids(recs)) == {"far", "mobile"}


def test_out_of_service_fleet_gives_nothing() -> None:
    units = seed_units(UnitStatus.OUT_OF_SERVICE)
    assert recommend(units, *NESODDTANGEN, Urgency.AKUTT) == []


# ---------------------------------------------------------------- (g) doctor rule


def test_akutt_includes_a_doctor_within_reach() -> None:
    lat, lon = KONGSBERG
    plain = recommend(seed_units(), lat, lon, Urgency.HASTER, limit=3)
    assert all(r.crew != CrewLevel.DOCTOR for r in plain)
    recs = recommend(seed_units(), lat, lon, Urgency.AKUTT, limit=3)
    assert len(recs) == 3
    assert ids(recs)[:2] == ids(plain)[:2]  # the two fastest ambulances stay
    doc = recs[2]
    assert doc.crew == CrewLevel.DOCTOR and doc.unit_id == "osl-h01"  # before osl-h02 by id
    base = seed_unit("osl-h01").position
    assert doc.eta_s == pytest.approx(
        600.0 + 3600.0 * haversine_km(base.lat, base.lon, lat, lon) / 240.0
    )
    assert doc.eta_s <= 45 * 60 and "doctor-staffed" in doc.note
    # out of reach (threshold lowered below its ETA): no doctor is forced in
    strict = RecommendRules(doctor_within_s=doc.eta_s - 1.0)
    recs = recommend(seed_units(), lat, lon, Urgency.AKUTT, limit=3, rules=strict)
    assert all(r.crew != CrewLevel.DOCTOR for r in recs)
    # the list is not full: the doctor is appended rather than replacing anyone
    two = [seed_unit("vvi-a15"), seed_unit("osl-h01")]
    assert ids(recommend(two, lat, lon, Urgency.AKUTT)) == ["vvi-a15", "osl-h01"]


# ---------------------------------------------------------------- (h) ties


def test_ties_are_broken_by_id() -> None:
    units = [
        unit(uid, UnitKind.ROAD_AMBULANCE, 59.95, 10.80) for uid in ("c-unit", "a-unit", "b-unit")
    ]
    recs = recommend(units, 59.91, 10.75, Urgency.AKUTT)
    assert ids(recs) == ["a-unit", "b-unit", "c-unit"]
    assert recs[0].eta_s == recs[2].eta_s
    assert ids(recommend(list(reversed(units)), 59.91, 10.75, Urgency.AKUTT, limit=1)) == ["a-unit"]
    # the same holds inside a big fleet, where only the nearest are estimated
    filler = [unit(f"z{i:04d}", UnitKind.ROAD_AMBULANCE, 60.5 + i * 1e-4, 11.5) for i in range(500)]
    assert ids(recommend(filler + units, 59.91, 10.75, Urgency.AKUTT, limit=3)) == [
        "a-unit",
        "b-unit",
        "c-unit",
    ]


# ---------------------------------------------------------------- (i) fixed wing


def test_fixed_wing_not_offered_for_short_distances() -> None:
    f01 = seed_unit("osl-f01")  # Gardermoen
    near = estimate(f01, 59.913, 10.752)  # Oslo, ~35 km
    assert not near.usable and "150 km" in near.why_not
    recs = recommend(seed_units(), 59.913, 10.752, Urgency.AKUTT, remote=True, limit=50)
    assert all(r.kind != UnitKind.FIXED_WING for r in recs)
    assert any(r.kind == UnitKind.HELICOPTER for r in recs)  # air is considered


def test_fixed_wing_far_away_flies_to_the_nearest_airport() -> None:
    f01 = seed_unit("osl-f01")
    lat, lon = 58.16, 8.00  # Kristiansand
    kjevik = next(a for a in DEFAULT_AIRPORTS if a.id == "encn")
    flight = haversine_km(f01.position.lat, f01.position.lon, kjevik.lat, kjevik.lon)
    hand = (
        1800.0
        + 3600.0 * flight / 450.0
        + 600.0
        + road_s(haversine_km(kjevik.lat, kjevik.lon, lat, lon))
    )
    est = estimate(f01, lat, lon)
    assert est.usable and est.mode == "air+road"
    assert est.eta_s == pytest.approx(hand)
    assert "Kristiansand lufthavn Kjevik" in est.reason


def test_default_airports_match_the_seed() -> None:
    seed = {(a.id, a.name, a.lat, a.lon) for a in _seed().airports}
    assert {tuple(a) for a in DEFAULT_AIRPORTS} == seed


# ---------------------------------------------------------------- haster / vanlig


def test_haster_prefers_ambulances_and_keeps_air_for_the_remote() -> None:
    car = unit("car", UnitKind.RAPID_RESPONSE_CAR, 59.912, 10.752)  # closest
    amb = unit("amb", UnitKind.ROAD_AMBULANCE, 59.95, 10.85)
    heli = unit("heli", UnitKind.HELICOPTER, 59.9265, 10.962, CrewLevel.DOCTOR)
    recs = recommend([car, amb, heli], 59.912, 10.752, Urgency.HASTER)
    assert ids(recs) == ["amb", "car"]
    assert "after the ambulances" in recs[1].note
    # no ambulance within 40 min: air joins, and the best ambulance stays on the list
    slow = unit("slow", UnitKind.ROAD_AMBULANCE, 60.60, 10.75)
    recs = recommend([slow, heli], 59.912, 10.752, Urgency.HASTER, limit=1)
    assert ids(recs) == ["slow"]  # limit 1: the ambulance is kept over the helicopter
    recs = recommend([slow, heli], 59.912, 10.752, Urgency.HASTER)
    assert ids(recs) == ["heli", "slow"]
    assert "no road ambulance within 40 min" in recs[0].note
    # vanlig waits 60 min before air
    mid = unit("mid", UnitKind.ROAD_AMBULANCE, 60.25, 10.75)  # ~45-50 min
    assert ids(recommend([mid, heli], 59.912, 10.752, Urgency.VANLIG)) == ["mid"]
    assert "heli" in ids(recommend([mid, heli], 59.912, 10.752, Urgency.HASTER))


def test_untriaged_is_treated_as_akutt() -> None:
    recs = recommend(seed_units(), *GALDHOPIGGEN, None)
    assert recs[0].unit_id == "inn-h01"
    assert any("untriaged" in r.note for r in recs)


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidArgumentError):
        recommend([], 91.0, 10.0, Urgency.AKUTT)
    with pytest.raises(InvalidArgumentError):
        recommend([], 60.0, float("nan"), Urgency.AKUTT)
    with pytest.raises(InvalidArgumentError):
        recommend([], 60.0, 10.0, Urgency.AKUTT, limit=0)


# ---------------------------------------------------------------- the fast path is exact


def _fleet(n: int, rng: random.Random) -> list[Unit]:
    kinds = list(UnitKind)
    statuses = [AT_STATION, MOBILE, UnitStatus.EN_ROUTE]
    return [
        unit(
            f"u{i:05d}",
            rng.choice(kinds),
            rng.uniform(58.5, 61.5),
            rng.uniform(8.0, 12.0),
            rng.choice(list(CrewLevel)),
            rng.choice(statuses),
        )
        for i in range(n)
    ]


def test_fast_ranking_equals_brute_force() -> None:
    """With air forced on and the doctor rule off, the list is the top of every usable
    available unit by (ETA, id) (boats only when faster than the best ambulance)."""
    rng = random.Random(7)
    units = _fleet(600, rng)
    no_doctor = RecommendRules(doctor_within_s=-1.0)
    for _ in range(25):
        lat, lon = rng.uniform(58.8, 61.2), rng.uniform(8.5, 11.5)
        got = recommend(units, lat, lon, Urgency.AKUTT, remote=True, rules=no_doctor)
        ests = [(estimate(u, lat, lon), u) for u in units if u.available]
        ests = [(e.eta_s, u.id, u.kind) for e, u in ests if e.usable]
        best_amb = min((e for e, _, k in ests if k == UnitKind.ROAD_AMBULANCE), default=1e99)
        pool = [(e, i) for e, i, k in ests if k != UnitKind.BOAT_AMBULANCE or e < best_amb]
        assert ids(got) == [i for _, i in sorted(pool)[:10]]
        for r in got:
            assert r.eta_s == eta_s(next(u for u in units if u.id == r.unit_id), lat, lon)
