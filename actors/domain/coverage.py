"""Ambulance coverage (beredskap): which stations have no free ambulance within reach.

When a station's ambulances are all out, its area waits for one from further away, and
the dispatcher or supervisor decides whether to move a free unit nearer (a standby
move). For each station this gives the free road ambulances based there and the
nearest free road ambulance anywhere in the regions given, by the same ETA model as the
recommendations (:func:`actors.domain.recommend.recommend`, akutt rules, road
ambulances only), against the national response-time target of the station's area
(12 minutes urban, 25 rural; unknown is held to 12). A station is "covered" when that
ambulance can be there within the target.

A station stands for the people around it: the seed's stations are where ambulances
are based, near where people live. It is not a population-weighted coverage (SSB's
settlement data are not in the seed): a municipality far from every station is not
seen here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from actors.domain.model import Unit, UnitKind, UnitStatus, Urgency
from actors.domain.recommend import Recommendation, recommend
from actors.domain.response_time import RURAL, UNKNOWN, URBAN

TARGET_S: dict[str, float] = {URBAN: 12 * 60.0, RURAL: 25 * 60.0, UNKNOWN: 12 * 60.0}


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
    free_here: tuple[str, ...]  # free road ambulances of this station standing there
    nearest: Recommendation | None  # the nearest free road ambulance, None: none at all
    area: str
    target_s: float

    @property
    def covered(self) -> bool:
        return self.nearest is not None and self.nearest.eta_s <= self.target_s


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


def cover(
    where: Iterable[Station], units: Iterable[Unit], area_of: Callable[[Station], str]
) -> list[StationCover]:
    """Each station's cover, the least covered first (uncovered, then by the nearest
    ambulance's ETA, longest first). ``units``: the fleet to draw on (the regions and
    their partners); only free road ambulances count."""
    free = [u for u in units if u.available and u.kind is UnitKind.ROAD_AMBULANCE]
    out = []
    for st in where:
        based = set(st.units)
        here = tuple(
            sorted(
                u.id for u in free if u.id in based and u.status is UnitStatus.AVAILABLE_AT_STATION
            )
        )
        best = recommend(free, st.lat, st.lon, Urgency.AKUTT, limit=1, remote=False) if free else []
        area = area_of(st)
        out.append(StationCover(st, here, best[0] if best else None, area, TARGET_S[area]))
    never = float("inf")
    out.sort(key=lambda c: (c.covered, -(c.nearest.eta_s if c.nearest else never), c.station.id))
    return out
