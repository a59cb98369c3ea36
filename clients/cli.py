"""The ``amk`` command: start a cluster, and drive one as a call-taker or dispatcher.

Output is for people by default (rich) and one JSON document with ``--json``. Exit codes
tell scripts what kind of failure happened: 2 the request was wrong (INVALID_ARGUMENT,
NOT_FOUND, FAILED_PRECONDITION; also usage errors), 3 the cluster could not answer in
time (UNAVAILABLE, DEADLINE_EXCEEDED, worth retrying later), 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc
from rich.text import Text

from clients.cli_air import add_air_commands
from clients.cli_alerts import add_alert_commands
from clients.cli_auth import add_auth_commands
from clients.cli_backup import add_backup_commands
from clients.cli_base import (
    EXIT_BAD_REQUEST,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    Context,
    _global_options,
    _health_region_option,
    _listing,
    _positive_float,
    _region_option,
    _regions,
    _request_id_option,
    etcd_endpoints,
    exit_code_for,
)
from clients.cli_history import add_history_commands
from clients.cli_hospital import add_hospital_commands
from clients.cli_incident import add_incident_commands
from clients.cli_ops import add_ops_commands
from clients.cli_review import add_review_commands
from clients.cli_revoke import add_user_commands
from clients.client import (
    INCIDENT_STATUS,
    UNIT_KIND,
    UNIT_STATUS,
    URGENCY,
    AmkClientError,
    enum_choices,
)
from clients.health_regions import (
    check_health_regions,
    parse_health_regions,
    regions_in,
    select_health_regions,
)
from clients.kpi import add_kpi_command, parse_at
from clients.render import (
    assignment_renderable,
    cluster_status_renderable,
    incident_panel,
    incidents_table,
    to_dict,
    unit_panel,
    units_table,
)
from clients.up_tls import add_cert_command
from cluster.errors import ConfigError

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
    """Centres and regions grouped by health region; ``--health-region`` keeps only
    those (checked against the running cluster's, whose ids an unknown one is told)."""
    asked = parse_health_regions(ctx.args.health_region)
    status = select_health_regions(ctx.client().cluster_status(), asked)
    return ctx.emit(status, cluster_status_renderable)


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
    if not a.json:  # with --json they are in the document
        for warning in incident.warnings:
            ctx.console.print(Text(f"warning: {warning}", style="yellow"))
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
        print(f"wrote {ctx.args.output} ({ctx.args.id})", file=sys.stderr)
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


def cmd_unit_list(ctx: Context) -> int:
    a = ctx.args
    units = ctx.client().list_units(regions=_regions(a), status=a.status, kind=a.kind)
    return ctx.emit(units, _listing(units_table, "no units"))


def cmd_unit_show(ctx: Context) -> int:
    return ctx.emit(ctx.client().get_unit(ctx.args.id), unit_panel)


def cmd_unit_status(ctx: Context) -> int:
    a = ctx.args
    unit = ctx.client().change_unit_status(a.id, a.status, a.request_id, a.at)
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
    assignment = ctx.client().release_unit(
        a.incident, a.unit, request_id=a.request_id, reason=a.reason
    )
    return ctx.emit(assignment, assignment_renderable)


def cmd_divert(ctx: Context) -> int:
    a = ctx.args
    client = ctx.client()
    assignment = client.divert_unit(a.unit, a.to, a.from_, a.reason, request_id=a.request_id)
    return ctx.emit(assignment, assignment_renderable)


def cmd_watch(ctx: Context) -> int:
    """The live board; with ``--json``, the raw events, one JSON object per line."""
    if not ctx.args.json and not ctx.console.is_terminal:
        # The live board redraws a terminal's screen: piped or redirected, it would
        # write nothing at all, which looks like a board with nothing on it.
        print(
            "amk watch: the live board needs a terminal; piped or redirected, use"
            " --json (one event per line)",
            file=sys.stderr,
        )
        return 2
    client = ctx.client()
    regions = _regions(ctx.args)
    asked = parse_health_regions(ctx.args.health_region)
    shown: set[str] | None = None  # regions whose events are shown; None: all
    if asked:
        status = client.cluster_status()
        check_health_regions(asked, status)
        shown = regions_in(status, asked)
    if not ctx.args.json:
        from clients.board import run_board  # lazily: only this command needs it

        return run_board(
            client,
            regions,
            refresh_hz=ctx.args.refresh,
            console=ctx.console,
            health_regions=asked,
            shown_regions=shown,
        )
    # An endless document cannot be "one JSON document": JSON lines let `jq` follow it.
    with client.watch(regions, from_revision=ctx.args.from_revision) as stream:
        try:
            for event in stream:
                if shown is not None and event.region and event.region not in shown:
                    continue
                print(json.dumps(to_dict(event), ensure_ascii=False), flush=True)
        except KeyboardInterrupt:
            pass
    return EXIT_OK


def cmd_etcd_defrag(ctx: Context) -> int:
    """Defragment etcd one member at a time (``cluster.etcd_maintenance``), printing each
    member's database size before and after as it is done."""
    import asyncio
    from dataclasses import asdict

    from cluster.config import ClusterConfig
    from cluster.errors import AmkError
    from cluster.etcd_maintenance import DefragResult, defragment
    from cluster.etcd_tls import etcd_tls
    from cluster.logs import configure as configure_logs

    configure_logs("warning")  # stderr, so stdout stays the result (one JSON document)
    try:
        config = ClusterConfig.load()
        root = etcd_tls(config, "root")  # etcd lets only its root role defragment
    except AmkError as exc:
        raise ValueError(exc.message) from exc
    endpoints = etcd_endpoints(ctx.args.etcd, config)

    def show(r: DefragResult) -> None:
        if not ctx.args.json:
            mib = (r.before.db_size / 2**20, r.after.db_size / 2**20)
            print(f"{r.endpoint}: {mib[0]:.1f} MiB -> {mib[1]:.1f} MiB in {r.took_s} s")

    try:
        results = asyncio.run(defragment(endpoints, tls=root, on_member=show))
    except AmkError as exc:
        print(f"error: UNAVAILABLE: {exc.message}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if ctx.args.json:
        doc = [{"endpoint": r.endpoint, **asdict(r)} for r in results]
        print(json.dumps(doc, indent=2))
    return EXIT_OK


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

    up = command(
        commands, "up", cmd_up, "start etcd, Ray, the centres and the gateways", parents=()
    )
    up.add_argument("--config", metavar="PATH", type=Path, help="settings file (TOML)")
    up.add_argument(
        "--home",
        metavar="DIR",
        type=Path,
        help="state folder (default: the nearest .amk here or above, else ./.amk)",
    )
    up.add_argument(
        "--etcd",
        metavar="HOST:PORT,...",
        help="use these etcd endpoints (default: start an embedded etcd)",
    )
    up.add_argument(
        "--seed",
        metavar="FILE",
        type=Path,
        help="seed file (default: Helse Sør-Øst; cluster/seed/norway.toml: all sixteen centres)",
    )
    up.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster")
    up.add_argument(
        "--site",
        metavar="NAME",
        help="this site's name (one Ray cluster; several sites share one etcd; "
        "refused if a site of that name is live)",
    )
    up.add_argument(
        "--ray-token-file",
        metavar="FILE",
        help="the joined Ray cluster's token (its head's ~/.ray/auth_token), if not in "
        "RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token",
    )
    up.add_argument(
        "--ray-tls",
        action="store_true",
        default=argparse.SUPPRESS,
        help="join the --ray-address cluster with Ray's TLS: RAY_TLS_* if set, else the "
        "pki folder's ray-node.crt|key and ca.crt (`amk cert ray`)",
    )
    up.add_argument(
        "--insecure",
        action="store_true",
        default=argparse.SUPPRESS,
        help="DEVELOPMENT ONLY: TLS off on every port, nobody authenticated "
        "(also insecure = true in amk.toml, $AMK_INSECURE=1)",
    )
    up.add_argument(
        "--pki",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="folder of the CA and certificates (default: $AMK_PKI, else $AMK_HOME/pki); "
        "sites of one deployment share it",
    )
    up.add_argument(
        "--gateway",
        metavar="ADDR",
        default=argparse.SUPPRESS,  # keeps a top-level `amk --gateway X up`
        help="address(es) the gateways listen on, comma-separated",
    )
    up.add_argument(
        "--web",
        metavar="ADDRESS|off",
        default=argparse.SUPPRESS,
        help="where the dispatchers' web console listens (default 127.0.0.1:8080, "
        "setting web_address); off: no web console",
    )
    up.add_argument(
        "--web-dev-login",
        action="store_true",
        default=argparse.SUPPRESS,
        help="DEVELOPMENT ONLY: the web console's login also takes a user, role and "
        "centre and signs with the local issuer (anyone reaching the port picks a role)",
    )

    status = command(
        commands, "status", cmd_status, "centres, region owners, fencing tokens, leases"
    )
    _health_region_option(status, "centres and regions")

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
    add_history_commands(inc, commands, command)
    add_alert_commands(commands, command, _request_id_option)
    add_hospital_commands(commands, command, _request_id_option)
    add_air_commands(commands, command, _request_id_option)

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
    add_incident_commands(inc, command)

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
    unit_status.add_argument(
        "--at",
        type=parse_at,
        metavar="WHEN",
        help="when it happened, if reported later (14:32 today, 5m ago, or an ISO time)",
    )
    _request_id_option(unit_status)

    position = command(un, "position", cmd_unit_position, "report a unit's position")
    position.add_argument("id", metavar="ID")
    position.add_argument("lat", metavar="LAT", type=float)
    position.add_argument("lon", metavar="LON", type=float)
    position.add_argument("--accuracy", type=float, default=0.0, metavar="M", help="metres")
    _request_id_option(position)

    assign = command(commands, "assign", cmd_assign, "dispatch a unit to an incident")
    release = command(commands, "release", cmd_release, "take a unit off an incident")
    for sub in (assign, release):
        sub.add_argument("incident", metavar="INCIDENT")
        sub.add_argument("unit", metavar="UNIT")
        _request_id_option(sub)
    release.add_argument("--reason", default="", help="required while it transports a patient")

    divert = command(commands, "divert", cmd_divert, "send a unit on its way elsewhere instead")
    divert.add_argument("unit", metavar="UNIT")
    divert.add_argument("--to", required=True, metavar="INCIDENT", help="where it goes now")
    divert.add_argument(
        "--from", dest="from_", required=True, metavar="INCIDENT", help="where it was going"
    )
    divert.add_argument("--reason", default="", help="required unless --to is more urgent")
    _request_id_option(divert)

    etcd = command(commands, "etcd", None, "etcd maintenance")
    etcd_actions = etcd.add_subparsers(dest="etcd_command", metavar="ACTION", required=True)
    defrag = command(
        etcd_actions, "defrag", cmd_etcd_defrag, "defragment etcd, one member at a time"
    )
    defrag.add_argument(
        "--etcd",
        metavar="HOST:PORT,...",
        help="members to defragment (default: $AMK_ETCD, the settings file, else the "
        "embedded etcd's port)",
    )

    add_backup_commands(etcd_actions, command)
    add_ops_commands(commands, command)
    add_auth_commands(commands, command)
    add_review_commands(commands, command, _request_id_option)
    add_cert_command(commands, command)
    add_user_commands(commands, command, _request_id_option)
    add_kpi_command(commands, command)

    watch = command(commands, "watch", cmd_watch, "live board of incidents and units")
    _region_option(watch, "events")
    _health_region_option(watch, "incidents, units and region owners")
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
        # A revoked certificate is not a token problem: a new login would not help.
        if err.code == grpc.StatusCode.UNAUTHENTICATED and "client certificate" not in err.details:
            print(
                "error: the gateway needs a valid token: run amk login "
                "(e.g. amk login --user kari --role call-taker --centre oslo)",
                file=sys.stderr,
            )
        return exit_code_for(err.code)
    except ConfigError as err:  # no certificate where one is needed, a bad setting
        print(f"error: FAILED_PRECONDITION: {err.message}", file=sys.stderr)
        return EXIT_BAD_REQUEST
    except ValueError as err:  # refused before sending (bad address list, identity, an
        # unknown --health-region: HealthRegionError names the known ones, ...)
        print(f"error: INVALID_ARGUMENT: {err}", file=sys.stderr)
        return EXIT_BAD_REQUEST
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":
    sys.exit(main())
