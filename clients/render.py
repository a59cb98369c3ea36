"""Protobuf messages as plain dicts (for ``--json`` and scripts) and as rich renderables
(for people). Kept apart from the client so the client stays free of terminal concerns."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.client import (
    CREW_LEVEL,
    INCIDENT_STATUS,
    UNIT_KIND,
    UNIT_STATUS,
    URGENCY,
    enum_name,
    enum_prefix,
)
from clients.health_regions import group_by_health_region, health_region_label
from clients.render_cpr import cpr_text
from clients.render_time import format_time

# ---------------------------------------------------------------- dicts


def to_dict(message: Message) -> dict[str, Any]:
    """A message as a JSON-ready dict: proto field names, every field present (stable keys
    for ``jq``), enum values as the short lowercase names the CLI accepts, and int64 as
    numbers where they fit a double (revisions and tokens do)."""
    data = json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )
    _shorten_enums(data, message.DESCRIPTOR)
    return data


def to_json_doc(result: Message | Iterable[Message]) -> dict[str, Any] | list[dict[str, Any]]:
    """One JSON document per command: a message is an object, a list a list."""
    if isinstance(result, Message):
        return to_dict(result)
    return [to_dict(m) for m in result]


def _shorten_enums(data: dict[str, Any], descriptor: Descriptor) -> None:
    # Walks the descriptor rather than guessing from strings, so a string field that
    # happens to look like an enum name is left alone.
    for field in descriptor.fields:
        if field.name not in data:
            continue
        value = data[field.name]
        if field.enum_type is not None:
            prefix = enum_prefix(field.enum_type)
            if isinstance(value, list):
                data[field.name] = [_short(v, prefix) for v in value]
            else:
                data[field.name] = _short(value, prefix)
        elif field.message_type is not None:
            # Well-known types (Timestamp) arrive as strings and are skipped here.
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict):
                    _shorten_enums(item, field.message_type)


def _short(value: Any, prefix: str) -> Any:
    # An enum number this client does not know stays a number.
    return value.removeprefix(prefix).lower() if isinstance(value, str) else value


# ---------------------------------------------------------------- small pieces

URGENCY_STYLE: dict[int, str] = {
    pb.URGENCY_AKUTT: "bold white on red",
    pb.URGENCY_HASTER: "bold black on yellow",
    pb.URGENCY_VANLIG: "bold black on green",
}

INCIDENT_STATUS_STYLE: dict[int, str] = {
    pb.INCIDENT_STATUS_RECEIVED: "bold",
    pb.INCIDENT_STATUS_TRIAGED: "bold cyan",
    pb.INCIDENT_STATUS_DISPATCHED: "yellow",
    pb.INCIDENT_STATUS_ON_SCENE: "magenta",
    pb.INCIDENT_STATUS_TRANSPORTING: "blue",
    pb.INCIDENT_STATUS_AT_HOSPITAL: "blue",
    pb.INCIDENT_STATUS_CLOSED: "dim",
    pb.INCIDENT_STATUS_CANCELLED: "dim strike",
}

UNIT_STATUS_STYLE: dict[int, str] = {
    pb.UNIT_STATUS_AVAILABLE_AT_STATION: "green",
    pb.UNIT_STATUS_AVAILABLE_MOBILE: "bold green",
    pb.UNIT_STATUS_ASSIGNED: "yellow",
    pb.UNIT_STATUS_EN_ROUTE: "bold yellow",
    pb.UNIT_STATUS_ON_SCENE: "magenta",
    pb.UNIT_STATUS_TRANSPORTING: "blue",
    pb.UNIT_STATUS_AT_HOSPITAL: "blue",
    pb.UNIT_STATUS_OUT_OF_SERVICE: "dim red",
}


def urgency_text(urgency: int) -> Text:
    """Urgency as a coloured badge (red akutt, yellow haster, green vanlig)."""
    if urgency == pb.URGENCY_UNSPECIFIED:
        return Text("-", style="dim")
    return Text(f" {enum_name(urgency, URGENCY).upper()} ", style=URGENCY_STYLE.get(urgency, ""))


def incident_status_text(status: int) -> Text:
    """Incident status in its colour."""
    return Text(enum_name(status, INCIDENT_STATUS), style=INCIDENT_STATUS_STYLE.get(status, ""))


def unit_status_text(status: int) -> Text:
    """Unit status in its colour (green: can be dispatched)."""
    return Text(enum_name(status, UNIT_STATUS), style=UNIT_STATUS_STYLE.get(status, ""))


def age_seconds(ts: Timestamp, now: datetime | None = None) -> float | None:
    """Seconds since ``ts``; None when unset."""
    if not ts.seconds and not ts.nanos:
        return None
    now = now or datetime.now(UTC)
    return (now - ts.ToDatetime(tzinfo=UTC)).total_seconds()


def format_position(position: pb.Position) -> str:
    """``59.91273, 10.74609 ±25 m``."""
    text = f"{position.lat:.5f}, {position.lon:.5f}"
    if position.accuracy_m > 0:
        text += f" ±{position.accuracy_m:.0f} m"
    return text


def _dash(value: object) -> str:
    return str(value) if value not in ("", 0, None) else "-"


def _kv_grid(rows: Sequence[tuple[str, RenderableType]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for key, value in rows:
        grid.add_row(key, value)
    return grid


# ---------------------------------------------------------------- incidents


def incident_panel(incident: pb.Incident) -> Panel:
    """Everything a dispatcher needs about one incident, notes last."""
    criteria = incident.criteria_code or "-"
    if incident.complaint_chapter:
        criteria += f"  (chapter {incident.complaint_chapter})"
    position = format_position(incident.position) if incident.HasField("position") else "-"
    rows: list[tuple[str, RenderableType]] = [
        ("Region", incident.region),
        ("Status", incident_status_text(incident.status)),
        ("Urgency", urgency_text(incident.urgency)),
        ("Criteria", criteria),
        ("Address", incident.address or "-"),
        ("Position", position),
        ("Caller", incident.caller_number or "-"),
        ("Units", ", ".join(incident.assigned_unit_ids) or "-"),
        ("Created", format_time(incident.created_at)),
        ("Updated", format_time(incident.updated_at)),
        ("Revision", str(incident.revision)),
    ]
    if incident.archived:
        rows.append(("Archived", Text("yes: closed, read-only (from the archive)", style="dim")))
    if incident.HasField("cpr"):
        rows.append(("CPR guidance", cpr_text(incident.cpr)))
    if incident.urgency_history:
        history = Text()
        for change in incident.urgency_history:
            history.append(f"{format_time(change.at)} ")
            history.append_text(urgency_text(change.urgency))
            history.append(f" {change.criteria_code}\n")
        history.rstrip()
        rows.append(("History", history))
    if incident.notes:
        notes = Text()
        for note in incident.notes:
            notes.append(f"{format_time(note.at)} ", style="dim")
            notes.append(f"{note.author or '?'}: ", style="bold")
            notes.append(f"{note.text}\n")
        notes.rstrip()
        rows.append(("Notes", notes))
    title = Text.assemble(("Incident ", "bold"), (incident.id, "bold cyan"))
    if incident.urgency != pb.URGENCY_UNSPECIFIED:
        title.append("  ")
        title.append_text(urgency_text(incident.urgency))
    border = URGENCY_STYLE.get(incident.urgency, "white").split()[-1]
    return Panel(_kv_grid(rows), title=title, title_align="left", border_style=border)


def incidents_table(incidents: Iterable[pb.Incident], title: str = "Incidents") -> Table:
    """One row per incident, in the order given."""
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("ID", "Region", "Urgency", "Status", "Criteria", "Address", "Units", "Created"):
        table.add_column(column, no_wrap=column in ("ID", "Urgency", "Status", "Created"))
    for inc in incidents:
        table.add_row(
            inc.id,
            inc.region,
            urgency_text(inc.urgency),
            incident_status_text(inc.status),
            inc.criteria_code or "-",
            inc.address or "-",
            ", ".join(inc.assigned_unit_ids) or "-",
            format_time(inc.created_at),
        )
    return table


# ---------------------------------------------------------------- units


def unit_panel(unit: pb.Unit) -> Panel:
    """One unit in full."""
    position = format_position(unit.position) if unit.HasField("position") else "-"
    rows: list[tuple[str, RenderableType]] = [
        ("ID", unit.id),
        ("Region", unit.region),
        ("Kind", enum_name(unit.kind, UNIT_KIND)),
        ("Crew", enum_name(unit.crew, CREW_LEVEL)),
        ("Status", unit_status_text(unit.status)),
        ("Station", unit.station or "-"),
        ("Incident", unit.incident_id or "-"),
        ("Air mission", unit.air_mission_id or "-"),
        ("Position", position),
        ("Updated", format_time(unit.updated_at)),
        ("Revision", str(unit.revision)),
    ]
    title = Text.assemble(("Unit ", "bold"), (unit.call_sign or unit.id, "bold cyan"))
    return Panel(_kv_grid(rows), title=title, title_align="left")


def units_table(units: Iterable[pb.Unit], title: str = "Units") -> Table:
    """One row per unit: the dispatcher's resource list."""
    table = Table(title=title, title_justify="left")
    for column in ("Call sign", "ID", "Region", "Kind", "Crew", "Status", "Station", "Incident"):
        table.add_column(column, no_wrap=column in ("Call sign", "ID", "Status"))
    for unit in units:
        table.add_row(
            unit.call_sign or "-",
            unit.id,
            unit.region,
            enum_name(unit.kind, UNIT_KIND),
            enum_name(unit.crew, CREW_LEVEL),
            unit_status_text(unit.status),
            unit.station or "-",
            unit.incident_id or unit.air_mission_id or "-",
        )
    return table


