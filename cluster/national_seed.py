"""Every AMK centre of Norway (issue #15, step 1): the seed data, one file per health
region, and the relief lines derived from it.

Why a model of its own (not yet :class:`cluster.seed_model.Seed`): the national data is
researched fact by fact, each fact with its public source and an ``uncertain`` note
where a fact is not stated by its source; a region's area is a list of municipality
numbers (Kartverket 2024) rather than names. Helse Sør-Øst's five centres come from the
running seed (``cluster/seed/helse_sor_ost.toml``, names matched to numbers by the
tests); the other health regions from ``cluster/seed/national/*.toml``.

Relief lines are derived, not sourced: the backups of a region are the other centres of
its health region by distance from its home centre, then every other centre by distance
("within the region first, then across regions"). No public source lists the centres'
agreements, so none is claimed. Pure: no network, no Ray, no etcd.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cluster.seed_model import Seed

NATIONAL = Path(__file__).resolve().parent / "seed" / "national"
STATION_KINDS = frozenset({"road", "boat", "helicopter", "fixed_wing"})
MIN_BACKUPS = 3
# Norway with Svalbard (whose 113 calls AMK Tromsø answers): a position outside is a typo.
LAT = (57.0, 81.0)
LON = (4.0, 35.0)


class NationalSeedError(ValueError):
    """The national seed is inconsistent; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Centre:
    id: str
    name: str
    health_region: str
    health_trust: str
    lat: float
    lon: float
    source: str
    uncertain: str = ""


@dataclass(frozen=True, slots=True)
class Area:
    """The area one centre serves: municipality numbers (Kartverket 2024)."""

    id: str
    code: str
    name: str
    home: str
    health_region: str
    municipalities: tuple[str, ...]
    source: str
    uncertain: str = ""


@dataclass(frozen=True, slots=True)
class Place:
    """A station, base or hospital, in one area."""

    id: str
    name: str
    kind: str  # road, boat, helicopter, fixed_wing; "hospital"
    region: str
    lat: float
    lon: float
    source: str
    approx: bool = False
    uncertain: str = ""


@dataclass
class HealthRegion:
    id: str
    name: str
    file: str
    sources: list[str]
    gaps: list[str]
    served_elsewhere: list[dict[str, str]] = field(default_factory=list)


@dataclass
class NationalSeed:
    health_regions: dict[str, HealthRegion]
    centres: dict[str, Centre]
    areas: dict[str, Area]
    stations: list[Place]
    hospitals: list[Place]

    def backups(self, area_id: str) -> list[str]:
        """The relief line of ``area_id``: its health region's other centres, then all
        others, each part nearest first (from the home centre)."""
        return self.backups_of(self.areas[area_id].home)

    def backups_of(self, centre_id: str) -> list[str]:
        """Every other centre: ``centre_id``'s health region first, each part nearest
        first."""
        home = self.centres[centre_id]
        others = [c for c in self.centres.values() if c.id != home.id]
        return [
            c.id
            for c in sorted(
                others,
                key=lambda c: (c.health_region != home.health_region, km(home, c)),
            )
        ]


def km(a: Centre, b: Centre) -> float:
    """Great-circle distance between two centres (haversine, earth radius 6,371 km)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _str(table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise NationalSeedError(f"{where}: {key} missing or empty")
    return value


def _coord(table: dict, key: str, where: str, low: float, high: float) -> float:
    value = table.get(key)
    if not isinstance(value, int | float) or not low <= value <= high:
        raise NationalSeedError(f"{where}: {key} must be a number in [{low}, {high}]")
    return float(value)


def _place(table: dict, kind: str, where: str) -> Place:
    return Place(
        id=_str(table, "id", where),
        name=_str(table, "name", where),
        kind=kind,
        region=_str(table, "region", where),
        lat=_coord(table, "lat", where, *LAT),
        lon=_coord(table, "lon", where, *LON),
        source=_str(table, "source", where),
        approx=bool(table.get("approx", False)),
        uncertain=str(table.get("uncertain", "")),
    )


def load_fragment(path: Path, seed: NationalSeed) -> None:
    """Add one health region's file to ``seed``, checking it as it goes."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    meta = raw.get("meta", {})
    hr = _str(meta, "health_region", f"{path.name} [meta]")
    if hr in seed.health_regions:
        raise NationalSeedError(f"{path.name}: health region {hr} is in two files")
    seed.health_regions[hr] = HealthRegion(
        hr,
        _str(meta, "health_region_name", f"{path.name} [meta]"),
        path.name,
        list(meta.get("sources", [])),
        list(meta.get("gaps", [])),
        list(meta.get("served_elsewhere", [])),
    )
    for i, c in enumerate(raw.get("centres", [])):
        where = f"{path.name} centres[{i}]"
        centre = Centre(
            id=_str(c, "id", where),
            name=_str(c, "name", where),
            health_region=hr,
            health_trust=_str(c, "health_trust", where),
            lat=_coord(c, "lat", where, *LAT),
            lon=_coord(c, "lon", where, *LON),
            source=_str(c, "source", where),
            uncertain=str(c.get("uncertain", "")),
        )
        if centre.id in seed.centres:
            raise NationalSeedError(f"{where}: centre id {centre.id!r} used twice")
        seed.centres[centre.id] = centre
    for i, r in enumerate(raw.get("regions", [])):
        where = f"{path.name} regions[{i}]"
        numbers = r.get("municipalities", [])
        if not numbers or not all(isinstance(n, str) and len(n) == 4 for n in numbers):
            raise NationalSeedError(f"{where}: municipalities must be 4-digit numbers")
        area = Area(
            id=_str(r, "id", where),
            code=_str(r, "code", where),
            name=_str(r, "name", where),
            home=_str(r, "home", where),
            health_region=hr,
            municipalities=tuple(numbers),
            source=_str(r, "source", where),
            uncertain=str(r.get("uncertain", "")),
        )
        _add_area(seed, area, where)
    for i, s in enumerate(raw.get("stations", [])):
        where = f"{path.name} stations[{i}]"
        kind = _str(s, "kind", where)
        if kind not in STATION_KINDS:
            raise NationalSeedError(f"{where}: kind {kind!r} not one of {sorted(STATION_KINDS)}")
        seed.stations.append(_place(s, kind, where))
    for i, h in enumerate(raw.get("hospitals", [])):
        seed.hospitals.append(_place(h, "hospital", f"{path.name} hospitals[{i}]"))


