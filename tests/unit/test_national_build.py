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
