"""The web console's server without a cluster (issue #14): the tables against the
contract (docs/web-console.md), SSE framing, proto JSON, and the HTTP layer on an
insecure config with its own local issuer (login, the dev form, static files, the
browser checks). What needs gateways is in tests/integration/test_web_api.py."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import grpc
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from actors.domain.access import default_access_table
from actors.domain.triage import default_table
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.web import server
from clients.web.errors import HTTP_STATUS, ApiError, http_status
from clients.web.gateway import (
    METHODS,
    fill_request_id,
    parse_request,
    stated_break_glass,
    to_json,
)
from clients.web.live import frame, needs_snapshot, parse_regions, resume_revision
from clients.web.login import Auth
from clients.web.reference import CENTRE_COLOURS, build_reference, centre_colour
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.etcd_server import find_free_port

pytestmark = pytest.mark.timeout(60)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "web-console.md").read_text()


# ---------------------------------------------------------------- the contract's tables


def test_the_status_table_is_the_documented_one() -> None:
    listed = re.search(r"\((INVALID_ARGUMENT 400,.*?other 500)\)", DOC, re.S)
    assert listed is not None
    pairs = dict(re.findall(r"([A-Z_]+) (\d{3})", listed.group(1)))
    assert {c.name: s for c, s in HTTP_STATUS.items() if c != grpc.StatusCode.OK} == {
        name: int(status) for name, status in pairs.items()
    }
    assert http_status(grpc.StatusCode.INTERNAL) == 500
    assert http_status(grpc.StatusCode.RESOURCE_EXHAUSTED) == 500


def test_both_languages_have_the_same_texts_and_a_headline_for_every_error_code() -> None:
    """The console shows a refused call by what its code means, in the person's language
    (``forms.errorText``): every code the HTTP API can carry has a text in both files, and
    no text is in one language only (the page would show the other's key)."""
    texts = {
        lang: json.loads((server.STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in ("nb", "en")
    }
    assert texts["nb"].keys() == texts["en"].keys()
    for code in grpc.StatusCode:
        if code is grpc.StatusCode.OK:
            continue
        key = f"error.code.{code.name}"
        assert texts["nb"].get(key) and texts["en"].get(key), key
        assert texts["nb"][key] != texts["en"][key], key
    assert texts["nb"]["error.code.INVALID_ARGUMENT"] == "Ugyldig verdi"


def test_the_exposed_methods_are_the_documented_list_and_in_the_roles_table() -> None:
    listed = re.search(r"reaches the gateway for: (.*?)\. Methods of", DOC, re.S)
    assert listed is not None
    names = [n.strip() for n in listed.group(1).split(",")]
    assert list(METHODS) == names
    table = default_access_table()
    for method in METHODS.values():
        assert table.rule(method.full_name) is not None, method.full_name


def test_a_role_sees_only_the_methods_the_roles_table_gives_it(tmp_path: Path) -> None:
    auth = Auth(_config(tmp_path))
    taker = auth.methods("call-taker")
    assert {"CreateIncident", "AnswerNextCall", "ListCalls"} <= set(taker)
    assert "HandOverRegion" not in taker and "ChangeIncidentStatus" not in taker
    assert "HandOverRegion" in auth.methods("supervisor")
    assert "CreateIncident" not in auth.methods("engineer")
    assert auth.methods("nobody") == []


def test_break_glass_is_offered_until_the_window_closes_and_only_to_roles_with_it(
    tmp_path: Path,
) -> None:
    from cluster.tokens import Claims

    auth = Auth(_config(tmp_path, break_glass_window_s=600))
    at = 1_790_000_000.0

    def until(role: str) -> float | None:
        return auth.break_glass_until(Claims("kari", "Kari", role, "oslo", issued_at=at))

    assert [until(r) for r in ("dispatcher", "call-taker", "supervisor")] == [at + 600] * 3
    assert [until(r) for r in ("engineer", "auditor", "crew", "nobody")] == [None] * 4
    # The calls a reason stated for an incident goes with: decided on that incident only.
    named = auth.incident_methods("dispatcher")
    assert {"GetIncident", "AddIncidentNote", "AssignUnit", "SendAlert"} <= set(named)
    assert not {"LinkCall", "ChangeUnitStatus", "ListIncidents", "CreateIncident"} & set(named)
    assert set(named) <= set(auth.methods("dispatcher"))


def test_a_break_glass_reason_is_read_as_the_gateway_reads_it_or_refused_on_its_field() -> None:
    assert stated_break_glass(None) == ""
    reason = "Storulykke på E18, Vestre Viken ber om hjelp"
    assert stated_break_glass(urllib.parse.quote(reason)) == reason
    assert stated_break_glass(f"  {reason}  ") == reason
    # Pasted white space (a line break, a no-break space, a tab) is one space.
    pasted = urllib.parse.quote("Storulykke\n på E18,\u00a0Vestre\tViken ber om hjelp")
    assert stated_break_glass(pasted) == reason
    assert stated_break_glass("x" * 500) == "x" * 500
    for bad in ("", "   ", "kort", "%0A" * 12, "x" * 501, "%FF" * 12, "Storulykke%00på E18"):
        with pytest.raises(ApiError) as err:
            stated_break_glass(bad)
        assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT, bad
        assert err.value.field == "break_glass", bad


# ---------------------------------------------------------------- proto JSON and SSE


def test_proto_json_has_field_names_enum_names_defaults_and_numbers() -> None:
    event = pb.WatchEvent(kind=pb.WatchEvent.KIND_INCIDENT_CHANGED, revision=12)
    assert to_json(event) == {
        "kind": "KIND_INCIDENT_CHANGED",
        "revision": 12,
        "region": "",
        "message": "",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"position": {"lat": "abc"}}, "position.lat"),
        ({"position": {"accuracyM": "z"}}, "position.accuracy_m"),
        ({"complaint_chapter": 1.5}, "complaint_chapter"),
        ({"positio": {}}, "positio"),
        ({"position": {"latitude": 1}}, "position.latitude"),
        ([1, 2], ""),
    ],
)
def test_bad_proto_json_is_invalid_argument_naming_the_field(body: object, field: str) -> None:
    from clients.web.errors import ApiError

    with pytest.raises(ApiError) as info:
        parse_request(METHODS["CreateIncident"], body)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.field == field
    assert info.value.status == 400
    assert "\n" not in info.value.message


