"""``amk login`` (a token from the local development issuer) and ``amk audit`` (the
access log, for the auditor role)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

import grpc
from rich.table import Table
from rich.text import Text

from actors.domain.access import default_access_table
from amk.audit.v1 import audit_pb2 as apb
from amk.audit.v1 import audit_pb2_grpc as apb_grpc
from clients.cli_base import EXIT_BAD_REQUEST, EXIT_ERROR, EXIT_OK, Context
from clients.client import AmkClientError
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.tokens import LocalIssuer, save_token


def cmd_login(ctx: Context) -> int:
    """Issue a token from the local issuer and keep it where the CLI finds it."""
    args = ctx.args
    try:
        config = ClusterConfig.load()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if not config.local_issuer_in_use():
        print(
            f"error: tokens come from {config.oidc_issuer} (oidc_jwks is set): sign in there "
            "and put the token in $AMK_TOKEN; amk login serves the local development issuer",
            file=sys.stderr,
        )
        return EXIT_ERROR
    roles = default_access_table().roles
    if args.role not in roles:
        print(f"error: --role: one of {', '.join(sorted(roles))}", file=sys.stderr)
        return EXIT_BAD_REQUEST
    centres = {c.id for c in config.seed.centres}
    if args.centre not in centres:
        print(f"error: --centre: one of {', '.join(sorted(centres))}", file=sys.stderr)
        return EXIT_BAD_REQUEST
    if args.role == "crew" and not args.unit:
        print("error: --unit: a crew token names its unit", file=sys.stderr)
        return EXIT_BAD_REQUEST
    lifetime = args.lifetime or config.token_lifetime_s
    issuer = LocalIssuer.for_config(config)
    token = issuer.issue(
        args.user,
        args.role,
        args.centre,
        lifetime_s=lifetime,
        name=args.name or "",
        unit=args.unit or "",
    )
    path = save_token(config.home, token)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime)
    if not config.auth_enabled():
        print("warning: auth is off in these settings: gateways do not check it", file=sys.stderr)
    print(
        f"logged in as {args.user} ({args.role}, {args.centre}) until "
        f"{until.isoformat(timespec='seconds')}; token in {path}",
        file=sys.stderr,
    )
    return EXIT_OK


def iso_utc(ts: Any) -> str:
    """A protobuf Timestamp as the CLI shows it: ISO 8601 in UTC, to the second."""
    return ts.ToDatetime(tzinfo=dt.UTC).isoformat(timespec="seconds")


def when_utc(text: str | None) -> float | None:
    """An ISO time from the command line as Unix seconds: UTC unless it names a zone."""
    if not text:
        return None
    at = dt.datetime.fromisoformat(text)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.timestamp()


def cmd_audit(ctx: Context) -> int:
    """Who read what: by user, by incident, or by caller number (the patient's right)."""
    args = ctx.args
    req = apb.QueryAccessLogRequest(
        user=args.user or "",
        incident_id=args.incident or "",
        caller_number=args.caller or "",
        limit=args.limit,
    )
    for name, value in (("since", when_utc(args.since)), ("until", when_utc(args.until))):
        if value is not None:
            getattr(req, name).FromNanoseconds(int(value * 1e9))
    resp = service_call(ctx, apb_grpc.AuditServiceStub, "QueryAccessLog", req)
    return ctx.emit(list(resp.records), _table)


def service_call(ctx: Context, stub_class: Any, method: str, request: Any) -> Any:
    """One call of another service (audit, credentials) on the client's own channel:
    the same gateway, the same token and certificate."""
    client = ctx.client()
    address, _ = client._stub()
    stub = stub_class(client._channels[address])
    try:
        return getattr(stub, method)(request, timeout=client.timeout_s, metadata=client._metadata)
    except grpc.RpcError as err:
        raise AmkClientError.from_rpc(err) from err


def _table(records: list[Any]) -> Table:
    table = Table("at", "user", "role", "centre", "method", "record", "why", "peer")
    for r in records:
        at = iso_utc(r.at)
        why = f"{r.why}: {r.reason}" if r.reason else r.why
        method = r.method.rsplit("/", 1)[-1]
        # Text, never markup: a stated reason such as "[/]" must neither fail nor style.
        cells = (at, r.user, r.role, r.centre, method, r.record_id, why, r.peer)
        table.add_row(*(Text(c) for c in cells))
    return table


def add_auth_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """``login`` and ``audit`` on the top-level subparsers."""
    login = command(
        commands,
        "login",
        cmd_login,
        "get a short-lived token from the local development issuer (embedded default)",
    )
    login.add_argument("--user", required=True, metavar="ID", help="who you are (the subject)")
    login.add_argument("--name", metavar="NAME", help="your full name (default: --user)")
    login.add_argument("--role", required=True, metavar="ROLE", help="e.g. call-taker")
    login.add_argument("--centre", required=True, metavar="CENTRE", help="your centre")
    login.add_argument("--unit", metavar="UNIT", help="crew: your unit")
    login.add_argument("--lifetime", type=float, metavar="S", help="token lifetime in seconds")
    audit = command(commands, "audit", cmd_audit, "the access log (auditor role)")
    audit.add_argument("--user", metavar="ID", help="reads by this user")
    audit.add_argument("--incident", metavar="ID", help="reads of this incident (or call)")
    audit.add_argument("--caller", metavar="NUMBER", help="reads of this caller's records")
    audit.add_argument("--since", metavar="ISO", help="from this time (UTC unless given)")
    audit.add_argument("--until", metavar="ISO", help="until this time")
    audit.add_argument("--limit", type=int, default=1000, help="at most this many rows")
