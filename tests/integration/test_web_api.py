"""The web console's HTTP API (issue #14, docs/web-console.md) against a real deployment.

The web server runs in this process on a free port, in front of the module's ``cluster``
(its two gateways, the session's etcd and Ray); aiohttp's client plays the browser. The
gateways run the suite's role table (tests/data/access_tests.toml: the shipped roles
plus ``test-console``), so tokens of the shipped roles, from the deployment's local
issuer, get the shipped scopes.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest
import pytest_asyncio
from aetcd import rpc as etcd_rpc
from aiohttp import web as web_
from cryptography.hazmat.primitives.asymmetric import ec

from clients.web.gateway import BREAK_GLASS_HTTP, GATEWAYS
from clients.web.server import start_web, stop_web
from cluster.etcd import EtcdClient
from cluster.etcd_tls import identity_files
from cluster.tokens import ALGORITHM, LocalIssuer
from tests.conftest import RunningCluster
from tests.helpers import find_free_port, kill_gateway, session_pki
from tests.integration.support import two_gateways as cluster_gateways  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

OSLO = {"lat": 59.9139, "lon": 10.7522, "accuracy_m": 25}
NEW = {"region": "oslo", "position": OSLO}
WAIT_S = 20.0  # a bound on waiting for an event, not a timing goal


@dataclass
class Console:
    url: str
    runner: web_.AppRunner


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def console(cluster: RunningCluster) -> AsyncIterator[Console]:
    """The web server, serving in front of the module's deployment."""
    port = find_free_port()
    config = cluster.config.model_copy(update={"web_address": f"127.0.0.1:{port}"})
    runner = await start_web(config)
    yield Console(f"http://127.0.0.1:{port}", runner)
    await stop_web(runner)


@pytest.fixture
def web(console: Console) -> str:
    """The console's base URL."""
    return console.url


@pytest.fixture
def issuer(cluster: RunningCluster) -> LocalIssuer:
    c = cluster.config
    return LocalIssuer.for_config(c)


def token(issuer: LocalIssuer, role: str, centre: str = "oslo", **kw: Any) -> str:
    return issuer.issue(kw.pop("user", f"web-{role}-{centre}"), role, centre, lifetime_s=3600, **kw)


