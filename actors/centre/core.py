"""What every part of a centre is given: its identity, settings, the regions it hosts,
and (once started) the open etcd client, session and fenced store.

The parts (ownership, executor, dispatch, call desk) are objects that receive one
:class:`CentreCore` and the parts they call, instead of mixins sharing undeclared
attributes. Calls to *other* centres go through the :class:`Peers` protocol, which the
actor injects, so no part imports its own actor's handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from actors.centre.region_host import Mailboxes, RegionHost
from actors.centre.region_state import RegionState, move
from actors.domain.commands import Command
from actors.domain.model import Outcome
from actors.domain.triage import CriteriaTable, default_table
from cluster.config import ClusterConfig, seat
from cluster.errors import ActorUnavailableError, NotOwnerError
from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.ownership import OwnerRecord
from cluster.session import Session
from cluster.store import FencedStore


class Peers(Protocol):
    """The other centres, as one centre needs them (implemented over Ray handles by
    ``actors.centre.handle.HandlePeers``; a fake in unit tests)."""

    async def free_call_takers(self, centre_id: str) -> int | None:
        """Free call-takers signed in at ``centre_id``; None if it is dead or slow."""
        ...

    async def hand_over_region(
        self, holder: OwnerRecord, region: str, to: OwnerRecord, who: str
    ) -> int:
        """Ask ``holder`` (the instance serving ``region``) to give it to ``to``."""
        ...

    async def execute_at(
        self, owner: OwnerRecord, region: str, cmd: Command, *, timeout_s: float
    ) -> Outcome:
        """Run ``cmd`` in ``region`` at ``owner`` (the instance its owner key names): how
        one region's owner delivers to another's (air ambulance outboxes)."""
        ...


class NoPeers:
    """Peers of a centre run alone, without Ray (tests, benchmarks): no partner has free
    call-takers, and no hand-over or command can be asked of another instance."""

    async def free_call_takers(self, centre_id: str) -> int | None:
        return None

    async def hand_over_region(
        self, holder: OwnerRecord, region: str, to: OwnerRecord, who: str
    ) -> int:
        raise NotOwnerError(region, holder.centre)

    async def execute_at(
        self, owner: OwnerRecord, region: str, cmd: Command, *, timeout_s: float
    ) -> Outcome:
        raise NotOwnerError(region, owner.centre)


@dataclass(frozen=True, slots=True)
class Running:
    """What :meth:`Centre.start` opens. A renewed session is a new ``Running`` on the
    same client, so nothing reads a half-replaced pair of session and store."""

    client: EtcdClient
    session: Session
    store: FencedStore


#: The longest a command waits for its region's load (a 10,000-incident region loads in
#: well under a second; the router's deadline is the real bound).
LOAD_WAIT_S = 2.0


@dataclass
class CentreCore:
    """Identity, settings and hosted regions of one centre instance."""

    config: ClusterConfig
    centre_id: str
    instance: str = ""
    # Where gateways reach this instance's command link (actors.centre.link), published
    # in the owner record of every region it claims; "" when it has none (Ray only).
    address: str = ""
    clock: Callable[[], float] = time.time
    table: CriteriaTable = field(default_factory=default_table)
    hosts: dict[str, RegionHost] = field(default_factory=dict)
    states: dict[str, RegionState] = field(default_factory=dict)
    mailboxes: Mailboxes = field(default_factory=Mailboxes)
    stopping: bool = False
    _running: Running | None = None
    log: Any = None
    # Set when a region leaves LOADING: a command that arrives while its region loads
    # waits for the load (a takeover's first writes) instead of bouncing off as "not
    # the owner" and coming back after the router's backoff.
    _loaded: dict[str, asyncio.Event] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.instance = self.instance or f"{self.centre_id}-{uuid.uuid4().hex[:12]}"
        self.keys = Keys(self.config.key_prefix)
        self.name = self.config.seed.centre(self.centre_id).name
        self.log = structlog.get_logger("amk.centre").bind(
            centre=self.centre_id, instance=self.instance
        )

    @property
    def running(self) -> Running:
        if self._running is None:
            raise ActorUnavailableError(f"centre {self.centre_id}", "not started")
        return self._running

    @running.setter
    def running(self, value: Running) -> None:
        self._running = value

    @property
    def started(self) -> bool:
        return self._running is not None

    def set_state(self, region: str, state: RegionState) -> None:
        """Move ``region`` to ``state`` through the transition table."""
        before = self.states.get(region, RegionState.UNKNOWN)
        self.states[region] = move(before, state)
        if state is RegionState.LOADING:
            self._loaded.setdefault(region, asyncio.Event())  # set (and popped) on leaving
        elif before is RegionState.LOADING and region in self._loaded:
            self._loaded.pop(region).set()

    def reset_state(self, region: str) -> None:
        """Back to UNKNOWN outside the table (after a bug), ending any wait on a load."""
        self.states[region] = RegionState.UNKNOWN
        if (event := self._loaded.pop(region, None)) is not None:
            event.set()

    async def until_loaded(self, region: str) -> None:
        """Return once ``region`` is not loading (at once when it is not), or after
        ``LOAD_WAIT_S``; the caller's gRPC deadline bounds the wait as well."""
        event = self._loaded.get(region)
        if event is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), LOAD_WAIT_S)

    def host(self, region: str) -> RegionHost:
        """The host of a region this centre serves now, with a session still trusted."""
        host = self.hosts.get(region)
        if host is None:
            raise NotOwnerError(region, self.centre_id)
        if self.config.fencing and (
            self._running is None or self._running.session.valid_for() <= 0.0
        ):
            raise NotOwnerError(region, self.centre_id)
        return host

    @property
    def seat(self) -> str:
        """This instance's place in claim lines: ``centre@site``."""
        return seat(self.centre_id, self.config.site)

    def line(self, region: str) -> list[str]:
        """The seats that claim a free region, in order: the home centre in each of its
        sites, then the backups likewise (``ClusterConfig.seats``)."""
        return self.config.seats(region)
