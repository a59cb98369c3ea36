"""The archive-aware checker: nothing lost or doubled across etcd AND the archive.

:mod:`chaos.checker` compares a drill's history with etcd. Once the archiver runs, closed
work has left etcd, so "missing from etcd" no longer means lost. This module reads both
places (:func:`collect`), merges them into one :class:`chaos.checker.Snapshot` (a record
counts once, wherever it is) and runs the ordinary checks on that (acknowledged and not
journaled, answer revision not journaled, two creates naming one incident, a request id
journaled twice, an incident under two keys, a write accepted with a superseded token).
Then it adds what only the two places together can show:

- **lost**: an acknowledged incident whose stored revision (live or archived) is not the
  last revision the client was given (``>=`` when a later call on it went unanswered: it
  may have landed); an acknowledged request with no idempotency record in either place;
  an acknowledged command missing from its incident's history (the archive's
  ``history("incidents", id)`` plus the live journal entries that touch it);
- **doubled**: an incident, a journal entry or a request record both live and archived
  (a request record the archive holds until its retention ends excepted);
  a (key, revision) stored twice in the archive; an incident archived at two revisions
  (the drill's load never changes a closed incident, so one closed state is archived);
- **not archived**: a closed or cancelled incident still live after the drill's wait.

The check must see a still picture: the drill waits until the archivers have moved
everything (no closed incident and no journal entry left live), and :func:`collect`
reads the archive's counts before and after reading etcd and reads again if they moved.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chaos import checker
from cluster.archive import ArchivedRecord, ArchiveStore
from cluster.archive.journal import touches
from cluster.etcd import EtcdClient
from cluster.keys import Keys

CLOSED = ("closed", "cancelled")
ENDING_OPS = ("close", "cancel")
STILL_TRIES = 5  # reads of etcd between two equal archive counts before giving up


@dataclass
class ArchiveView:
    """Etcd and the archive side by side, read at one still moment."""

    live: checker.Snapshot
    live_statuses: dict[str, str] = field(default_factory=dict)  # incident id -> status
    archived_incidents: list[ArchivedRecord] = field(default_factory=list)  # every revision
    archived_requests: list[ArchivedRecord] = field(default_factory=list)
    held_requests: set[str] = field(default_factory=set)  # archived, kept live on purpose
    archived_journal: list[dict[str, Any]] = field(default_factory=list)  # entry + key/rev
    histories: dict[str, set[str]] = field(default_factory=dict)  # incident -> request ids
    counts: dict[str, int] = field(default_factory=dict)
    still: bool = True  # the archive did not change while etcd was read

    def merged(self) -> checker.Snapshot:
        """One snapshot where each record counts once, live or archived."""
        live_journal = {e["key"] for e in self.live.journal}
        live_incidents = {i["key"] for i in self.live.incidents}
        newest: dict[str, ArchivedRecord] = {}
        for r in self.archived_incidents:
            if r.key not in newest or r.revision > newest[r.key].revision:
                newest[r.key] = r
        return checker.Snapshot(
            journal=self.live.journal
            + [e for e in self.archived_journal if e["key"] not in live_journal],
            requests={**{r.id: r.revision for r in self.archived_requests}, **self.live.requests},
            incidents=self.live.incidents
            + [
                {"key": r.key, "region": r.region, "id": r.id, "revision": r.revision}
                for key, r in newest.items()
                if key not in live_incidents
            ],
            owners=self.live.owners,
        )


async def _held(archive: ArchiveStore) -> set[str]:
    """Every request record the archive holds (kept in etcd until its retention)."""
    regions = {r.region for r in await asyncio.to_thread(archive.stored, "requests")}
    held: set[str] = set()
    for region in regions:
        rows = await asyncio.to_thread(archive.held_live, region, float("inf"), 10**9)
        held |= {key for key, _ in rows}
    return held


async def collect(
    client: EtcdClient, keys: Keys, archive: ArchiveStore, incident_ids: set[str]
) -> ArchiveView:
    """Read etcd and the archive; ``incident_ids`` are those whose history to read."""
    for _ in range(STILL_TRIES):
        before = await asyncio.to_thread(archive.counts)
        held_before = await _held(archive)
        live = await checker.collect(client, keys)
        kvs, _ = await client.get_prefix(keys.incidents_prefix(), timeout_s=10)
        held_after = await _held(archive)
        after = await asyncio.to_thread(archive.counts)
        if before == after:
            break
    view = ArchiveView(live, counts=after, still=before == after)
    # Held on purpose at either side of the etcd read: a request record archived, or
    # released (deleted from etcd, then forgotten here), while etcd was being read.
    view.held_requests = held_before | held_after
    for kv in kvs:
        inc = json.loads(kv.value)
        view.live_statuses[inc["id"]] = inc.get("status", "")
    view.archived_incidents = await asyncio.to_thread(archive.stored, "incidents")
    view.archived_requests = await asyncio.to_thread(archive.stored, "requests")
    for row in await asyncio.to_thread(archive.journal):
        entry = json.loads(row.entry)
        entry.update(revision=row.revision, key=row.key, archived=True)
        view.archived_journal.append(entry)
    for iid in sorted(incident_ids):
        rows = await asyncio.to_thread(archive.history, "incidents", iid)
        view.histories[iid] = {json.loads(r.entry).get("request_id", "") for r in rows}
    return view


# ---------------------------------------------------------------- the checks


def _expected(history: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per acknowledged incident: the last revision the client was given, whether a
    later call on it went unanswered, its acknowledged request ids, how it ended."""
    out: dict[str, dict[str, Any]] = {}
    for r in sorted(history, key=lambda r: r["t"]):
        iid = r.get("incident")
        if not iid:
            continue
        e = out.setdefault(iid, {"revision": 0, "unsure": False, "acked": [], "ended": ""})
        if r.get("ok"):
            e["revision"] = max(e["revision"], int(r.get("revision") or 0))
            e["acked"].append(r["request_id"])
            if r["op"] in ENDING_OPS:
                e["ended"] = r["op"]
        else:
            e["unsure"] = True
    return {iid: e for iid, e in out.items() if e["acked"]}