def browser() -> aiohttp.ClientSession:
    """A browser's cookie jar: ``unsafe`` keeps cookies of an IP address (127.0.0.1)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def signed_in(web: str, tok: str) -> aiohttp.ClientSession:
    session = browser()
    async with session.post(f"{web}/api/login", json={"token": tok}) as resp:
        assert resp.status == 200, await resp.text()
    return session


async def rpc(
    session: aiohttp.ClientSession, web: str, method: str, body: Any, break_glass: str | None = None
) -> tuple[int, Any]:
    """One ``POST /api/rpc``; ``break_glass`` is sent as the page sends a reason."""
    headers = {} if break_glass is None else {BREAK_GLASS_HTTP: urllib.parse.quote(break_glass)}
    async with session.post(f"{web}/api/rpc/{method}", json=body, headers=headers) as resp:
        return resp.status, await resp.json()


# ---------------------------------------------------------------- login


async def test_login_sets_the_cookie_and_me_lists_what_the_role_may_call(web, issuer):
    async with browser() as session:
        tok = token(issuer, "call-taker", user="kari")
        async with session.post(f"{web}/api/login", json={"token": tok}) as resp:
            assert resp.status == 200, await resp.text()
            me = await resp.json()
            cookie = resp.cookies["amk_session"]
        assert cookie.value == tok
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
        assert 3500 <= int(cookie["max-age"]) <= 3600
        assert (me["user"], me["role"], me["centre"]) == ("kari", "call-taker", "oslo")
        assert me["dev_login"] is False and me["expires_at"] > time.time()
        assert {"CreateIncident", "AnswerNextCall", "TriageIncident"} <= set(me["methods"])
        assert "HandOverRegion" not in me["methods"]
        async with session.get(f"{web}/api/me") as resp:
            assert resp.status == 200 and (await resp.json())["user"] == "kari"
        async with session.post(f"{web}/api/logout") as resp:
            assert resp.status == 200
        async with session.get(f"{web}/api/me") as resp:
            assert resp.status == 401
            assert (await resp.json())["dev_login"] is False
    async with await signed_in(web, token(issuer, "supervisor")) as session:
        async with session.get(f"{web}/api/me") as resp:
            methods = (await resp.json())["methods"]
        assert {"HandOverRegion", "HandBackRegion", "DeclareMajorIncident"} <= set(methods)


def forged(issuer: LocalIssuer) -> str:
    """A token with our key id and claims, signed by another key."""
    now = int(time.time())
    claims = {"sub": "mallory", "role": "supervisor", "centre": "oslo", "iss": issuer.issuer}
    claims |= {"aud": issuer.audience, "iat": now, "exp": now + 3600}
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": issuer.key_id()})


@pytest.mark.parametrize("kind", ["missing", "garbage", "expired", "forged", "audience"])
async def test_a_bad_token_is_401_on_the_token_field(web, issuer, kind):
    bodies = {
        "missing": {},
        "garbage": {"token": "not-a-jwt"},
        "expired": {"token": token(issuer, "dispatcher", now=time.time() - 7200)},
        "forged": {"token": forged(issuer)},
        "audience": {
            "token": LocalIssuer(issuer.folder, issuer.issuer, "someone-else").issue(
                "kari", "dispatcher", "oslo", lifetime_s=3600
            )
        },
    }
    async with browser() as session:
        async with session.post(f"{web}/api/login", json=bodies[kind]) as resp:
            assert resp.status == 401
            error = (await resp.json())["error"]
            assert "amk_session" not in resp.cookies
    assert error["code"] == "UNAUTHENTICATED" and error["field"] == "token"
    expect = {
        "missing": "amk login",
        "garbage": "malformed",
        "expired": "expired",
        "forged": "signature",
        "audience": "audience",
    }[kind]
    assert expect in error["message"]


async def test_the_dev_form_is_refused_unless_switched_on(web):
    async with browser() as session:
        body = {"user": "kari", "role": "supervisor", "centre": "oslo"}
        async with session.post(f"{web}/api/login", json=body) as resp:
            assert resp.status == 403
            error = (await resp.json())["error"]
        async with session.get(f"{web}/api/login/oidc") as resp:
            assert resp.status == 501
            assert "not built" in (await resp.json())["error"]["message"]
    assert error["code"] == "PERMISSION_DENIED" and "amk login" in error["message"]


# ---------------------------------------------------------------- the API


async def test_an_incident_created_through_the_console_is_readable(web, issuer):
    async with await signed_in(web, token(issuer, "call-taker")) as session:
        body = {"region": "oslo", "position": OSLO, "address": "Karl Johans gate 1"}
        status, inc = await rpc(session, web, "CreateIncident", body)
        assert status == 200, inc
        assert inc["id"].startswith("OSL-") and inc["status"] == "INCIDENT_STATUS_RECEIVED"
        assert isinstance(inc["revision"], int) and inc["urgency"] == "URGENCY_UNSPECIFIED"
        status, got = await rpc(session, web, "GetIncident", {"incident_id": inc["id"]})
        assert status == 200 and got["address"] == "Karl Johans gate 1"
        assert got["revision"] == inc["revision"]
        # A request id the page gives is kept: the same create twice is one incident.
        again = {**body, "request_id": uuid.uuid4().hex}
        first = await rpc(session, web, "CreateIncident", again)
        second = await rpc(session, web, "CreateIncident", again)
        assert first[0] == second[0] == 200 and first[1]["id"] == second[1]["id"]


async def test_reads_through_the_console_are_in_the_access_log_with_the_browser(
    web, issuer, cluster
):
    """Normen: a read through the web console is logged as the person's, and from
    where: the gateway's own peer (this server) and the browser's address, as stated."""
    from amk.audit.v1 import audit_pb2 as apb
    from amk.audit.v1 import audit_pb2_grpc as apb_grpc
    from cluster.tls import console_identity, open_channel
    from tests.helpers import assert_eventually

    user = f"web-reader-{uuid.uuid4().hex[:6]}"
    async with await signed_in(web, token(issuer, "dispatcher", user=user)) as session:
        status, inc = await rpc(session, web, "CreateIncident", NEW)
        assert status == 200, inc
        status, _ = await rpc(session, web, "GetIncident", {"incident_id": inc["id"]})
        assert status == 200
    auditor = token(issuer, "auditor")
    channel = open_channel(cluster.gateway, console_identity(cluster.config), token=auditor)
    try:
        audit = apb_grpc.AuditServiceStub(channel)

        async def logged() -> None:
            found = await audit.QueryAccessLog(apb.QueryAccessLogRequest(user=user), timeout=10)
            reads = [r for r in found.records if r.method.endswith("/GetIncident")]
            assert reads and reads[0].record_id == inc["id"], found
            assert reads[0].role == "dispatcher" and reads[0].why == "owner"
            assert "web console for 127.0.0.1, as stated" in reads[0].peer, reads[0].peer

        await assert_eventually(logged, timeout_s=WAIT_S)
    finally:
        await channel.close()


async def test_break_glass_reaches_another_centres_incident_with_the_reason_logged(
    web, issuer, cluster, etcd: EtcdClient
):
    """A dispatcher of Vestfold og Telemark helps with an Oslo incident: refused without
    a reason; a missing or short reason is 400 on ``break_glass`` with nothing written;
    with a reason the incident is read and a note added, and the access log has the
    read as break-glass with the reason and the browser's address."""
    from amk.audit.v1 import audit_pb2 as apb
    from amk.audit.v1 import audit_pb2_grpc as apb_grpc
    from cluster.tls import console_identity, open_channel
    from tests.helpers import assert_eventually

    async with await signed_in(web, token(issuer, "call-taker")) as session:
        status, inc = await rpc(session, web, "CreateIncident", NEW)
        assert status == 200, inc
    user = f"web-glass-{uuid.uuid4().hex[:6]}"
    helper = token(issuer, "dispatcher", "vestfold-telemark", user=user)
    reason = "Storulykke på Ring 3: AMK Oslo ber om avlastning"
    note = {"incident_id": inc["id"], "text": "Vestfold og Telemark følger opp"}
    async with await signed_in(web, helper) as session:
        async with session.get(f"{web}/api/me") as resp:
            assert (await resp.json())["break_glass_until"] > time.time()
        status, answer = await rpc(session, web, "GetIncident", {"incident_id": inc["id"]})
        assert status == 403 and "break-glass" in answer["error"]["message"], answer
        before = await etcd.revision()
        for bad in ("", "trengs", "styre\x07tegn i begrunnelsen"):
            status, answer = await rpc(session, web, "AddIncidentNote", note, break_glass=bad)
            assert status == 400 and answer["error"]["field"] == "break_glass", (bad, answer)
        assert await etcd.revision() == before, "a refused break-glass call wrote to etcd"
        got = await rpc(session, web, "GetIncident", {"incident_id": inc["id"]}, reason)
        assert got[0] == 200 and got[1]["id"] == inc["id"], got
        status, noted = await rpc(session, web, "AddIncidentNote", note, break_glass=reason)
        assert status == 200, noted
        assert [(n["author"], n["text"]) for n in noted["notes"]] == [(user, note["text"])]
    channel = open_channel(
        cluster.gateway, console_identity(cluster.config), token=token(issuer, "auditor")
    )
    try:
        audit = apb_grpc.AuditServiceStub(channel)

        async def logged() -> None:
            found = await audit.QueryAccessLog(apb.QueryAccessLogRequest(user=user), timeout=10)
            reads = [r for r in found.records if r.method.endswith("/GetIncident")]
            assert [(r.record_id, r.why, r.reason) for r in reads] == [
                (inc["id"], "break-glass", reason)
            ], found
            assert reads[0].centre == "vestfold-telemark" and reads[0].region == "oslo"
            assert "web console for 127.0.0.1, as stated" in reads[0].peer, reads[0].peer

        await assert_eventually(logged, timeout_s=WAIT_S)
    finally:
        await channel.close()


