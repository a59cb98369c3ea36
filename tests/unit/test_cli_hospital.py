"""What ``amk destination``, ``amk prenotify``, ``amk alert list`` and ``amk incident
history`` show of hospital pre-notifications (issue #19), rendered from API messages."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.cli import build_parser
from clients.cli_alerts import alerts_table, prenotification_text
from clients.cli_history import history_table
from clients.cli_hospital import destinations_view
from tests.helpers import ts

pytestmark = pytest.mark.timeout(30)

T0 = 1_800_000_000.0


def render(renderable) -> str:
    out = io.StringIO()
    Console(file=out, width=250).print(renderable)
    return out.getvalue()


def prenotified(**kw) -> pb.Alert:
    pre = pb.PreNotification(
        hospital_id="ous-ulleval",
        hospital_name="OUS Ullevål",
        condition=pb.DESTINATION_CONDITION_STROKE,
        age=74,
        unit_id="osl-a11",
        expected_arrival=ts(T0 + 900),
        **kw,
    )
    return pb.Alert(
        id="a3",
        incident_id="OSL-000001",
        service=pb.ALERT_SERVICE_HOSPITAL,
        state=pb.ALERT_STATE_ACKNOWLEDGED,
        recipient="ous-ulleval",
        sent_at=ts(T0),
        sent_by="kari",
        acknowledged_at=ts(T0 + 20),
        acknowledged_by="slagvakt",
        prenotification=pre,
    )


def test_prenotification_cell_says_patient_eta_updates_and_arrival() -> None:
    assert prenotification_text(pb.Alert(id="a1", service=pb.ALERT_SERVICE_FIRE_110)) == "-"
    text = prenotification_text(prenotified())
    assert text.startswith("stroke, 74 y, unit osl-a11; ETA ") and "update" not in text
    done = prenotification_text(
        prenotified(eta_updates=2, arrived_at=ts(T0 + 960), lead_time_s=960.0)
    )
    assert "(2 updates)" in done and done.endswith("lead 16 min")
    no_age = pb.Alert(prenotification=pb.PreNotification(condition=pb.DESTINATION_CONDITION_OTHER))
    assert prenotification_text(no_age).startswith("other, age ?")
    gone = prenotification_text(prenotified(withdrawn_at=ts(T0 + 60), replaced_by="a4"))
    assert "replaced by a4" in gone and "withdrawn " in gone and "not yet told" not in gone
    owed = prenotification_text(prenotified(documents_due=2, documents_delivered=1))
    assert owed.endswith("hospital not yet told: 1 of 2 documents delivered")
    assert "not yet told" not in text + done  # nothing due (0 of 0) reads as nothing owed
    told = prenotification_text(prenotified(documents_due=2, documents_delivered=2))
    assert "not yet told" not in told


def test_alert_list_and_history_show_the_pre_notification() -> None:
    alert = prenotified(eta_updates=1)
    assert "stroke, 74 y" in render(alerts_table([alert]))
    history = pb.IncidentHistory(
        incident_id="OSL-000001",
        entries=[pb.JournalEntry(at=ts(T0), command="SendPreNotification", who="kari")],
        alerts=[alert],
    )
    text = render(history_table(history))
    assert "SendPreNotification" in text and "Alerts" in text
    assert "hospital ous-ulleval" in text and "(slagvakt)" in text and "(1 update)" in text
    # No alerts: the journal alone, as before.
    assert "Alerts" not in render(history_table(pb.IncidentHistory(incident_id="x")))


def test_destinations_view_shows_reason_rule_and_the_condition_used() -> None:
    reply = pb.RecommendDestinationResponse(
        condition=pb.DESTINATION_CONDITION_TRAUMA,
        condition_reason="suggested: akutt criteria code A.35.01 (chapter 35)",
        origin="the incident's position, by road ambulance",
        destinations=[
            pb.Destination(
                rank=1,
                hospital_id="si-tynset",
                hospital_name="Sykehuset Innlandet Tynset",
                eta_s=420.0,
                reason="trauma function, ETA 7 min (road 5.1 km); uncertain: trauma_level",
                note="trauma: regional trauma centre 4 h 10 min away (over 45 min): ...",
                capable=True,
                uncertain=["trauma_level"],
            )
        ],
    )
    text = render(destinations_view(reply))
    assert text.startswith("trauma (suggested: akutt criteria code A.35.01")
    assert "si-tynset" in text and "7m00s" in text and "uncertain: trauma_level" in text
    empty = pb.RecommendDestinationResponse(condition=pb.DESTINATION_CONDITION_STEMI)
    assert "no hospital with that capability" in render(destinations_view(empty))


def test_prenotify_needs_hospital_and_condition() -> None:
    parser = build_parser()
    args = parser.parse_args(
        ["prenotify", "OSL-000001", "--hospital", "ous-ulleval", "--condition", "stroke"]
    )
    assert (args.hospital, args.condition, args.age, args.onset) == (
        "ous-ulleval",
        "stroke",
        None,
        None,
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["prenotify", "OSL-000001", "--hospital", "ous-ulleval"])
    with pytest.raises(SystemExit):
        parser.parse_args(["destination", "OSL-000001", "--condition", "flu"])


def test_alert_phoned_takes_the_alert_and_whom_was_spoken_to() -> None:
    args = build_parser().parse_args(
        ["alert", "phoned", "OSL-000001", "a3", "--spoke-with", "akuttmottaket"]
    )
    assert (args.id, args.alert, args.spoke_with) == ("OSL-000001", "a3", "akuttmottaket")
    bare = build_parser().parse_args(["alert", "phoned", "OSL-000001", "a3"])
    assert bare.spoke_with == ""