def check_lost(history: list[dict[str, Any]], view: ArchiveView) -> list[dict[str, Any]]:
    """Final revisions, request records and incident histories, across both places."""
    lost: list[dict[str, Any]] = []
    live_rev = {i["id"]: i["revision"] for i in view.live.incidents}
    archived_rev: dict[str, int] = {}
    for r in view.archived_incidents:
        archived_rev[r.id] = max(archived_rev.get(r.id, 0), r.revision)
    live_journal = view.live.journal
    for iid, e in _expected(history).items():
        stored = live_rev.get(iid) or archived_rev.get(iid)
        if stored is None:
            continue  # the base checker reports the incident missing
        if stored < e["revision"] or (stored != e["revision"] and not e["unsure"]):
            lost.append(
                {"incident": iid, "why": f"stored at revision {stored}, the client was "
                 f"given {e['revision']}", "archived": iid not in live_rev}
            )  # fmt: skip
        seen = set(view.histories.get(iid, ()))
        seen |= {j.get("request_id", "") for j in live_journal if touches(j, "incidents", iid)}
        missing = [rid for rid in e["acked"] if rid not in seen]
        if missing:
            lost.append({"incident": iid, "request_ids": missing, "why": "not in its history"})
    requests = set(view.live.requests) | {r.id for r in view.archived_requests}
    for r in history:
        if r.get("ok") and r["request_id"] not in requests:
            lost.append({"request_id": r["request_id"], "op": r["op"], "why": "no request record"})
    return lost


def check_doubled(view: ArchiveView) -> list[dict[str, Any]]:
    """Anything in both places, or in the archive twice."""
    doubled: list[dict[str, Any]] = []
    live_incidents = {i["key"] for i in view.live.incidents}
    revisions: dict[str, list[int]] = defaultdict(list)
    for r in view.archived_incidents:
        revisions[r.key].append(r.revision)
    for key, revs in sorted(revisions.items()):
        if key in live_incidents:
            doubled.append({"key": key, "why": "incident live and archived"})
        if len(revs) != len(set(revs)):
            doubled.append({"key": key, "revisions": revs, "why": "(key, revision) twice"})
        elif len(revs) > 1:
            doubled.append({"key": key, "revisions": revs, "why": "archived at two revisions"})
    archived_journal = {e["key"] for e in view.archived_journal}
    for e in view.live.journal:
        if e["key"] in archived_journal:
            doubled.append({"key": e["key"], "why": "journal entry live and archived"})
    for r in view.archived_requests:
        # Held: archived with its journal entry, kept in etcd until its retention ends.
        if r.id in view.live.requests and r.key not in view.held_requests:
            doubled.append({"request_id": r.id, "why": "request record live and archived"})
    return doubled


def check(
    history: list[dict[str, Any]],
    view: ArchiveView,
    *,
    faults: list[dict[str, Any]] | None = None,
    regions: list[str] | None = None,
    window: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The ordinary verdict on the merged picture, plus the archive's own checks."""
    verdict = checker.check(history, view.merged(), faults=faults, regions=regions, window=window)
    lost = verdict["lost"] + check_lost(history, view)
    doubled = verdict["duplicated"] + check_doubled(view)
    ended = {iid: e["ended"] for iid, e in _expected(history).items() if e["ended"]}
    still_live = sorted(
        iid for iid, status in view.live_statuses.items() if status in CLOSED or iid in ended
    )
    violations = [
        name
        for name, bad in (
            ("lost", lost),
            ("duplicated", doubled),
            ("stale accepted", verdict["stale_accepted"]),
            ("closed incidents still live after the wait", still_live),
            ("the archive changed while etcd was read", not view.still),
        )
        if bad
    ]
    merged = view.merged()
    verdict["counts"].update(
        lost=len(lost),
        duplicated=len(doubled),
        closed_still_live=len(still_live),
        acked_incidents_ended=len(ended),
        incidents_live=len(view.live.incidents),
        incidents_archived=len({r.key for r in view.archived_incidents}),
        journal_live=len(view.live.journal),
        journal_archived=len(view.archived_journal),
        journal_entries=len(merged.journal),
        incidents_stored=len(merged.incidents),
        requests_live=len(view.live.requests),
        requests_archived=len(view.archived_requests),
        histories_checked=len(_expected(history)),
    )
    verdict.update(
        ok=not violations,
        violations=violations,
        lost=lost[: checker.MAX_LISTED],
        duplicated=doubled[: checker.MAX_LISTED],
        closed_still_live=still_live[: checker.MAX_LISTED],
        archive_counts=view.counts,
    )
    return verdict
