"""Pure-logic tests of the CLI parsing, the live board's state and the rendering."""

from __future__ import annotations

import io
import itertools
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.board import BoardState, render_board
from clients.cli import build_parser, exit_code_for, main
from clients.render import (
    cluster_status_renderable,
    incident_panel,
    incidents_table,
    to_dict,
    to_json_doc,
    unit_panel,
    units_table,
)
from clients.render_time import format_age

Ev = pb.WatchEvent

# ---------------------------------------------------------------- CLI parsing


def parse(*argv: str) -> Any:
    return build_parser().parse_args(list(argv))


def test_parse_up() -> None:
    args = parse(
        "up",
        "--config",
        "c.toml",
        "--home",
        "h",
        "--etcd",
        "a:1,b:2",
        "--ray-address",
        "auto",
        "--gateway",
        "0.0.0.0:50051",
    )
    assert (str(args.config), str(args.home), args.etcd) == ("c.toml", "h", "a:1,b:2")
    assert (args.ray_address, args.gateway) == ("auto", "0.0.0.0:50051")
    assert args.handler.__name__ == "cmd_up"
    assert parse("--gateway", "g:1", "up").gateway == "g:1"


def test_parse_globals_before_or_after_the_command() -> None:
    before = parse("--gateway", "a:1,b:2", "--timeout", "2.5", "--json", "status")
    after = parse("status", "--gateway", "a:1,b:2", "--timeout", "2.5", "--json")
    for args in (before, after):
        assert (args.gateway, args.timeout, args.json) == ("a:1,b:2", 2.5, True)
    plain = parse("status")
    assert (plain.gateway, plain.timeout, plain.json) == (None, 5.0, False)
    assert parse("--json", "incident", "list").json is True  # not reset by the subcommand


def test_parse_incident_commands() -> None:
    args = parse(
        "incident",
        "create",
        "--region",
        "oslo",
        "--lat",
        "59.9",
        "--lon",
        "-10.7",
        "--accuracy",
        "25",
        "--address",
        "Storgata 1",
        "--caller",
        "+47 99",
        "--chapter",
        "10",
        "--criteria",
        "A.10.01",
        "--notes",
        "n",
        "--request-id",
        "r1",
    )
    assert (args.region, args.lat, args.lon, args.accuracy) == ("oslo", 59.9, -10.7, 25.0)
    assert (args.address, args.caller, args.chapter) == ("Storgata 1", "+47 99", 10)
    assert (args.criteria, args.notes, args.request_id) == ("A.10.01", "n", "r1")
    assert args.handler.__name__ == "cmd_incident_create"

    args = parse(
        "incident",
        "list",
        "--region",
        "oslo",
        "--region",
        "innlandet",
        "--status",
        "on_scene",
        "--urgency",
        "akutt",
        "--all",
    )
    assert args.region == ["oslo", "innlandet"]
    assert (args.status, args.urgency, args.all) == ("on_scene", "akutt", True)
    args = parse("incident", "list")
    assert (args.region, args.status, args.urgency, args.all) == (None, None, None, False)

    assert parse("incident", "show", "i1").id == "i1"
    args = parse("incident", "triage", "i1", "A.10.01", "--request-id", "r")
    assert (args.id, args.code, args.request_id) == ("i1", "A.10.01", "r")
    args = parse("incident", "status", "i1", "closed")
    assert (args.id, args.status, args.request_id) == ("i1", "closed", None)
    args = parse("incident", "note", "i1", "caller", "is", "calm")
    assert (args.id, args.text) == ("i1", ["caller", "is", "calm"])


def test_parse_unit_and_assignment_commands() -> None:
    args = parse(
        "unit", "list", "--region", "oslo", "--status", "available_mobile", "--kind", "helicopter"
    )
    assert (args.region, args.status, args.kind) == (["oslo"], "available_mobile", "helicopter")
    assert parse("unit", "show", "u1").handler.__name__ == "cmd_unit_show"
    args = parse("unit", "status", "u1", "en_route", "--request-id", "r")
    assert (args.id, args.status, args.request_id) == ("u1", "en_route", "r")
    args = parse("unit", "position", "u1", "59.9", "-10.5", "--accuracy", "8")
    assert (args.id, args.lat, args.lon, args.accuracy) == ("u1", 59.9, -10.5, 8.0)
    for name in ("assign", "release"):
        args = parse(name, "i1", "u1", "--request-id", "r")
        assert (args.incident, args.unit, args.request_id) == ("i1", "u1", "r")
        assert args.handler.__name__ == f"cmd_{name}"
    args = parse("watch", "--region", "oslo")
    assert (args.region, args.refresh, args.handler.__name__) == (["oslo"], 4.0, "cmd_watch")