def assignment_renderable(assignment: pb.Assignment) -> Group:
    """Both sides of an assign/release, as they are after it (a diversion: the incident
    the unit left too)."""
    parts = [incident_panel(assignment.incident), unit_panel(assignment.unit)]
    if assignment.HasField("from_incident"):
        parts.append(incident_panel(assignment.from_incident))
    return Group(*parts)


def stream_summary_text(summary: pb.StreamUnitPositionsSummary) -> Text:
    """Counts of an AVL stream."""
    style = "red" if summary.rejected else "green"
    return Text(f"accepted {summary.accepted}, rejected {summary.rejected}", style=style)


# ---------------------------------------------------------------- cluster


def _owner_text(region: pb.RegionStatus, show_site: bool = False) -> Text:
    if not region.owner_centre:
        return Text("none (failing over)", style="bold red")
    owner = region.owner_centre
    if show_site and region.owner_site:
        owner += f"@{region.owner_site}"
    if region.home_centre and region.owner_centre != region.home_centre:
        # Served by a backup: worth noticing, not alarming.
        return Text(f"{owner} (backup)", style="bold yellow")
    return Text(owner, style="green")


def by_health_region(
    title: str,
    items: Iterable[Any],
    health_regions: Sequence[pb.HealthRegion],
    table: Callable[[str, list[Any]], Table],
) -> list[Table]:
    """One table of ``items``; when they carry health regions, one table per health
    region (the seed's order), titled ``Regions: Helse Vest (helse-vest)``. Separate
    tables rather than a column: no width taken from the fencing tokens and leases."""
    items = list(items)
    if not any(i.health_region for i in items):
        return [table(title, items)]
    groups = group_by_health_region(items, health_regions, lambda i: i.health_region)
    return [
        table(f"{title}: {health_region_label(health_regions, group)}", members)
        for group, members in groups
    ]