@pytest.mark.parametrize("lat", [200, "abc"])
async def test_bad_input_is_400_on_its_field_and_writes_nothing(web, issuer, etcd: EtcdClient, lat):
    async with await signed_in(web, token(issuer, "call-taker")) as session:
        before = await etcd.revision()
        body = {"region": "oslo", "position": {**OSLO, "lat": lat}}
        status, answer = await rpc(session, web, "CreateIncident", body)
        assert await etcd.revision() == before
    assert status == 400, answer
    assert answer["error"]["code"] == "INVALID_ARGUMENT"
    assert answer["error"]["field"] == "position.lat"


async def test_a_method_the_role_may_not_call_is_403_and_an_unknown_one_404(web, issuer):
    async with await signed_in(web, token(issuer, "call-taker")) as session:
        body = {"region": "oslo", "to_centre": "innlandet"}
        status, answer = await rpc(session, web, "HandOverRegion", body)
        assert status == 403 and answer["error"]["code"] == "PERMISSION_DENIED", answer
        for name in ("QueryAccessLog", "ReportUnitPosition", "NoSuchMethod"):
            status, answer = await rpc(session, web, name, {})
            assert status == 404 and answer["error"]["code"] == "NOT_FOUND", (name, answer)
    async with browser() as session:  # not signed in
        status, answer = await rpc(session, web, "ListIncidents", {})
        assert status == 401 and answer["error"]["code"] == "UNAUTHENTICATED"