@pytest.mark.parametrize(
    "argv",
    [
        ["incident", "status", "i1", "parked"],
        ["incident", "list", "--urgency", "red"],
        ["unit", "list", "--kind", "bicycle"],
        ["incident", "create", "--region", "oslo", "--lat", "x", "--lon", "1"],
        ["incident", "create", "--lat", "1", "--lon", "1"],
        ["--timeout", "0", "status"],
        ["incident"],
        [],
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_everywhere_lists_choices(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        [],
        ["up"],
        ["status"],
        ["incident"],
        ["incident", "create"],
        ["incident", "list"],
        ["incident", "show"],
        ["incident", "triage"],
        ["incident", "status"],
        ["incident", "note"],
        ["unit"],
        ["unit", "list"],
        ["unit", "show"],
        ["unit", "status"],
        ["unit", "position"],
        ["assign"],
        ["release"],
        ["watch"],
    ):
        assert main([*argv, "--help"]) == 0, argv
    capsys.readouterr()
    main(["unit", "list", "--help"])
    out = capsys.readouterr().out
    assert "available_mobile" in out and "helicopter" in out


def test_watch_without_a_terminal_says_to_use_json(capsys, monkeypatch) -> None:
    # Piped: no terminal (so also under ``pytest -s`` in one), the board would draw nothing.
    monkeypatch.setattr(Console, "is_terminal", property(lambda self: False))
    assert main(["watch", "--region", "oslo"]) == 2
    err = capsys.readouterr().err
    assert "needs a terminal" in err and "--json" in err


def test_tables_written_to_a_pipe_are_wide_enough_to_keep_every_column(monkeypatch) -> None:
    from clients.cli_base import PIPE_WIDTH, console

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(Console, "is_terminal", property(lambda self: False))  # piped
    assert console().width == PIPE_WIDTH
    monkeypatch.setenv("COLUMNS", "100")
    assert console().width == 100  # as asked


def test_exit_codes() -> None:
    assert exit_code_for(grpc.StatusCode.INVALID_ARGUMENT) == 2
    assert exit_code_for(grpc.StatusCode.NOT_FOUND) == 2
    assert exit_code_for(grpc.StatusCode.FAILED_PRECONDITION) == 2
    assert exit_code_for(grpc.StatusCode.PERMISSION_DENIED) == 2  # refused, as the others
    assert exit_code_for(grpc.StatusCode.UNAUTHENTICATED) == 2
    assert exit_code_for(grpc.StatusCode.UNAVAILABLE) == 3
    assert exit_code_for(grpc.StatusCode.DEADLINE_EXCEEDED) == 3
    assert exit_code_for(grpc.StatusCode.ABORTED) == 1
    assert exit_code_for(grpc.StatusCode.INTERNAL) == 1


# ---------------------------------------------------------------- board state


def ts(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


def incident(id: str, urgency: int = pb.URGENCY_HASTER, created: int = 100, **kw: Any) -> Any:
    kw.setdefault("status", pb.INCIDENT_STATUS_TRIAGED)
    return pb.Incident(id=id, region="oslo", urgency=urgency, created_at=ts(created), **kw)


def unit(id: str, status: int = pb.UNIT_STATUS_AVAILABLE_AT_STATION) -> Any:
    return pb.Unit(id=id, call_sign=id.upper(), region="oslo", status=status)


def snapshot(rev: int, incidents: list[Any], units: list[Any]) -> list[Any]:
    events = [
        Ev(kind=Ev.KIND_SNAPSHOT_INCIDENT, revision=rev, region="oslo", incident=i)
        for i in incidents
    ]
    events += [Ev(kind=Ev.KIND_SNAPSHOT_UNIT, revision=rev, region="oslo", unit=u) for u in units]
    return [*events, Ev(kind=Ev.KIND_SNAPSHOT_DONE, revision=rev)]


def test_board_snapshot_is_applied_at_done() -> None:
    state = BoardState()
    events = snapshot(10, [incident("i1")], [unit("u1")])
    for event in events[:-1]:
        state.apply(event)
    assert not state.synced and not state.incidents and state.resume_revision() == 0
    state.apply(events[-1])
    assert state.synced and state.resume_revision() == 11
    assert [i.id for i in state.open_incidents()] == ["i1"]
    assert [u.id for u in state.sorted_units()] == ["u1"]


def test_board_resumes_from_a_new_snapshot_below_what_it_saw() -> None:
    """After etcd is restored from a backup, the gateway's snapshot is at a revision
    below the board's: the board resumes from the snapshot, not from what it saw."""
    state = BoardState()
    for event in snapshot(5000, [incident("lost")], []):
        state.apply(event)
    for event in snapshot(4200, [incident("kept")], []):
        state.apply(event)
    assert [i.id for i in state.open_incidents()] == ["kept"]
    assert state.resume_revision() == 4201


def test_board_broken_in_a_snapshot_resumes_from_what_it_has() -> None:
    """A board that starts over and loses the stream half way through the snapshot
    keeps its old records, so it must resume after them, not after the half snapshot."""
    state = BoardState()
    for event in snapshot(10, [incident("i1")], []):
        state.apply(event)
    state.apply(snapshot(50, [incident("i2")], [])[0])  # half of a new snapshot
    state.reset_pending()  # the stream broke
    assert [i.id for i in state.open_incidents()] == ["i1"]
    assert state.resume_revision() == 11


def test_board_changes_removals_and_ordering() -> None:
    state = BoardState()
    for event in snapshot(10, [incident("old-vanlig", pb.URGENCY_VANLIG, 50)], [unit("u1")]):
        state.apply(event)
    changes = [
        Ev(
            kind=Ev.KIND_INCIDENT_CHANGED,
            revision=11,
            region="oslo",
            incident=incident("new-akutt", pb.URGENCY_AKUTT, 300),
        ),
        Ev(
            kind=Ev.KIND_INCIDENT_CHANGED,
            revision=12,
            region="oslo",
            incident=incident("old-akutt", pb.URGENCY_AKUTT, 200),
        ),
        Ev(
            kind=Ev.KIND_INCIDENT_CHANGED,
            revision=13,
            region="oslo",
            incident=incident("untriaged", pb.URGENCY_UNSPECIFIED, 10),
        ),
        Ev(
            kind=Ev.KIND_UNIT_CHANGED,
            revision=14,
            region="oslo",
            unit=unit("u1", pb.UNIT_STATUS_EN_ROUTE),
        ),
        Ev(kind=Ev.KIND_UNIT_CHANGED, revision=15, region="oslo", unit=unit("u2")),
    ]
    for event in changes:
        state.apply(event)
    order = [i.id for i in state.open_incidents()]
    assert order == ["old-akutt", "new-akutt", "old-vanlig", "untriaged"]
    assert state.units[("oslo", "u1")].status == pb.UNIT_STATUS_EN_ROUTE
    assert state.resume_revision() == 16

    closed = incident("old-akutt", pb.URGENCY_AKUTT, status=pb.INCIDENT_STATUS_CLOSED)
    state.apply(Ev(kind=Ev.KIND_INCIDENT_CHANGED, revision=16, region="oslo", incident=closed))
    state.apply(
        Ev(kind=Ev.KIND_INCIDENT_REMOVED, revision=17, region="oslo", removed_id="new-akutt")
    )
    state.apply(Ev(kind=Ev.KIND_UNIT_REMOVED, revision=18, region="oslo", removed_id="u2"))
    state.apply(Ev(kind=Ev.KIND_INCIDENT_REMOVED, revision=19, region="oslo", removed_id="nope"))
    assert [i.id for i in state.open_incidents()] == ["old-vanlig", "untriaged"]
    assert [u.id for u in state.sorted_units()] == ["u1"]
    assert state.last_revision == 19


def test_board_move_between_regions_keeps_the_incident() -> None:
    state = BoardState()
    for event in snapshot(1, [incident("i1")], []):
        state.apply(event)
    moved = incident("i1")
    moved.region = "innlandet"
    state.apply(Ev(kind=Ev.KIND_INCIDENT_CHANGED, revision=2, region="innlandet", incident=moved))
    state.apply(Ev(kind=Ev.KIND_INCIDENT_REMOVED, revision=2, region="oslo", removed_id="i1"))
    assert [i.region for i in state.open_incidents()] == ["innlandet"]


def test_board_owner_change_and_resnapshot() -> None:
    clock = itertools.count(1000.0)
    state = BoardState(clock=lambda: next(clock), max_messages=2)
    for event in snapshot(5, [incident("gone")], [unit("u1")]):
        state.apply(event)
    region = pb.RegionStatus(id="oslo", owner_centre="vestre-viken", home_centre="oslo-amk")
    state.apply(
        Ev(
            kind=Ev.KIND_REGION_OWNER_CHANGED,
            revision=6,
            region="oslo",
            region_status=region,
            message="Region Oslo now served by AMK Vestre Viken",
        )
    )
    assert state.regions["oslo"].owner_centre == "vestre-viken"
    assert state.messages[-1] == (1000.0, "Region Oslo now served by AMK Vestre Viken")
    failing = pb.RegionStatus(id="oslo", home_centre="oslo-amk")
    state.apply(
        Ev(kind=Ev.KIND_REGION_OWNER_CHANGED, revision=7, region="oslo", region_status=failing)
    )
    assert state.messages[-1][1] == "Region oslo now served by nobody"
    state.note("third")
    assert len(state.messages) == 2
    state.note("third")
    state.note("third")
    assert [m[1] for m in state.messages] == ["Region oslo now served by nobody", "third (×3)"]

    # A broken snapshot is voided; a complete one replaces everything.
    state.apply(snapshot(20, [incident("half")], [])[0])
    state.reset_pending()
    for event in snapshot(30, [incident("fresh")], []):
        state.apply(event)
    assert [i.id for i in state.open_incidents()] == ["fresh"]
    assert state.units == {}
    assert state.resume_revision() == 31
    state.apply(Ev(kind=99, revision=32))  # a kind from a newer server is ignored
    assert state.resume_revision() == 33


def test_board_renders() -> None:
    state = BoardState()
    for event in snapshot(3, [incident("i1", pb.URGENCY_AKUTT)], [unit("u1")]):
        state.apply(event)
    state.note("hello")
    console = Console(file=io.StringIO(), width=160)
    console.print(render_board(state, "test"))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "i1" in out and "U1" in out and "AKUTT" in out and "hello" in out


# ---------------------------------------------------------------- rendering


def test_to_dict_shortens_enum_names_everywhere() -> None:
    inc = incident("i1", pb.URGENCY_AKUTT, status=pb.INCIDENT_STATUS_ON_SCENE, revision=2**40)
    inc.urgency_history.add(urgency=pb.URGENCY_HASTER, criteria_code="A.1")
    data = to_dict(inc)
    assert data["status"] == "on_scene"
    assert data["urgency"] == "akutt"
    assert data["urgency_history"][0]["urgency"] == "haster"
    assert data["revision"] == 2**40  # int64 as a number
    assert data["created_at"] == "1970-01-01T00:01:40Z"
    assert data["assigned_unit_ids"] == []  # stable keys

    event = to_dict(Ev(kind=Ev.KIND_UNIT_CHANGED, unit=pb.Unit(kind=pb.UNIT_KIND_HELICOPTER)))
    assert event["kind"] == "unit_changed"
    assert event["unit"]["kind"] == "helicopter"
    assert event["unit"]["crew"] == "unspecified"
    assert to_dict(pb.Unit(status=42))["status"] == 42  # unknown value stays a number

    docs = to_json_doc([unit("u1", pb.UNIT_STATUS_OUT_OF_SERVICE)])
    assert isinstance(docs, list) and docs[0]["status"] == "out_of_service"


def test_rich_renderers_run() -> None:
    inc = incident("i1", pb.URGENCY_AKUTT, address="Storgata 1", assigned_unit_ids=["u1"])
    inc.notes.add(text="calm caller", author="op1", at=ts(1_700_000_000))
    inc.position.CopyFrom(pb.Position(lat=59.9, lon=10.7, accuracy_m=25))
    status = pb.ClusterStatus(
        regions=[
            pb.RegionStatus(
                id="oslo",
                owner_centre="b",
                home_centre="a",
                fencing_token=7,
                last_takeover="b took over from a at token 7 in 3.1 ms",
            )
        ],
        centres=[pb.CentreStatus(id="a", alive=True, lease_id=0x1F, lease_ttl_s=2)],
        etcd_revision=12,
    )
    console = Console(file=io.StringIO(), width=200)
    for renderable in (
        incident_panel(inc),
        incidents_table([inc]),
        unit_panel(unit("u1")),
        units_table([unit("u1")]),
        cluster_status_renderable(status),
    ):
        console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    expected = ("calm caller", "Storgata 1", "±25 m", "b (backup)", "1f (2s)", "U1", "3.1 ms")
    for text in expected:
        assert text in out
    assert (format_age(5), format_age(192), format_age(3900)) == ("5s", "3m12s", "1h05m")


def test_a_regions_standbys_are_cut_to_the_first_three_and_a_count() -> None:
    """In the whole country a region's line names fifteen centres: the table shows the
    first three in claim order and how many more (all of them in --json)."""
    line = ["haugesund", "forde", "stavanger", *[f"c{i}" for i in range(12)]]
    status = pb.ClusterStatus(
        regions=[
            pb.RegionStatus(id="bergen", owner_centre="bergen", standbys=line),
            pb.RegionStatus(id="oslo", owner_centre="oslo", standbys=["innlandet"]),
        ]
    )
    console = Console(file=io.StringIO(), width=200)
    console.print(cluster_status_renderable(status))
    text = console.file.getvalue()
    assert "haugesund, forde, stavanger +12" in text and "c0" not in text
    assert "innlandet" in text and "+0" not in text
    assert to_json_doc(status)["regions"][0]["standbys"] == line
