"""Destination choice (issue #19): which hospital for trauma, stroke, heart attack and
other, by capability and ETA, on the shipped seed and on hand-made hospitals."""

from __future__ import annotations

import math

import pytest

from actors.domain import destination as d
from actors.domain.destination import Hospital, TraumaLevel
from actors.domain.errors import InvalidArgumentError, NotBuiltError
from actors.domain.model import PatientCondition, UnitKind, Urgency
from cluster.config import Seed

pytestmark = pytest.mark.timeout(30)

TRAUMA, STROKE, STEMI, OTHER = (
    PatientCondition.TRAUMA,
    PatientCondition.STROKE,
    PatientCondition.STEMI,
    PatientCondition.OTHER,
)
OSLO = (59.9139, 10.7522)
TYNSET = (62.2760, 10.7750)
FLEKKEFJORD = (58.2970, 6.6630)
KRISTIANSAND = (58.1460, 7.9950)


@pytest.fixture(scope="module")
def seeded() -> list[Hospital]:
    return [Hospital.from_mapping(h.model_dump()) for h in Seed.load().hospitals]


def hospital(hid: str, lat: float, lon: float, **kw) -> Hospital:
    base = dict(
        id=hid,
        name=hid.title(),
        region="oslo",
        lat=lat,
        lon=lon,
        trauma_level=TraumaLevel.ACUTE_TRAUMA,
        stroke_thrombolysis=True,
        stroke_thrombectomy=False,
        pci=False,
    )
    return Hospital(**{**base, **kw})


def ids(ranked: list[d.Destination]) -> list[str]:
    return [r.hospital.id for r in ranked]


def test_trauma_in_oslo_goes_to_the_regional_trauma_centre(seeded) -> None:
    ranked = d.recommend(seeded, TRAUMA, *OSLO)
    first = ranked[0]
    assert first.hospital.id == "ous-ulleval"
    assert first.reason.startswith("regional trauma centre, ETA ")
    assert "within 45 min, direct" in first.note
    assert all(r.capable for r in ranked)
    assert "ous-rikshospitalet" not in ids(ranked)  # no trauma level: not listed
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))


def test_trauma_far_from_the_centre_goes_to_the_nearest_with_trauma_function(seeded) -> None:
    ranked = d.recommend(seeded, TRAUMA, *TYNSET)
    assert ids(ranked)[:2] == ["si-tynset", "ous-ulleval"]
    assert "nearest with trauma function first" in ranked[0].note
    assert "over 45 min" in ranked[0].note
    assert ranked[0].reason.startswith("trauma function, ETA ")
    assert "uncertain: trauma_level" in ranked[0].reason  # the seed flags it, the reason says it
    assert ranked[1].eta_s > 45 * 60


def test_stroke_goes_to_the_nearest_thrombolysis_and_names_thrombectomy(seeded) -> None:
    ranked = d.recommend(seeded, STROKE, *OSLO, limit=20)
    assert ranked[0].hospital.id == "ous-ulleval"
    ahus = next(r for r in ranked if r.hospital.id == "ahus-lorenskog")
    assert ahus.reason.startswith("thrombolysis and thrombectomy, ETA ")
    etas = [r.eta_s for r in ranked]
    assert etas == sorted(etas)


def test_stemi_within_reach_lists_only_pci_hospitals(seeded) -> None:
    ranked = d.recommend(seeded, STEMI, *KRISTIANSAND)
    assert ranked[0].hospital.id == "sshf-arendal"
    assert ranked[0].eta_s <= 120 * 60
    assert all(r.hospital.pci for r in ranked)


def test_stemi_beyond_120_min_adds_the_nearest_hospital_for_thrombolysis(seeded) -> None:
    ranked = d.recommend(seeded, STEMI, *FLEKKEFJORD)
    assert ranked[0].hospital.id == "sshf-arendal" and ranked[0].eta_s > 120 * 60
    last = ranked[-1]
    assert last.hospital.id == "sshf-flekkefjord" and not last.capable
    assert "no PCI within 2 h 00 min" in last.note and "ESC" in last.note
    assert last.reason.startswith("no PCI, ETA ")