def regions_table(
    regions: Iterable[pb.RegionStatus], show_site: bool = False, title: str = "Regions"
) -> Table:
    """Who serves each region (``centre@site`` with several sites), under which
    fencing token, for how long."""
    table = Table(title=title, title_justify="left")
    # The region's long name is in `amk status --json`; the id keeps the table narrow
    # enough that the fencing token and lease never get squeezed out.
    for column in ("Region", "Owner", "Home", "Token", "Lease left"):
        table.add_column(column, no_wrap=True)
    table.add_column("Standbys")
    table.add_column("Incidents", justify="right")
    table.add_column("Units", justify="right")
    for r in regions:
        table.add_row(*_region_row(r, show_site))
    return table


def _region_row(r: pb.RegionStatus, show_site: bool) -> list[RenderableType]:
    ttl = Text(f"{r.lease_ttl_left_s}s" if r.owner_centre else "-")
    if r.owner_centre and r.lease_ttl_left_s <= 0:
        ttl.stylize("bold red")  # etcd rounds down: 1 s is normal with a 2 s TTL
    return [
        r.id,
        _owner_text(r, show_site),
        r.home_centre or "-",
        _dash(r.fencing_token),
        ttl,
        _standbys(r.standbys),
        str(r.incidents),
        str(r.units),
    ]


STANDBYS_SHOWN = 3  # the whole country's lines name all fifteen other centres


def _standbys(standbys: Sequence[str]) -> str:
    """The first of a region's standbys, in claim order, and how many more (the whole
    line is in ``amk status --json``)."""
    shown = ", ".join(standbys[:STANDBYS_SHOWN]) or "-"
    more = len(standbys) - STANDBYS_SHOWN
    return f"{shown} +{more}" if more > 0 else shown