async def test_reference_data_needs_no_login_and_names_five_colours(web):
    async with browser() as session, session.get(f"{web}/api/reference") as resp:
        assert resp.status == 200
        ref = await resp.json()
    colours = {c["id"]: c["colour"] for c in ref["centres"]}
    assert len(colours) == 5 and len(set(colours.values())) == 5
    regions = {r["id"]: r for r in ref["regions"]}
    assert regions["oslo"]["centre_colour"] == colours["oslo"]
    assert ref["hospitals"] and ref["airports"] and ref["stations"] and ref["chapters"]
    assert {"code", "text", "urgency", "chapter"} <= set(ref["criteria"][0])
    assert "caller_number" not in json.dumps(ref)


# ---------------------------------------------------------------- the live stream


class Events:
    """Server-Sent Events read off one response: (event, id or None, data)."""

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self.resp = resp

    async def next(self) -> tuple[str, str | None, Any]:
        event, ident, data = "message", None, ""
        while True:
            line = (await self.resp.content.readline()).decode()
            if not line:
                raise EOFError("stream ended")
            line = line.rstrip("\n")
            if not line:
                if data:
                    return event, ident, json.loads(data)
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "id":
                ident = value
            elif name == "data":
                data += value

    async def until(self, want: str, check: Any = None) -> list[tuple[str, str | None, Any]]:
        """Every event up to and including the first ``want`` that ``check`` accepts."""
        seen = []

        async def read() -> None:
            while True:
                item = await self.next()
                seen.append(item)
                if item[0] == want and (check is None or check(item[2])):
                    return

        await asyncio.wait_for(read(), WAIT_S)
        return seen


def kinds(items: list[tuple[str, str | None, Any]]) -> list[str]:
    return [e["kind"] for name, _, data in items if name == "batch" for e in data["events"]]


def changed(incident_id: str) -> Any:
    def check(data: Any) -> bool:
        return any(e.get("incident", {}).get("id") == incident_id for e in data["events"])

    return check


async def test_live_snapshot_then_changes_then_a_resume_without_snapshot(web, issuer):
    async with await signed_in(web, token(issuer, "call-taker")) as session:
        url = f"{web}/api/live?regions=oslo"
        async with session.get(url) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            events = Events(resp)
            snapshot = await events.until("batch", lambda d: "KIND_SNAPSHOT_DONE" in str(d))
            assert "KIND_SNAPSHOT_UNIT" in kinds(snapshot)
            assert snapshot[-1][1] is not None  # the batch that ends the snapshot has an id
            status, inc = await rpc(
                session, web, "CreateIncident", {"region": "oslo", "position": OSLO}
            )
            assert status == 200, inc
            seen = await events.until("batch", changed(inc["id"]))
            last_id = seen[-1][1]
            assert last_id is not None and int(last_id) >= inc["revision"]
            await events.until("status")  # every two seconds
            calls = await events.until("calls")
            assert set(calls[-1][2]) == {"calls", "metrics"}
        # Away for a moment: a change happens meanwhile; the page comes back with its id.
        status, missed = await rpc(
            session, web, "CreateIncident", {"region": "oslo", "position": OSLO}
        )
        assert status == 200
        async with session.get(url, headers={"Last-Event-ID": last_id}) as resp:
            resumed = await Events(resp).until("batch", changed(missed["id"]))
        assert not [k for k in kinds(resumed) if k.startswith("KIND_SNAPSHOT")]
        assert all(int(i) > int(last_id) for name, i, _ in resumed if name == "batch" and i)


