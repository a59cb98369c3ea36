"""What the on-call engineer is told about open alerts (``actors/domain/alert_gauges``)
and how the gateway exposes it to Prometheus: pure logic on hand-made incidents."""

from __future__ import annotations

import dataclasses

from actors.domain import alert_gauges as ag
from actors.domain.model import Alert, AlertService, AlertState, IncidentStatus
from actors.gateway.metrics_exporter import alert_families
from cluster.ownership import Owner, OwnerRecord
from tests.unit.test_metrics import exposition, snapshot, value
from tests.unit.test_prenotify import T0, incident, sent


def alert(id_: str, service: AlertService, state: AlertState, sent_at: float) -> Alert:
    return Alert(id=id_, service=service, state=state, sent_at=sent_at, recipient="112:oslo")


def test_open_alerts_are_counted_by_service_recipient_and_state_with_the_oldest_age() -> None:
    inc = incident()
    inc.alerts = [
        alert("a1", AlertService.POLICE_112, AlertState.SENT, T0 - 30),
        alert("a2", AlertService.POLICE_112, AlertState.SENT, T0 - 50),
        alert("a3", AlertService.POLICE_112, AlertState.ESCALATED, T0 - 120),
        alert("a4", AlertService.FIRE_110, AlertState.ACKNOWLEDGED, T0 - 500),
        alert("a5", AlertService.FIRE_110, AlertState.PROPOSED, 0.0),
        alert("a6", AlertService.FIRE_110, AlertState.CANCELLED, T0 - 40),
    ]
    got = {
        (g.service, g.recipient, g.state): (g.count, g.oldest_s)
        for g in ag.gauges("oslo", [inc], T0)
    }
    assert got == {
        ("112", "112:oslo", ag.ESCALATED): (1, 120.0),
        ("112", "112:oslo", ag.WAITING): (2, 50.0),
    }
    # The incident closed: nobody chases its alerts' acknowledgements any more.
    inc.status = IncidentStatus.CLOSED
    assert ag.gauges("oslo", [inc], T0) == []


def test_a_pre_notification_the_hospital_lacks_is_owed_from_when_it_last_took_one() -> None:
    inc, pre_alert, _ = sent()
    later = T0 + 300

    def owed(*alerts: Alert) -> dict:
        inc.alerts = list(alerts)
        return {(g.state): g.oldest_s for g in ag.gauges("oslo", [inc], later)}

    # Sent and not taken by the hospital: waiting for its answer, and owed since sent.
    assert owed(pre_alert) == {ag.WAITING: 300.0, ag.OWED: 300.0}
    # The first taken at +60; ETA updates at +120 and +280 not taken: owed since +60,
    # not since the latest update (the hospital has taken nothing for four minutes).
    pre = dataclasses.replace(
        pre_alert.prenotification, delivered=1, delivered_at=T0 + 60, eta_updates=2,
        eta_updated_at=T0 + 280,
    )  # fmt: skip
    assert owed(dataclasses.replace(pre_alert, prenotification=pre))[ag.OWED] == 240.0
    # The first update taken at +150, the second (made at +280) not: owed since +280.
    one = dataclasses.replace(pre, delivered=2, delivered_at=T0 + 150)
    assert owed(dataclasses.replace(pre_alert, prenotification=one))[ag.OWED] == 20.0
    # Every update taken at +200, then withdrawn at +290: the withdrawal owed since then,
    # and a withdrawn pre-notification is no longer chased for its acknowledgement.
    gone = dataclasses.replace(pre, delivered=3, delivered_at=T0 + 200, withdrawn_at=T0 + 290)
    assert owed(dataclasses.replace(pre_alert, prenotification=gone)) == {ag.OWED: 10.0}
    # Every document taken: nothing owed, nothing chased.
    done = dataclasses.replace(gone, delivered=4)
    assert owed(dataclasses.replace(pre_alert, prenotification=done)) == {}