def _add_area(seed: NationalSeed, area: Area, where: str) -> None:
    if area.id in seed.areas:
        raise NationalSeedError(f"{where}: region id {area.id!r} used twice")
    if len(area.code) != 3 or not area.code.isupper():
        raise NationalSeedError(f"{where}: code {area.code!r} must be 3 capital letters")
    if any(a.code == area.code for a in seed.areas.values()):
        raise NationalSeedError(f"{where}: code {area.code} used twice")
    seed.areas[area.id] = area


HSO = "helse-sor-ost"


def add_running_seed(seed: NationalSeed, running: Seed, number_of: Callable[[str], str]) -> None:
    """Helse Sør-Øst from the running seed: its centres, area regions (names matched to
    municipality numbers by ``number_of``), hospitals, and stations where its units
    stand (the first unit's position; the seed marks most as approximate)."""
    seed.health_regions[HSO] = HealthRegion(
        HSO, "Helse Sør-Øst", "helse_sor_ost.toml", list(running.meta.sources), []
    )
    for c in running.centres:
        seed.centres[c.id] = Centre(
            c.id, c.name, HSO, "Helse Sør-Øst", c.lat, c.lon, c.source or "seed meta sources"
        )
    for r in running.area_regions():
        numbers = tuple(number_of(m) for m in r.municipalities)
        area = Area(r.id, r.code, r.name, r.home, HSO, numbers, "helse_sor_ost.toml")
        _add_area(seed, area, f"helse_sor_ost.toml region {r.id}")
    for h in running.hospitals:
        seed.hospitals.append(
            Place(h.id, h.name, "hospital", h.region, h.lat, h.lon, "helse_sor_ost.toml")
        )
    stations: dict[str, Place] = {}
    for u in running.units:
        if u.region in seed.areas and u.kind == "road_ambulance" and u.station not in stations:
            sid = f"{u.region}-{len(stations)}"
            stations[u.station] = Place(
                sid, u.station, "road", u.region, u.lat, u.lon, u.source or "seed", u.approx
            )
    seed.stations.extend(stations.values())


def load_national(
    folder: Path = NATIONAL,
    running: Seed | None = None,
    number_of: Callable[[str], str] | None = None,
) -> NationalSeed:
    """Every health region's file in ``folder``, plus Helse Sør-Øst from the running
    seed (``running``; ``number_of`` matches its municipality names to numbers),
    checked: unique ids and codes, every area's home a centre, every place in an area,
    every area with at least :data:`MIN_BACKUPS` backups."""
    seed = NationalSeed({}, {}, {}, [], [])
    for path in sorted(folder.glob("*.toml")):
        load_fragment(path, seed)
    if running is not None and number_of is not None:
        add_running_seed(seed, running, number_of)
    for area in seed.areas.values():
        if area.home not in seed.centres:
            raise NationalSeedError(f"region {area.id}: home {area.home!r} is no centre")
        if len(seed.backups(area.id)) < MIN_BACKUPS:
            raise NationalSeedError(f"region {area.id}: fewer than {MIN_BACKUPS} backups")
    ids: set[str] = set()
    for place in [*seed.stations, *seed.hospitals]:
        if place.region not in seed.areas:
            raise NationalSeedError(f"{place.kind} {place.id}: region {place.region!r} unknown")
        if (place.kind, place.id) in ids:
            raise NationalSeedError(f"{place.kind} id {place.id!r} used twice")
        ids.add((place.kind, place.id))  # type: ignore[arg-type]
    return seed
