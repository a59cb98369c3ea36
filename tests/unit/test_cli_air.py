"""``amk air ...`` and the alert times of ``amk incident history`` (issue #19): parsing
and rendering, without a cluster."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.cli import build_parser, main
from clients.cli_air import mission_panel, missions_table
from clients.cli_alerts import alert_timeline, alerts_table, note_text
from tests.helpers import ts

T0 = 1_700_000_000.0


def parse(*argv: str) -> Any:
    return build_parser().parse_args(list(argv))


def text(renderable: Any) -> str:
    console = Console(file=io.StringIO(), width=240, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_parse_the_air_commands() -> None:
    req = parse("air", "request", "INN-000001", "--kind", "helicopter", "--reason", "trapped")
    assert (req.id, req.kind, req.reason, req.handler.__name__) == (
        "INN-000001",
        "helicopter",
        "trapped",
        "cmd_air_request",
    )
    ans = parse(
        "air", "answer", "LAH-INN-000001-a1", "accept", "--unit", "inn-h01", "--doctor", "Dr. A"
    )
    assert (ans.mission, ans.decision, ans.unit, ans.doctor) == (
        "LAH-INN-000001-a1",
        "accept",
        "inn-h01",
        "Dr. A",
    )
    listing = parse("air", "list", "--all", "--incident", "INN-000001")
    assert (listing.all, listing.incident, listing.handler.__name__) == (
        True,
        "INN-000001",
        "cmd_air_list",
    )
    assert parse("air", "abort", "M", "--reason", "icing").reason == "icing"


@pytest.mark.parametrize(
    "argv",
    [
        ["air", "request", "I", "--kind", "road_ambulance", "--reason", "x"],  # not an aircraft
        ["air", "request", "I", "--kind", "helicopter"],  # no reason
        ["air", "answer", "M", "maybe"],
        ["air", "abort", "M"],  # no reason
        ["alert", "send", "I", "--to", "air_ambulance"],  # that is `amk air request`
    ],
)
def test_bad_air_commands_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as err:
        parse(*argv)
    assert err.value.code == 2


def test_air_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["air"], ["air", "request"], ["air", "answer"], ["air", "list"]):
        assert main([*argv, "--help"]) == 0, argv
    assert "fixed_wing" in capsys.readouterr().out


def mission(**kw: Any) -> pb.AirMission:
    m = pb.AirMission(
        id="LAH-INN-000001-a1",
        region="luftambulanse-hso",
        incident_id="INN-000001",
        incident_region="innlandet",
        alert_id="a1",
        kind=pb.UNIT_KIND_HELICOPTER,
        state=pb.AIR_MISSION_STATE_ACCEPTED,
        reason="trapped, remote",
        unit_id="inn-h01",
        base_doctor="Dr. A",
        received_at=ts(T0),
        reported=False,
        events=[
            pb.AirMissionEvent(state=pb.AIR_MISSION_STATE_REQUESTED, at=ts(T0), by="kari"),
            pb.AirMissionEvent(state=pb.AIR_MISSION_STATE_ACCEPTED, at=ts(T0 + 60), by="la"),
        ],
    )
    m.MergeFrom(pb.AirMission(**kw))
    return m


def test_missions_table_and_panel_show_the_answer_and_the_outbox() -> None:
    listed = text(missions_table([mission()]))
    assert "LAH-INN-000001-a1" in listed and "accepted" in listed and "pending" in listed
    assert "no air missions" in text(missions_table([]))
    shown = text(mission_panel(mission(reported=True)))
    for part in ("inn-h01", "Dr. A", "trapped, remote", "requested", "accepted", "yes"):
        assert part in shown, part
    late = mission(
        state=pb.AIR_MISSION_STATE_ON_SCENE,
        withdrawn_at=ts(T0 + 90),
        withdrawn_by="kari",
        withdrawal_reason="road unit first",
        withdrawal_answer=pb.AIR_MISSION_STATE_ON_SCENE,
    )
    assert "by kari: road unit first (too late: on_scene)" in text(mission_panel(late))
    stood_down = mission(
        state=pb.AIR_MISSION_STATE_ABORTED,
        withdrawn_at=ts(T0 + 90),
        withdrawn_by="kari",
        withdrawal_reason="not needed",
        withdrawal_answer=pb.AIR_MISSION_STATE_ABORTED,
    )
    shown = text(mission_panel(stood_down))
    assert "by kari: not needed" in shown and "too late" not in shown


def test_alert_timeline_lists_every_moment_in_time_order() -> None:
    air = pb.Alert(
        id="a1",
        service=pb.ALERT_SERVICE_AIR_AMBULANCE,
        state=pb.ALERT_STATE_DECLINED,
        recipient="luftambulanse-hso",
        air_kind=pb.UNIT_KIND_HELICOPTER,
        sent_at=ts(T0 + 10),
        sent_by="kari",
        delivered_at=ts(T0 + 11),
        declined_at=ts(T0 + 70),
        declined_by="la-koord",
        note="fog",
        mission_state=pb.AIR_MISSION_STATE_DECLINED,
        mission_updated_at=ts(T0 + 70),
    )
    fire = pb.Alert(
        id="a2",
        service=pb.ALERT_SERVICE_FIRE_110,
        state=pb.ALERT_STATE_ACKNOWLEDGED,
        proposed_at=ts(T0),
        sent_at=ts(T0 + 5),
        acknowledged_at=ts(T0 + 6),
        acknowledged_by="110 Øst",
    )
    lines = [
        ln for ln in text(alert_timeline([air, fire])).splitlines() if " a1 " in ln or " a2 " in ln
    ]
    words = ("mission", "proposed", "sent", "delivered", "acknowledged", "declined")
    whats = [next(w for w in words if w in ln) for ln in lines]
    assert whats == ["proposed", "sent", "acknowledged", "sent", "delivered", "declined", "mission"]
    assert "fog" in text(alert_timeline([air])) and "(helicopter)" in text(alert_timeline([air]))


def test_a_withdrawn_request_says_whether_the_amk_la_was_told() -> None:
    withdrawn = pb.Alert(
        id="a1",
        service=pb.ALERT_SERVICE_AIR_AMBULANCE,
        state=pb.ALERT_STATE_ACKNOWLEDGED,
        recipient="luftambulanse-hso",
        sent_at=ts(T0),
        withdrawn_at=ts(T0 + 60),
        withdrawn_by="kari",
        note="road unit first",
        withdrawal_owed=True,
    )
    assert note_text(withdrawn) == "road unit first; withdrawn, AMK-LA not yet told"
    withdrawn.withdrawal_owed = False
    withdrawn.withdrawal_delivered_at.CopyFrom(ts(T0 + 61))
    assert note_text(withdrawn) == "road unit first"
    assert "not yet told" not in text(alerts_table([withdrawn]))
    timeline = text(alert_timeline([withdrawn]))
    assert "withdrawn" in timeline and "withdrawal delivered to the AMK-LA" in timeline
    assert note_text(pb.Alert(id="a2", note="")) == "-"
    assert "stood down by the AMK-LA" not in note_text(withdrawn)  # no answer recorded
    withdrawn.withdrawal_answer = pb.AIR_MISSION_STATE_ABORTED
    assert "withdrawn, stood down by the AMK-LA" in note_text(withdrawn)
    withdrawn.withdrawal_answer = pb.AIR_MISSION_STATE_ON_SCENE
    assert "withdrawn too late: the aircraft was at the patient" in note_text(withdrawn)
    withdrawn.withdrawal_answer = pb.AIR_MISSION_STATE_COMPLETED
    assert "after the mission had ended (completed)" in note_text(withdrawn)
    # An unanswered request withdrawn is cancelled too: its timeline has one line.
    cancelled = pb.Alert(
        id="a3",
        service=pb.ALERT_SERVICE_AIR_AMBULANCE,
        state=pb.ALERT_STATE_CANCELLED,
        withdrawn_at=ts(T0 + 5),
        cancelled_at=ts(T0 + 5),
        withdrawn_by="kari",
        cancelled_by="kari",
    )
    lines = text(alert_timeline([cancelled])).splitlines()
    assert [ln for ln in lines if "cancelled" in ln or "withdrawn" in ln] == [
        ln for ln in lines if "cancelled" in ln
    ]
