"""What the pre-notification tests share (issue #19): a deployment whose hospitals (and,
when asked, 110 centre) are ``clients/partner_stub.py`` on loopback, and the steps of a
pre-notification driven through the public API. The hospitals check every document
with ``actors.domain.prenotification_doc.validate``; the 110 centre with NENA's EIDO
schema (which only ``../shared/specs`` has: without it, a module that asks for the 110
centre is skipped)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from actors.domain import prenotification_doc
from amk.dispatch.v1 import dispatch_pb2 as pb
from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc
from clients.partner_stub import PartnerCentre
from cluster.config import ClusterConfig
from cluster.etcd_server import find_free_port
from cluster.tls import client_identity, open_channel
from tests.helpers import assert_eventually, key_prefix_for, rid, session_pki, session_token
from tests.unit.eido_schema import load_spec, schema_validator

OSLO = pb.Position(lat=59.9139, lon=10.7522, accuracy_m=25)
DRAMMEN = pb.Position(lat=59.7430, lon=10.2440, accuracy_m=10)  # far off the way to Ullevål
STROKE_CODE = "A.28.01"  # sudden one-sided weakness: akutt, the stroke chapter
ROAD_ACCIDENT = "A.35.01"  # the road-traffic action card: 110 and 112
STROKE = pb.DESTINATION_CONDITION_STROKE
HOSPITAL = pb.ALERT_SERVICE_HOSPITAL


@dataclass
class HospitalCluster:
    stub: pb_grpc.DispatchServiceStub
    ulleval: PartnerCentre
    ahus: PartnerCentre
    fire: PartnerCentre | None
    gateway: str
    started: float
    deployment: Any  # clients.launcher.Deployment: a test kills a centre
    config: ClusterConfig


#: The marks of a pre-notification test module.
MARKS = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]


def hospitals_fixture(*, with_fire: bool) -> Any:
    """A module's ``hospitals`` fixture: one deployment for the module."""

    @pytest_asyncio.fixture(scope="module", loop_scope="session")
    async def hospitals(
        etcd_server, ray_session, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[HospitalCluster]:
        home = tmp_path_factory.mktemp("home")
        async with running_hospitals(etcd_server.endpoint, home, with_fire=with_fire) as cluster:
            yield cluster

    return hospitals


@asynccontextmanager
async def running_hospitals(
    etcd_endpoint: str, home: Path, *, with_fire: bool
) -> AsyncIterator[HospitalCluster]:
    """All five centres and a gateway; Ullevål and Ahus take pre-notifications, and with
    ``with_fire`` a 110 centre takes alerts."""
    from clients.launcher import Deployment

    fire = PartnerCentre("110 Øst", schema_validator(load_spec())).start() if with_fire else None
    ulleval = PartnerCentre("OUS Ullevål, slagvakt", prenotification_doc.validate).start()
    ahus = PartnerCentre("Ahus, akuttmottak", prenotification_doc.validate).start()
    tag = uuid.uuid4().hex[:8]
    config = ClusterConfig.load(
        home=home,
        key_prefix=key_prefix_for("hosp"),
        pki_dir=session_pki(),
        ray_namespace=f"amk-{tag}",
        gateways=[f"127.0.0.1:{find_free_port()}"],
        metrics=[f"127.0.0.1:{find_free_port()}"],
        hospital_endpoints={"ous-ulleval": ulleval.url, "ahus-lorenskog": ahus.url},
        alert_endpoints={"110": fire.url} if fire else {},
    )
    started = time.time()
    deployment = Deployment(config, [etcd_endpoint])
    await deployment.start()
    channel = open_channel(config.gateways[0], client_identity(), token=session_token())
    try:
        yield HospitalCluster(
            pb_grpc.DispatchServiceStub(channel),
            ulleval,
            ahus,
            fire,
            config.gateways[0],
            started,
            deployment,
            config,
        )
    finally:
        await channel.close()
        await deployment.stop()
        for partner in (ulleval, ahus, fire):
            if partner is not None:
                partner.stop()


async def incident_from_call(stub, code: str, taker: str) -> pb.Incident:
    """A 113 call queued, answered by ``taker`` at AMK Oslo, an incident made from it."""
    return (await call_and_incident(stub, code, taker))[1]


async def call_and_incident(stub, code: str, taker: str) -> tuple[pb.Call, pb.Incident]:
    """The answered call and the incident made from it."""
    await stub.SignIn(pb.SignInRequest(centre="oslo", call_taker=taker), timeout=5)
    call = await stub.ReceiveCall(
        pb.ReceiveCallRequest(request_id=rid(), caller_number="+4790000113", position=OSLO),
        timeout=10,
    )
    answered = await stub.AnswerNextCall(
        pb.AnswerNextCallRequest(request_id=rid(), centre="oslo", call_taker=taker), timeout=10
    )
    assert answered.call.id == call.id
    inc = await stub.CreateIncident(
        pb.CreateIncidentRequest(
            request_id=rid(), region="oslo", position=OSLO, call_id=call.id, criteria_code=code
        ),
        timeout=10,
    )
    return answered.call, inc


async def assign_ambulance(stub, incident_id: str) -> pb.Unit:
    """The best road ambulance the recommendation offers, assigned, en route, on scene."""
    recs = await stub.RecommendUnits(pb.RecommendUnitsRequest(incident_id=incident_id), timeout=10)
    unit = next(r.unit for r in recs.recommendations if r.unit.kind == pb.UNIT_KIND_ROAD_AMBULANCE)
    await stub.AssignUnit(
        pb.AssignUnitRequest(request_id=rid(), incident_id=incident_id, unit_id=unit.id), timeout=10
    )
    for status in (pb.UNIT_STATUS_EN_ROUTE, pb.UNIT_STATUS_ON_SCENE):
        await unit_status(stub, unit.id, status)
    return unit


async def unit_status(stub, unit_id: str, status: int) -> pb.Unit:
    return await stub.ChangeUnitStatus(
        pb.ChangeUnitStatusRequest(request_id=rid(), unit_id=unit_id, status=status), timeout=10
    )


async def hospital_alert(stub, incident_id: str, alert_id: str) -> pb.Alert:
    reply = await stub.ListAlerts(pb.ListAlertsRequest(incident_id=incident_id), timeout=10)
    return next(a for a in reply.alerts if a.id == alert_id)


async def delivered(stub, incident_id: str, alert_id: str, count: int) -> pb.Alert:
    """The alert once ``count`` documents are due and all recorded as taken."""

    async def check() -> pb.Alert:
        a = await hospital_alert(stub, incident_id, alert_id)
        pre = a.prenotification
        assert (pre.documents_due, pre.documents_delivered) == (count, count), pre
        return a

    return await assert_eventually(check, timeout_s=30)


async def refused(method, request, code: grpc.StatusCode, field: str = "") -> None:
    """``method(request)`` fails with ``code``, naming ``field`` if given."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await method(request, timeout=10)
    assert err.value.code() == code, err.value.details()
    if field:
        assert dict(err.value.trailing_metadata() or ()).get("amk-field") == field


def iso_s(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def send_stroke(stub, incident_id: str, hospital_id: str) -> pb.Alert:
    """A stroke pre-notification of the incident's only unit to ``hospital_id``."""
    return await stub.SendPreNotification(
        pb.SendPreNotificationRequest(
            request_id=rid(), incident_id=incident_id, hospital_id=hospital_id, condition=STROKE
        ),
        timeout=10,
    )
