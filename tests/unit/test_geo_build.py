"""The web console's offline map data (clients/web/geo_build.py): the committed files
are what a fresh build gives, every seed region is on the map, and no municipality is
in two regions."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from actors.domain.municipality import Municipality
from clients.web import geo_build
from cluster.seed_model import Seed


@pytest.fixture(scope="module")
def seed() -> Seed:
    return Seed.load()


@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads(geo_build.REGIONS_OUT.read_text(encoding="utf-8"))


def test_every_seed_region_has_features(seed: Seed, committed: dict) -> None:
    counts = Counter(f["properties"]["region"] for f in committed["features"])
    for region in seed.area_regions():
        assert counts[region.id] == len(region.municipalities), region.id


def test_every_feature_is_of_a_seed_region(seed: Seed, committed: dict) -> None:
    ids = {r.id for r in seed.area_regions()}
    assert {f["properties"]["region"] for f in committed["features"]} <= ids
    assert committed["properties"]["attribution"] == geo_build.ATTRIBUTION


def test_no_municipality_belongs_to_two_regions(committed: dict) -> None:
    numbers = Counter(f["properties"]["kommunenummer"] for f in committed["features"])
    assert [n for n, c in numbers.items() if c > 1] == []


def test_a_fresh_build_equals_the_committed_regions(seed: Seed) -> None:
    fresh = geo_build.dumps(geo_build.build_regions(seed))
    assert fresh == geo_build.REGIONS_OUT.read_text(encoding="utf-8"), (
        "static/geo/regions.geojson is stale: run python -m clients.web.geo_build"
    )


def test_a_fresh_build_equals_the_committed_outline() -> None:
    if not geo_build.OUTLINE_IN.is_file():
        pytest.skip(f"{geo_build.OUTLINE_IN} is not on this machine (shared data, not on CI)")
    fresh = geo_build.dumps(geo_build.build_outline())
    assert fresh == geo_build.OUTLINE_OUT.read_text(encoding="utf-8")


def test_both_files_stay_small() -> None:
    size = geo_build.REGIONS_OUT.stat().st_size + geo_build.OUTLINE_OUT.stat().st_size
    assert size < geo_build.MAX_BYTES


def test_a_missing_outline_is_said_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"committed norway\.geojson is kept"):
        geo_build.build_outline(tmp_path / "norge-2024-s.geojson")


def _m(number: str, name: str) -> Municipality:
    square = (((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)),)
    return Municipality(number, name, (square,), (0.0, 0.0, 1.0, 1.0))


def test_names_are_matched_by_county_when_not_unique() -> None:
    both = [_m("3114", "Våler"), _m("3419", "Våler"), _m("0301", "Oslo")]
    assert geo_build.match_municipality("Våler (Østfold)", both).number == "3114"
    assert geo_build.match_municipality("Våler (Innlandet)", both).number == "3419"
    assert geo_build.match_municipality("Oslo", both).number == "0301"
    with pytest.raises(geo_build.GeoBuildError, match="ambiguous"):
        geo_build.match_municipality("Våler", both)
    with pytest.raises(geo_build.GeoBuildError, match="no municipality"):
        geo_build.match_municipality("Atlantis", both)


def test_an_unknown_seed_municipality_fails_the_build(seed: Seed) -> None:
    with pytest.raises(geo_build.GeoBuildError, match="no municipality"):
        geo_build.build_regions(seed, candidates=[_m("0301", "Oslo")])


def test_rounding_drops_degenerate_rings() -> None:
    tiny = [(10.0001, 60.0001), (10.0002, 60.0001), (10.0002, 60.0002), (10.0001, 60.0001)]
    assert geo_build.round_ring(tiny) is None
    square = [(10.0, 60.0), (10.01, 60.0), (10.01, 60.01), (10.0, 60.01), (10.0, 60.0)]
    assert geo_build.round_ring(square) == [tuple(p) for p in square]
    kept = geo_build.round_polygons([[square, tiny]])
    assert kept == [[geo_build.round_ring(square)]]  # the degenerate hole is dropped
