"""Ambulance coverage (beredskap): which stations have no free ambulance within reach.

When a station's ambulances are all out, its area waits for one from further away, and
the dispatcher or supervisor decides whether to move a free unit nearer (a standby
move). For each station with a road ambulance based there this gives the free road
ambulances standing there now (available at station within ``AT_STATION_KM`` of it,
whichever station they belong to: a unit moved in on standby counts where it stands;
else at their own station, whose seed position may be approximate) and the nearest
free road
ambulance, by the same ETA model as the recommendations
(:func:`actors.domain.recommend.recommend`, akutt rules, road ambulances only), against
the national response-time target of the station's area.

The state of a station: ``covered`` within its target (12 minutes urban, 25 rural);
``gap`` beyond it (or no free ambulance at all); ``uncertain`` where the area is not
known to be urban or rural (the shipped list of urban municipalities is incomplete) and
the ETA lies between the two targets. The least covered first: gaps, then uncertain,
then by how little time is left to the target.

A station stands for the people around it: the seed's stations are where ambulances
are based, near where people live. It is not a population-weighted coverage (SSB's
settlement data are not in the seed): a municipality far from every station is not
seen here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from typing import Protocol

from actors.domain.eta import INF, KM_PER_DEG
from actors.domain.kpi import TARGET_RURAL, TARGET_URBAN
from actors.domain.model import Unit, UnitKind, UnitStatus, Urgency
from actors.domain.recommend import Recommendation, recommend
from actors.domain.response_time import RURAL, UNKNOWN, URBAN

# The national targets, as the KPIs hold them; unknown held to the urban one.
TARGET_S: dict[str, float] = {
    URBAN: TARGET_URBAN.seconds,
    RURAL: TARGET_RURAL.seconds,
    UNKNOWN: TARGET_URBAN.seconds,
}
AT_STATION_KM = 1.5  # a free unit this near a station stands there
COVERED, UNCERTAIN, GAP = "covered", "uncertain", "gap"
_ORDER = {GAP: 0, UNCERTAIN: 1, COVERED: 2}


class SeedUnit(Protocol):
    """A unit as the seed lists it (``cluster.seed_model.UnitSeed``)."""

    id: str
    region: str
    station: str
    lat: float
    lon: float
    approx: bool


@dataclass(frozen=True, slots=True)
class Station:
    id: str  # region/slug of the name
    name: str
    region: str
    lat: float
    lon: float
    approx: bool  # the position is the seed's approximation
    units: tuple[str, ...]  # the units based here


@dataclass(frozen=True, slots=True)
class StationCover:
    station: Station
    free_here: tuple[str, ...]  # free road ambulances standing at the station now
    nearest: Recommendation | None  # the nearest free road ambulance, None: none at all
    area: str
    target_s: float

    @property
    def state(self) -> str:
        eta = self.nearest.eta_s if self.nearest is not None else INF
        if eta <= self.target_s:
            return COVERED
        if self.area == UNKNOWN and eta <= TARGET_S[RURAL]:
            return UNCERTAIN  # a gap if urban, covered if rural
        return GAP

    @property
    def covered(self) -> bool:
        return self.state == COVERED

    @property
    def target_max_s(self) -> float:
        """The most the target may be: for an unknown area the rural one, up to which
        the cover is uncertain (a gap if urban, covered if rural)."""
        return TARGET_S[RURAL] if self.area == UNKNOWN else self.target_s


def slug(text: str) -> str:
    """``Ullevål ambulansestasjon`` -> ``ulleval-ambulansestasjon`` (ids stay ASCII)."""
    ascii_text = unicodedata.normalize("NFKD", text.lower().replace("ø", "o").replace("æ", "ae"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def stations(units: Iterable[SeedUnit]) -> list[Station]:
    """The seed has no station list: a station is where its units stand at the start
    (the first unit's position), with the ids of the units based there."""
    found: dict[tuple[str, str], tuple[SeedUnit, list[str]]] = {}
    for u in units:
        found.setdefault((u.region, u.station), (u, []))[1].append(u.id)
    return [
        Station(f"{u.region}/{slug(u.station)}", u.station, u.region, u.lat, u.lon, u.approx,
                tuple(ids))
        for u, ids in found.values()
    ]  # fmt: skip


def ambulance_stations(units: Iterable[SeedUnit], road_ambulances: Set[str]) -> list[Station]:
    """The stations with a road ambulance based there (``road_ambulances``: their ids):
    an air base, a boat station or a doctor car's base is no ambulance station, and
    would read as a gap whatever the fleet did."""
    return [st for st in stations(units) if road_ambulances.intersection(st.units)]


def cover(
    where: Iterable[Station], units: Iterable[Unit], area_of: Callable[[Station], str]
) -> list[StationCover]:
    """Each station's cover, the least covered first (gaps, then uncertain, then by
    the time left to the target, least first). ``units``: the fleet to draw on (the
    regions and their partners); only free road ambulances count."""
    where = list(where)
    free = [u for u in units if u.available and u.kind is UnitKind.ROAD_AMBULANCE]
    at = _standing_at(where, free)
    out = []
    for st in where:
        best = recommend(free, st.lat, st.lon, Urgency.AKUTT, limit=1, remote=False) if free else []
        here = tuple(sorted(u.id for u in free if at.get(u.id) == st.id))
        area = area_of(st)
        out.append(StationCover(st, here, best[0] if best else None, area, TARGET_S[area]))

    def slack(c: StationCover) -> float:
        return c.target_s - (c.nearest.eta_s if c.nearest is not None else INF)

    out.sort(key=lambda c: (_ORDER[c.state], slack(c), c.station.id))
    return out


def _standing_at(where: list[Station], free: list[Unit]) -> dict[str, str]:
    """Unit id -> the station a free unit stands at: a unit available at station within
    ``AT_STATION_KM`` of one (a standby move counts where the unit went), else at its
    own station (many seed stations have an approximate position, and a unit at its
    station reports its real one). A unit available on the road stands at none."""
    home = {uid: st.id for st in where for uid in st.units}
    out: dict[str, str] = {}
    for u in free:
        if u.status is not UnitStatus.AVAILABLE_AT_STATION:
            continue
        near = min(where, key=lambda st: _km(u, st), default=None)
        if near is not None and _km(u, near) <= AT_STATION_KM:
            out[u.id] = near.id
        elif u.id in home:
            out[u.id] = home[u.id]
    return out


def _km(unit: Unit, st: Station) -> float:
    """Distance in km, equirectangular: exact enough within a couple of km."""
    dlat = unit.position.lat - st.lat
    dlon = (unit.position.lon - st.lon) * math.cos(math.radians(st.lat))
    return math.hypot(dlat, dlon) * KM_PER_DEG
