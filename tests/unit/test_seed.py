"""The shipped seed (centres, regions, fleet) and the deployment settings loader."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pydantic
import pytest

from cluster.config import ClusterConfig, Seed
from cluster.errors import ConfigError
from cluster.seed_model import DEFAULT_SEED

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(30)

RAW = tomllib.loads(DEFAULT_SEED.read_text(encoding="utf-8"))


def point_in_polygon(lat: float, lon: float, polygon: list[tuple[float, float]]) -> bool:
    """Even-odd ray casting on [lat, lon] vertices (the boundaries are small enough that
    treating degrees as plane coordinates is fine)."""
    inside = False
    n = len(polygon)
    for i in range(n):
        lat1, lon1 = polygon[i]
        lat2, lon2 = polygon[(i + 1) % n]
        if (lat1 > lat) != (lat2 > lat):
            lon_cross = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < lon_cross:
                inside = not inside
    return inside


def test_point_in_polygon_helper() -> None:
    square = [(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0)]
    assert point_in_polygon(5.0, 5.0, square)
    assert not point_in_polygon(15.0, 5.0, square)
    assert not point_in_polygon(5.0, -1.0, square)
    # A concave "C": the notch is outside.
    c_shape = [(0, 0), (0, 10), (3, 10), (3, 3), (7, 3), (7, 10), (10, 10), (10, 0)]
    assert point_in_polygon(5.0, 1.0, c_shape)
    assert not point_in_polygon(5.0, 6.0, c_shape)


@pytest.fixture(scope="module")
def seed() -> Seed:
    return Seed.load()


def test_shipped_seed_loads(seed: Seed) -> None:
    assert Seed.load(DEFAULT_SEED) == seed
    assert seed.meta.title


AIR = "luftambulanse-hso"
AIRCRAFT_IDS = {"osl-h01", "osl-h02", "osl-f01", "osl-f02", "inn-h01", "sor-h01", "vvi-h01"}


def test_five_centres_five_areas_and_one_air_coordination_region(seed: Seed) -> None:
    centres = {c.id for c in seed.centres}
    assert len(seed.centres) == len(centres) == 5
    areas = seed.area_regions()
    assert len(areas) == 5
    assert {r.home for r in areas} == centres
    assert [r.id for r in seed.regions if not r.is_area] == [AIR]
    assert len({r.code for r in seed.regions}) == 6


def test_amk_oslo_coordinates_the_air_ambulance_of_every_area(seed: Seed) -> None:
    air = seed.region(AIR)
    assert (air.kind, air.home) == ("air_coordination", "oslo")
    assert air.backups[0] == "innlandet"  # the seed's named reserve centre for AMK Oslo
    assert not (air.municipalities or air.boundary or air.partners)
    assert air.source  # where it comes from, and what is assumed
    for r in seed.area_regions():
        assert seed.air_region_for(r.id) == AIR, r.id
        assert not seed.is_air_region(r.id)
    assert seed.is_air_region(AIR)
    assert seed.air_region_for(AIR) is None


def test_every_aircraft_and_only_aircraft_is_in_the_air_region(seed: Seed) -> None:
    in_air = {u.id for u in seed.units if u.region == AIR}
    aircraft = {u.id for u in seed.units if u.kind in ("helicopter", "fixed_wing")}
    assert in_air == aircraft == AIRCRAFT_IDS


def test_every_region_backs_up_on_every_other_centre_once(seed: Seed) -> None:
    centres = [c.id for c in seed.centres]
    for r in seed.regions:
        assert sorted(r.backups) == sorted(c for c in centres if c != r.home), r.id
        assert len(set(r.backups)) == len(r.backups), r.id
        assert set(r.partners) <= set(r.backups), r.id


def test_every_area_region_has_a_boundary_and_municipalities(seed: Seed) -> None:
    for r in seed.area_regions():
        assert len(r.boundary) >= 3 and r.municipalities, r.id


def test_fleet_is_seeded_in_every_region(seed: Seed) -> None:
    assert {u.region for u in seed.units} == {r.id for r in seed.regions}
    assert len({u.id for u in seed.units}) == len(seed.units)


def test_every_unit_lies_in_its_own_region(seed: Seed) -> None:
    boundary = {r.id: r.boundary for r in seed.area_regions()}
    outside = [
        (u.id, u.region, u.lat, u.lon)
        for u in seed.units
        if u.region in boundary and not point_in_polygon(u.lat, u.lon, boundary[u.region])
    ]
    assert outside == []


def test_every_aircraft_base_lies_in_an_area_its_air_region_serves(seed: Seed) -> None:
    boundary = {r.id: r.boundary for r in seed.area_regions()}
    for u in seed.units:
        if u.region in boundary:
            continue
        served = seed.region(u.region).serves
        assert [r for r in served if point_in_polygon(u.lat, u.lon, boundary[r])], u.id


def test_no_unit_lies_in_another_region(seed: Seed) -> None:
    boundary = {r.id: r.boundary for r in seed.area_regions()}
    overlaps = [
        (u.id, u.region, rid)
        for u in seed.units
        if u.region in boundary
        for rid, poly in boundary.items()
        if rid != u.region and point_in_polygon(u.lat, u.lon, poly)
    ]
    assert overlaps == []


def test_centres_and_hospitals_lie_in_their_regions(seed: Seed) -> None:
    boundary = {r.id: r.boundary for r in seed.area_regions()}
    for r in seed.area_regions():
        home = seed.centre(r.home)
        assert point_in_polygon(home.lat, home.lon, r.boundary), home.id
    for h in seed.hospitals:
        assert point_in_polygon(h.lat, h.lon, boundary[h.region]), h.id


def test_region_and_centre_lookup(seed: Seed) -> None:
    assert seed.region("oslo").code == "OSL"
    assert seed.centre("oslo").id == "oslo"
    with pytest.raises(ConfigError):
        seed.region("atlantis")
    with pytest.raises(ConfigError):
        seed.centre("atlantis")


def _raw() -> dict:
    return copy.deepcopy(RAW)


def test_validator_refuses_unit_in_unknown_region() -> None:
    raw = _raw()
    raw["units"][0]["region"] = "atlantis"
    with pytest.raises(pydantic.ValidationError, match="unknown region atlantis"):
        Seed.model_validate(raw)


def test_validator_refuses_duplicate_unit_id() -> None:
    raw = _raw()
    raw["units"].append(dict(raw["units"][0]))
    with pytest.raises(pydantic.ValidationError, match="duplicate unit id"):
        Seed.model_validate(raw)


def test_validator_refuses_backup_that_is_home() -> None:
    raw = _raw()
    raw["regions"][0]["backups"].append(raw["regions"][0]["home"])
    with pytest.raises(pydantic.ValidationError, match="backup/partner"):
        Seed.model_validate(raw)


def _air_index() -> int:
    return next(i for i, r in enumerate(RAW["regions"]) if r.get("kind") == "air_coordination")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(boundary=[[60.0, 10.0], [61.0, 10.0], [61.0, 11.0]]), "no munic"),
        (lambda r: r.update(municipalities=["Oslo"]), "no munic"),
        (lambda r: r.update(partners=["innlandet"]), "no munic"),
        (lambda r: r.update(serves=[]), "serves no region"),
        (lambda r: r.update(serves=["luftambulanse-hso"]), "not an area region"),
        (lambda r: r.update(serves=["oslo", "atlantis"]), "not an area region"),
    ],
    ids=["boundary", "municipalities", "partners", "serves-none", "serves-itself", "unknown"],
)
def test_validator_refuses_an_air_region_with_an_area(change, message: str) -> None:
    raw = _raw()
    change(raw["regions"][_air_index()])
    with pytest.raises(pydantic.ValidationError, match=message):
        Seed.model_validate(raw)


def test_validator_refuses_a_road_unit_in_an_air_region_and_two_amk_la_for_one_area() -> None:
    raw = _raw()
    road = next(u for u in raw["units"] if u["kind"] == "road_ambulance")
    road["region"] = "luftambulanse-hso"
    with pytest.raises(pydantic.ValidationError, match="road_ambulance in air coordination"):
        Seed.model_validate(raw)
    raw = _raw()
    second = dict(raw["regions"][_air_index()], id="luftambulanse-2", code="LAX")
    raw["regions"].append(second)
    with pytest.raises(pydantic.ValidationError, match="served by two air coordination"):
        Seed.model_validate(raw)
    raw = _raw()
    raw["regions"][0]["serves"] = ["innlandet"]
    with pytest.raises(pydantic.ValidationError, match="an area region serves no other"):
        Seed.model_validate(raw)


def test_unmodified_copy_validates() -> None:
    # The refusals above come from the one change each makes, not from the copy.
    assert Seed.model_validate(_raw()) == Seed.load()


MINIMAL = """
[meta]
title = "t"