def centres_table(centres: Iterable[pb.CentreStatus], title: str = "Centres") -> Table:
    """Each centre actor: alive, where it runs, its lease and its regions."""
    table = Table(title=title, title_justify="left")
    for column in ("Centre", "Name", "Alive", "Node", "PID", "Lease", "Valid for", "Regions"):
        table.add_column(column, no_wrap=column != "Regions")
    for c in centres:
        table.add_row(*_centre_row(c))
    return table


def _centre_row(c: pb.CentreStatus) -> list[RenderableType]:
    alive = Text("yes", style="green") if c.alive else Text("NO", style="bold red")
    lease = f"{c.lease_id:x} ({c.lease_ttl_s}s)" if c.lease_id else "-"
    valid = f"{c.lease_valid_for_s:.1f}s" if c.lease_id else "-"
    return [
        c.id,
        c.name,
        alive,
        c.node_id[:12] or "-",  # Ray node ids are 56 hex chars; 12 tell them apart
        _dash(c.pid),
        lease,
        valid,
        ", ".join(c.regions_owned) or "-",
    ]


def gateways_table(gateways: Iterable[pb.GatewayStatus]) -> Table:
    """Each gateway address: alive, its process, how often and how fast it came back."""
    table = Table(title="Gateways", title_justify="left")
    for column in ("Address", "Alive", "PID", "Restarts", "Last restart", "Took"):
        table.add_column(column, no_wrap=True)
    for g in gateways:
        alive = Text("yes", style="green") if g.alive else Text("NO", style="bold red")
        last = (
            datetime.fromtimestamp(g.last_restart_at, UTC).astimezone().strftime("%H:%M:%S")
            if g.last_restart_at
            else "-"
        )
        took = f"{g.last_restart_s:.2f}s" if g.restarts else "-"
        table.add_row(g.address, alive, _dash(g.pid), str(g.restarts), last, took)
    return table


def sites_table(sites: Iterable[pb.SiteStatus], here: str) -> Table:
    """Each site: live or not, its gateways, which centres' instances serve there now
    and which stand by (a site that is down still shows, from the configuration)."""
    table = Table(title="Sites", title_justify="left")
    for column in ("Site", "Live", "Gateways", "Active centres", "Standby centres", "Started"):
        table.add_column(column, no_wrap=column != "Standby centres")
    for site in sites:
        live = Text("yes", style="green") if site.live else Text("NO", style="bold red")
        started = (
            datetime.fromtimestamp(site.started_at, UTC).astimezone().strftime("%H:%M:%S")
            if site.started_at
            else "-"
        )
        table.add_row(
            site.name + (" (this)" if site.name == here else ""),
            live,
            ", ".join(site.gateways) or "-",
            ", ".join(site.active_centres) or "-",
            ", ".join(site.standby_centres) or "-",
            started,
        )
    return table


#: From this share of the quota ``amk status`` warns; the alert rule uses the same
#: (docs/ops/alerts.yml, ``AmkEtcdDatabaseNearQuota``).
ETCD_WARN_SHARE = 0.7


def format_bytes(n: int) -> str:
    """Bytes in binary units, three significant figures (``412 KiB``, ``2.87 GiB``)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value, i = float(n), 0
    while value >= 1024 and i < len(units) - 1:
        value /= 1024
        i += 1
    return f"{value:.0f} {units[i]}" if i == 0 or value >= 100 else f"{value:.3g} {units[i]}"


def etcd_share(member: pb.EtcdMemberStatus) -> float:
    """The member's database size as a share of the quota (0 when either is unknown)."""
    return member.db_size_bytes / member.quota_bytes if member.quota_bytes else 0.0


def etcd_warnings(members: Iterable[pb.EtcdMemberStatus]) -> list[str]:
    """One line per member that did not answer or whose database is at or above
    ``ETCD_WARN_SHARE`` of the quota (at the quota etcd refuses every write)."""
    lines = []
    for m in members:
        if m.error:
            lines.append(f"etcd {m.endpoint} did not report its status: {m.error}")
        elif etcd_share(m) >= ETCD_WARN_SHARE:
            lines.append(
                f"WARNING: etcd {m.endpoint} database is at {etcd_share(m):.0%} of its quota "
                f"({format_bytes(m.db_size_bytes)} of {format_bytes(m.quota_bytes)}); at "
                "100 % etcd refuses every write (alarm NOSPACE): check the archiver, "
                "compact and defragment, or raise etcd_quota_bytes"
            )
    return lines


