"""KPI arithmetic on hand-made records and journals with known answers, and the table,
picture and command line of ``amk kpi``."""

from __future__ import annotations

import argparse
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from rich.console import Console

from actors.domain import kpi
from actors.domain.model import (
    Call,
    CallStatus,
    Incident,
    IncidentStatus,
    Outcome,
    Position,
    Urgency,
)
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients import kpi as ckpi

HERE = Position(59.91, 10.75)


def call(cid: str, arrived: float, answered: float = 0.0, region: str = "oslo", **kw) -> Call:
    status = CallStatus.ANSWERED if answered else CallStatus.WAITING
    return Call(
        cid, region, "", HERE, arrived, status=kw.pop("status", status), answered_at=answered, **kw
    )


def incident(iid: str, created: float, urgency: Urgency | None, region: str = "oslo") -> Incident:
    return Incident(iid, region, IncidentStatus.DISPATCHED, HERE, created, created, urgency=urgency)


def entry(command: str, at: float, *ids: str, **extra: Any) -> dict[str, Any]:
    return {"at": at, "command": command, "ids": list(ids), "request_id": f"r-{at}", **extra}


# ---------------------------------------------------------------- statistics


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([1, 2, 3, 4], 50, 2),
        ([1, 2, 3, 4], 90, 4),
        (list(range(1, 11)), 50, 5),
        (list(range(1, 11)), 90, 9),  # rank ceil(0.9 * 10) = 9, not the maximum
        (list(range(1, 21)), 90, 18),
        ([7.5], 50, 7.5),
        ([7.5], 90, 7.5),
        ([9, 1, 5], 50, 5),  # unsorted input
        ([3, 1, 2], 100, 3),
    ],
)
def test_percentile_is_nearest_rank(values, p, expected):
    assert kpi.percentile(values, p) == expected


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        kpi.percentile([], 50)
    with pytest.raises(ValueError):
        kpi.percentile([1.0], 0)


def test_share_within_counts_the_limit_itself():
    assert kpi.share_within([5, 10, 10.0001, 12], 10) == 0.5
    assert kpi.share_within([], 10) == 0.0


def test_p90_within_target_exactly_when_share_reaches_ninety_percent():
    for n in range(1, 40):
        for bad in range(n + 1):
            values = [5.0] * (n - bad) + [20.0] * bad
            within = kpi.share_within(values, 10) >= 0.9
            assert (kpi.percentile(values, 90) <= 10) == within, (n, bad)


# ---------------------------------------------------------------- a hand-made day


def day() -> tuple[list[Incident], list[Call], list[dict[str, Any]]]:
    calls = [
        call("OSL-C1", 100, 105),  # 5 s
        call("OSL-C2", 200, 212),  # 12 s
        call("OSL-C3", 300, 310, status=CallStatus.COMPLETED),  # 10 s: within
        call("OSL-C4", 400),  # still waiting: no answer time
        call("OSL-C5", 500, status=CallStatus.ABANDONED),
        call("INN-C1", 150, 151, region="innlandet"),  # 1 s
        call("OSL-C6", 2600, 2602),  # 2 s (after the ``since`` used below)
    ]
    incidents = [
        incident("OSL-000001", 1000, Urgency.AKUTT),
        incident("OSL-000002", 2000, Urgency.AKUTT),
        incident("OSL-000003", 3000, Urgency.HASTER),  # never dispatched
        incident("OSL-000004", 4000, Urgency.AKUTT),
        incident("OSL-000005", 5000, None),  # dispatched before triage
        incident("INN-000001", 1000, Urgency.VANLIG, region="innlandet"),
    ]
    journal = [
        entry("CreateIncident", 1000, "OSL-000001"),
        entry("AssignUnit", 1060, "OSL-000001", "U1"),  # dispatch 60 s
        entry("ChangeUnitStatus", 1100, "U1"),  # en route: the incident is not written
        entry("ChangeUnitStatus", 1600, "U1", "OSL-000001"),  # on scene 600 s
        entry("ChangeUnitStatus", 1900, "U1", "OSL-000001"),  # transporting: later
        entry("ReportUnitPosition", 1200, "U1"),
        entry("AssignUnit", 2030, "OSL-000002", "U2"),  # dispatch 30 s
        entry("AssignUnit", 2100, "OSL-000002", "U3"),  # second unit: not the first
        entry("ChangeUnitStatus", 2900, "U3", "OSL-000002"),  # on scene 900 s
        entry("TriageIncident", 3010, "OSL-000003"),
        entry("AssignUnit", 4120, "OSL-000004", "U4"),  # dispatch 120 s
        # The dispatcher records the arrival by hand (status looked up: on_scene) ...
        entry("ChangeIncidentStatus", 4500, "OSL-000004", incident_status="on_scene"),
        # ... so the crew's next status (transporting) writes the incident later.
        entry("ChangeUnitStatus", 5000, "U4", "OSL-000004"),
        entry("AssignUnit", 5010, "OSL-000005", "U5"),  # dispatch 10 s, untriaged
        entry("AssignUnit", 1200, "INN-000001", "U9"),  # 200 s
        entry("ChangeUnitStatus", 3000, "U9", "INN-000001"),  # 2000 s
    ]
    return incidents, calls, journal


