"""Rolling a restored etcd forward from the archive: what the lost store wrote after the
backup and the archive already holds is written back (pure: no etcd, no database).

A backup is taken every so often; the archive is written all the time. Every accepted
command's journal entry carries the records it wrote (``cluster.store``), and each
centre's archiver moves a region's journal into the archive once it is older than
``journal_hold_s`` (an hour by default), and closed work once it has been closed for
``archive_hold_s``. So after the backup's revision the archive holds, for each region, the
record versions of every command up to about an hour before the loss, and the final
state of every entity that left etcd meanwhile. A restore that ignored them would bring
back, as open, incidents the archive shows closed, and lose every command between the
backup and that horizon.

:func:`plan` takes, for each entity key, the newest thing the archive knows after the
backup: a journaled version (its value, or a deletion) or the entity's archived final
state (it left etcd: deleted here, and read from the archive as before). Ties go to
the archived state, which left etcd after the version that wrote it. Keys are taken
one by one, so two keys may be at different moments: each region's journal reaches
the archive on its own archiver's passes, and an entity written by commands of two
regions is at the newer of the two. What the archive never got (the last hour or so) is
lost, as before; the restore says how far each region's journal reached.

Not rolled forward: a region's own keys (owner, takeover, call sharing: see
:func:`rolled_key`), major incidents (their own keys and owners), counters
(raised past every number the archive knows, below), idempotency records (a request
retried after the restore is taken as new), and entities of regions this cluster does
not serve (listed as skipped).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from cluster.archive.base import ArchivedSince
from cluster.keys import Keys

INCIDENTS = "incidents"
REGIONS = "regions"  # a region's own keys: owner, takeover, call sharing


@dataclass(frozen=True, slots=True)
class Step:
    """One key's newest state after the backup, as the archive knows it."""

    key: bytes
    kind: str
    region: str
    id: str
    revision: int  # the lost store's revision of that state
    value: bytes | None  # None: the key goes (deleted, or archived and left etcd)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a restore writes back, and what the archive says about incident numbers."""

    steps: tuple[Step, ...]  # by region, then key
    numbers: dict[str, int]  # region -> the highest incident number the archive knows since
    skipped: tuple[str, ...]  # keys of regions not restored here
    horizons: dict[str, tuple[int, float]]  # region -> its journal's reach (revision, time)

    def counts(self) -> dict[str, dict[str, int]]:
        """``{"written": {kind: n}, "removed": {kind: n}}``, for the restore's report."""
        out: dict[str, dict[str, int]] = {"written": {}, "removed": {}}
        for s in self.steps:
            side = out["written" if s.value is not None else "removed"]
            side[s.kind] = side.get(s.kind, 0) + 1
        return out


def incident_number(id_: str) -> int:
    """The number at the end of an incident id (``OSL-000123`` -> 123), 0 if none."""
    tail = id_.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def rolled_key(keys: Keys, key: bytes) -> tuple[str, str, str] | None:
    """(kind, region, id) of a key a restore rolls forward: an incident's, a unit's, a
    call's or an air mission's. Not a region's own keys (owner, takeover, call sharing):
    the restore claims and frees every region itself, an owner written back would name a
    centre long gone, and the journal carries call sharing's deletions but not its puts
    (its value is not a record), so it stays as the backup had it."""
    parsed = keys.parse(key)
    if parsed is None or parsed[0] == REGIONS:
        return None
    return parsed


def plan(
    since: ArchivedSince,
    restored: int,
    live: Mapping[bytes, int],
    regions: Collection[str],
    keys: Keys,
) -> Plan:
    """The steps that bring a store restored at revision ``restored`` (its entity keys
    and their mod revisions: ``live``) to what the archive knows, for ``regions``.
    ``since`` may have been read from an earlier revision (a backup's manifest names the
    revision before its snapshot): what the restored store already has is left out."""
    if since.revision > restored:
        raise ValueError(f"the archive was read after {since.revision}, past {restored}")
    newest: dict[str, tuple[int, int, bytes | None]] = {}  # key -> (revision, rank, value)
    numbers: dict[str, int] = {}
    # rank: a version (0) yields to the archived final state (1) at the same revision.
    events = [(v.key, v.kind, v.region, v.id, v.revision, 0, v.value) for v in since.versions]
    events += [(r.key, r.kind, r.region, r.id, r.revision, 1, None) for r in since.records]
    ids: dict[str, tuple[str, str, str]] = {}
    for key, kind, region, id_, revision, rank, value in events:
        if revision <= restored:
            continue  # the backup has it (or newer)
        if kind == INCIDENTS:
            numbers[region] = max(numbers.get(region, 0), incident_number(id_))
        parsed = rolled_key(keys, key.encode())
        if parsed is None:
            continue
        ids[key] = parsed
        if (revision, rank) > newest.get(key, (0, -1, None))[:2]:
            newest[key] = (revision, rank, value)
    steps: list[Step] = []
    skipped: list[str] = []
    for key, (revision, _rank, value) in newest.items():
        kind, region, id_ = ids[key]
        if region not in regions:
            skipped.append(key)
            continue
        if value is None and key.encode() not in live:
            continue  # gone already: nothing to remove
        steps.append(Step(key.encode(), kind, region, id_, revision, value))
    steps.sort(key=lambda s: (s.region, s.key))
    return Plan(tuple(steps), numbers, tuple(sorted(skipped)), dict(since.horizons))
