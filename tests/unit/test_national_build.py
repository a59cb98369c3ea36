"""The running seed of the whole country (cluster/seed/norway.toml) is the build of the
national files and Helse Sør-Øst's seed, and loads as a seed the cluster can run."""

from __future__ import annotations

from clients.national_build import OUT, build
from cluster.seed_model import Seed


def test_the_committed_seed_is_a_fresh_build() -> None:
    assert OUT.read_text(encoding="utf-8") == build(), (
        "cluster/seed/norway.toml is stale: python -m clients.national_build"
    )


def test_it_loads_with_sixteen_centres_each_regions_line_naming_every_other() -> None:
    seed = Seed.load(OUT)
    centres = {c.id for c in seed.centres}
    assert len(centres) == 16
    for region in seed.regions:
        assert set(region.backups) == centres - {region.home}, region.id
    hso = Seed.load()
    assert {u.id for u in hso.units} <= {u.id for u in seed.units}
    areas = {r.id for r in seed.area_regions()}
    assert all(any(u.region == a for u in seed.units) for a in areas), "an area with no unit"


def test_amk_up_seed_takes_the_national_seed(tmp_path) -> None:
    from clients.cli import build_parser
    from clients.launcher import _config_from_args

    args = build_parser().parse_args(["up", "--home", str(tmp_path), "--seed", str(OUT)])
    config = _config_from_args(args)
    assert config.seed_file == OUT and len(config.seed.centres) == 16


def test_relief_is_sought_within_the_health_region_first_then_across() -> None:
    """Every centre has its health region; every area's partners are of its own, its
    partners across of another, and the second step comes after the first."""
    seed = Seed.load(OUT)
    assert {h.id for h in seed.health_regions} == {
        "helse-sor-ost",
        "helse-vest",
        "helse-midt-norge",
        "helse-nord",
    }
    hr = {c.id: c.health_region for c in seed.centres}
    assert all(hr.values())
    for region in seed.area_regions():
        own = seed.health_region_of(region.id)
        assert region.partners and all(hr[p] == own for p in region.partners), region.id
        assert len(region.partners_across) == 2, region.id
        assert all(hr[p] != own for p in region.partners_across), region.id
        assert region.overflow_across_after_s > region.overflow_after_s
        assert region.overflow_across_after_s < 20  # answered before the national limit
        # the backup line, too, is own health region first
        line = [hr[c] == own for c in region.backups]
        assert line == sorted(line, reverse=True), region.id


def test_the_seed_refuses_an_undeclared_health_region_and_a_partner_on_both_steps() -> None:
    import tomllib

    import pytest

    raw = tomllib.loads(OUT.read_text(encoding="utf-8"))
    raw["centres"][0]["health_region"] = "helse-atlantis"
    with pytest.raises(ValueError, match="not declared"):
        Seed.model_validate(raw)
    raw = tomllib.loads(OUT.read_text(encoding="utf-8"))
    area = next(r for r in raw["regions"] if r.get("partners"))
    area["partners_across"] = [area["partners"][0]]
    with pytest.raises(ValueError, match="both partner and partner across"):
        Seed.model_validate(raw)
