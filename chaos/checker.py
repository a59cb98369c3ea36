"""The history checker: after a drill, did the cluster keep its word?

It compares what clients were told (the load generator's history: every acknowledged
operation with its request id and committed revision) with what etcd holds (records,
idempotency records, and the journal every accepted command writes in its own
transaction), and answers:

- **lost**: an acknowledged create whose request record or incident is missing, an
  acknowledged command with no journal entry, an answer whose revision no entry has,
  two acknowledged creates naming one incident (one overwrote the other);
- **duplicated**: a request id journaled twice, an incident stored under two keys;
- **stale accepted**: a journal entry written with a region's token after a later owner
  claimed that region. A region's owner tokens are the owner key's mod revisions; the
  token in force for a transaction committed at revision ``m`` is the newest token
  ``< m`` (the compare ran against the state before ``m``; a hand-over's own entry is
  committed in the very transaction that makes the new token). Every entry must carry
  exactly that token for each region it names, and an entry of its primary region must
  be signed by the instance that holds that token.

It also measures each region's unavailability from the client's side (the longest gap
between acknowledged writes, and, per fault, the time from the fault to the first
acknowledged write started after it), counts fenced writes and client errors by code,
split by whether the call overlapped a time with no gateway at all (a drill may demand
that no call fail while a gateway served).

The pure part (:func:`check`) works on plain dicts, so unit tests feed it hand-made
histories; :func:`collect` reads the etcd side.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from cluster.etcd import EtcdClient
from cluster.keys import Keys
from cluster.ownership import OwnerRecord

# Codes that mean "the write did not happen here, try elsewhere": what fencing and
# failover look like from the client's side.
FENCE_CODES = ("ABORTED", "UNAVAILABLE")
MAX_LISTED = 20


@dataclass
class Snapshot:
    """The etcd side of a drill, as plain data."""

    journal: list[dict[str, Any]] = field(default_factory=list)  # entry + "revision"
    requests: dict[str, int] = field(default_factory=dict)  # request id -> mod revision
    incidents: list[dict[str, Any]] = field(default_factory=list)  # key, region, id, revision
    owners: list[dict[str, Any]] = field(default_factory=list)  # region, token, instance, centre


async def _read_prefix(client: EtcdClient, prefix: bytes, *, keys_only: bool = False) -> list[Any]:
    """Every pair under ``prefix`` at one revision (the client's paged reader)."""
    kvs, _ = await client.get_prefix(prefix, keys_only=keys_only, timeout_s=10)
    return kvs


async def collect(client: EtcdClient, keys: Keys) -> Snapshot:
    """Read the journal, the request records, the incidents and the owner keys."""
    snap = Snapshot()
    for kv in await _read_prefix(client, keys.journal_prefix()):
        entry = json.loads(kv.value)
        entry["revision"] = kv.mod_revision
        entry["key"] = kv.key.decode()
        snap.journal.append(entry)
    rp = keys.request("").decode()  # the requests/ prefix
    for kv in await _read_prefix(client, keys.request(""), keys_only=True):
        snap.requests[kv.key.decode()[len(rp) :]] = kv.mod_revision
    for kv in await _read_prefix(client, keys.incidents_prefix()):
        parsed = keys.parse(kv.key)
        if parsed:
            snap.incidents.append(
                {
                    "key": kv.key.decode(),
                    "region": parsed[1],
                    "id": parsed[2],
                    "revision": kv.mod_revision,
                }
            )
    for kv in await _read_prefix(client, keys.regions_prefix()):
        parsed = keys.parse(kv.key)
        if parsed and parsed[2] == "owner":
            rec = OwnerRecord.decode(kv.value)
            snap.owners.append({"region": parsed[1], "token": kv.mod_revision, **asdict(rec)})
    return snap


# ---------------------------------------------------------------- the checks


def _tokens_by_region(
    journal: list[dict[str, Any]], owners: list[dict[str, Any]]
) -> dict[str, dict[int, str]]:
    """region -> {token: instance holding it} (instance '' when not known)."""
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for o in owners:
        out[o["region"]][int(o["token"])] = o.get("instance", "")
    for e in sorted(journal, key=lambda e: e["revision"]):
        for region, token in (e.get("tokens") or {}).items():
            out[region].setdefault(int(token), "")
        # A takeover entry is signed by the instance that just won that token.
        if e.get("command") == "TakeOver":
            token = int(e["tokens"][e["region"]])
            if not out[e["region"]].get(token):
                out[e["region"]][token] = e["writer"]
    return out


def check_fencing(
    journal: list[dict[str, Any]],
    owners: list[dict[str, Any]] | None = None,
    partners: dict[str, set[str]] | None = None,
) -> list[dict[str, Any]]:
    """Entries accepted with a token that was no longer the region's current one, or
    signed by an instance that did not hold the primary region's token. One exception
    to the second, by design: a partner centre (``partners``: region -> centres, from
    the seed) answering a region's overflowed 113 call writes it under the owner's
    current token, which only guards the write (the owner must not have changed)."""
    tokens = _tokens_by_region(journal, owners or [])
    partners = partners or {}
    ordered = {r: sorted(t) for r, t in tokens.items()}
    flagged: list[dict[str, Any]] = []
    for e in sorted(journal, key=lambda e: e["revision"]):
        m = e["revision"]
        for region, token in (e.get("tokens") or {}).items():
            earlier = [t for t in ordered.get(region, []) if t < m]
            current = earlier[-1] if earlier else None
            if current is not None and int(token) != current:
                flagged.append(_flag(e, region, int(token), current, "token superseded"))
        region = e.get("region", "")
        token = (e.get("tokens") or {}).get(region)
        holder = tokens.get(region, {}).get(int(token)) if token is not None else None
        writer = e.get("writer") or ""
        if (
            holder
            and writer
            and writer != holder
            and e.get("command") != "TakeOver"
            and not _partner_answer(e, writer, partners.get(region, set()))
        ):
            flagged.append(_flag(e, region, int(token), int(token), f"writer is not {holder}"))
    return flagged


def _partner_answer(e: dict[str, Any], writer: str, partners: set[str]) -> bool:
    """A partner centre's answer of an overflowed call (instance ids are centre-hex)."""
    return e.get("command") == "AnswerNextCall" and writer.rsplit("-", 1)[0] in partners


def _flag(e: dict[str, Any], region: str, token: int, current: int, why: str) -> dict[str, Any]:
    return {
        "revision": e["revision"],
        "at": e.get("at"),
        "region": region,
        "command": e.get("command"),
        "request_id": e.get("request_id"),
        "writer": e.get("writer"),
        "token": token,
        "current_token": current,
        "why": why,
    }


def check_records(history: list[dict[str, Any]], snap: Snapshot) -> dict[str, list[Any]]:
    """Acknowledged operations against requests, incidents and the journal."""
    journaled: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in snap.journal:
        if e.get("request_id"):
            journaled[e["request_id"]].append(e)
    stored: dict[str, list[str]] = defaultdict(list)
    for inc in snap.incidents:
        stored[inc["id"]].append(inc["key"])
    lost: list[dict[str, Any]] = []
    dup: list[dict[str, Any]] = []
    acked = [r for r in history if r.get("ok")]
    creates: dict[str, list[str]] = defaultdict(list)
    for r in acked:
        rid = r["request_id"]
        entries = journaled.get(rid, [])
        if not entries:
            lost.append({"request_id": rid, "op": r["op"], "why": "acknowledged, not journaled"})
        elif r.get("revision") and all(e["revision"] != r["revision"] for e in entries):
            lost.append(
                {"request_id": rid, "op": r["op"], "why": f"answer revision {r['revision']} "
                 f"not journaled (journal has {[e['revision'] for e in entries]})"}
            )  # fmt: skip
        if r["op"] == "create":
            if rid not in snap.requests:
                lost.append({"request_id": rid, "op": "create", "why": "no request record"})
            iid = r.get("incident", "")
            creates[iid].append(rid)
            if iid and iid not in stored:
                lost.append({"request_id": rid, "incident": iid, "why": "incident missing"})
    for iid, rids in creates.items():
        if iid and len(rids) > 1:
            lost.append({"incident": iid, "request_ids": rids, "why": "two creates, one id"})
    for rid, entries in journaled.items():
        if len(entries) > 1:
            dup.append({"request_id": rid, "revisions": [e["revision"] for e in entries]})
    for iid, ks in stored.items():
        if len(ks) > 1:
            dup.append({"incident": iid, "keys": ks})
    return {"lost": lost, "duplicated": dup}


def unavailability(
    history: list[dict[str, Any]],
    faults: list[dict[str, Any]],
    regions: list[str],
    *,
    start: float | None = None,
    end: float | None = None,
) -> dict[str, dict[str, Any]]:
    """Per region: the longest gap between acknowledged writes and, per fault, how long
    from the fault until the first acknowledged write started after it."""
    acks: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in history:
        if r.get("ok") and r.get("via") != "direct":
            acks[r["region"]].append((r["t"], r.get("t_done", r["t"])))
    out: dict[str, dict[str, Any]] = {}
    for region in regions:
        times = sorted(acks.get(region, []), key=lambda a: a[1])
        done = [d for _, d in times]
        bounds = ([start] if start else []) + done + ([end] if end else [])
        gaps = [b - a for a, b in itertools.pairwise(bounds)]
        worst = max(gaps, default=0.0)
        per_fault = []
        for f in faults:
            after = [d for t, d in times if t >= f["start"]]
            per_fault.append(
                {
                    "fault": f["name"],
                    "target": f.get("target", ""),
                    "first_ack_after_s": round(min(after) - f["start"], 3) if after else None,
                }
            )
        out[region] = {"acked": len(times), "max_gap_s": round(worst, 3), "faults": per_fault}
    return out


def split_client_errors(
    history: list[dict[str, Any]], no_gateway: list[tuple[float, float | None]]
) -> dict[str, Any]:
    """The load's failed calls (not writes sent straight to an actor), split by whether
    the call overlapped a time with no gateway at all (``(start, end)``, wall clock;
    ``end`` None: to the end): by code each, and the first of those that failed while
    a gateway served."""
    served: Counter[str] = Counter()
    none_up: Counter[str] = Counter()
    listed: list[dict[str, Any]] = []
    for r in history:
        if r.get("ok") or r.get("via") == "direct":
            continue
        t, done = r["t"], r.get("t_done", r["t"])
        if any((end is None or t <= end) and done >= start for start, end in no_gateway):
            none_up[r["code"]] += 1
            continue
        served[r["code"]] += 1
        if len(listed) < MAX_LISTED:
            keys = ("t", "t_done", "op", "region", "request_id", "code", "error")
            listed.append({k: r[k] for k in keys if k in r})
    return {"with_a_gateway": dict(served), "no_gateway": dict(none_up), "failed": listed}


def check(
    history: list[dict[str, Any]],
    snap: Snapshot,
    *,
    faults: list[dict[str, Any]] | None = None,
    regions: list[str] | None = None,
    centre_stats: dict[str, dict[str, int]] | None = None,
    window: tuple[float, float] | None = None,
    no_gateway: list[tuple[float, float | None]] | None = None,
    no_client_errors: bool = False,
    partners: dict[str, set[str]] | None = None,
) -> dict[str, Any]:
    """Everything the drill report needs, as one dict; ``ok`` is False on any lost,
    duplicated or stale-accepted write and, with ``no_client_errors``, on any client
    call that failed while a gateway served (outside every ``no_gateway`` window)."""
    records = check_records(history, snap)
    stale = check_fencing(snap.journal, snap.owners, partners)
    errors = Counter(r["code"] for r in history if not r.get("ok"))
    client = split_client_errors(history, no_gateway or [])
    fenced_server = sum(s.get("fenced", 0) for s in (centre_stats or {}).values())
    regions = regions or sorted({r["region"] for r in history})
    failed_served = no_client_errors and client["with_a_gateway"]
    violations = [
        name
        for name, bad in (
            ("lost", records["lost"]),
            ("duplicated", records["duplicated"]),
            ("stale accepted", stale),
            ("client calls failed while a gateway served", failed_served),
        )
        if bad
    ]
    return {
        "ok": not violations,
        "violations": violations,
        "counts": {
            "ops": len(history),
            "acked": sum(1 for r in history if r.get("ok")),
            "acked_creates": sum(1 for r in history if r.get("ok") and r["op"] == "create"),
            "journal_entries": len(snap.journal),
            "incidents_stored": len(snap.incidents),
            "lost": len(records["lost"]),
            "duplicated": len(records["duplicated"]),
            "stale_accepted": len(stale),
            "fenced_server": fenced_server,
            "fence_or_failover_errors_client": sum(errors[c] for c in FENCE_CODES),
            "client_errors_with_a_gateway": sum(client["with_a_gateway"].values()),
            "client_errors_no_gateway": sum(client["no_gateway"].values()),
        },
        "lost": records["lost"][:MAX_LISTED],
        "duplicated": records["duplicated"][:MAX_LISTED],
        "stale_accepted": stale[:MAX_LISTED],
        "errors_by_code": dict(errors),
        "client_errors": {**client, "must_be_none": no_client_errors},
        "unavailability": unavailability(
            history,
            faults or [],
            regions,
            start=window[0] if window else None,
            end=window[1] if window else None,
        ),
        "centre_store_stats": centre_stats or {},
    }