def test_a_request_id_is_filled_in_only_where_the_method_has_one_and_none_was_given() -> None:
    create = parse_request(METHODS["CreateIncident"], {"region": "oslo"})
    fill_request_id(METHODS["CreateIncident"], create)
    assert len(create.request_id) == 32
    given = parse_request(METHODS["CreateIncident"], {"request_id": "mine"})
    fill_request_id(METHODS["CreateIncident"], given)
    assert given.request_id == "mine"
    assert not METHODS["GetIncident"].has_request_id
    enum = parse_request(METHODS["ChangeIncidentStatus"], {"status": "INCIDENT_STATUS_CLOSED"})
    assert enum.status == pb.INCIDENT_STATUS_CLOSED


def test_sse_frames() -> None:
    assert frame("batch", {"events": []}, id=41) == b'event: batch\nid: 41\ndata: {"events":[]}\n\n'
    assert frame("reset", {}, id="") == b"event: reset\nid: \ndata: {}\n\n"
    # JSON keeps a newline inside a string escaped: one data line per message.
    assert frame("status", {"m": "a\nb æ"}).count(b"\n") == 3
    assert resume_revision("41") == 42
    assert resume_revision(None) == resume_revision("") == resume_revision("x") == 0
    assert resume_revision("-3") == 0
    assert parse_regions(" oslo, ,innlandet") == ["oslo", "innlandet"]
    assert parse_regions(None) == []