def test_the_gateway_exposes_each_centres_open_alerts_and_none_for_a_silent_one() -> None:
    snap = snapshot()
    snap.centres["oslo"] = dataclasses.replace(
        snap.centres["oslo"],
        alerts=(
            ag.AlertGauge("oslo", "112", "112:oslo", ag.ESCALATED, 2, 130.0),
            ag.AlertGauge("oslo", "hospital", "ulleval", ag.OWED, 1, 45.0),
        ),
    )
    got = exposition(snap)
    assert (
        value(got, "amk_alerts_open", region="oslo", recipient="112:oslo", state="escalated") == 2
    )
    oldest = "amk_alert_oldest_open_seconds"
    assert value(got, oldest, region="oslo", service="hospital", state="owed") == 45.0
    # Innlandet's centre did not answer: no series for it (not a 0 that would hide it).
    assert {s.labels["region"] for s in got["amk_alerts_open"]} == {"oslo"}
    snap.sources["centres"] = False
    assert list(alert_families(snap)) == []


def test_in_a_takeovers_instant_the_holder_of_the_higher_token_speaks() -> None:
    """The deposed centre may still report a region it just lost: its series are left
    out, even when the new holder has nothing open there (a stale series would stay)."""
    snap = snapshot()
    old = dataclasses.replace(
        snap.centres["oslo"],
        regions={"oslo": 41},
        alerts=(ag.AlertGauge("oslo", "112", "112:oslo", ag.WAITING, 3, 10.0),),
    )
    new = dataclasses.replace(old, id="innlandet", regions={"oslo": 57}, alerts=())
    snap.centres = {"oslo": old, "innlandet": new}
    assert "amk_alerts_open" not in exposition(snap)
    snap.centres["innlandet"] = dataclasses.replace(
        new, alerts=(ag.AlertGauge("oslo", "112", "112:oslo", ag.WAITING, 2, 9.0),)
    )
    got = exposition(snap)
    assert value(got, "amk_alerts_open", region="oslo", service="112", state="waiting") == 2


def test_a_new_holder_that_does_not_answer_leaves_the_region_silent_not_stale() -> None:
    """etcd names a newer owner than any centre that answered: the deposed centre's
    counts (it still reports the region) are not exported as the region's. Without the
    region source the highest token reported speaks; an ownerless region has none."""
    snap = snapshot()
    old = dataclasses.replace(
        snap.centres["oslo"],
        regions={"oslo": 41},
        alerts=(ag.AlertGauge("oslo", "112", "112:oslo", ag.ESCALATED, 3, 90.0),),
    )
    snap.centres = {"oslo": old, "innlandet": None}
    assert value(exposition(snap), "amk_alerts_open", region="oslo", state="escalated") == 3
    record = OwnerRecord("innlandet", "innlandet-1", 9, 990.0).encode()
    snap.owners["oslo"] = Owner.of("oslo", record, 57)
    assert "amk_alerts_open" not in exposition(snap)
    snap.sources["regions"] = False
    assert value(exposition(snap), "amk_alerts_open", region="oslo", state="escalated") == 3
    snap.sources["regions"] = True
    # The same token as the owner key's, from another centre than the key names (a
    # token issued again after an etcd restore): not the region's holder.
    snap.owners["oslo"] = Owner.of("oslo", record, 41)
    assert "amk_alerts_open" not in exposition(snap)
    # Both report it at that token: the one the key names speaks, whichever comes first.
    named = dataclasses.replace(
        old,
        id="innlandet",
        alerts=(ag.AlertGauge("oslo", "112", "112:oslo", ag.ESCALATED, 5, 30.0),),
    )
    snap.centres = {"oslo": old, "innlandet": named}
    assert value(exposition(snap), "amk_alerts_open", region="oslo", state="escalated") == 5
    snap.centres = {"innlandet": named, "oslo": old}
    assert value(exposition(snap), "amk_alerts_open", region="oslo", state="escalated") == 5
    snap.centres = {"oslo": old, "innlandet": None}
    del snap.owners["oslo"]
    assert "amk_alerts_open" not in exposition(snap)