def pick(figures: list[kpi.Figure], region: str, measure: str, urgency=None, target_s=None):
    found = [
        f
        for f in figures
        if (f.region, f.measure, f.urgency) == (region, measure, urgency)
        and (target_s is None or f.target_s == target_s)
    ]
    assert len(found) == 1, found
    return found[0]


def test_answer_times_per_region_against_ten_seconds():
    figures = kpi.compute(*day())
    oslo = pick(figures, "oslo", "answer")
    # answered: 5, 12, 10, 2 -> sorted 2, 5, 10, 12
    assert oslo.count == 4
    assert (oslo.p50_s, oslo.p90_s) == (5, 12)
    assert oslo.share_within_target == 0.75  # 10 s counts as within
    assert (oslo.target_s, oslo.target_share) == (10.0, 0.9)
    assert "§ 15 b" in oslo.target_text
    inn = pick(figures, "innlandet", "answer")
    assert (inn.count, inn.p50_s, inn.p90_s, inn.share_within_target) == (1, 1, 1, 1.0)


def test_dispatch_time_is_creation_to_first_assignment():
    figures = kpi.compute(*day())
    akutt = pick(figures, "oslo", "dispatch", Urgency.AKUTT)
    assert akutt.count == 3  # 60, 30, 120
    assert (akutt.p50_s, akutt.p90_s) == (60, 120)
    assert (akutt.target_s, akutt.target_share, akutt.share_within_target) == (0, 0, 0)
    assert "no national target" in akutt.target_text
    untriaged = pick(figures, "oslo", "dispatch", None)
    assert (untriaged.count, untriaged.p50_s) == (1, 10)


def test_an_incident_never_dispatched_is_not_counted():
    figures = kpi.compute(*day())
    assert not [f for f in figures if f.urgency is Urgency.HASTER]
    assert sum(f.count for f in figures if f.measure == "dispatch" and f.region == "oslo") == 4


def test_akutt_missions_without_a_call_are_counted_apart_and_on_scene_has_no_target():
    figures = kpi.compute(*day())
    # No 113 call is linked to these missions: from creation, apart from the indicator.
    apart = pick(figures, "oslo", "response_no_call", Urgency.AKUTT)
    # 600 (unit on scene), 900 (unit on scene), 500 (recorded by hand)
    assert (apart.count, apart.p50_s, apart.p90_s, apart.target_s) == (3, 600, 900, 0)
    assert "not part of the national indicator" in apart.target_text
    assert not [f for f in figures if f.measure == "response"]
    on_scene = pick(figures, "oslo", "on_scene", Urgency.AKUTT)
    assert (on_scene.count, on_scene.p50_s, on_scene.p90_s, on_scene.target_s) == (3, 600, 900, 0)
    assert "national target is on the response time" in on_scene.target_text
    vanlig = pick(figures, "innlandet", "on_scene", Urgency.VANLIG)
    assert (vanlig.count, vanlig.p50_s, vanlig.target_s) == (1, 2000, 0)


