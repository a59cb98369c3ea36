"""Normen's periodic review of the access log, end to end: reads made through a gateway,
the auditor's review of the period through ``AuditService`` (the module's deployment,
the session's etcd and Ray, its archive), the sign-off and the list of sign-offs.

The deployment signs off a period one second after it ended (``access_review_settle_s``;
five minutes by default), so a test can sign what it just read.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import uuid
from typing import Any

import grpc
import pytest

from actors.domain.access import BREAK_GLASS_HEADER
from amk.audit.v1 import audit_pb2 as apb
from amk.audit.v1 import audit_pb2_grpc as apb_grpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from cluster.tls import console_identity, open_channel
from cluster.tokens import LocalIssuer
from tests.conftest import RunningCluster
from tests.helpers import assert_eventually, rid

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

SETTLE_S = 1.0
REASON = "Storulykke på E18 i Vestfold: Oslo hjelper"
TØNSBERG = pb.Position(lat=59.2674, lon=10.4076, accuracy_m=25)


@pytest.fixture(scope="module")
def cluster_settings() -> dict[str, Any]:
    return {"access_review_settle_s": SETTLE_S}


def stamped(message: Any, **times: float) -> Any:
    """``message`` with Timestamp fields set from Unix seconds."""
    for name, at in times.items():
        getattr(message, name).FromNanoseconds(int(at * 1e9))
    return message


class Person:
    """A person's channel to the deployment's gateway (their own token)."""

    def __init__(self, cluster: RunningCluster, role: str, centre: str, user: str) -> None:
        token = LocalIssuer.for_config(cluster.config).issue(user, role, centre, lifetime_s=600)
        self.channel = open_channel(cluster.gateway, console_identity(cluster.config), token=token)
        self.dispatch = pb_grpc.DispatchServiceStub(self.channel)
        self.audit = apb_grpc.AuditServiceStub(self.channel)

    async def call(self, stub: Any, method: str, request: Any, **kw: Any) -> tuple[Any, Any]:
        """(status code, answer or details) of one call."""
        try:
            return grpc.StatusCode.OK, await getattr(stub, method)(request, timeout=10, **kw)
        except grpc.aio.AioRpcError as err:
            return err.code(), err.details() or ""


async def test_a_break_glass_read_is_flagged_and_the_period_signed_off_once(
    cluster: RunningCluster, stub
) -> None:
    """A break-glass read of the period is flagged with its person and reason. Bad
    periods, a period that has not settled, and a sign-off without a note are refused on
    their field with nothing kept; the sign-off is kept once, however often it is sent,
    and its id cannot be taken by another sign-off. Never reviewed, the first review is
    due an interval after the oldest read logged (not overdue on a new installation);
    after, an interval after the period signed. Others may not."""
    start = time.time() - 0.5
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(request_id=rid(), region="vestfold-telemark", position=TØNSBERG)
    )
    reader = f"glass-{uuid.uuid4().hex[:6]}"
    helper = Person(cluster, "dispatcher", "oslo", reader)
    auditor = Person(cluster, "auditor", "oslo", "revisor")
    glass = ((BREAK_GLASS_HEADER, urllib.parse.quote(REASON)),)
    code, _ = await helper.call(
        helper.dispatch, "GetIncident", pb.GetIncidentRequest(incident_id=inc.id), metadata=glass
    )
    assert code == grpc.StatusCode.OK

    async def flagged() -> apb.AccessReview:
        period = stamped(apb.ReviewAccessLogRequest(), since=start, until=time.time())
        code, found = await auditor.call(auditor.audit, "ReviewAccessLog", period)
        assert code == grpc.StatusCode.OK, found
        mine = [f for f in found.findings if f.user == reader]
        assert [(f.kind, f.reason, f.records, f.centre) for f in mine] == [
            ("break-glass", REASON, 1, "oslo")
        ]
        return found

    found = await assert_eventually(flagged)
    assert found.rows >= 1 and found.users >= 1
    for method in ("ReviewAccessLog", "ListAccessReviews"):
        request = getattr(apb, f"{method}Request")()
        code, _ = await helper.call(helper.audit, method, request)
        assert code == grpc.StatusCode.PERMISSION_DENIED, method

    listing = apb.ListAccessReviewsRequest()
    code, before = await auditor.call(auditor.audit, "ListAccessReviews", listing)
    assert code == grpc.StatusCode.OK and not before.overdue and not before.reviews
    interval = cluster.config.access_review_interval_days * 86400.0
    first_due = before.due.ToNanoseconds() / 1e9
    # An interval after the oldest read logged: one of this test session's reads.
    assert 0 < time.time() + interval - first_due < 3600
    await asyncio.sleep(SETTLE_S)  # the period [start, now - SETTLE_S) holds the read
    now = time.time()
    ok = {"request_id": rid(), "note": "ok"}
    for field, fields, times in (
        ("since", ok, {}),
        ("until", ok, {"since": start}),
        ("request_id", {"note": "ok"}, {"since": start, "until": now - SETTLE_S}),
        ("note", {"request_id": rid()}, {"since": start, "until": now - SETTLE_S}),
        ("until", ok, {"since": now - SETTLE_S, "until": start}),
        ("until", ok, {"since": start, "until": now}),  # not settled yet
    ):
        bad = stamped(apb.SignAccessReviewRequest(**fields), **times)
        code, details = await auditor.call(auditor.audit, "SignAccessReview", bad)
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (field, details)
        assert f"input: {field}: " in details, (field, details)
    code, unchanged = await auditor.call(auditor.audit, "ListAccessReviews", listing)
    assert not unchanged.reviews, "a refused sign-off was kept"

    note = "Break-glass gjennomgått med vaktleder: avlastning av Vestfold og Telemark, i orden"
    until = now - SETTLE_S
    request = stamped(
        apb.SignAccessReviewRequest(request_id=rid(), note=note), since=start, until=until
    )
    code, signed = await auditor.call(auditor.audit, "SignAccessReview", request)
    assert code == grpc.StatusCode.OK, signed
    assert (signed.note, signed.reviewer, signed.findings >= 1) == (note, "revisor", True)
    code, again = await auditor.call(auditor.audit, "SignAccessReview", request)
    assert code == grpc.StatusCode.OK and again == signed
    taken = stamped(
        apb.SignAccessReviewRequest(request_id=request.request_id, note="another period"),
        since=start - 3600,
        until=until,
    )
    code, details = await auditor.call(auditor.audit, "SignAccessReview", taken)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "request_id" in details, details
    code, after = await auditor.call(auditor.audit, "ListAccessReviews", listing)
    assert [r.id for r in after.reviews] == [signed.id] and after.reviews[0].note == note
    interval = 30 * 86400  # access_review_interval_days' default, from the period's end
    assert not after.overdue
    assert abs(after.due.ToNanoseconds() / 1e9 - (until + interval)) < 1
    for person in (helper, auditor):
        await person.channel.close()