def etcd_table(members: Iterable[pb.EtcdMemberStatus]) -> Table:
    """Each etcd member's database: its file size and live data against the quota."""
    table = Table(title="etcd", title_justify="left")
    for column in ("Endpoint", "Leader", "DB size", "In use", "Quota", "Of quota"):
        table.add_column(column, no_wrap=True, justify="left" if column == "Endpoint" else "right")
    for m in members:
        if m.error:
            table.add_row(m.endpoint, "-", "-", "-", format_bytes(m.quota_bytes), Text("?", "red"))
            continue
        share = etcd_share(m)
        table.add_row(
            m.endpoint,
            "yes" if m.leader else "",
            format_bytes(m.db_size_bytes),
            format_bytes(m.db_size_in_use_bytes),
            format_bytes(m.quota_bytes),
            Text(f"{share:.1%}", style="bold red" if share >= ETCD_WARN_SHARE else "green"),
        )
    return table


INSECURE_LINE = (
    "INSECURE (development only): TLS is off; every port is plaintext and nobody is "
    "authenticated. Never with real patient data."
)


def cluster_status_renderable(status: pb.ClusterStatus) -> Group:
    """Regions and centres (a table per health region when the seed declares them),
    gateways, etcd's database against its quota (with a warning line from 70 %), the
    answering gateway's credential lists (to those told them), and which etcd and
    gateway answered."""
    footer = Text.assemble(
        ("etcd revision ", "dim"),
        str(status.etcd_revision),
        ("  endpoints ", "dim"),
        ", ".join(status.etcd_endpoints) or "-",
        ("  gateway ", "dim"),
        status.gateway or "-",
    )
    # Failover history is prose from the server; one line per region that had one.
    takeovers = Text()
    for r in status.regions:
        if r.last_takeover:
            takeovers.append(f"{r.id}: ", style="bold")
            takeovers.append(f"{r.last_takeover}\n")
    takeovers.rstrip()
    parts: list[RenderableType] = []
    if status.insecure:
        parts.append(Text(INSECURE_LINE, style="bold white on red"))
    sites = len(status.sites) > 1
    parts += by_health_region(
        "Regions",
        status.regions,
        status.health_regions,
        lambda title, rs: regions_table(rs, sites, title),
    )
    if takeovers:
        parts.append(Panel(takeovers, title="Last takeovers", title_align="left"))
    parts += by_health_region(
        "Centres",
        status.centres,
        status.health_regions,
        lambda title, cs: centres_table(cs, title),
    )
    if len(status.sites) > 1:  # one site: nothing to tell apart
        parts.append(sites_table(status.sites, status.site))
    if status.gateways:
        parts.append(gateways_table(status.gateways))
    if status.etcd_members:
        parts.append(etcd_table(status.etcd_members))
    parts.extend(Text(line, style="bold red") for line in etcd_warnings(status.etcd_members))
    if status.HasField("credential_lists"):
        parts.append(credential_lists_line(status.credential_lists))
    return Group(*parts, footer)


#: A list not read for this many polls is called stale (the alert waits about a minute).
STALE_POLLS = 5


def credential_lists_line(lists: pb.CredentialLists) -> Text:
    """One line on the answering gateway's revoked certificates and suspended people:
    plain while they are read, yellow once reads have failed for a while, red while
    never read (that gateway refuses nobody for revocation or suspension)."""
    age, poll = lists.read_age_s, lists.poll_s
    counts = (
        f"{lists.revoked_certificates} certificate(s) revoked, "
        f"{lists.suspended} person(s) or unit(s) suspended"
    )
    if not lists.read:
        return Text(
            f"credential lists: NOT READ in the {age:.0f} s since this gateway started: it "
            "refuses no revoked certificate and no suspended person until it reads them "
            "(is the archive database reachable?)",
            style="bold red",
        )
    if poll > 0 and age > STALE_POLLS * poll:
        return Text(
            f"credential lists: last read {age:.0f} s ago (every {poll:g} s): {counts} then; "
            "a revocation or suspension made at another gateway since is not known here",
            style="bold yellow",
        )
    return Text.assemble(
        ("credential lists ", "dim"), f"read {age:.1f} s ago (every {poll:g} s): {counts}"
    )