def test_a_status_change_not_known_to_be_on_scene_does_not_count():
    incidents, calls, journal = day()
    for e in journal:
        if e["command"] == "ChangeIncidentStatus":
            del e[kpi.STATUS_KEY]  # not looked up: the later unit entry counts instead
    f = pick(kpi.compute(incidents, calls, journal), "oslo", "on_scene", Urgency.AKUTT)
    assert (f.count, f.p90_s) == (3, 1000)
    journal.append(entry("ChangeIncidentStatus", 4200, "OSL-000004", incident_status="cancelled"))
    f = pick(kpi.compute(incidents, calls, journal), "oslo", "on_scene", Urgency.AKUTT)
    assert f.p90_s == 1000


def test_since_keeps_what_started_in_the_window():
    figures = kpi.compute(*day(), since=2500)
    answer = pick(figures, "oslo", "answer")
    assert (answer.count, answer.p50_s) == (1, 2)  # only the call of 2600
    dispatch = pick(figures, "oslo", "dispatch", Urgency.AKUTT)
    assert (dispatch.count, dispatch.p50_s) == (1, 120)  # OSL-000004 only
    assert not [f for f in figures if f.region == "innlandet"]


def test_figures_are_ordered_and_empty_input_gives_none():
    figures = kpi.compute(*day())
    keys = [(f.region, f.measure, f.urgency, f.target_s) for f in figures]
    assert keys[0] == ("innlandet", "answer", None, 10.0)
    oslo = [k[1:] for k in keys if k[0] == "oslo"]
    assert oslo == [
        ("answer", None, 10.0),
        ("dispatch", Urgency.AKUTT, 0.0),
        ("dispatch", None, 0.0),
        ("response_no_call", Urgency.AKUTT, 0.0),
        ("on_scene", Urgency.AKUTT, 0.0),
    ]
    assert kpi.compute([], [], []) == []


def test_clock_skew_never_gives_a_negative_time():
    figures = kpi.compute(
        [incident("OSL-000009", 100.5, Urgency.HASTER)],
        [call("OSL-C9", 100.4, 100.2)],
        [entry("AssignUnit", 100.0, "OSL-000009", "U1")],
    )
    assert all(f.p50_s == 0 and f.p90_s == 0 for f in figures)


def test_status_lookups_are_only_the_entries_that_could_matter():
    incidents = [incident("OSL-000001", 1000, Urgency.AKUTT)]
    before_dispatch = entry("ChangeIncidentStatus", 1010, "OSL-000001")
    by_hand = entry("ChangeIncidentStatus", 1300, "OSL-000001")
    closing = entry("ChangeIncidentStatus", 2500, "OSL-000001")
    other = entry("ChangeIncidentStatus", 1300, "OSL-000077")
    journal = [
        before_dispatch,
        entry("AssignUnit", 1060, "OSL-000001", "U1"),
        by_hand,
        other,
        entry("ChangeUnitStatus", 1900, "U1", "OSL-000001"),
        closing,
    ]
    assert kpi.status_lookups_needed(incidents, journal) == [by_hand]
    by_hand[kpi.STATUS_KEY] = "on_scene"
    assert kpi.status_lookups_needed(incidents, journal) == []
    assert kpi.first_on_scene(journal)["OSL-000001"] == 1300


