"""The ``amk`` command: start a cluster, and drive one as a call-taker or dispatcher.

Output is for people by default (rich) and one JSON document with ``--json``. Exit codes
tell scripts what kind of failure happened: 2 the request was wrong (INVALID_ARGUMENT,
NOT_FOUND, FAILED_PRECONDITION; also usage errors), 3 the cluster could not answer in
time (UNAVAILABLE, DEADLINE_EXCEEDED, worth retrying later), 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import Message
from rich.console import Console, RenderableType
from rich.text import Text

from clients.client import (
    CALL_STATUS,
    INCIDENT_STATUS,
    UNIT_KIND,
    UNIT_STATUS,
    URGENCY,
    AmkClient,
    AmkClientError,
    enum_choices,
    enum_name,
)
from clients.render import (
    assignment_renderable,
    cluster_status_renderable,
    incident_panel,
    incidents_table,
    to_dict,
    to_json_doc,
    unit_panel,
    units_table,
)
from cluster.config import ClusterConfig
from cluster.errors import ConfigError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_REQUEST = 2
EXIT_UNAVAILABLE = 3

_EXIT_BY_CODE: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: EXIT_BAD_REQUEST,
    grpc.StatusCode.NOT_FOUND: EXIT_BAD_REQUEST,
    grpc.StatusCode.FAILED_PRECONDITION: EXIT_BAD_REQUEST,
    grpc.StatusCode.UNAVAILABLE: EXIT_UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: EXIT_UNAVAILABLE,
}


def exit_code_for(code: grpc.StatusCode) -> int:
    """Process exit status for a failed call's gRPC status."""
    return _EXIT_BY_CODE.get(code, EXIT_ERROR)


# ---------------------------------------------------------------- running a command


