"""Revoked certificates: how a serial and a reason are read, what the refused caller is
told, and the gateway's check of a call's certificate (a stand-in call context: the
check reads only its auth context)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from actors.domain import revocation
from actors.domain.errors import InvalidArgumentError
from actors.gateway.revocations import Revocations, serial_of_pem
from clients.cli_revoke import certificate_request
from cluster.archive.revocations import RevocationRow, SuspensionRow
from cluster.pki import LocalCa
from cluster.tokens import Claims


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("0a:1B:2c", "A1B2C"),
        ("0x00FF", "FF"),
        (" 12 34\n", "1234"),
        ("7" * 40, "7" * 40),  # 20 octets, the most RFC 5280 allows
    ],
)
def test_a_serial_is_kept_in_one_form(given: str, kept: str) -> None:
    assert revocation.parse_serial(given) == kept


@pytest.mark.parametrize("given", ["", "  ", "0x", "xyz", "12-34", "0", "00:00", "8" + "0" * 40])
def test_a_bad_serial_names_its_field(given: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        revocation.parse_serial(given)
    assert err.value.field == "serial"


def test_a_reason_is_one_line_of_enough_words() -> None:
    assert revocation.reason("  tablet\n lost   in\tthe car  ") == "tablet lost in the car"
    for bad in ("lost", " " * 20, "x" * 501, "stolen tablet\x1b[2J", "stolen \u202etablet lost"):
        with pytest.raises(InvalidArgumentError) as err:
            revocation.reason(bad)
        assert err.value.field == "reason"


def test_a_common_name_is_short_printable_text() -> None:
    assert revocation.common_name(" osl-a11 ") == "osl-a11"
    assert revocation.common_name("") == ""
    for bad in ("x" * 65, "osl\x00a11"):
        with pytest.raises(InvalidArgumentError) as err:
            revocation.common_name(bad)
        assert err.value.field == "common_name"


def test_the_refused_caller_is_told_which_when_and_why_but_not_who() -> None:
    at = 1_790_000_000.0  # 2026-09-21 14:13 UTC
    text = revocation.refusal("A1B2", "osl-a11", at, "tablet lost")
    assert text == (
        "client certificate A1B2 (osl-a11) was revoked 2026-09-21 14:13 UTC: tablet lost; "
        "ask for a new one"
    )


class CallWith:
    """A call's context as far as the check reads it: the peer certificate."""

    def __init__(self, pem: bytes | None) -> None:
        self.pem = pem
        self.reads = 0

    def auth_context(self) -> dict[str, list[bytes]]:
        self.reads += 1
        return {"x509_pem_cert": [self.pem]} if self.pem else {}


def row(serial: str) -> RevocationRow:
    return RevocationRow(serial, time.time(), "osl-a11", 0.0, "tablet lost on a call", "ola", "O")


def test_a_gateway_comes_up_with_the_archive_away() -> None:
    """The first read is bounded and its failure leaves nothing refused, not a gateway
    that cannot start."""

    async def away():
        raise OSError("archive down")

    async def run() -> tuple[bool, int]:
        revocations = Revocations(away, 60.0)
        await revocations.start(0.5)
        await revocations.stop()
        return revocations.loaded, len(revocations.by_serial)

    assert asyncio.run(run()) == (False, 0)


async def _no_archive():  # never asked in these tests
    raise AssertionError("the archive was read")


def test_a_call_is_checked_only_once_something_is_revoked(tmp_path: Path) -> None:
    ca = LocalCa(tmp_path)
    lost, kept = ca.issue("lost", "osl-a11"), ca.issue("kept", "osl-a11")
    lost_call, kept_call = CallWith(lost.cert.read_bytes()), CallWith(kept.cert.read_bytes())
    revocations = Revocations(_no_archive, 1.0)
    assert revocations.check(lost_call) == "" and lost_call.reads == 0  # nothing revoked

    async def apply() -> bool:
        change = revocations.change_future()
        revocations.apply([row(serial_of_pem(lost.cert.read_bytes()))])
        return change.done()

    assert asyncio.run(apply())  # streams waiting on the change are woken
    assert "tablet lost on a call" in revocations.check(lost_call)
    assert revocations.check(kept_call) == ""
    assert revocations.check(CallWith(None)) == ""  # a plaintext port has no certificate
    revocations.apply([row(serial_of_pem(lost.cert.read_bytes()))])  # known: no change
    assert len(revocations.by_serial) == 1


