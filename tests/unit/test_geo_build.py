"""The web console's offline map data (clients/web/geo_build.py): the regions of every
shipped seed (the web server builds them from the running one) have every seed region,
no municipality in two regions, the whole country for the national seed; the committed
outline is what a fresh build gives."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from actors.domain.municipality import Municipality, municipalities
from clients.web import geo_build
from cluster.seed_model import Seed

SEEDS = sorted((Path(geo_build.REPO) / "cluster" / "seed").glob("*.toml"))


@pytest.fixture(scope="module")
def seed() -> Seed:
    return Seed.load()


@pytest.fixture(scope="module", params=SEEDS, ids=lambda p: p.stem)
def built(request: pytest.FixtureRequest) -> tuple[Seed, dict]:
    seed = Seed.load(request.param)
    return seed, json.loads(geo_build.regions_geojson(seed))


def test_both_shipped_seeds_are_checked() -> None:
    assert {p.name for p in SEEDS} >= {"helse_sor_ost.toml", "norway.toml"}


def test_every_seed_region_has_features(built: tuple[Seed, dict]) -> None:
    seed, geo = built
    counts = Counter(f["properties"]["region"] for f in geo["features"])
    for region in seed.area_regions():
        assert counts[region.id] == len(region.municipalities), region.id


def test_every_feature_is_of_a_seed_region(built: tuple[Seed, dict]) -> None:
    seed, geo = built
    ids = {r.id for r in seed.area_regions()}
    assert {f["properties"]["region"] for f in geo["features"]} == ids
    assert geo["properties"]["attribution"] == geo_build.ATTRIBUTION


def test_no_municipality_belongs_to_two_regions(built: tuple[Seed, dict]) -> None:
    numbers = Counter(f["properties"]["kommunenummer"] for f in built[1]["features"])
    assert [n for n, c in numbers.items() if c > 1] == []


def test_the_national_seed_maps_every_municipality() -> None:
    geo = json.loads(
        geo_build.regions_geojson(Seed.load(geo_build.REPO / "cluster/seed/norway.toml"))
    )
    mapped = {f["properties"]["kommunenummer"] for f in geo["features"]}
    assert mapped == {m.number for m in municipalities(geo_build.MUNICIPALITIES_IN)}


def test_a_fresh_build_equals_the_committed_outline() -> None:
    if not geo_build.OUTLINE_IN.is_file():
        pytest.skip(f"{geo_build.OUTLINE_IN} is not on this machine (shared data, not on CI)")
    fresh = geo_build.dumps(geo_build.build_outline())
    assert fresh == geo_build.OUTLINE_OUT.read_text(encoding="utf-8")


def test_what_the_page_loads_stays_small(built: tuple[Seed, dict]) -> None:
    size = len(geo_build.regions_geojson(built[0])) + geo_build.OUTLINE_OUT.stat().st_size
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
