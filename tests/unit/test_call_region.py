"""Where a 113 call is queued: the region whose municipalities (Kartverket's outlines)
hold the caller's position, the nearest at sea; a seed's regions named by municipality
names, "Name (County)" or numbers (the national seed)."""

from __future__ import annotations

import pytest

from actors.domain.calls import call_region, municipality_regions
from actors.domain.model import Position
from actors.domain.municipality import place_warning
from cluster.seed_model import Seed


def hso() -> dict[str, str]:
    seed = Seed.load()
    return municipality_regions((r.id, r.municipalities) for r in seed.area_regions())


@pytest.mark.parametrize(
    ("lat", "lon", "region"),
    [
        (59.9139, 10.7522, "oslo"),  # Oslo sentrum
        (58.1462, 7.9905, "sorlandet"),  # Kristiansand
        (59.2672, 10.4076, "vestfold-telemark"),  # Tønsberg
        (59.7439, 10.2045, "vestre-viken"),  # Drammen
        (60.7945, 11.0680, "innlandet"),  # Hamar
        (60.1941, 11.9997, "oslo"),  # Kongsvinger: served from Oslo
        (59.0500, 10.9000, "oslo"),  # at sea off Hvaler (Østfold): the nearest
    ],
)
def test_a_call_is_queued_in_the_region_of_its_municipality(lat, lon, region) -> None:
    assert call_region(lat, lon, hso(), {}) == region


def test_numbers_name_municipalities_too_and_an_unknown_one_is_refused() -> None:
    by = municipality_regions([("bergen", ["4601", "4624"]), ("forde", ["4647"])])
    assert call_region(60.3913, 5.3221, by, {}) == "bergen"  # Bergen sentrum
    assert call_region(61.4520, 5.8570, by, {}) == "forde"  # Førde (Sunnfjord)
    with pytest.raises(ValueError, match="no municipality"):
        municipality_regions([("x", ["Atlantis"])])


def test_without_municipalities_the_boundaries_decide() -> None:
    square = [(59.0, 10.0), (59.0, 11.0), (60.0, 11.0), (60.0, 10.0)]
    assert call_region(59.5, 10.5, {}, {"a": square, "b": []}) == "a"


def test_nearest_with_its_box_bound_finds_what_a_scan_of_every_vertex_finds() -> None:
    """The search skips municipalities whose box is farther than the best vertex found:
    the answer is the full scan's, ties to the earlier municipality included."""
    import math

    from actors.domain.model import Position
    from actors.domain.municipality import municipalities, nearest

    def scan(position: Position, numbers: set[str]):
        coslat = math.cos(math.radians(position.lat))
        best = (math.inf, None)
        for m in municipalities():
            if m.number in numbers:
                for poly in m.polygons:
                    for x, y in poly[0]:
                        d = math.hypot(position.lat - y, (position.lon - x) * coslat)
                        if d < best[0]:
                            best = (d, m)
        return best[1]

    everyone = {m.number for m in municipalities()}
    west = {m.number for m in municipalities() if m.number[:2] in ("11", "46", "15")}
    at_sea = [Position(58.0 + i * 0.9, 3.0 + (i % 4) * 0.4, 0.0) for i in range(12)]
    at_sea += [Position(70.8, 28.0, 0.0), Position(59.9, 11.2, 0.0), Position(62.5, 4.4, 0.0)]
    for p in at_sea:
        for numbers in (everyone, west):
            assert nearest(p, numbers) == scan(p, numbers), p


@pytest.mark.parametrize(
    ("lat", "lon", "region", "warning"),
    [
        (59.9139, 10.7522, "oslo", ""),  # Oslo sentrum, in Oslo's region
        (59.7439, 10.2045, "oslo", "Drammen is in vestre-viken's area, not oslo's"),
        (60.3913, 5.3221, "oslo", "Bergen (4601) is outside every region this cluster serves"),
        (58.0, 2.0, "oslo", ""),  # the North Sea: an offshore incident is no typo
    ],
)
def test_an_incident_placed_in_another_regions_area_is_said_so(lat, lon, region, warning):
    found = place_warning(Position(lat, lon), region, hso())
    assert found.startswith(warning) if warning else found == ""
    assert place_warning(Position(lat, lon), region, {}) == ""  # regions drawn as polygons
    # A region drawn as a polygon beside ones named by municipality: nothing to compare.
    assert place_warning(Position(lat, lon), "polygon-region", hso()) == ""
