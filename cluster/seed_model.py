"""The seed's data model: centres, their regions (area or air coordination) with home
centre and ordered backups, the fleet, hospitals with their capabilities and sources,
airports. Loaded and checked for consistency from a TOML data file (default
``cluster/seed/helse_sor_ost.toml``); :mod:`cluster.config` holds the deployment
settings and re-exports these names."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cluster.errors import ConfigError

DEFAULT_SEED = Path(__file__).resolve().parent / "seed" / "helse_sor_ost.toml"

UnitKindName = Literal[
    "road_ambulance", "rapid_response_car", "boat_ambulance", "helicopter", "fixed_wing"
]
CrewName = Literal["emt", "paramedic", "doctor"]
AIRCRAFT = ("helicopter", "fixed_wing")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthRegionConfig(_Strict):
    """One of the four regional health authorities: a way to group centres (status,
    board and web console filter by it) and the line within which relief is sought
    first (a region's ``partners``) before it crosses to another (``partners_across``)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str


class CentreConfig(_Strict):
    id: str
    name: str
    host: str = ""
    lat: float
    lon: float
    source: str = ""
    health_region: str = ""  # a [[health_regions]] id; "" in a seed that declares none


AREA = "area"
AIR_COORDINATION = "air_coordination"


class RegionConfig(_Strict):
    """A region: what one centre owns, fences and hands over as a whole.

    Two kinds (issue #19, air ambulance):

    - ``area`` (default): a centre's area of responsibility: municipalities, a boundary
      polygon, 113 calls, incidents and the units that serve them;
    - ``air_coordination``: an air ambulance coordinating AMK's (AMK-LA's) ownership of
      the helicopters and fixed-wing aircraft of the area regions it ``serves``, and of
      their air missions. It has no municipalities, no boundary, no 113 queue and no
      partners (nobody's calls overflow to it), and it holds aircraft only. It is owned,
      fenced, taken over and handed over exactly like an area region: the same owner
      key, the same claim line (``home``, then ``backups``).
    """

    id: str
    code: str = Field(pattern=r"^[A-Z]{3}$")
    name: str
    home: str
    backups: list[str]
    kind: Literal["area", "air_coordination"] = AREA
    serves: list[str] = []  # air_coordination: the area regions whose aircraft it holds
    # Overflow: a waiting call is seen by ``partners`` (same health region) once it has
    # waited ``overflow_after_s``, and by ``partners_across`` (another health region)
    # once it has waited ``overflow_across_after_s``: relief within the health region
    # first, then across, and still before the national 20 s limit.
    partners: list[str] = []
    overflow_after_s: float = 10.0
    partners_across: list[str] = []
    overflow_across_after_s: float = 15.0
    municipalities: list[str] = []
    boundary: list[tuple[float, float]] = []
    source: str = ""

    @property
    def is_area(self) -> bool:
        return self.kind == AREA

    @property
    def all_partners(self) -> tuple[str, ...]:
        """Every centre whose call-takers may answer this region's overflowed calls."""
        return (*self.partners, *self.partners_across)

    @model_validator(mode="after")
    def _overflow_in_order(self) -> RegionConfig:
        if set(self.partners) & set(self.partners_across):
            raise ValueError(f"region {self.id}: a centre is both partner and partner across")
        if self.partners_across and self.overflow_across_after_s < self.overflow_after_s:
            raise ValueError(
                f"region {self.id}: overflow_across_after_s must not be below overflow_after_s"
                " (relief within the health region first)"
            )
        return self


class UnitSeed(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    call_sign: str
    region: str
    kind: UnitKindName
    crew: CrewName
    station: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    approx: bool = False
    source: str = ""


TraumaLevelName = Literal["regional_trauma_centre", "acute_trauma", "none"]
CAPABILITY_SOURCES = ("trauma", "stroke", "pci")
CAPABILITY_FIELDS = ("trauma_level", "stroke_thrombolysis", "stroke_thrombectomy", "pci")


class HospitalSeed(_Strict):
    """A hospital with an emergency department and what it can treat (issue #19).

    Every capability names its public source in ``sources`` (keys ``trauma``,
    ``stroke``, ``pci``); a fact the sources do not settle is flagged ``uncertain``
    with ``uncertain_why`` naming the field, so the destination's reason can say so
    instead of presenting a guess as a fact. See the seed file's hospitals header.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str
    region: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    trauma_level: TraumaLevelName
    stroke_thrombolysis: bool
    stroke_thrombectomy: bool = False
    pci: bool
    sources: dict[str, str]
    uncertain: bool = False
    uncertain_why: str = ""

    @property
    def trauma_centre(self) -> bool:
        return self.trauma_level == "regional_trauma_centre"

    @model_validator(mode="after")
    def _sourced(self) -> HospitalSeed:
        missing = [k for k in CAPABILITY_SOURCES if not self.sources.get(k, "").strip()]
        if missing or set(self.sources) - set(CAPABILITY_SOURCES):
            raise ValueError(
                f"hospital {self.id}: sources must name exactly {', '.join(CAPABILITY_SOURCES)}"
                f" (missing: {', '.join(missing) or 'none'})"
            )
        if self.uncertain and not any(f in self.uncertain_why for f in CAPABILITY_FIELDS):
            raise ValueError(f"hospital {self.id}: uncertain_why must name the uncertain field")
        if self.uncertain_why and not self.uncertain:
            raise ValueError(f"hospital {self.id}: uncertain_why given but uncertain = false")
        return self


class AirportSeed(_Strict):
    id: str
    name: str
    lat: float
    lon: float


class SeedMeta(_Strict):
    title: str
    as_of: str = ""
    note: str = ""
    sources: list[str] = []


class Seed(_Strict):
    """Centres, regions and fleet: data, checked for consistency on load."""

    meta: SeedMeta
    health_regions: list[HealthRegionConfig] = []
    centres: list[CentreConfig]
    regions: list[RegionConfig]
    units: list[UnitSeed] = []
    hospitals: list[HospitalSeed] = []
    airports: list[AirportSeed] = []

    @model_validator(mode="after")
    def _consistent(self) -> Seed:
        centres = {c.id for c in self.centres}
        regions = {r.id for r in self.regions}
        if len(centres) != len(self.centres) or len(regions) != len(self.regions):
            raise ValueError("duplicate centre or region id")
        for r in self.regions:
            if r.home not in centres:
                raise ValueError(f"region {r.id}: home {r.home} is not a centre")
            for b in [*r.backups, *r.all_partners]:
                if b not in centres or b == r.home:
                    raise ValueError(f"region {r.id}: backup/partner {b} invalid")
            if len(set(r.backups)) != len(r.backups):
                raise ValueError(f"region {r.id}: a backup is listed twice")
        declared = {h.id for h in self.health_regions}
        if len(declared) != len(self.health_regions):
            raise ValueError("duplicate health region id")
        for c in self.centres:
            if (c.health_region or declared) and c.health_region not in declared:
                raise ValueError(f"centre {c.id}: health_region {c.health_region!r} not declared")
        ids = [u.id for u in self.units]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate unit id")
        for u in self.units:
            if u.region not in regions:
                raise ValueError(f"unit {u.id}: unknown region {u.region}")
        hospital_ids = [h.id for h in self.hospitals]
        if len(set(hospital_ids)) != len(hospital_ids):
            raise ValueError("duplicate hospital id")
        for h in self.hospitals:
            if h.region not in regions:
                raise ValueError(f"hospital {h.id}: unknown region {h.region}")
        self._air_coordination_consistent()
        return self

    def _air_coordination_consistent(self) -> None:
        """An AMK-LA region has no area of its own, serves area regions (each served by
        at most one AMK-LA) and holds aircraft only; an area region serves nobody."""
        kinds = {r.id: r.kind for r in self.regions}
        served: dict[str, str] = {}
        for r in self.regions:
            if r.is_area:
                if r.serves:
                    raise ValueError(f"region {r.id}: an area region serves no other region")
                continue
            if r.municipalities or r.boundary or r.all_partners:
                raise ValueError(
                    f"region {r.id}: an air coordination region has no municipalities, "
                    "boundary or partners (it takes no 113 calls)"
                )
            if not r.serves:
                raise ValueError(f"region {r.id}: an air coordination region serves no region")
            for area in r.serves:
                if kinds.get(area) != AREA:
                    raise ValueError(f"region {r.id}: serves {area}, not an area region")
                if area in served:
                    raise ValueError(
                        f"region {area}: served by two air coordination regions "
                        f"({served[area]}, {r.id})"
                    )
                served[area] = r.id
        for u in self.units:
            if kinds[u.region] == AIR_COORDINATION and u.kind not in AIRCRAFT:
                raise ValueError(f"unit {u.id}: {u.kind} in air coordination region {u.region}")

    @classmethod
    def load(cls, path: Path | None = None) -> Seed:
        if path is None:
            raw = DEFAULT_SEED.read_bytes()
        else:
            raw = Path(path).read_bytes()
        try:
            return cls.model_validate(tomllib.loads(raw.decode()))
        except Exception as exc:
            raise ConfigError(f"seed {path or 'helse_sor_ost.toml'}: {exc}") from exc

    def region(self, region_id: str) -> RegionConfig:
        for r in self.regions:
            if r.id == region_id:
                return r
        raise ConfigError(f"unknown region {region_id}")

    def hospital(self, hospital_id: str) -> HospitalSeed:
        for h in self.hospitals:
            if h.id == hospital_id:
                return h
        raise ConfigError(f"unknown hospital {hospital_id}")

    def area_regions(self) -> list[RegionConfig]:
        """The regions with an area: where 113 calls queue and incidents live."""
        return [r for r in self.regions if r.is_area]

    def air_region_for(self, region_id: str) -> str | None:
        """The air coordination region (AMK-LA) that serves area ``region_id``; None if
        none does (an air ambulance request from there is refused)."""
        for r in self.regions:
            if region_id in r.serves:
                return r.id
        return None

    def is_air_region(self, region_id: str) -> bool:
        return self.region(region_id).kind == AIR_COORDINATION

    def health_region_of(self, region_id: str) -> str:
        """The health region a region belongs to: its home centre's ("" if none)."""
        return self.centre(self.region(region_id).home).health_region

    def partner_regions(self, centre_id: str) -> frozenset[str]:
        """The regions whose overflowed calls ``centre_id`` may answer (as a partner
        within its health region or across)."""
        return frozenset(r.id for r in self.regions if centre_id in r.all_partners)

    def centre(self, centre_id: str) -> CentreConfig:
        for c in self.centres:
            if c.id == centre_id:
                return c
        raise ConfigError(f"unknown centre {centre_id}")
