"""The live dispatch board: open incidents and units of some regions, kept current from
the Watch stream.

State handling (:class:`BoardState`) is pure and knows nothing of gRPC or terminals, so it
can be tested with hand-made events; :func:`run_board` only wires a stream into it and
redraws it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.client import UNIT_KIND, AmkClient, AmkClientError, WatchStream, enum_name
from clients.health_regions import group_by_health_region, health_region_label
from clients.render import (
    age_seconds,
    incident_status_text,
    unit_status_text,
    urgency_text,
)
from clients.render_time import format_age
from clients.retry import needs_snapshot

_Event = pb.WatchEvent  # its nested Kind values read as _Event.KIND_...

# Incidents are keyed by (region, id), not id: an incident moving between regions may
# arrive as "changed under B" before "removed under A", and must survive the removal.
Key = tuple[str, str]

CLOSED_STATUSES = frozenset({pb.INCIDENT_STATUS_CLOSED, pb.INCIDENT_STATUS_CANCELLED})
_URGENCY_RANK = {pb.URGENCY_AKUTT: 0, pb.URGENCY_HASTER: 1, pb.URGENCY_VANLIG: 2}

# Errors a resumed stream cannot cure: stop the board and say why.
_FATAL_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)
# The resume revision was compacted away (clients.retry.needs_snapshot): start over; the
# failure count catches whatever else a resume keeps failing on. ABORTED: the regions
# the person's centre serves changed since the stream opened (a failover, a hand-over):
# the gateway ended it, and a new snapshot shows what is theirs now.
_RESNAPSHOT_AFTER_FAILURES = 3


def _needs_snapshot(err: AmkClientError) -> bool:
    return err.code == grpc.StatusCode.ABORTED or needs_snapshot(err.code, err.details)


@dataclass
class BoardState:
    """What the board shows, built only from WatchEvents (plus an optional status seed).

    A snapshot is collected aside and swapped in at KIND_SNAPSHOT_DONE, so a re-snapshot
    after a long outage never shows a half-filled board, and records deleted meanwhile
    disappear.
    """

    clock: Callable[[], float] = time.time
    max_messages: int = 6
    incidents: dict[Key, pb.Incident] = field(default_factory=dict)
    units: dict[Key, pb.Unit] = field(default_factory=dict)
    regions: dict[str, pb.RegionStatus] = field(default_factory=dict)
    messages: deque[tuple[float, str]] = field(default_factory=deque)
    last_revision: int = 0
    synced: bool = False  # a full snapshot has been applied at least once
    #: The regions shown (``--health-region``); None: every region the stream carries.
    shown: set[str] | None = None
    #: The running seed's health regions (from GetClusterStatus), to group owners by.
    health_regions: list[pb.HealthRegion] = field(default_factory=list)
    _pending: tuple[dict[Key, pb.Incident], dict[Key, pb.Unit]] | None = None
    _last_note: str = ""
    _repeats: int = 0

    # ------------------------------------------------------------ input

    def apply(self, event: pb.WatchEvent) -> None:
        """Fold one event into the state; unknown kinds (a newer server) are ignored."""
        kind = event.kind
        # A snapshot's revision counts only once it is whole (at DONE, below): a stream
        # broken half way must not resume past the changes the old board lacks.
        snapshot_part = kind in (_Event.KIND_SNAPSHOT_INCIDENT, _Event.KIND_SNAPSHOT_UNIT)
        if event.revision > self.last_revision and not snapshot_part:
            self.last_revision = event.revision
        if snapshot_part:
            if self._pending is None:
                self._pending = ({}, {})
        incidents, units = self._pending or (self.incidents, self.units)
        if kind in (_Event.KIND_SNAPSHOT_INCIDENT, _Event.KIND_INCIDENT_CHANGED):
            inc = event.incident
            key = (event.region or inc.region, inc.id)
            if inc.status in CLOSED_STATUSES:
                incidents.pop(key, None)  # the board shows open incidents only
            else:
                incidents[key] = inc
        elif kind in (_Event.KIND_SNAPSHOT_UNIT, _Event.KIND_UNIT_CHANGED):
            unit = event.unit
            units[(event.region or unit.region, unit.id)] = unit
        elif kind == _Event.KIND_INCIDENT_REMOVED:
            incidents.pop((event.region, event.removed_id), None)
        elif kind == _Event.KIND_UNIT_REMOVED:
            units.pop((event.region, event.removed_id), None)
        elif kind == _Event.KIND_SNAPSHOT_DONE:
            self.incidents, self.units = self._pending or ({}, {})
            self._pending = None
            self.synced = True
            # The snapshot's revision, even below what the board saw before: a store
            # restored from a backup numbers its writes from there again.
            self.last_revision = event.revision
        elif kind == _Event.KIND_REGION_OWNER_CHANGED:
            region = event.region or event.region_status.id
            self.regions[region] = event.region_status
            owner = event.region_status.owner_centre or "nobody"
            if self._is_shown(region):
                self.note(event.message or f"Region {region} now served by {owner}")
            return
        if event.message and (not event.region or self._is_shown(event.region)):
            self.note(event.message)

    def seed_regions(
        self, regions: Sequence[pb.RegionStatus], health_regions: Sequence[pb.HealthRegion] = ()
    ) -> None:
        """Region owners from GetClusterStatus, since the snapshot carries none, and the
        health regions to group them by."""
        for region in regions:
            self.regions.setdefault(region.id, region)
        if health_regions:
            self.health_regions = list(health_regions)

    def note(self, text: str) -> None:
        """A line for the message strip, newest last; a repeat of the last line is
        counted rather than pushing everything else off (a gateway down for minutes)."""
        if self.messages and text == self._last_note:
            self._repeats += 1
            self.messages.pop()
            text = f"{text} (×{self._repeats})"
        else:
            self._last_note, self._repeats = text, 1
        self.messages.append((self.clock(), text))
        while len(self.messages) > self.max_messages:
            self.messages.popleft()

    def reset_pending(self) -> None:
        """A new stream begins: a snapshot the old one left half-sent is void."""
        self._pending = None

    def resume_revision(self) -> int:
        """``from_revision`` for the next stream: after what we have, or 0 (snapshot)."""
        return self.last_revision + 1 if self.synced and self.last_revision else 0

    # ------------------------------------------------------------ output

    def _is_shown(self, region: str) -> bool:
        return self.shown is None or region in self.shown

    def open_incidents(self) -> list[pb.Incident]:
        """Most urgent first; within one urgency, the longest waiting first (of the
        regions shown)."""
        return sorted(
            (inc for (region, _), inc in self.incidents.items() if self._is_shown(region)),
            key=lambda i: (
                _URGENCY_RANK.get(i.urgency, 3),
                i.created_at.seconds or float("inf"),
                i.created_at.nanos,
                i.id,
            ),
        )

    def sorted_units(self) -> list[pb.Unit]:
        """By region, then call sign: the order crews are looked up in (of the regions
        shown)."""
        shown = (u for (region, _), u in self.units.items() if self._is_shown(region))
        return sorted(shown, key=lambda u: (u.region, u.call_sign or u.id, u.id))

    def owner_groups(self) -> list[tuple[str, list[pb.RegionStatus]]]:
        """The shown regions' owners, grouped by health region (the seed's order), by
        region id within a group."""
        shown = [self.regions[r] for r in sorted(self.regions) if self._is_shown(r)]
        return group_by_health_region(shown, self.health_regions, lambda r: r.health_region)


# ---------------------------------------------------------------- drawing


def render_board(state: BoardState, title: str = "AMK", now: datetime | None = None) -> Group:
    """The whole board as one renderable; ``now`` is injectable for stable ages."""
    now = now or datetime.now(UTC)
    header = Text.assemble((f"{title}  ", "bold"), (f"rev {state.last_revision}  ", "dim"))
    if not state.synced:
        header.append("loading snapshot…", style="bold yellow")
    for group, regions in state.owner_groups():
        if group:  # one line per health region: sixteen centres do not fit on one
            header.append(f"\n{health_region_label(state.health_regions, group)}", style="bold")
        for region in regions:
            owner = region.owner_centre
            style = "red" if not owner else ("yellow" if owner != region.home_centre else "green")
            header.append(f"  {region.id}:", style="dim")
            header.append(owner or "failing over", style=style)

    incidents = Table(title="Open incidents", title_justify="left", expand=True)
    for column in ("Age", "Urgency", "Status", "ID", "Region", "Criteria", "Address", "Units"):
        incidents.add_column(column, no_wrap=column != "Address")
    for inc in state.open_incidents():
        age = age_seconds(inc.created_at, now)
        incidents.add_row(
            format_age(age) if age is not None else "-",
            urgency_text(inc.urgency),
            incident_status_text(inc.status),
            inc.id,
            inc.region,
            inc.criteria_code or "-",
            inc.address or "-",
            ", ".join(inc.assigned_unit_ids) or "-",
        )

    units = Table(title="Units", title_justify="left", expand=True)
    for column in ("Call sign", "Region", "Kind", "Status", "Incident", "Station"):
        units.add_column(column, no_wrap=True)
    for unit in state.sorted_units():
        units.add_row(
            unit.call_sign or unit.id,
            unit.region,
            enum_name(unit.kind, UNIT_KIND),
            unit_status_text(unit.status),
            unit.incident_id or unit.air_mission_id or "-",
            unit.station or "-",
        )

    lines = Text()
    for at, text in state.messages:
        stamp = datetime.fromtimestamp(at).strftime("%H:%M:%S")
        lines.append(f"{stamp} ", style="dim")
        lines.append(f"{text}\n")
    lines.rstrip()
    messages = Panel(lines or Text("-", style="dim"), title="Messages", title_align="left")
    return Group(header, incidents, units, messages)


# ---------------------------------------------------------------- running


class _Feed:
    """The background thread that keeps one Watch stream open and feeds the state."""

    def __init__(self, client: AmkClient, regions: Sequence[str], state: BoardState) -> None:
        self.client = client
        self.regions = list(regions)
        self.state = state
        self.lock = threading.Lock()  # guards state and the current stream
        self.stop = threading.Event()
        self.fatal: AmkClientError | None = None
        self._stream: WatchStream | None = None
        self._thread = threading.Thread(target=self._run, name="amk-board-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.stop.set()
        with self.lock:
            stream = self._stream
        if stream is not None:
            stream.cancel()
        self._thread.join(timeout=2.0)

    def _run(self) -> None:
        try:
            # Owners are not part of the snapshot; missing them is only cosmetic.
            status = self.client.cluster_status()
            with self.lock:
                self.state.seed_regions(status.regions, status.health_regions)
        except AmkClientError:
            pass
        failures = 0
        pauses = self.client.retry.backoffs()
        while not self.stop.is_set():
            with self.lock:
                from_revision = self._from_revision(failures)
                self.state.reset_pending()
                if self.stop.is_set():
                    return
                stream = self._stream = self.client.watch(self.regions, from_revision)
            try:
                for event in stream:
                    with self.lock:
                        self.state.apply(event)
                    if failures:
                        failures, pauses = 0, self.client.retry.backoffs()
                if not self.stop.is_set():
                    with self.lock:
                        self.state.note("watch ended by the gateway; resuming")
            except AmkClientError as err:
                if self.stop.is_set():
                    return
                if err.code in _FATAL_CODES:
                    self.fatal = err
                    self.stop.set()
                    return
                failures = _RESNAPSHOT_AFTER_FAILURES if _needs_snapshot(err) else failures + 1
                with self.lock:
                    resume = self._from_revision(failures) or "a new snapshot"
                    self.state.note(
                        f"watch broken ({err.code.name}: {err.details}); resuming from {resume}"
                    )
            self.stop.wait(next(pauses))

    def _from_revision(self, failures: int) -> int:
        if failures >= _RESNAPSHOT_AFTER_FAILURES:
            return 0
        return self.state.resume_revision()


def run_board(
    client: AmkClient,
    regions: Sequence[str],
    refresh_hz: float = 4,
    console: Console | None = None,
    health_regions: Sequence[str] = (),
    shown_regions: set[str] | None = None,
) -> int:
    """Show the board until Ctrl-C; returns 0, or raises the error that made the stream
    unusable (unknown region, ...), for the CLI to report. ``shown_regions``: only
    these regions' incidents, units and owners (``--health-region``, named in the title
    by ``health_regions``); the stream is the same."""
    state = BoardState(shown=shown_regions)
    feed = _Feed(client, regions, state)
    scope = ", ".join(regions) or "all regions"
    if health_regions:
        scope += f"  health region {', '.join(health_regions)}"
    title = f"AMK board  {scope}  via {client.address}"
    interval = 1.0 / max(0.5, refresh_hz)
    feed.start()
    try:
        with Live(console=console, auto_refresh=False, screen=True) as live:
            while not feed.stop.is_set():
                with feed.lock:
                    board = render_board(state, title)
                live.update(board, refresh=True)
                feed.stop.wait(interval)
    except KeyboardInterrupt:
        pass  # Ctrl-C is the normal way out
    finally:
        feed.close()
    if feed.fatal is not None:
        raise feed.fatal
    return 0