def test_incident_status_of_a_stored_result():
    inc = incident("OSL-000001", 1000, Urgency.AKUTT)
    inc.status = IncidentStatus.ON_SCENE
    assert kpi.incident_status_of_result(Outcome(incident=inc).encode()) == "on_scene"
    assert kpi.incident_status_of_result(b"{}") is None
    assert kpi.incident_status_of_result(b"not json") is None


# ---------------------------------------------------------------- the client side


def pb_figures() -> list[pb.KpiFigure]:
    out = []
    for region, p90 in (("oslo", 8.0), ("innlandet", 14.0)):
        out.append(
            pb.KpiFigure(
                region=region,
                measure="answer",
                count=100,
                p50_s=4,
                p90_s=p90,
                target_s=10,
                target_share=0.9,
                share_within_target=0.95 if p90 <= 10 else 0.8,
                target_text="akuttmedisinforskriften § 15 b",
            )
        )
        out.append(
            pb.KpiFigure(
                region=region, measure="dispatch", urgency=pb.URGENCY_AKUTT, count=9, p50_s=60,
                p90_s=120,
            )
        )  # fmt: skip
    for target, share in ((720.0, 0.7), (1500.0, 0.95)):
        out.append(
            pb.KpiFigure(
                region="oslo",
                measure="response",
                urgency=pb.URGENCY_AKUTT,
                area="unknown",
                count=20,
                p50_s=600,
                p90_s=1000,
                target_s=target,
                target_share=0.9,
                share_within_target=share,
                target_text="response time",
            )
        )
    out.append(
        pb.KpiFigure(
            region="oslo", measure="on_scene", urgency=pb.URGENCY_HASTER, count=5, p50_s=900,
            p90_s=1800,
        )
    )  # fmt: skip
    return out


def test_plot_has_one_bar_per_region_and_urgency_with_targets(tmp_path):
    path = ckpi.write_plot(pb_figures(), tmp_path / "kpi.svg", title="test")
    text = path.read_text(encoding="utf-8")
    root = ET.fromstring(text)  # well-formed XML
    assert root.tag.endswith("svg")
    # answer: oslo, innlandet; response: oslo akutt, area unknown (two targets, one bar).
    # Time to on scene (haster) has no target and is not drawn.
    assert text.count('class="bar"') == 3
    assert text.count('class="p50"') == 3
    assert text.count('data-measure="answer"') == 2
    assert text.count('data-measure="response"') == 1
    assert 'data-measure="on_scene"' not in text
    assert 'data-measure="dispatch"' not in text
    assert text.count('<line class="target"') == 3  # 10 s; 12 and 25 min
    labels = [e.text for e in root.iter() if e.get("class") == "row-label"]
    assert labels == ["innlandet", "oslo", "oslo"]
    assert "70% ≤ 12 min ✘" in text and "95% ≤ 25 min ✔" in text
    assert "80% ≤ 10 s ✘" in text and "95% ≤ 10 s ✔" in text
    # The akutt response meets only the 25 min target: amber.
    bars = [e for e in root.iter() if e.get("class") == "bar"]
    fills = {(b.get("data-region"), b.get("data-measure")): b.get("fill") for b in bars}
    assert fills[("oslo", "answer")] == ckpi._PASS
    assert fills[("innlandet", "answer")] == ckpi._FAIL
    assert ckpi._PARTIAL in [b.get("fill") for b in bars if b.get("data-measure") == "response"]


def test_plot_of_no_figures_says_so(tmp_path):
    text = ckpi.write_plot([], tmp_path / "none.svg").read_text(encoding="utf-8")
    ET.fromstring(text)
    assert 'class="bar"' not in text and "No figures" in text


def test_table_marks_the_targets_met_and_missed():
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(ckpi.kpi_table(pb_figures()))
    out = console.file.getvalue()
    assert "95% ✔" in out and "80% ✘" in out and "70% ✘" in out
    assert "90% ≤ 12 min" in out and "90% ≤ 25 min" in out and "90% ≤ 10 s" in out
    assert "1m00s" in out and "16m40s" in out and "8.0 s" in out
    assert "[1] akuttmedisinforskriften § 15 b" in out