@dataclass
class Context:
    """What a command handler needs: its arguments, a console, a client made on demand
    (``amk up`` and ``--help`` must not need a reachable gateway)."""

    args: argparse.Namespace
    console: Console = field(default_factory=Console)
    _client: AmkClient | None = None

    def client(self) -> AmkClient:
        if self._client is None:
            self._client = AmkClient(
                self.args.gateway or _configured_gateways(),
                timeout_s=self.args.timeout,
                identity=self.args.identity,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def emit(self, result: Message | list[Any], human: Callable[[Any], RenderableType]) -> int:
        """Print a result: one JSON document, or the human rendering."""
        if self.args.json:
            print(json.dumps(to_json_doc(result), indent=2, ensure_ascii=False))
        else:
            self.console.print(human(result))
        return EXIT_OK


def _configured_gateways() -> list[str] | None:
    # The settings file written for ``amk up`` may move the gateways off the default
    # port; fall back to the client's own default (AMK_GATEWAY, then localhost) if the
    # settings cannot be read: talking to a cluster must not depend on them.
    try:
        return ClusterConfig.load().gateways
    except ConfigError:
        return None


def _listing(
    render: Callable[[Any], RenderableType], empty: str
) -> Callable[[Any], RenderableType]:
    def human(items: list[Any]) -> RenderableType:
        return render(items) if items else Text(empty, style="dim")

    return human


def _regions(args: argparse.Namespace) -> list[str]:
    return list(args.region or [])


# ---------------------------------------------------------------- handlers


def cmd_up(ctx: Context) -> int:
    """Start the cluster in the foreground (the launcher lives in its own module)."""
    try:
        from clients.launcher import run_up  # lazily: optional, and heavy (Ray, etcd)
    except ModuleNotFoundError as exc:
        if exc.name != "clients.launcher":
            raise
        print("error: UNIMPLEMENTED: 'amk up' is not available in this build", file=sys.stderr)
        return EXIT_ERROR
    return int(run_up(ctx.args))


def cmd_status(ctx: Context) -> int:
    return ctx.emit(ctx.client().cluster_status(), cluster_status_renderable)


def cmd_incident_create(ctx: Context) -> int:
    a = ctx.args
    incident = ctx.client().create_incident(
        region=a.region,
        lat=a.lat,
        lon=a.lon,
        accuracy_m=a.accuracy,
        address=a.address,
        caller_number=a.caller,
        complaint_chapter=a.chapter,
        criteria_code=a.criteria,
        notes=a.notes,
        call_id=a.call,
        request_id=a.request_id,
    )
    return ctx.emit(incident, incident_panel)


def cmd_incident_list(ctx: Context) -> int:
    a = ctx.args
    incidents = ctx.client().list_incidents(
        regions=_regions(a), status=a.status, urgency=a.urgency, include_closed=a.all
    )
    return ctx.emit(incidents, _listing(incidents_table, "no incidents"))


def cmd_incident_show(ctx: Context) -> int:
    return ctx.emit(ctx.client().get_incident(ctx.args.id), incident_panel)


def cmd_incident_triage(ctx: Context) -> int:
    a = ctx.args
    incident = ctx.client().triage_incident(a.id, a.code, request_id=a.request_id)
    return ctx.emit(incident, incident_panel)


def cmd_incident_status(ctx: Context) -> int:
    a = ctx.args
    incident = ctx.client().change_incident_status(a.id, a.status, request_id=a.request_id)
    return ctx.emit(incident, incident_panel)


def cmd_incident_note(ctx: Context) -> int:
    a = ctx.args
    incident = ctx.client().add_incident_note(a.id, " ".join(a.text), request_id=a.request_id)
    return ctx.emit(incident, incident_panel)


def cmd_incident_export(ctx: Context) -> int:
    """Print the incident as a NENA EIDO document (always JSON: it is the format)."""
    doc = ctx.client().export_incident(ctx.args.id)
    text = json.dumps(json.loads(doc), indent=2, ensure_ascii=False)
    if ctx.args.output:
        Path(ctx.args.output).write_text(text + "\n")
    else:
        print(text)
    return EXIT_OK


def cmd_incident_import(ctx: Context) -> int:
    a = ctx.args
    try:
        doc = sys.stdin.read() if a.file == "-" else Path(a.file).read_text()
    except OSError as exc:
        raise ValueError(f"cannot read {a.file}: {exc}") from exc
    resp = ctx.client().import_incident(a.region, doc, request_id=a.request_id)
    if not a.json:
        for warning in resp.warnings:
            ctx.console.print(Text(f"warning: {warning}", style="yellow"))
    return ctx.emit(resp.incident, incident_panel)


def _region_line(status: Message) -> RenderableType:
    return Text(
        f"{status.id}: served by {status.owner_centre or '(nobody)'} "
        f"(home {status.home_centre}), fencing token {status.fencing_token}"
    )


def cmd_handover_region(ctx: Context) -> int:
    a = ctx.args
    status = ctx.client().hand_over_region(a.region, a.to, request_id=a.request_id)
    return ctx.emit(status, _region_line)


def cmd_handback_region(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().hand_back_region(a.region, request_id=a.request_id), _region_line)


def cmd_handover_incident(ctx: Context) -> int:
    a = ctx.args
    incident = ctx.client().hand_over_incident(a.id, a.to_region, request_id=a.request_id)
    return ctx.emit(incident, incident_panel)


def cmd_handover_unit(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().lend_unit(a.id, a.to_region, request_id=a.request_id), unit_panel)


def _call_line(call: Message) -> RenderableType:
    text = f"{call.id} [{enum_name(call.status, CALL_STATUS)}] region {call.region}"
    if call.answered_by:
        text += f", answered by {call.answered_by} ({call.call_taker})"
    if call.shared_to:
        text += f", shared to {call.shared_to}"
    if call.incident_id:
        text += f", incident {call.incident_id}"
    return Text(text)


def _calls_lines(calls: list[Any]) -> RenderableType:
    return Text("\n".join(_call_line(c).plain for c in calls))


def cmd_call_receive(ctx: Context) -> int:
    a = ctx.args
    call = ctx.client().receive_call(
        a.lat, a.lon, a.accuracy, a.caller, a.urgency, request_id=a.request_id
    )
    return ctx.emit(call, _call_line)


def cmd_call_list(ctx: Context) -> int:
    a = ctx.args
    calls = ctx.client().list_calls(regions=_regions(a), status=a.status)
    return ctx.emit(calls, _listing(_calls_lines, "no calls"))


def cmd_call_answer(ctx: Context) -> int:
    a = ctx.args
    call = ctx.client().answer_next_call(a.centre, a.call_taker, request_id=a.request_id)
    if call is None:
        if a.json:
            print("null")
        else:
            ctx.console.print(Text("no call waiting", style="dim"))
        return EXIT_OK
    return ctx.emit(call, _call_line)


def cmd_call_link(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().link_call(a.call, a.incident, request_id=a.request_id), _call_line)


def cmd_call_abandon(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().abandon_call(a.call, request_id=a.request_id), _call_line)


def cmd_call_metrics(ctx: Context) -> int:
    metrics = ctx.client().call_metrics(regions=_regions(ctx.args))

    def human(m: Message) -> RenderableType:
        return Text(
            "\n".join(
                f"{r.region}: {r.received} received, {r.answered} answered "
                f"({r.answered_within_10s:.0%} within 10 s; target 90 %), "
                f"p50 {r.answer_p50_s:.1f} s, p90 {r.answer_p90_s:.1f} s, "
                f"{r.overflowed} overflowed, {r.shared} shared, "
                f"{r.waiting} waiting"
                for r in m.regions
            )
        )

    return ctx.emit(metrics, human)


def cmd_signin(ctx: Context) -> int:
    a = ctx.args
    status = ctx.client().sign_in(a.centre, a.call_taker)
    return ctx.emit(
        status,
        lambda s: Text(
            f"{s.call_taker} signed in at {s.centre}: {s.free_call_takers} of "
            f"{s.signed_in_call_takers} call-takers free"
        ),
    )


def cmd_signout(ctx: Context) -> int:
    a = ctx.args
    status = ctx.client().sign_out(a.centre, a.call_taker)
    return ctx.emit(status, lambda s: Text(f"{s.call_taker} signed out of {s.centre}"))


def cmd_sharing(ctx: Context) -> int:
    a = ctx.args
    resp = ctx.client().set_call_sharing(a.region, a.mode == "on", request_id=a.request_id)
    return ctx.emit(
        resp,
        lambda r: Text(f"{r.region}: new calls {'shared with partners' if r.sharing else 'kept'}"),
    )


def cmd_recommend(ctx: Context) -> int:
    recs = ctx.client().recommend_units(ctx.args.incident, limit=ctx.args.limit)

    def human(items: list[Any]) -> RenderableType:
        if not items:
            return Text("no available unit", style="dim")
        return Text(
            "\n".join(
                f"{r.rank:>2}. {r.unit.call_sign} ({r.unit.id}, {r.unit.region}) "
                f"ETA {r.eta_s / 60:.1f} min: {r.reason}" + (f" [{r.note}]" if r.note else "")
                for r in items
            )
        )

    return ctx.emit(recs, human)


def cmd_drill(ctx: Context) -> int:
    """Run a failover drill (``python -m chaos``): a subprocess, so the CLI does not import
    the chaos package (it sits above clients in the layering)."""
    import subprocess

    argv = [sys.executable, "-m", "chaos", *ctx.args.drill_args]
    return subprocess.call(argv)


def _major_text(m: Message) -> RenderableType:
    lines = [
        f"{m.id} [{m.status}] {m.kind} in {m.region}, {m.expected_patients} patients expected",
        f"  incidents: {', '.join(m.incident_ids) or '-'}",
        f"  reserved units: {', '.join(m.reserved_unit_ids) or '-'}",
        f"  actor pid: {m.actor_pid or 'not running'}",
        "  timeline:",
        *(f"    {t.who}: {t.text}" for t in m.timeline),
    ]
    return Text("\n".join(lines))


def cmd_major_declare(ctx: Context) -> int:
    a = ctx.args
    m = ctx.client().declare_major_incident(
        a.region, a.lat, a.lon, a.kind, a.patients, request_id=a.request_id
    )
    return ctx.emit(m, _major_text)


def cmd_major_status(ctx: Context) -> int:
    if ctx.args.id:
        return ctx.emit(ctx.client().major_incident(ctx.args.id), _major_text)
    majors = ctx.client().list_major_incidents()
    return ctx.emit(
        majors,
        _listing(
            lambda ms: Text("\n\n".join(_major_text(m).plain for m in ms)), "no major incidents"
        ),
    )


def cmd_major_link(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(
        ctx.client().link_to_major_incident(a.id, a.incidents, request_id=a.request_id),
        _major_text,
    )


def cmd_major_reserve(ctx: Context) -> int:
    a = ctx.args
    return ctx.emit(ctx.client().reserve_units(a.id, a.units, request_id=a.request_id), _major_text)


def cmd_major_standdown(ctx: Context) -> int:
    a = ctx.args
    m = ctx.client().stand_down_major_incident(a.id, request_id=a.request_id)
    return ctx.emit(m, _major_text)


def cmd_unit_list(ctx: Context) -> int:
    a = ctx.args
    units = ctx.client().list_units(regions=_regions(a), status=a.status, kind=a.kind)
    return ctx.emit(units, _listing(units_table, "no units"))


def cmd_unit_show(ctx: Context) -> int:
    return ctx.emit(ctx.client().get_unit(ctx.args.id), unit_panel)


def cmd_unit_status(ctx: Context) -> int:
    a = ctx.args
    unit = ctx.client().change_unit_status(a.id, a.status, request_id=a.request_id)
    return ctx.emit(unit, unit_panel)


def cmd_unit_position(ctx: Context) -> int:
    a = ctx.args
    unit = ctx.client().report_unit_position(
        a.id, a.lat, a.lon, accuracy_m=a.accuracy, request_id=a.request_id
    )
    return ctx.emit(unit, unit_panel)


def cmd_assign(ctx: Context) -> int:
    a = ctx.args
    assignment = ctx.client().assign_unit(a.incident, a.unit, request_id=a.request_id)
    return ctx.emit(assignment, assignment_renderable)


def cmd_release(ctx: Context) -> int:
    a = ctx.args
    assignment = ctx.client().release_unit(a.incident, a.unit, request_id=a.request_id)
    return ctx.emit(assignment, assignment_renderable)


def cmd_watch(ctx: Context) -> int:
    """The live board; with ``--json``, the raw events, one JSON object per line."""
    client = ctx.client()
    regions = _regions(ctx.args)
    if not ctx.args.json:
        from clients.board import run_board  # lazily: only this command needs it

        return run_board(client, regions, refresh_hz=ctx.args.refresh, console=ctx.console)
    # An endless document cannot be "one JSON document": JSON lines let `jq` follow it.
    with client.watch(regions, from_revision=ctx.args.from_revision) as stream:
        try:
            for event in stream:
                print(json.dumps(to_dict(event), ensure_ascii=False), flush=True)
        except KeyboardInterrupt:
            pass
    return EXIT_OK


# ---------------------------------------------------------------- the parser


def _global_options(parser: argparse.ArgumentParser, *, in_subcommand: bool) -> None:
    # Added twice: to the top parser with real defaults, and to every subcommand with
    # SUPPRESS, so `amk --json incident list` and `amk incident list --json` both work
    # without the subcommand's absent flag overwriting the top-level one.
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if in_subcommand else value

    parser.add_argument(
        "--gateway",
        metavar="ADDR[,ADDR]",
        default=default(None),
        help="gateway address(es) to use, tried in order "
        "(default: $AMK_GATEWAY, the settings file, else 127.0.0.1:50051)",
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=_positive_float,
        default=default(5.0),
        help="time budget per command in seconds, retries included (default: 5)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print one JSON document instead of tables",
    )
    parser.add_argument(
        "--identity",
        metavar="NAME",
        default=default(os.environ.get("AMK_IDENTITY", "console")),
        help="who is acting, recorded with every change (default: $AMK_IDENTITY or console)",
    )


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _request_id_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--request-id",
        metavar="ID",
        help="idempotency key; repeating a command with the same id changes nothing twice "
        "(default: a fresh random id)",
    )


def _region_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--region",
        metavar="R",
        action="append",
        help=f"only {what} of this region; repeat or comma-separate for several (default: all)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full ``amk`` argument parser (separate from running, so tests can parse)."""
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, in_subcommand=True)

    parser = argparse.ArgumentParser(
        prog="amk",
        description="AMK dispatch cluster: start it, and drive it from the command line.",
        epilog="Exit status: 0 ok, 1 other error, 2 bad request (invalid argument, not found, "
        "illegal transition), 3 cluster unavailable or timed out.",
    )
    _global_options(parser, in_subcommand=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        group: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        handler: Callable[[Context], int] | None,
        help: str,
        *,
        parents: Sequence[argparse.ArgumentParser] = (common,),
    ) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=help, description=help, parents=list(parents))
        if handler is not None:
            sub.set_defaults(handler=handler)
        return sub

    up = command(commands, "up", cmd_up, "start etcd, Ray, the centres and a gateway", parents=())
    up.add_argument("--config", metavar="PATH", type=Path, help="settings file (TOML)")
    up.add_argument("--home", metavar="DIR", type=Path, help="state folder (default: ./.amk)")
    up.add_argument(
        "--etcd",
        metavar="HOST:PORT,...",
        help="use these etcd endpoints (default: start an embedded etcd)",
    )
    up.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster")
    up.add_argument(
        "--gateway",
        metavar="ADDR",
        default=argparse.SUPPRESS,  # keeps a top-level `amk --gateway X up`
        help="address the gateway listens on",
    )

    command(commands, "status", cmd_status, "centres, region owners, fencing tokens, leases")

    incident = command(commands, "incident", None, "create, list, triage and update incidents")
    inc = incident.add_subparsers(dest="incident_command", metavar="ACTION", required=True)

    create = command(inc, "create", cmd_incident_create, "register a new incident (a call)")
    create.add_argument("--region", required=True, help="region that serves the incident")
    create.add_argument("--lat", type=float, required=True, help="latitude, WGS84 degrees")
    create.add_argument("--lon", type=float, required=True, help="longitude, WGS84 degrees")
    create.add_argument("--accuracy", type=float, default=0.0, metavar="M", help="metres")
    create.add_argument("--address", default="", help="street address or place")
    create.add_argument("--caller", default="", metavar="NUMBER", help="caller's phone number")
    create.add_argument("--chapter", type=int, default=0, help="index chapter, if known")
    create.add_argument(
        "--criteria", default="", metavar="CODE", help="criteria code, e.g. A.10.01 (triages)"
    )
    create.add_argument("--notes", default="", help="free text")
    create.add_argument("--call", default="", metavar="CALL", help="the answered call it is from")
    _request_id_option(create)

    listing = command(inc, "list", cmd_incident_list, "list incidents (open ones by default)")
    _region_option(listing, "incidents")
    listing.add_argument("--status", choices=enum_choices(INCIDENT_STATUS))
    listing.add_argument("--urgency", choices=enum_choices(URGENCY))
    listing.add_argument("--all", action="store_true", help="include closed and cancelled")

    show = command(inc, "show", cmd_incident_show, "show one incident in full")
    show.add_argument("id", metavar="ID")

    triage = command(inc, "triage", cmd_incident_triage, "set the criteria code (and urgency)")
    triage.add_argument("id", metavar="ID")
    triage.add_argument("code", metavar="CODE", help="criteria code, e.g. A.10.01")
    _request_id_option(triage)

    status = command(inc, "status", cmd_incident_status, "move an incident to a new status")
    status.add_argument("id", metavar="ID")
    status.add_argument(
        "status",
        metavar="STATUS",
        choices=enum_choices(INCIDENT_STATUS),
        help="one of: " + ", ".join(enum_choices(INCIDENT_STATUS)),
    )
    _request_id_option(status)

    note = command(inc, "note", cmd_incident_note, "add a note to an incident")
    note.add_argument("id", metavar="ID")
    note.add_argument("text", metavar="TEXT", nargs="+", help="words are joined with spaces")
    _request_id_option(note)

    export = command(inc, "export", cmd_incident_export, "the incident as a NENA EIDO document")
    export.add_argument("--eido", dest="id", metavar="ID", required=True, help="incident id")
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")

    imp = command(inc, "import", cmd_incident_import, "a NENA EIDO document as a new incident")
    imp.add_argument("file", metavar="FILE", help="EIDO JSON file, or - for stdin")
    imp.add_argument("--region", required=True, help="region that will serve it")
    _request_id_option(imp)

    unit = command(commands, "unit", None, "list units and report their status and position")
    un = unit.add_subparsers(dest="unit_command", metavar="ACTION", required=True)

    unit_list = command(un, "list", cmd_unit_list, "list units")
    _region_option(unit_list, "units")
    unit_list.add_argument("--status", choices=enum_choices(UNIT_STATUS))
    unit_list.add_argument("--kind", choices=enum_choices(UNIT_KIND))

    unit_show = command(un, "show", cmd_unit_show, "show one unit")
    unit_show.add_argument("id", metavar="ID")

    unit_status = command(un, "status", cmd_unit_status, "report a unit's status")
    unit_status.add_argument("id", metavar="ID")
    unit_status.add_argument(
        "status",
        metavar="STATUS",
        choices=enum_choices(UNIT_STATUS),
        help="one of: " + ", ".join(enum_choices(UNIT_STATUS)),
    )
    _request_id_option(unit_status)

    position = command(un, "position", cmd_unit_position, "report a unit's position")
    position.add_argument("id", metavar="ID")
    position.add_argument("lat", metavar="LAT", type=float)
    position.add_argument("lon", metavar="LON", type=float)
    position.add_argument("--accuracy", type=float, default=0.0, metavar="M", help="metres")
    _request_id_option(position)

    rec = command(commands, "recommend", cmd_recommend, "units ranked by ETA for an incident")
    rec.add_argument("incident", metavar="INCIDENT")
    rec.add_argument("--limit", type=int, default=10)

    assign = command(commands, "assign", cmd_assign, "dispatch a unit to an incident")
    release = command(commands, "release", cmd_release, "take a unit off an incident")
    for sub in (assign, release):
        sub.add_argument("incident", metavar="INCIDENT")
        sub.add_argument("unit", metavar="UNIT")
        _request_id_option(sub)

    call = command(commands, "call", None, "113 calls: receive, list, answer, link, abandon")
    cl = call.add_subparsers(dest="call_command", metavar="ACTION", required=True)
    recv = command(cl, "receive", cmd_call_receive, "queue a call (the telephony side)")
    recv.add_argument("--lat", type=float, required=True)
    recv.add_argument("--lon", type=float, required=True)
    recv.add_argument("--accuracy", type=float, default=0.0, metavar="M")
    recv.add_argument("--caller", default="", metavar="NUMBER")
    recv.add_argument("--urgency", choices=enum_choices(URGENCY), help="hint, e.g. eCall")
    _request_id_option(recv)
    call_list = command(cl, "list", cmd_call_list, "waiting and answered calls")
    _region_option(call_list, "calls")
    call_list.add_argument("--status", choices=enum_choices(CALL_STATUS))
    ans = command(cl, "answer", cmd_call_answer, "answer the next call this centre serves")
    ans.add_argument("--centre", required=True)
    ans.add_argument("--as", dest="call_taker", required=True, metavar="CALL_TAKER")
    _request_id_option(ans)
    link = command(cl, "link", cmd_call_link, "link an answered call to an incident")
    link.add_argument("call", metavar="CALL")
    link.add_argument("incident", metavar="INCIDENT")
    _request_id_option(link)
    abandon = command(cl, "abandon", cmd_call_abandon, "the caller hung up before an answer")
    abandon.add_argument("call", metavar="CALL")
    _request_id_option(abandon)
    metrics = command(cl, "metrics", cmd_call_metrics, "answer times against the 10 s target")
    _region_option(metrics, "calls")

    for name, handler, text in (
        ("signin", cmd_signin, "sign a call-taker in at a centre"),
        ("signout", cmd_signout, "sign a call-taker out"),
    ):
        sign = command(commands, name, handler, text)
        sign.add_argument("centre", metavar="CENTRE")
        sign.add_argument("call_taker", metavar="CALL_TAKER")

    sharing = command(commands, "sharing", cmd_sharing, "share a region's new calls, or stop")
    sharing.add_argument("region", metavar="REGION")
    sharing.add_argument("mode", choices=["on", "off"])
    _request_id_option(sharing)

    drill = command(
        commands, "drill", cmd_drill, "run a failover drill (python -m chaos)", parents=()
    )
    drill.add_argument(
        "drill_args",
        nargs=argparse.REMAINDER,
        metavar="SCENARIO ...",
        help="scenario file and options, e.g. chaos/scenarios/kill-centre.toml --report-dir DIR",
    )

    major = command(commands, "major", None, "major incidents: declare, status, link, standdown")
    mj = major.add_subparsers(dest="major_command", metavar="ACTION", required=True)
    declare = command(mj, "declare", cmd_major_declare, "declare a major incident")
    declare.add_argument("--region", required=True)
    declare.add_argument("--lat", type=float, required=True)
    declare.add_argument("--lon", type=float, required=True)
    declare.add_argument("--kind", required=True, help='e.g. "bus accident"')
    declare.add_argument("--patients", type=int, default=0, help="expected patients")
    _request_id_option(declare)
    mstatus = command(mj, "status", cmd_major_status, "one major incident, or all")
    mstatus.add_argument("id", metavar="ID", nargs="?")
    mlink = command(mj, "link", cmd_major_link, "link incidents to a major incident")
    mlink.add_argument("id", metavar="ID")
    mlink.add_argument("incidents", metavar="INCIDENT", nargs="+")
    mres = command(mj, "reserve", cmd_major_reserve, "reserve units for a major incident")
    mres.add_argument("id", metavar="ID")
    mres.add_argument("units", metavar="UNIT", nargs="+")
    mdown = command(mj, "standdown", cmd_major_standdown, "stand a major incident down")
    mdown.add_argument("id", metavar="ID")
    for sub in (mlink, mres, mdown):
        _request_id_option(sub)

    handover = command(commands, "handover", None, "hand an incident, unit or region over")
    ho = handover.add_subparsers(dest="handover_command", metavar="WHAT", required=True)
    ho_inc = command(ho, "incident", cmd_handover_incident, "move an incident (and its units)")
    ho_inc.add_argument("id", metavar="ID")
    ho_inc.add_argument("--to-region", required=True, metavar="REGION")
    ho_unit = command(ho, "unit", cmd_handover_unit, "lend an available unit to a region")
    ho_unit.add_argument("id", metavar="ID")
    ho_unit.add_argument("--to-region", required=True, metavar="REGION")
    ho_reg = command(ho, "region", cmd_handover_region, "move a whole region to another centre")
    ho_reg.add_argument("region", metavar="REGION")
    ho_reg.add_argument("--to", required=True, metavar="CENTRE", help="centre id, e.g. oslo")
    for sub in (ho_inc, ho_unit, ho_reg):
        _request_id_option(sub)

    handback = command(commands, "handback", None, "give a region back to its home centre")
    hb = handback.add_subparsers(dest="handback_command", metavar="WHAT", required=True)
    hb_reg = command(hb, "region", cmd_handback_region, "give a region back to its home centre")
    hb_reg.add_argument("region", metavar="REGION")
    _request_id_option(hb_reg)

    watch = command(commands, "watch", cmd_watch, "live board of incidents and units")
    _region_option(watch, "events")
    watch.add_argument(
        "--refresh",
        type=_positive_float,
        default=4.0,
        metavar="HZ",
        help="redraws per second (default: 4)",
    )
    watch.add_argument(
        "--from-revision",
        type=int,
        default=0,
        metavar="REV",
        help="with --json: replay events from this revision (default: snapshot)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``amk`` script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["drill"] and argv[1:2] not in (["-h"], ["--help"]):
        # Everything after "drill" belongs to the drill runner, options included.
        import subprocess

        return subprocess.call([sys.executable, "-m", "chaos", *argv[1:]])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error, already printed (2)
        if exc.code is None:
            return EXIT_OK
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_REQUEST
    ctx = Context(args)
    try:
        return int(args.handler(ctx))
    except AmkClientError as err:
        print(f"error: {err.code.name}: {err.details}", file=sys.stderr)
        return exit_code_for(err.code)
    except ValueError as err:  # refused before sending (bad address list, identity, ...)
        print(f"error: INVALID_ARGUMENT: {err}", file=sys.stderr)
        return EXIT_BAD_REQUEST
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
