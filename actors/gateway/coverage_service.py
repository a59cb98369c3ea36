"""Ambulance coverage of ``amk.dispatch.v1.DispatchService`` (GetCoverage): which
stations have no free road ambulance within the response-time target
(:mod:`actors.domain.coverage`). The stations with a road ambulance come from the seed,
once; each station's area (urban or rural) is looked up once, on first use. The fleet
drawn on is read as the recommendations read it: the units stored under the regions
and their partners (a lent unit is stored under the region it was lent to: one lent out
to a region outside these is not seen)."""

from __future__ import annotations

from actors.domain import coverage
from actors.domain.model import Position, Unit, UnitKind
from actors.domain.municipality import area_of
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.rpc import rpc
from amk.dispatch.v1 import dispatch_pb2 as pb


class CoverageRpcs:
    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw
        seed = gw.config.seed
        road = {u.id for u in seed.units if u.kind == UnitKind.ROAD_AMBULANCE.value}
        self._stations = coverage.ambulance_stations(seed.units, road)
        self._areas: dict[str, str] = {}

    @rpc
    async def GetCoverage(self, request, context) -> pb.Coverage:
        regions = conv.regions_filter(
            list(request.regions), self.gw.regions, default=self.gw.lookup.area_regions
        )
        seed = self.gw.config.seed
        # An AMK-LA region (one's own, for Oslo) has air bases, no ambulance stations.
        regions = [r for r in regions if seed.region(r).is_area]
        # The fleet to draw on: the regions and their partners (as the recommendations).
        pool = dict.fromkeys(
            r for region in regions for r in (region, *seed.region(region).partners)
        )
        units: dict[str, Unit] = {}
        for region in pool:
            for unit in await self.gw.lookup.units(region):
                units[unit.id] = unit
        asked = set(regions)
        covers = coverage.cover(
            [st for st in self._stations if st.region in asked], units.values(), self._area
        )
        return pb.Coverage(stations=[self._pb(c, units) for c in covers])

    def _area(self, st: coverage.Station) -> str:
        if st.id not in self._areas:
            self._areas[st.id] = area_of(Position(st.lat, st.lon, 0.0))
        return self._areas[st.id]

    @staticmethod
    def _pb(c: coverage.StationCover, units: dict[str, Unit]) -> pb.StationCoverage:
        st, best = c.station, c.nearest
        out = pb.StationCoverage(
            station_id=st.id,
            name=st.name,
            region=st.region,
            position=pb.Position(lat=st.lat, lon=st.lon),
            based=list(st.units),
            free_here=list(c.free_here),
            area=c.area,
            target_s=c.target_s,
            target_max_s=c.target_max_s,
            covered=c.covered,
            state=c.state,
        )
        if best is not None:
            out.nearest.CopyFrom(conv.recommendation_pb(best, units[best.unit_id]))
        return out