def test_other_is_the_nearest_emergency_hospital(seeded) -> None:
    ranked = d.recommend(seeded, OTHER, *TYNSET, limit=3)
    assert ids(ranked)[0] == "si-tynset" and len(ranked) == 3
    assert ranked[0].reason.startswith("emergency department, ETA ")


def test_the_trauma_centre_first_only_within_the_threshold() -> None:
    near = hospital("near", 60.0, 10.0)
    centre = hospital("centre", 60.3, 10.0, trauma_level=TraumaLevel.REGIONAL_TRAUMA_CENTRE)
    eta_centre = d.travel(60.0, 10.0, 60.3, 10.0).eta_s
    wide = d.DestinationRules(trauma_centre_within_s=eta_centre + 1)
    narrow = d.DestinationRules(trauma_centre_within_s=eta_centre - 1)
    assert ids(d.recommend([near, centre], TRAUMA, 60.0, 10.0, rules=wide)) == ["centre", "near"]
    assert ids(d.recommend([near, centre], TRAUMA, 60.0, 10.0, rules=narrow)) == ["near", "centre"]


def test_ties_break_by_id_and_limit_cuts() -> None:
    a = hospital("b-hosp", 60.1, 10.0)
    b = hospital("a-hosp", 60.1, 10.0)
    c = hospital("c-hosp", 60.5, 10.0)
    assert ids(d.recommend([a, b, c], OTHER, 60.0, 10.0)) == ["a-hosp", "b-hosp", "c-hosp"]
    assert ids(d.recommend([a, b, c], OTHER, 60.0, 10.0, limit=1)) == ["a-hosp"]


def test_expected_arrival_is_departure_plus_eta() -> None:
    h = hospital("h", 60.2, 10.0)
    (r,) = d.recommend([h], OTHER, 60.0, 10.0, departure=1_000_000.0)
    assert r.expected_arrival == pytest.approx(1_000_000.0 + r.eta_s)
    (r,) = d.recommend([h], OTHER, 60.0, 10.0)
    assert r.expected_arrival == 0.0


def test_helicopter_flies_straight_and_boats_are_not_built() -> None:
    leg = d.travel(60.0, 10.0, 61.0, 10.0, UnitKind.HELICOPTER)
    assert leg.mode == "air" and leg.eta_s == pytest.approx(3600 * leg.distance_km / 240)
    road = d.travel(60.0, 10.0, 61.0, 10.0, UnitKind.ROAD_AMBULANCE)
    assert road.eta_s > leg.eta_s and road.mode == "road"
    for kind in (UnitKind.BOAT_AMBULANCE, UnitKind.FIXED_WING):
        with pytest.raises(NotBuiltError, match=kind.value):
            d.travel(60.0, 10.0, 61.0, 10.0, kind)


def test_bad_position_and_limit_name_the_field() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        d.recommend([], OTHER, math.nan, 10.0)
    assert err.value.field == "position.lat"
    with pytest.raises(InvalidArgumentError) as err:
        d.recommend([], OTHER, 60.0, 200.0)
    assert err.value.field == "position.lon"
    with pytest.raises(InvalidArgumentError) as err:
        d.recommend([], OTHER, 60.0, 10.0, limit=0)
    assert err.value.field == "limit"


@pytest.mark.parametrize(
    ("code", "chapter", "urgency", "expected"),
    [
        ("A.28.01", 28, Urgency.AKUTT, STROKE),
        ("A.11.01", 11, Urgency.AKUTT, STEMI),
        ("A.35.01", 35, Urgency.AKUTT, TRAUMA),
        ("A.34.03", 34, Urgency.AKUTT, TRAUMA),
        ("H.28.01", 28, Urgency.HASTER, OTHER),  # symptoms cleared: no thrombolysis pathway
        ("A.01.01", 1, Urgency.AKUTT, OTHER),
        ("", 0, None, OTHER),
    ],
)
def test_condition_from_the_criteria_code(code, chapter, urgency, expected) -> None:
    got, why = d.condition_of(code, chapter, urgency)
    assert got is expected
    assert (code in why) if code else ("no criteria code" in why)


def test_minutes_in_words() -> None:
    assert d.minutes(23 * 60 + 10) == "23 min"
    assert d.minutes(80 * 60) == "1 h 20 min"