def test_the_cli_reads_serial_name_and_expiry_from_the_file(tmp_path: Path) -> None:
    files = LocalCa(tmp_path).issue("crew", "osl-a11")
    request = certificate_request(files.cert)
    assert request.serial == serial_of_pem(files.cert.read_bytes())
    assert request.common_name == "osl-a11"
    assert request.not_after.seconds > time.time() + 300 * 86400
    with pytest.raises(ValueError):
        certificate_request(files.key)  # a key, not a certificate
    with pytest.raises(ValueError):
        certificate_request(tmp_path / "missing.crt")


def test_a_person_is_named_by_a_printable_user_id() -> None:
    assert revocation.person("  kari ") == "kari"
    for bad in ("", "   ", "k" * 129, "kari\nola"):
        with pytest.raises(InvalidArgumentError) as err:
            revocation.person(bad)
        assert err.value.field == "user"


def test_a_suspended_person_is_told_when_and_why_and_how_it_ends() -> None:
    text = revocation.suspension_refusal("kari", 1_790_000_000.0, "oppslag uten tjenstlig behov")
    assert text == (
        "kari: access suspended 2026-09-21 14:13 UTC: oppslag uten tjenstlig behov; "
        "a supervisor or engineer can lift it (amk user reinstate)"
    )


def decision(id: str, at: float, user: str, suspended: bool) -> SuspensionRow:
    return SuspensionRow(id, at, user, suspended, "oppslag uten tjenstlig behov", "sjef", "S")


def test_a_persons_latest_decision_is_in_force() -> None:
    revocations = Revocations(_no_archive, 1.0)
    assert revocations.suspension("kari") == ""

    async def decide(*rows: SuspensionRow) -> bool:
        change = revocations.change_future()
        revocations.apply_decisions(rows)
        return change.done()

    assert asyncio.run(decide(decision("d1", 10.0, "kari", True)))  # streams told
    assert "kari: access suspended" in revocations.suspension("kari")
    assert revocations.suspension("ola") == ""
    # Reinstated (arriving out of order changes nothing: the latest by time wins).
    assert not asyncio.run(decide(decision("d3", 30.0, "kari", False)))
    assert revocations.suspension("kari") == ""
    assert not asyncio.run(decide(decision("d2", 20.0, "kari", True)))
    assert revocations.suspension("kari") == "" and len(revocations.decisions) == 3


def test_a_crew_is_refused_by_its_person_or_its_unit() -> None:
    revocations = Revocations(_no_archive, 1.0)
    revocations.apply_decisions([decision("d1", 10.0, "osl-a12", True)])
    crew_token = Claims(sub="per", name="Per", role="crew", centre="oslo", unit="osl-a12")
    crew_cert = Claims(sub="osl-a12", name="osl-a12", role="crew", centre="oslo", unit="osl-a12")
    other = Claims(sub="per", name="Per", role="crew", centre="oslo", unit="osl-a13")
    assert "osl-a12: access suspended" in revocations.suspension_of(crew_token)
    assert "osl-a12: access suspended" in revocations.suspension_of(crew_cert)
    assert revocations.suspension_of(other) == ""


# ---------------------------------------------------------------- amk status


def test_amk_status_tells_whether_the_gateway_has_read_its_lists() -> None:
    """Plain while read, yellow once reads have failed for five polls, red while never
    read (that gateway refuses nobody for revocation or suspension); nothing when the
    gateway sent none (the caller's role is not told, or identities are not checked)."""
    from amk.dispatch.v1 import dispatch_pb2 as pb
    from clients.render import cluster_status_renderable, credential_lists_line

    fresh = pb.CredentialLists(
        read=True, read_age_s=0.8, revoked_certificates=2, suspended=1, poll_s=2
    )
    line = credential_lists_line(fresh)
    assert line.plain.endswith(
        "read 0.8 s ago (every 2 s): 2 certificate(s) revoked, 1 person(s) or unit(s) suspended"
    )
    assert not line.style
    stale = credential_lists_line(pb.CredentialLists(read=True, read_age_s=45, poll_s=2))
    assert "last read 45 s ago" in stale.plain and "not known here" in stale.plain
    assert stale.style == "bold yellow"
    unread = credential_lists_line(pb.CredentialLists(read=False, read_age_s=37, poll_s=2))
    assert "NOT READ in the 37 s" in unread.plain and "refuses no revoked" in unread.plain
    assert unread.style == "bold red"

    def shown(status: pb.ClusterStatus) -> bool:
        return any(
            getattr(part, "plain", "").startswith("credential lists")
            for part in cluster_status_renderable(status).renderables
        )

    assert shown(pb.ClusterStatus(credential_lists=fresh))
    assert not shown(pb.ClusterStatus())
