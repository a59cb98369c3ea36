"""``amk.audit.v1.AuditService``: the access log, read back (Normen fact sheet 15), and
its periodic review (what in a period calls for a closer look, and the auditor's
sign-off of the period, kept in the archive database).

Only the auditor role reaches it (the access table); each query is itself logged
(structlog ``access_log_query``, ``access_review``) with who asked and what. The
gateway's own queued rows are written first, so a read just made through this gateway
is in the answer.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from actors.domain import access_review as review
from actors.domain import validation as v
from actors.domain.errors import InvalidArgumentError
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_claims, current_identity
from actors.gateway.rpc import rpc
from amk.audit.v1 import audit_pb2 as apb
from cluster.archive.access_log import MAX_ROWS, ReviewInputs, ReviewRow

log = structlog.get_logger("amk.access")


def _seconds(ts) -> float | None:
    return ts.ToNanoseconds() / 1e9 if ts.seconds or ts.nanos else None


def _stamp(ts, at: float) -> None:
    ts.FromNanoseconds(int(at * 1e9))


def _period(request, now: float) -> tuple[float, float]:
    """A review's period from ``since`` and ``until``: both given, in order, at most a
    year, and not ending in the future (a period still being written cannot be signed
    off, and its figures would change under the reviewer)."""
    since, until = _seconds(request.since), _seconds(request.until)
    if since is None:
        raise InvalidArgumentError("since", "is required: the start of the period reviewed")
    if until is None:
        raise InvalidArgumentError("until", "is required: the end of the period reviewed")
    if until <= since:
        raise InvalidArgumentError("until", "must be after since")
    if until - since > review.MAX_PERIOD_S:
        raise InvalidArgumentError("until", "a review covers at most 366 days")
    if until > now + 1.0:
        raise InvalidArgumentError("until", "is in the future: review a period that has ended")
    return since, until


def _findings(inputs: ReviewInputs) -> list[review.Finding]:
    return review.findings(
        [review.BreakGlassUse(*r) for r in inputs.break_glass],
        [review.ReaderVolume(*r) for r in inputs.volumes],
        [review.SameCaller(*r) for r in inputs.callers],
    )


def _record_pb(row: ReviewRow) -> apb.AccessReviewRecord:
    out = apb.AccessReviewRecord(
        id=row.id,
        reviewer=row.reviewer,
        reviewer_name=row.reviewer_name,
        rows=row.rows_read,
        findings=row.findings,
        note=row.note,
    )
    _stamp(out.at, row.at)
    _stamp(out.since, row.period_from)
    _stamp(out.until, row.period_to)
    return out


class AuditRpcs:
    """Queries of the access log."""

    def __init__(self, gw: GatewayContext) -> None:
        self.gw = gw

    @rpc
    async def QueryAccessLog(self, request, context) -> apb.QueryAccessLogResponse:
        if not (request.user or request.incident_id or request.caller_number):
            raise InvalidArgumentError("user", "give a user, an incident_id or a caller_number")
        if request.limit < 0 or request.limit > MAX_ROWS:
            raise InvalidArgumentError("limit", f"must be 0..{MAX_ROWS}")
        log.info(
            "access_log_query",
            by=current_identity.get(),
            user=request.user,
            incident_id=request.incident_id,
            caller=bool(request.caller_number),
        )
        await self.gw.access_log.flush()
        store = await self.gw.history.archive()
        rows = await asyncio.to_thread(
            store.query_access,
            user=request.user or None,
            record_id=request.incident_id or None,
            caller_number=request.caller_number or None,
            since=_seconds(request.since),
            until=_seconds(request.until),
            limit=request.limit or 1000,
        )
        out = apb.QueryAccessLogResponse()
        for r in rows:
            rec = out.records.add(
                user=r.user_id,
                user_name=r.user_name,
                role=r.role,
                centre=r.centre,
                method=r.method,
                record_kind=r.record_kind,
                record_id=r.record_id,
                region=r.region,
                why=r.why,
                reason=r.reason,
                peer=r.peer,
                gateway=r.gateway,
            )
            rec.at.FromNanoseconds(int(r.at * 1e9))
        return out

    async def _review(self, since: float, until: float) -> tuple[ReviewInputs, list]:
        await self.gw.access_log.flush()
        store = await self.gw.history.archive()
        inputs = await asyncio.to_thread(
            store.access_review_inputs, since, until, review.SAME_CALLER_MIN
        )
        return inputs, _findings(inputs)

    @rpc
    async def ReviewAccessLog(self, request, context) -> apb.AccessReview:
        since, until = _period(request, time.time())
        inputs, found = await self._review(since, until)
        log.info(
            "access_review",
            by=current_identity.get(),
            since=since,
            until=until,
            findings=len(found),
        )
        out = apb.AccessReview(rows=inputs.rows, users=inputs.users)
        _stamp(out.since, since)
        _stamp(out.until, until)
        for f in found:
            item = out.findings.add(
                kind=f.kind,
                user=f.user,
                user_name=f.user_name,
                role=f.role,
                centre=f.centre,
                records=f.records,
                detail=f.detail,
                reason=f.reason,
            )
            _stamp(item.first, f.first)
            _stamp(item.last, f.last)
        return out

    @rpc
    async def SignAccessReview(self, request, context) -> apb.AccessReviewRecord:
        request_id = v.request_id(request.request_id)
        now = time.time()
        since, until = _period(request, now)
        note = v.text(request.note, "note", limit=review.NOTE_MAX, required=True)
        inputs, found = await self._review(since, until)
        claims = current_claims.get()
        who = current_identity.get()
        row = ReviewRow(
            id=request_id,
            at=now,
            reviewer=who,
            reviewer_name=claims.name if claims is not None else who,
            period_from=since,
            period_to=until,
            rows_read=inputs.rows,
            findings=len(found),
            note=note,
        )
        store = await self.gw.history.archive()
        stored = await asyncio.to_thread(store.put_access_review, row)
        log.info(
            "access_review_signed",
            by=who,
            id=stored.id,
            since=since,
            until=until,
            findings=stored.findings,
        )
        return _record_pb(stored)

    @rpc
    async def ListAccessReviews(self, request, context) -> apb.ListAccessReviewsResponse:
        if request.limit < 0 or request.limit > MAX_ROWS:
            raise InvalidArgumentError("limit", f"must be 0..{MAX_ROWS}")
        store = await self.gw.history.archive()
        rows = await asyncio.to_thread(store.access_reviews, request.limit or 100)
        last = rows[0].at if rows else None
        due, overdue = review.due(last, self.gw.config.access_review_interval_days, time.time())
        out = apb.ListAccessReviewsResponse(reviews=[_record_pb(r) for r in rows], overdue=overdue)
        _stamp(out.due, due)
        return out