class FakeClient:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def _unary(self, method: str, request: Any) -> pb.Kpis:
        self.sent.append((method, request))
        return pb.Kpis(figures=pb_figures())


def test_kpi_figures_sends_regions_and_since():
    client = FakeClient()
    figures = ckpi.kpi_figures(client, ["oslo,innlandet"], since=1_700_000_000.5)
    method, req = client.sent[0]
    assert method == "GetKpis" and list(req.regions) == ["oslo", "innlandet"]
    assert req.since.ToNanoseconds() == 1_700_000_000_500_000_000
    assert len(figures) == len(pb_figures())
    ckpi.kpi_figures(client, [])
    assert not client.sent[1][1].HasField("since")


def parser() -> argparse.ArgumentParser:
    """What ``build_parser`` does around ``add_kpi_command``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    top = argparse.ArgumentParser(prog="amk")
    commands = top.add_subparsers(dest="command", required=True)

    def command(group, name, handler, help, *, parents=(common,)):
        sub = group.add_parser(name, help=help, parents=list(parents))
        if handler is not None:
            sub.set_defaults(handler=handler)
        return sub

    ckpi.add_kpi_command(commands, command)
    return top


def test_command_line(tmp_path, capsys):
    args = parser().parse_args(
        ["kpi", "--region", "oslo", "--region", "innlandet", "--plot", str(tmp_path / "k.svg")]
    )
    assert args.handler is ckpi.cmd_kpi and args.region == ["oslo", "innlandet"]
    # The last 24 hours unless asked (everything grows with every day archived).
    assert abs(args.since - (ckpi.parse_since("0m") - 86400)) < 5
    assert parser().parse_args(["kpi", "--since", "all"]).since is None

    class Ctx:
        def __init__(self, args):
            self.args = args
            self.fake = FakeClient()
            self.emitted: list[Any] = []

        def client(self):
            return self.fake

        def emit(self, result, human):
            self.emitted.append(result)
            human(result)  # renders without error
            return 0

    ctx = Ctx(args)
    assert ckpi.cmd_kpi(ctx) == 0
    out = capsys.readouterr()
    assert (tmp_path / "k.svg").exists() and "wrote" in out.out
    assert "KPIs since " in out.err  # which period the figures cover
    assert list(ctx.fake.sent[0][1].regions) == ["oslo", "innlandet"]
    assert len(ctx.emitted[0]) == len(pb_figures())
    # With --json the note goes to stderr: stdout is the JSON document alone.
    ctx = Ctx(parser().parse_args(["kpi", "--json", "--plot", str(tmp_path / "j.svg")]))
    ckpi.cmd_kpi(ctx)
    captured = capsys.readouterr()
    assert "wrote" in captured.err and "wrote" not in captured.out


def test_since_option():
    now = ckpi.parse_since("0m")
    assert abs(ckpi.parse_since("24h") - (now - 86400)) < 5
    assert ckpi.parse_since("2025-01-31T08:00:00+00:00") == 1738310400
    with pytest.raises(argparse.ArgumentTypeError):
        ckpi.parse_since("yesterday")
    args = parser().parse_args(["kpi", "--since", "7d"])
    assert abs(args.since - (now - 7 * 86400)) < 5


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(8.24, "8.2 s"), (59.9, "59.9 s"), (60, "1m00s"), (850, "14m10s"), (3900, "1h05m")],
)
def test_durations_for_people(seconds, text):
    assert ckpi.format_duration(seconds) == text


def test_json_of_the_figures_uses_short_enum_names():
    from clients.render import to_json_doc

    doc = to_json_doc(pb_figures())
    assert doc[0]["measure"] == "answer" and doc[0]["urgency"] == "unspecified"
    assert json.loads(json.dumps(doc))[1]["urgency"] == "akutt"
