"""Health regions in ``amk status``, the live board and the board of a moment: which ones
to show (``--health-region``) and grouping by them.

Everything comes from the gateway's ``ClusterStatus``: its ``health_regions`` (the
running seed's, in its order) and each region's and centre's ``health_region``. Not from
the seed the console would load itself: ``amk up --seed cluster/seed/norway.toml`` is not
written into the settings a console reads, so that seed would be the default one (Helse
Sør-Øst) while the cluster runs the whole country.

Pure functions on protobuf messages, no gRPC: the tests feed them statuses made from the
shipped seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from google.protobuf.message import Message

from amk.dispatch.v1 import dispatch_pb2 as pb

OPTION = "--health-region"

T = TypeVar("T")
M = TypeVar("M", bound=Message)


class HealthRegionError(ValueError):
    """A ``--health-region`` the running cluster does not have (the message names the
    option and the known ids)."""


def parse_health_regions(values: Sequence[str] | None) -> list[str]:
    """The ids asked for: the option repeated and/or comma-separated, in order, once each."""
    out: list[str] = []
    for value in values or ():
        for part in value.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    if values and not out:
        raise HealthRegionError(f"{OPTION}: give a health region id")
    return out


def known_health_regions(status: pb.ClusterStatus) -> dict[str, str]:
    """id -> name of the running seed's health regions, in its order."""
    return {h.id: h.name for h in status.health_regions}


def check_health_regions(asked: Sequence[str], status: pb.ClusterStatus) -> None:
    """Raise :class:`HealthRegionError` naming the option, the unknown ids and the known
    ones, when ``asked`` names a health region the running seed does not declare."""
    known = known_health_regions(status)
    unknown = [h for h in asked if h not in known]
    if not unknown:
        return
    listed = ", ".join(known) if known else "none (the running seed declares no health regions)"
    what = "health region" if len(unknown) == 1 else "health regions"
    raise HealthRegionError(f"{OPTION}: unknown {what} {', '.join(unknown)}; known: {listed}")


def regions_in(status: pb.ClusterStatus, health_regions: Iterable[str]) -> set[str]:
    """The ids of the regions (areas and air coordination) of those health regions."""
    wanted = set(health_regions)
    return {r.id for r in status.regions if r.health_region in wanted}


def select_health_regions(status: pb.ClusterStatus, asked: Sequence[str]) -> pb.ClusterStatus:
    """``status`` with only the centres, regions and health regions of ``asked`` (checked
    first); cluster-wide parts (gateways, sites, etcd) stay. Nothing asked: unchanged."""
    check_health_regions(asked, status)
    if not asked:
        return status
    wanted = set(asked)
    return _narrowed(
        status,
        centres=lambda c: c.health_region in wanted,
        regions=lambda r: r.health_region in wanted,
        health_regions=lambda h: h.id in wanted,
    )


def select_board(board: pb.BoardAt, regions: set[str]) -> pb.BoardAt:
    """``board`` with only the incidents, units and owners of ``regions`` (``amk board
    --at --health-region``). The board is asked for in the caller's own scope and narrowed
    here, as the web console narrows its lists: asking for another centre's regions would
    be refused."""

    def kept(item: Any) -> bool:
        return item.region in regions

    return _narrowed(board, incidents=kept, units=kept, owners=kept)


def _narrowed(message: M, **keep: Callable[[Any], bool]) -> M:
    """A copy of ``message`` whose repeated fields named in ``keep`` hold only the items
    their test keeps; every other field as it was (the answer itself is not changed)."""
    out = type(message)()
    out.CopyFrom(message)
    for name, test in keep.items():
        field = getattr(out, name)
        del field[:]
        field.extend(item for item in getattr(message, name) if test(item))
    return out


def health_region_label(health_regions: Sequence[pb.HealthRegion], health_region: str) -> str:
    """``Helse Vest (helse-vest)``; the id alone for one not declared; ``-`` for none."""
    for h in health_regions:
        if h.id == health_region:
            return f"{h.name} ({h.id})"
    return health_region or "-"


def group_by_health_region(
    items: Iterable[T], health_regions: Sequence[pb.HealthRegion], key: Callable[[T], str]
) -> list[tuple[str, list[T]]]:
    """``items`` grouped by ``key(item)`` (a health region id), groups in the order of
    ``health_regions``, then any other id in first-seen order, ``""`` (none) last; items
    keep their order within a group. Empty groups are left out."""
    groups: dict[str, list[T]] = {h.id: [] for h in health_regions}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    ordered = [(h, found) for h, found in groups.items() if found and h]
    if groups.get(""):
        ordered.append(("", groups[""]))
    return ordered