async def test_live_without_a_session_says_so_as_an_event(web):
    async with browser() as session, session.get(f"{web}/api/live") as resp:
        name, _, data = await asyncio.wait_for(Events(resp).next(), WAIT_S)
    assert name == "error" and data["error"]["code"] == "UNAUTHENTICATED"


async def test_live_refused_by_the_gateway_is_an_error_event(web, issuer):
    """An engineer may not watch incidents: the gateway's refusal reaches the page as
    ``error`` (the page does not retry), and the stream ends."""
    async with await signed_in(web, token(issuer, "engineer")) as session:
        async with session.get(f"{web}/api/live?regions=oslo") as resp:
            items = await Events(resp).until("error")
            with pytest.raises(EOFError):
                await asyncio.wait_for(Events(resp).next(), WAIT_S)
    assert items[-1][2]["error"]["code"] == "PERMISSION_DENIED"


def snapshot_done(data: Any) -> bool:
    return any(e["kind"] == "KIND_SNAPSHOT_DONE" for e in data["events"])


async def compact(cluster: RunningCluster) -> int:
    """Compact the session etcd's history up to now (as its periodic auto-compaction
    would, later): only etcd's root may."""
    root = EtcdClient([cluster.endpoint], tls=identity_files(session_pki(), "root"))
    try:
        rev = await root.revision()
        await root._kv.Compact(etcd_rpc.CompactionRequest(revision=rev, physical=True))
        return rev
    finally:
        await root.close()


async def test_a_resume_from_a_compacted_revision_is_a_reset_and_a_snapshot(web, issuer, cluster):
    async with await signed_in(web, token(issuer, "call-taker")) as session:
        url = f"{web}/api/live?regions=oslo"
        async with session.get(url) as resp:
            first = await Events(resp).until("batch", snapshot_done)
        old_id = first[-1][1]
        assert old_id is not None
        # Two writes, then history is compacted up to the second: the first change the
        # page misses is gone from etcd.
        status, inc = await rpc(session, web, "CreateIncident", NEW)
        assert status == 200 and (await rpc(session, web, "CreateIncident", NEW))[0] == 200
        assert await compact(cluster) > inc["revision"]
        async with session.get(url, headers={"Last-Event-ID": old_id}) as resp:
            events = Events(resp)
            until_reset = await events.until("reset")
            again = await events.until("batch", snapshot_done)
    assert until_reset[-1][1] == ""  # clears the page's Last-Event-ID
    assert not [k for k in kinds(until_reset) if k.startswith("KIND_SNAPSHOT")]
    batches = [d for name, _, d in again if name == "batch"]
    assert inc["id"] in [e.get("incident", {}).get("id") for d in batches for e in d["events"]]
    assert again[-1][1] is not None and int(again[-1][1]) >= inc["revision"]


async def test_live_carries_on_through_another_gateway_when_its_own_dies(console, issuer, cluster):
    """Last: it kills a gateway (the supervisor starts it again)."""
    web = console.url
    async with await signed_in(web, token(issuer, "call-taker")) as session:
        async with session.get(f"{web}/api/live?regions=oslo") as resp:
            events = Events(resp)
            await events.until("batch", snapshot_done)
            victim = console.runner.app[GATEWAYS].address  # where the stream is
            await kill_gateway(cluster.deployment, victim)
            status, inc = await rpc(session, web, "CreateIncident", NEW)
            assert status == 200, inc
            seen = await events.until("batch", changed(inc["id"]))
    # Neither a reset nor an ``error`` event. (A ``status`` event may well name the dead
    # gateway's error: that is the cluster's status, not the stream's.)
    assert not {"reset", "error"} & {name for name, _, _ in seen}, seen
    assert not [k for k in kinds(seen) if k.startswith("KIND_SNAPSHOT")]
    assert console.runner.app[GATEWAYS].address != victim