def test_a_compacted_resume_is_told_from_a_gateway_going_away() -> None:
    assert needs_snapshot(grpc.StatusCode.UNAVAILABLE, "watch cancelled (compacted at 9): x")
    assert needs_snapshot(grpc.StatusCode.OUT_OF_RANGE, "")
    assert not needs_snapshot(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses")


# ---------------------------------------------------------------- reference data


def test_reference_colours_are_fixed_distinct_and_stable() -> None:
    config = ClusterConfig.load()
    ref = build_reference(config.seed, default_table())
    assert {c["id"]: c["colour"] for c in ref["centres"]} == CENTRE_COLOURS
    assert len(set(CENTRE_COLOURS.values())) == 5
    assert centre_colour("elsewhere") == centre_colour("elsewhere")
    units = sum(len(s["units"]) for s in ref["stations"])
    assert units == len(config.seed.units)
    assert all(re.fullmatch(r"[a-z0-9/-]+", s["id"]) for s in ref["stations"])
    assert {c["urgency"] for c in ref["criteria"]} == {
        "URGENCY_AKUTT",
        "URGENCY_HASTER",
        "URGENCY_VANLIG",
    }


def test_reference_marks_only_the_hospitals_that_take_pre_notifications() -> None:
    config = ClusterConfig.load()
    plain = build_reference(config.seed, default_table())
    assert not any(h["prenotify"] for h in plain["hospitals"])
    ref = build_reference(config.seed, default_table(), {"ous-ulleval"})
    assert [h["id"] for h in ref["hospitals"] if h["prenotify"]] == ["ous-ulleval"]


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("value", "stored"),
    [("off", ""), ("", ""), (" OFF ", ""), ("127.0.0.1:8081", "127.0.0.1:8081")],
)
def test_web_address_setting(tmp_path: Path, value: str, stored: str) -> None:
    assert ClusterConfig.load(home=tmp_path, web_address=value).web_address == stored


@pytest.mark.parametrize("value", ["8080", "localhost", "h:0", "h:70000", ":8080"])
def test_a_bad_web_address_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="web_address"):
        ClusterConfig.load(home=tmp_path, web_address=value)


def test_loopback_hosts() -> None:
    assert "localhost:8080" in server.loopback_hosts("127.0.0.1:8080")
    assert "127.0.0.1:8080" in server.loopback_hosts("localhost:8080")
    assert server.loopback_hosts("0.0.0.0:8080") == frozenset()


# ---------------------------------------------------------------- the HTTP layer


def _config(tmp_path: Path, **kw: object) -> ClusterConfig:
    """Insecure (no certificates to make), with its own local issuer in ``tmp_path``."""
    return ClusterConfig.load(home=tmp_path, insecure=True, web_address="off", **kw)


@pytest_asyncio.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    app = server.make_app(_config(tmp_path, web_dev_login=True))
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_the_dev_form_signs_a_token_and_sets_the_cookie(client: TestClient) -> None:
    resp = await client.get("/api/me")
    assert resp.status == 401 and (await resp.json())["dev_login"] is True
    body = {"user": "kari", "role": "dispatcher", "centre": "innlandet"}
    resp = await client.post("/api/login", json=body)
    assert resp.status == 200, await resp.text()
    me = await resp.json()
    assert (me["user"], me["role"], me["centre"], me["dev_login"]) == (
        "kari",
        "dispatcher",
        "innlandet",
        True,
    )
    assert "AssignUnit" in me["methods"]
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    for bad, field in (({"role": "boss"}, "role"), ({"centre": "bergen"}, "centre")):
        resp = await client.post("/api/login", json={**body, **bad})
        assert resp.status == 400 and (await resp.json())["error"]["field"] == field


async def test_a_login_without_a_token_is_401_on_the_token_field(client: TestClient) -> None:
    for body in ({}, {"token": ""}, {"token": 5}):
        resp = await client.post("/api/login", json=body)
        assert resp.status == 401
        assert (await resp.json())["error"]["field"] == "token"
    resp = await client.post("/api/login", data=b"{not json")
    assert resp.status == 400


async def test_the_page_and_its_files(client: TestClient, tmp_path: Path, monkeypatch) -> None:
    static = tmp_path / "static"
    monkeypatch.setattr(server, "STATIC", static)
    resp = await client.get("/")
    assert resp.status == 503 and "not built" in (await resp.json())["error"]["message"]
    (static / "js").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>AMK</title>")
    (static / "js" / "app.mjs").write_text("export {};")
    (static / ".secret").write_text("x")
    (tmp_path / "outside.txt").write_text("x")
    resp = await client.get("/")
    assert resp.status == 200 and "AMK" in await resp.text()
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    resp = await client.get("/static/js/app.mjs")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/javascript")
    for path in ("/static/.secret", "/static/../outside.txt", "/static/%2e%2e/outside.txt"):
        assert (await client.get(path)).status == 404, path
    resp = await client.get("/api/nothing-here")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "NOT_FOUND"


