"""The region host's incident table and its index of incidents with sent alerts."""

from actors.centre.region_host import IncidentTable
from actors.domain.model import Alert, AlertService, AlertState, Incident, IncidentStatus, Position


def _inc(ident: str, alerts: int = 0, proposed: int = 0) -> Incident:
    inc = Incident(ident, "oslo", IncidentStatus.RECEIVED, Position(59.9, 10.7), 1.0, 1.0)
    for n in range(alerts):
        sent = Alert(f"a{n + 1}", AlertService.FIRE_110, AlertState.SENT, sent_at=2.0)
        inc.alerts.append(sent)
    for n in range(proposed):
        ident = f"a{alerts + n + 1}"
        inc.alerts.append(Alert(ident, AlertService.LEGEVAKT_116117, AlertState.PROPOSED))
    return inc


def test_only_incidents_with_sent_alerts_are_listed() -> None:
    table = IncidentTable()
    for n in range(100):  # every other one has a proposal only (a red response)
        table[f"OSL-{n:06d}"] = _inc(f"OSL-{n:06d}", 1 if n % 10 == 0 else 0, n % 2)
    assert sorted(i.id for i in table.with_sent_alerts()) == [
        f"OSL-{n:06d}" for n in range(0, 100, 10)
    ]


def test_an_incident_that_gains_an_alert_later_is_listed() -> None:
    table = IncidentTable()
    table["OSL-000001"] = _inc("OSL-000001", proposed=1)
    assert table.with_sent_alerts() == []
    table["OSL-000001"] = _inc("OSL-000001", alerts=2)  # the next committed version
    assert [i.id for i in table.with_sent_alerts()] == ["OSL-000001"]


def test_an_incident_that_left_the_table_is_no_longer_listed() -> None:
    table = IncidentTable()
    table["OSL-000001"] = _inc("OSL-000001", alerts=1)
    table["OSL-000002"] = _inc("OSL-000002", alerts=1)
    table.pop("OSL-000001")  # handed to another region
    del table["OSL-000002"]  # archived
    assert table.with_sent_alerts() == []
    assert len(table) == 0
