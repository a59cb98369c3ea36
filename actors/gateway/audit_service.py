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
from actors.gateway import convert as conv
from actors.gateway.context import GatewayContext
from actors.gateway.identity import current_claims, current_identity
from actors.gateway.rpc import rpc
from amk.audit.v1 import audit_pb2 as apb
from cluster.archive.access_log import MAX_ROWS, ReviewInputs, ReviewRow

log = structlog.get_logger("amk.access")


def _seconds(ts) -> float | None:
    return ts.ToNanoseconds() / 1e9 if ts.seconds or ts.nanos else None


def _period(request, now: float, settle_s: float = 0.0) -> tuple[float, float]:
    """A review's period from ``since`` and ``until``: both given, in order, at most a
    year, and ending no later than ``settle_s`` ago. A look may reach up to now; a
    sign-off only a period whose rows are in (every gateway writes its queue within a
    second, or keeps it while the archive is down): a signed period must not gain rows
    after it was signed."""
    if not request.HasField("since"):
        raise InvalidArgumentError("since", "is required: the start of the period reviewed")
    if not request.HasField("until"):
        raise InvalidArgumentError("until", "is required: the end of the period reviewed")
    since = conv.timestamp_s(request.since, "since")
    until = conv.timestamp_s(request.until, "until")
    if until <= since:
        raise InvalidArgumentError("until", "must be after since")
    if until - since > review.MAX_PERIOD_S:
        raise InvalidArgumentError("until", "a review covers at most 366 days")
    if until > now + 1.0:
        raise InvalidArgumentError("until", "is in the future: review a period that has ended")
    if until > now - settle_s:
        raise InvalidArgumentError(
            "until",
            f"ended less than {settle_s:g} s ago: a sign-off waits until every gateway's "
            "reads of the period are in (access_review_settle_s)",
        )
    return since, until


def _findings(inputs: ReviewInputs) -> list[review.Finding]:
    return review.findings(
        [review.BreakGlassUse(*r) for r in inputs.break_glass],
        [review.ReaderVolume(*r) for r in inputs.volumes],
        [review.SameCaller(*r) for r in inputs.callers],
    )


def _record_pb(row: ReviewRow) -> apb.AccessReviewRecord:
    return apb.AccessReviewRecord(
        id=row.id,
        at=conv.to_timestamp(row.at),
        reviewer=row.reviewer,
        reviewer_name=row.reviewer_name,
        since=conv.to_timestamp(row.period_from),
        until=conv.to_timestamp(row.period_to),
        rows=row.rows_read,
        findings=row.findings,
        note=row.note,
    )


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
            store.access_review_inputs, since, until, review.SAME_CALLER_MIN, review.CHOSEN_READS
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
        out = apb.AccessReview(
            rows=inputs.rows,
            users=inputs.users,
            since=conv.to_timestamp(since),
            until=conv.to_timestamp(until),
        )
        for f in found:
            out.findings.add(
                kind=f.kind,
                user=f.user,
                user_name=f.user_name,
                role=f.role,
                centre=f.centre,
                records=f.records,
                first=conv.to_timestamp(f.first),
                last=conv.to_timestamp(f.last),
                detail=f.detail,
                reason=f.reason,
            )
        return out

    @rpc
    async def SignAccessReview(self, request, context) -> apb.AccessReviewRecord:
        request_id = v.request_id(request.request_id)
        now = time.time()
        since, until = _period(request, now, self.gw.config.access_review_settle_s)
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
        if (stored.reviewer, stored.period_from, stored.period_to, stored.note) != (
            row.reviewer,
            row.period_from,
            row.period_to,
            row.note,
        ):
            # The id of another sign-off: answering with it would tell this caller their
            # own period was signed. Nothing was written (the id was taken).
            raise InvalidArgumentError(
                "request_id", "already used for another sign-off: send a new request id"
            )
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
        # Newest first by signing; the log is covered up to the latest period's end.
        covered = max((r.period_to for r in rows), default=None)
        since = None if covered is not None else await asyncio.to_thread(store.access_logged_since)
        interval = self.gw.config.access_review_interval_days
        due, overdue = review.due(covered, interval, time.time(), since)
        return apb.ListAccessReviewsResponse(
            reviews=[_record_pb(r) for r in rows], due=conv.to_timestamp(due), overdue=overdue
        )