[[centres]]
id = "a"
name = "A"
lat = 60.0
lon = 10.0

[[centres]]
id = "b"
name = "B"
lat = 61.0
lon = 11.0

[[regions]]
id = "ra"
code = "RAA"
name = "Region A"
home = "a"
backups = ["b"]

[[units]]
id = "u-1"
call_sign = "U 1"
region = "{region}"
kind = "road_ambulance"
crew = "emt"
station = "S"
lat = 60.0
lon = 10.0
"""


def test_load_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "seed.toml"
    path.write_text(MINIMAL.format(region="ra"), encoding="utf-8")
    seed = Seed.load(path)
    assert [u.id for u in seed.units] == ["u-1"]


def test_load_wraps_a_bad_file_in_config_error(tmp_path: Path) -> None:
    path = tmp_path / "seed.toml"
    path.write_text(MINIMAL.format(region="nowhere"), encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown region nowhere"):
        Seed.load(path)


# ------------------------------------------------------------------- cluster settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("AMK_HOME", "AMK_CONFIG", "AMK_GATEWAY", "AMK_ETCD", "AMK_SEED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.amk/amk.toml to pick up
    return tmp_path


def test_cluster_config_defaults(clean_env: Path) -> None:
    cfg = ClusterConfig.load(home=clean_env)
    assert cfg.home == clean_env
    assert cfg.lease_ttl_s == 2
    assert cfg.key_prefix == "/amk/v1/"
    assert cfg.gateways == ["127.0.0.1:50051", "127.0.0.1:50052"]
    assert cfg.etcd_endpoints == []
    assert cfg.seed_file is None
    assert len(cfg.region_ids()) == 6 and len(cfg.centre_ids()) == 5
    assert len(cfg.area_region_ids()) == 5 and "luftambulanse-hso" not in cfg.area_region_ids()
    assert cfg.home_regions("oslo") == ["oslo", "luftambulanse-hso"]


def test_amk_gateway_overrides(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMK_GATEWAY", "10.0.0.1:50051, 10.0.0.2:50051,")
    monkeypatch.setenv("AMK_ETCD", "http://10.0.0.9:2379")
    cfg = ClusterConfig.load(home=clean_env)
    assert cfg.gateways == ["10.0.0.1:50051", "10.0.0.2:50051"]
    assert cfg.etcd_endpoints == ["http://10.0.0.9:2379"]


def test_amk_seed_gives_every_console_the_clusters_seed(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMK_SEED", "cluster/seed/norway.toml")
    monkeypatch.chdir(REPO)  # a relative path is the shell's: resolved where it is read
    cfg = ClusterConfig.load(home=clean_env)
    assert cfg.seed_file == REPO / "cluster" / "seed" / "norway.toml"
    assert len(cfg.centre_ids()) == 16 and "bergen" in cfg.area_region_ids()
    monkeypatch.setenv("AMK_SEED", "no/such/seed.toml")
    with pytest.raises(ConfigError, match="seed"):
        ClusterConfig.load(home=clean_env)


def test_explicit_override_beats_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMK_GATEWAY", "10.0.0.1:50051")
    cfg = ClusterConfig.load(home=clean_env, gateways=["127.0.0.1:6000"])
    assert cfg.gateways == ["127.0.0.1:6000"]


def test_settings_file_then_environment(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = clean_env / "amk.toml"
    path.write_text('lease_ttl_s = 5\nkey_prefix = "/amk/test/"\ngateways = ["a:1"]\n')
    monkeypatch.setenv("AMK_CONFIG", str(path))
    monkeypatch.setenv("AMK_GATEWAY", "b:2")
    cfg = ClusterConfig.load(home=clean_env)
    assert (cfg.lease_ttl_s, cfg.key_prefix, cfg.gateways) == (5, "/amk/test/", ["b:2"])


@pytest.mark.parametrize(
    "overrides",
    [{"lease_ttl_s": 1}, {"key_prefix": "amk/v1/"}, {"key_prefix": "/amk/v1"}, {"bogus": 1}],
    ids=["ttl-too-short", "prefix-no-leading-slash", "prefix-no-trailing-slash", "unknown-key"],
)
def test_bad_settings_are_config_errors(clean_env: Path, overrides: dict) -> None:
    with pytest.raises(ConfigError):
        ClusterConfig.load(home=clean_env, **overrides)


# ---------------------------------------------------------------- hospital capabilities


def test_every_hospital_capability_names_a_public_source(seed: Seed) -> None:
    assert len(seed.hospitals) == 20
    for h in seed.hospitals:
        assert set(h.sources) == {"trauma", "stroke", "pci"}, h.id
        for key, text in h.sources.items():
            assert "http" in text, (h.id, key)  # a source a reader can open, not a claim
        if h.uncertain:
            assert h.uncertain_why.strip(), h.id


def test_one_regional_trauma_centre_ulleval(seed: Seed) -> None:
    centres = [h.id for h in seed.hospitals if h.trauma_level == "regional_trauma_centre"]
    assert centres == ["ous-ulleval"]
    assert seed.hospital("ous-ulleval").trauma_centre
    assert not seed.hospital("ahus-lorenskog").trauma_centre
    assert {h.trauma_level for h in seed.hospitals} <= {
        "regional_trauma_centre",
        "acute_trauma",
        "none",
    }


def test_stroke_and_pci_facts_as_the_sources_give_them(seed: Seed) -> None:
    thrombectomy = {h.id for h in seed.hospitals if h.stroke_thrombectomy}
    assert thrombectomy == {"ous-rikshospitalet", "ahus-lorenskog", "sshf-kristiansand"}
    pci = {h.id for h in seed.hospitals if h.pci}
    assert pci == {"ous-ulleval", "ous-rikshospitalet", "sshf-arendal"}
    # Sourced as not doing PCI (Telemark and Agder go to Arendal): not marked uncertain.
    for hid in ("st-skien", "sshf-kristiansand"):
        h = seed.hospital(hid)
        assert not h.pci and "pci:" not in h.uncertain_why, hid
    # Not on the 2017 list: "no PCI" is stated as uncertain, with why.
    assert "pci:" in seed.hospital("siv-tonsberg").uncertain_why
    assert seed.hospital("st-skien").stroke_thrombolysis
    assert "stroke_thrombolysis" in seed.hospital("ous-rikshospitalet").uncertain_why


def test_validator_refuses_a_hospital_without_a_source() -> None:
    raw = _raw()
    del raw["hospitals"][0]["sources"]["pci"]
    with pytest.raises(pydantic.ValidationError, match="sources must name exactly"):
        Seed.model_validate(raw)


def test_validator_refuses_uncertain_without_naming_the_field() -> None:
    raw = _raw()
    raw["hospitals"][0]["uncertain"] = True
    raw["hospitals"][0]["uncertain_why"] = "not sure"
    with pytest.raises(pydantic.ValidationError, match="must name the uncertain field"):
        Seed.model_validate(raw)


def test_validator_refuses_hospital_in_unknown_region_or_twice() -> None:
    raw = _raw()
    raw["hospitals"][1]["region"] = "atlantis"
    with pytest.raises(pydantic.ValidationError, match="unknown region atlantis"):
        Seed.model_validate(raw)
    raw = _raw()
    raw["hospitals"][1]["id"] = raw["hospitals"][0]["id"]
    with pytest.raises(pydantic.ValidationError, match="duplicate hospital id"):
        Seed.model_validate(raw)


def test_hospital_endpoints_must_name_seeded_hospitals(tmp_path: Path) -> None:
    cfg = ClusterConfig.load(home=tmp_path, hospital_endpoints={"ous-ulleval": "http://x/"})
    assert cfg.hospital_endpoint("ous-ulleval") == "http://x/"
    assert cfg.hospital_endpoint("si-hamar") is None
    with pytest.raises(ConfigError, match="unknown hospital"):
        ClusterConfig.load(home=tmp_path, hospital_endpoints={"atlantis": "http://x/"})