async def test_another_sites_post_and_a_foreign_host_are_refused(tmp_path: Path) -> None:
    port = find_free_port()
    config = _config(tmp_path).model_copy(update={"web_address": f"127.0.0.1:{port}"})
    async with TestClient(TestServer(server.make_app(config), port=port)) as c:
        resp = await c.post("/api/logout", headers={"Origin": "http://evil.example"})
        assert resp.status == 403
        resp = await c.post("/api/logout", headers={"Origin": f"http://127.0.0.1:{port}"})
        assert resp.status == 200
        resp = await c.get("/api/reference", headers={"Host": f"evil.example:{port}"})
        assert resp.status == 403 and "web_address" in (await resp.json())["error"]["message"]
        assert (await c.get("/api/reference", headers={"Host": f"localhost:{port}"})).status == 200


async def test_a_taken_port_names_the_setting(tmp_path: Path) -> None:
    port = find_free_port()
    config = _config(tmp_path).model_copy(update={"web_address": f"127.0.0.1:{port}"})
    first = await server.start_web(config)
    try:
        with pytest.raises(ConfigError, match=rf"127\.0\.0\.1:{port} is taken.*web_address"):
            await server.start_web(config)
    finally:
        await server.stop_web(first)


async def test_stopping_the_server_ends_open_streams_at_once(tmp_path: Path) -> None:
    """A stream whose gateway does not answer keeps trying quietly; the server's stop
    ends it (and its tasks) rather than waiting for it."""
    port = find_free_port()
    config = _config(tmp_path, web_dev_login=True).model_copy(
        update={
            "web_address": f"127.0.0.1:{port}",
            "gateways": [f"127.0.0.1:{find_free_port()}"],  # nothing listens there
        }
    )
    runner = await server.start_web(config)
    stopped = False
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            body = {"user": "kari", "role": "call-taker", "centre": "oslo"}
            url = f"http://127.0.0.1:{port}"
            async with browser.post(f"{url}/api/login", json=body) as resp:
                assert resp.status == 200
            async with browser.get(f"{url}/api/live") as resp:
                assert await resp.content.readline() == b"retry: 1000\n"
                await asyncio.wait_for(server.stop_web(runner), 5)
                stopped = True
                rest = await asyncio.wait_for(resp.content.read(), 5)  # ends cleanly
                assert b"event: error" not in rest
    finally:
        if not stopped:
            await server.stop_web(runner)


def test_amk_up_flags_set_the_web_settings(tmp_path: Path, monkeypatch) -> None:
    from clients.cli import build_parser
    from clients.launcher import _config_from_args

    monkeypatch.delenv("AMK_WEB", raising=False)
    home = str(tmp_path)
    parse = build_parser().parse_args
    assert _config_from_args(parse(["up", "--home", home])).web_address == "127.0.0.1:8080"
    off = _config_from_args(parse(["up", "--home", home, "--web", "off"]))
    assert off.web_address == "" and not off.web_dev_login
    dev = _config_from_args(
        parse(["up", "--home", home, "--web", "127.0.0.1:8181", "--web-dev-login"])
    )
    assert (dev.web_address, dev.web_dev_login) == ("127.0.0.1:8181", True)


def test_amk_up_refuses_a_taken_web_port_naming_the_setting(tmp_path: Path) -> None:
    import socket

    from clients.up_guard import UpRefused, check_ports

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = f"127.0.0.1:{holder.getsockname()[1]}"
        config = ClusterConfig.load(
            home=tmp_path,
            web_address=taken,
            gateways=[f"127.0.0.1:{find_free_port()}"],
            etcd_endpoints=["127.0.0.1:1"],
        )
        with pytest.raises(UpRefused, match=rf"web_address.*{taken} is taken"):
            check_ports(config, embedded_etcd=False)
