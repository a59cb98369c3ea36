"""``amk access-review`` and ``amk access-reviews``: the periodic review of the access
log (Normen: logs are checked, not only kept), for the auditor role.

``amk access-review --since 2026-11-01 --until 2026-12-01`` lists what in the period
calls for a closer look (every break-glass use with its reason, people reading far more
than their role's usual, one caller's incidents read by one person); ``--sign "what was
checked and found"`` then signs the period off. ``amk access-reviews`` lists the
signed-off reviews and says when the next is due.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from amk.audit.v1 import audit_pb2 as apb
from amk.audit.v1 import audit_pb2_grpc as apb_grpc
from clients.cli_auth import iso_utc, service_call, when_utc
from clients.cli_base import Context


def _audit_call(ctx: Context, method: str, request: Any) -> Any:
    return service_call(ctx, apb_grpc.AuditServiceStub, method, request)


def cmd_access_review(ctx: Context) -> int:
    """The period's findings; with ``--sign NOTE``, the period signed off after them."""
    args = ctx.args
    period = {"since": when_utc(args.since), "until": when_utc(args.until)}
    ask = apb.ReviewAccessLogRequest()
    for name, at in period.items():
        getattr(ask, name).FromNanoseconds(int(at * 1e9))
    found = _audit_call(ctx, "ReviewAccessLog", ask)
    if not args.sign:
        return ctx.emit(found, _findings)
    sign = apb.SignAccessReviewRequest(
        request_id=args.request_id or uuid.uuid4().hex, note=args.sign
    )
    for name, at in period.items():
        getattr(sign, name).FromNanoseconds(int(at * 1e9))
    signed = _audit_call(ctx, "SignAccessReview", sign)
    # Both: what the reviewer was shown, and what was kept (with --json, a list of two).
    return ctx.emit([found, signed], lambda both: Group(_findings(both[0]), _signed(both[1])))


def cmd_access_reviews(ctx: Context) -> int:
    """Signed-off reviews, newest first, and when the next is due."""
    request = apb.ListAccessReviewsRequest(limit=ctx.args.limit)
    answer = _audit_call(ctx, "ListAccessReviews", request)
    return ctx.emit(answer, _reviews)


def _findings(review: Any) -> RenderableType:
    head = Text(
        f"{iso_utc(review.since)} to {iso_utc(review.until)}: {review.rows} records read by "
        f"{review.users} people; {len(review.findings)} to look into",
        style="bold",
    )
    if not review.findings:
        return head
    table = Table("kind", "who", "role", "centre", "records", "first", "last", "detail")
    for f in review.findings:
        detail = f"{f.detail}: «{f.reason}»" if f.reason else f.detail
        style = "bold red" if f.kind == "break-glass" else "yellow"
        who = f"{f.user_name} ({f.user})" if f.user_name and f.user_name != f.user else f.user
        # Text, never markup: a stated reason such as "[/]" must neither fail nor style.
        table.add_row(
            Text(f.kind, style=style),
            *(Text(x) for x in (who, f.role, f.centre, str(f.records))),
            *(Text(x) for x in (iso_utc(f.first), iso_utc(f.last), detail)),
        )
    return Group(head, table)


def _signed(r: Any) -> RenderableType:
    return Text(
        f"signed {iso_utc(r.at)} by {r.reviewer} ({r.findings} findings, {r.rows} records): "
        f"{r.note}",
        style="green",
    )


def _reviews(answer: Any) -> RenderableType:
    due = Text(
        f"next review due {iso_utc(answer.due)}" + (" (OVERDUE)" if answer.overdue else ""),
        style="bold red" if answer.overdue else "bold",
    )
    if not answer.reviews:
        return Group(Text("no review signed yet", style="dim"), due)
    table = Table("signed", "by", "period", "records", "findings", "note")
    for r in answer.reviews:
        period = f"{iso_utc(r.since)} to {iso_utc(r.until)}"
        cells = (iso_utc(r.at), r.reviewer, period, str(r.rows), str(r.findings), r.note)
        table.add_row(*(Text(c) for c in cells))
    return Group(table, due)


def add_review_commands(
    commands: Any,
    command: Callable[..., argparse.ArgumentParser],
    request_id_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """``access-review`` and ``access-reviews`` on the top-level subparsers."""
    review = command(
        commands,
        "access-review",
        cmd_access_review,
        "review a period of the access log; --sign signs it off (auditor role)",
    )
    review.add_argument(
        "--since", required=True, metavar="ISO", help="the period's start (UTC unless given)"
    )
    review.add_argument(
        "--until",
        required=True,
        metavar="ISO",
        help="its end; a sign-off needs it access_review_settle_s (5 min) in the past",
    )
    review.add_argument(
        "--sign", metavar="NOTE", help="sign the period off: what was checked and found"
    )
    request_id_option(review)
    reviews = command(
        commands, "access-reviews", cmd_access_reviews, "signed-off reviews of the access log"
    )
    reviews.add_argument("--limit", type=int, default=100, help="at most this many")
