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
the archived state, which left etcd after the version that wrote it; among versions of
one revision (one group commit) the later entry wins, as in etcd. An entity lives at one
key: a move (a lent unit, a handed-over incident) deletes the old key and puts the new
one in one journal entry, so the entity's newest revision in the archive says where it
is (a put then) or that it left the live store (no put then), and its other keys go,
even where the archive lacks the entry that deleted them. An entity with a key in a
region not served here is left out whole (listed as skipped), so that it is neither
lost nor doubled. Entities are taken one by one, so two may stand at different moments:
each region's journal reaches the archive on its own archiver's passes. What the archive
never got (each region's journal after its horizon, about the last hour) is lost, as
before; the restore says how far each region's journal reached.

Not rolled forward: a region's own keys (owner, takeover, call sharing: see
:func:`rolled_key`), major incidents (their own keys and owners), counters
(raised past every number the archive knows, below), idempotency records (a request
retried after the restore is taken as new: clients give up on a request id within a
minute, a restore takes longer), and entities of regions this cluster does not serve
(listed as skipped).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from cluster.archive.base import ArchivedSince
from cluster.keys import Keys

INCIDENTS = "incidents"
REGIONS = "regions"  # a region's own keys: owner, takeover, call sharing
ROLL_SLICE = 60  # keys per roll-forward transaction (etcd allows 128 operations)
ROLL_SLICE_BYTES = 512 * 1024  # and bytes: a third of etcd's default request limit


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
    skipped: tuple[str, ...]  # keys of entities with a key in a region not restored here
    horizons: dict[str, tuple[int, float]]  # region -> its journal's reach (revision, time)

    def counts(self) -> dict[str, dict[str, int]]:
        """``{"written": {kind: n}, "removed": {kind: n}}``, for the restore's report."""
        out: dict[str, dict[str, int]] = {"written": {}, "removed": {}}
        for s in self.steps:
            side = out["written" if s.value is not None else "removed"]
            side[s.kind] = side.get(s.kind, 0) + 1
        return out


def numbered(id_: str, region: str, codes: Mapping[str, str] | None) -> tuple[str, int] | None:
    """The region whose counter issued an incident id, and its number: by the id's code,
    as a centre counts its own (``RegionHost.load``), but wherever the incident is now:
    one handed to another region keeps its id (``OSL-`` under Innlandet), and Oslo must
    still not issue that number again. Without ``codes``, the key's region. None for an
    id no region here issued."""
    code, _, tail = id_.rpartition("-")
    if not tail.isdigit():
        return None
    if codes is None:
        return region, int(tail)
    issuer = next((r for r, c in codes.items() if c == code), None)
    return (issuer, int(tail)) if issuer is not None else None


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
    codes: Mapping[str, str] | None = None,
) -> Plan:
    """The steps that bring a store restored at revision ``restored`` (its entity keys
    and their mod revisions: ``live``) to what the archive knows, for ``regions``.
    ``since`` may have been read from an earlier revision (a backup's manifest names the
    revision before its snapshot): what the restored store already has is left out.
    ``codes`` (region -> incident id code) credits each number to the region that issued
    it (:func:`numbered`)."""
    if since.revision > restored:
        raise ValueError(f"the archive was read after {since.revision}, past {restored}")
    # Each key's last event, in the order etcd applied them: (revision, rank, n, value).
    # rank: a version (0) yields to the archived final state (1) at the same revision;
    # n keeps the applied order among equals (a later put of a key in one batch wins).
    last: dict[bytes, tuple[int, int, int, bytes | None]] = {}
    names: dict[bytes, tuple[str, str, str]] = {}  # key -> (kind, region, id)
    numbers: dict[str, int] = {}
    events = [(v.key.encode(), v.revision, 0, v.value) for v in since.versions]
    events += [(r.key.encode(), r.revision, 1, None) for r in since.records]
    for n, (key, revision, rank, value) in enumerate(events):
        name = rolled_key(keys, key)
        if revision <= restored or name is None:
            continue  # the backup has it (or newer); or not a key rolled forward
        names[key] = name
        if name[0] == INCIDENTS and (got := numbered(name[2], name[1], codes)) is not None:
            numbers[got[0]] = max(numbers.get(got[0], 0), got[1])
        if key not in last or (revision, rank, n) > last[key][:3]:
            last[key] = (revision, rank, n, value)
    for key in live:
        if (name := rolled_key(keys, key)) is not None:
            names[key] = name
    # One entity, one key: a unit lent to another region, or an incident handed over,
    # moves, its old key deleted in the same journal entry (one revision) as the new one
    # is put. So the entity's newest revision in the archive says where it is: a put
    # then is its key (the last one, as etcd applied them), and every other key it has
    # in the store goes, even one whose deletion the archive lacks (moved in an entry
    # not yet archived); no put then (a deletion, or its final state archived) means it
    # left the live store, at every key.
    entities: dict[tuple[str, str], list[bytes]] = {}
    for key, (kind, _region, id_) in names.items():
        entities.setdefault((kind, id_), []).append(key)
    steps: list[Step] = []
    skipped: list[str] = []
    for (kind, id_), where in sorted(entities.items()):
        changed = [k for k in where if k in last]
        if not changed:
            continue  # nothing after the backup
        if any(names[k][1] not in regions for k in where):
            skipped.extend(k.decode() for k in where)  # neither lost nor doubled
            continue
        newest = max(last[k][0] for k in changed)
        puts = [k for k in changed if last[k][0] == newest and last[k][3] is not None]
        home = max(puts, key=lambda k: last[k][:3]) if puts else None
        for key in sorted(where):
            if key == home:
                revision, value = newest, last[key][3]
            elif key in live:
                revision, value = newest, None  # deleted, archived, or moved on since
            else:
                continue  # gone already, or written and moved on after the backup
            steps.append(Step(key, kind, names[key][1], id_, revision, value))
    steps.sort(key=lambda s: (s.region, s.key))
    return Plan(tuple(steps), numbers, tuple(sorted(skipped)), dict(since.horizons))


def slices(steps: Sequence[Step]) -> list[list[Step]]:
    """Steps in transactions etcd takes: at most ``ROLL_SLICE`` keys (operations) and
    ``ROLL_SLICE_BYTES`` of keys and values (etcd refuses a request over 1.5 MiB)."""
    out: list[list[Step]] = []
    size = 0
    for step in steps:
        n = len(step.key) + len(step.value or b"")
        if not out or len(out[-1]) >= ROLL_SLICE or size + n > ROLL_SLICE_BYTES:
            out.append([])
            size = 0
        out[-1].append(step)
        size += n
    return out
