"""``amk cert revoke`` and ``amk cert revoked``: withdrawing a client certificate before
it expires (a crew's lost tablet, a console's stolen key); ``amk user suspend``,
``reinstate`` and ``suspended``: a person's tokens refused until reinstated. For the
engineer and supervisor roles, through the gateway (``amk.audit.v1.CredentialService``).

``amk cert revoke --cert crew-OSL-A01.crt --reason "..."`` reads the serial, common name
and expiry from the certificate file; ``--serial HEX`` when only the number is known
(as ``openssl x509 -noout -serial`` prints it). Every gateway refuses the certificate
within ``revocation_poll_s`` (the one asked: at once).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

from cryptography import x509
from rich.table import Table
from rich.text import Text

from actors.domain.revocation import serial_hex
from amk.audit.v1 import credentials_pb2 as crpb
from amk.audit.v1 import credentials_pb2_grpc as crpb_grpc
from clients.cli_auth import iso_utc, service_call
from clients.cli_base import EXIT_BAD_REQUEST, Context
from cluster.pki import common_name_of


def certificate_request(path: Path) -> crpb.RevokeCertificateRequest:
    """The serial, common name and expiry of a PEM certificate file (ValueError: not
    one)."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from exc
    request = crpb.RevokeCertificateRequest(
        serial=serial_hex(cert.serial_number), common_name=common_name_of(cert)
    )
    request.not_after.FromDatetime(cert.not_valid_after_utc)
    return request


def cmd_cert_revoke(ctx: Context) -> int:
    args = ctx.args
    if args.cert:
        try:
            request = certificate_request(Path(args.cert))
        except ValueError as exc:
            print(f"error: INVALID_ARGUMENT: --cert: {exc}", file=sys.stderr)
            return EXIT_BAD_REQUEST
    else:
        request = crpb.RevokeCertificateRequest(serial=args.serial)
    request.reason = args.reason
    answer = service_call(ctx, crpb_grpc.CredentialServiceStub, "RevokeCertificate", request)
    return ctx.emit(answer, _revoked)


def cmd_cert_revoked(ctx: Context) -> int:
    request = crpb.ListRevokedCertificatesRequest()
    answer = service_call(ctx, crpb_grpc.CredentialServiceStub, "ListRevokedCertificates", request)
    return ctx.emit(answer, _list)


def _revoked(r: Any) -> Text:
    whose = f" ({r.common_name})" if r.common_name else ""
    head = "already revoked" if r.already else "revoked"
    # Text, never markup: a stated reason such as "[/]" must neither fail nor style.
    return Text(
        f"{head}: certificate {r.serial}{whose}, {iso_utc(r.revoked_at)} by {r.revoked_by}: "
        f"{r.reason}",
        style="yellow" if r.already else "bold green",
    )


def _list(answer: Any) -> Table | Text:
    if not answer.certificates:
        return Text("no certificate revoked", style="dim")
    table = Table("serial", "common name", "expires", "revoked", "by", "reason")
    for r in answer.certificates:
        expires = iso_utc(r.not_after) if r.HasField("not_after") else "?"
        cells = (r.serial, r.common_name, expires, iso_utc(r.revoked_at), r.revoked_by, r.reason)
        table.add_row(*(Text(c) for c in cells))
    return table


def add_revoke_commands(kinds: Any, command: Any) -> None:
    """``revoke`` and ``revoked`` under ``amk cert``."""
    revoke = command(
        kinds,
        "revoke",
        cmd_cert_revoke,
        "revoke a client certificate now: every gateway refuses it (engineer, supervisor)",
    )
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--cert", metavar="FILE", help="the certificate file (PEM)")
    which.add_argument(
        "--serial", metavar="HEX", help="its serial number (openssl x509 -noout -serial)"
    )
    revoke.add_argument(
        "--reason", required=True, help="why, at least 10 characters (kept and shown)"
    )
    command(kinds, "revoked", cmd_cert_revoked, "the revoked client certificates")


def _decision(ctx: Context, method: str) -> int:
    args = ctx.args
    request = crpb.PersonDecisionRequest(
        request_id=args.request_id or uuid.uuid4().hex, user=args.user, reason=args.reason
    )
    answer = service_call(ctx, crpb_grpc.CredentialServiceStub, method, request)
    return ctx.emit(answer, _decided)


def cmd_user_suspend(ctx: Context) -> int:
    return _decision(ctx, "SuspendPerson")


def cmd_user_reinstate(ctx: Context) -> int:
    return _decision(ctx, "ReinstatePerson")


def cmd_user_suspended(ctx: Context) -> int:
    request = crpb.ListSuspensionsRequest(history=ctx.args.history)
    answer = service_call(ctx, crpb_grpc.CredentialServiceStub, "ListSuspensions", request)
    return ctx.emit(answer, _decisions)


def _decided(d: Any) -> Text:
    what = "suspended" if d.suspended else "reinstated"
    return Text(
        f"{d.user} {what} {iso_utc(d.at)} by {d.decided_by}: {d.reason}",
        style="bold red" if d.suspended else "bold green",
    )


def _decisions(answer: Any) -> Table | Text:
    if not answer.decisions:
        return Text("nobody suspended", style="dim")
    table = Table("user", "decision", "at", "by", "reason")
    for d in answer.decisions:
        what = "suspended" if d.suspended else "reinstated"
        cells = (d.user, what, iso_utc(d.at), d.decided_by, d.reason)
        table.add_row(*(Text(c) for c in cells))
    return table


def add_user_commands(commands: Any, command: Any, request_id_option: Any) -> None:
    """``amk user suspend|reinstate|suspended``."""
    user = command(commands, "user", None, "suspend and reinstate people (their tokens)")
    kinds = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    for name, handler, help_text in (
        ("suspend", cmd_user_suspend, "refuse every token of a person now, until reinstated"),
        ("reinstate", cmd_user_reinstate, "lift a person's suspension"),
    ):
        sub = command(kinds, name, handler, f"{help_text} (engineer, supervisor)")
        sub.add_argument("user", metavar="USER", help="the person's user id (token subject)")
        sub.add_argument(
            "--reason", required=True, help="why, at least 10 characters (kept and shown)"
        )
        request_id_option(sub)
    listing = command(kinds, "suspended", cmd_user_suspended, "the people suspended now")
    listing.add_argument("--history", action="store_true", help="every decision, oldest first")
