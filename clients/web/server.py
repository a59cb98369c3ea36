"""The web console's HTTP server (aiohttp): the page, the JSON API and the live stream.

A stateless client of the gateways (docs/web-console.md): it holds no dispatch state and
no sessions; each request carries the person's token in its cookie, and every call goes
through the gateways' roles table, scopes and access log like any other client's.

``amk up`` runs it in its own process once the gateways answer (``web_address``,
loopback by default) and stops it first. It speaks plain HTTP: bound to loopback only
the machine's own users reach it; on any other address a TLS proxy must stand in front
(the log says so at start).

Browser hardening, since the page shows patient data: the cookie is HttpOnly and
SameSite=Strict; a POST whose ``Origin`` is another site is refused; on a loopback
address only a loopback ``Host`` is served (a DNS-rebinding page cannot talk to it);
every answer carries a Content-Security-Policy allowing scripts, styles and data from
this server only (no inline scripts; inline styles are allowed, Leaflet sets them).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import structlog
from aiohttp import web

from clients.web import reference as ref
from clients.web.errors import ApiError, json_response, read_json
from clients.web.gateway import (
    BREAK_GLASS_HTTP,
    GATEWAYS,
    METHODS,
    Gateways,
    fill_request_id,
    parse_request,
    stated_break_glass,
    to_json,
)
from clients.web.geo_build import regions_geojson
from clients.web.live import LIVE_STREAMS, live, stop_streams
from clients.web.login import AUTH, Auth, login, logout, me, oidc
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.ports import split_address

log = structlog.get_logger("amk.web")

STATIC = (Path(__file__).parent / "static").resolve()
INDEX = "index.html"
SHUTDOWN_S = 2.0  # requests in flight get this long once the server stops
MAX_BODY = 1024 * 1024
SETTING = "setting web_address, amk up --web ADDRESS|off"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
CONFIG = web.AppKey("config", ClusterConfig)
LOOPBACK_HOSTS = web.AppKey("loopback_hosts", frozenset)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ---------------------------------------------------------------- middlewares


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error of the API in one shape (docs/web-console.md); a bug is logged once
    with its traceback and answered 500."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        # HTTP's own refusals (no such path, wrong verb, body too big) keep their status.
        code = grpc.StatusCode.NOT_FOUND if exc.status == 404 else grpc.StatusCode.INVALID_ARGUMENT
        body = ApiError(code, f"{request.method} {request.path}: {exc.reason}").body()
        return json_response(body, status=exc.status)
    except Exception as exc:
        log.error("web_unexpected_error", path=request.path, error=repr(exc), exc_info=exc)
        err = ApiError(grpc.StatusCode.INTERNAL, f"internal error in {request.path} (logged)")
        return err.response()


@web.middleware
async def same_site_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse what no page of ours would send: a ``Host`` that is not loopback when we
    listen on loopback (DNS rebinding), and a POST from another site's page."""
    allowed = request.app[LOOPBACK_HOSTS]
    if allowed and request.host.lower() not in allowed:
        raise ApiError(
            grpc.StatusCode.PERMISSION_DENIED,
            f"Host {request.host!r} is not this server's ({SETTING})",
        )
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin and origin != "null":
        if urllib.parse.urlsplit(origin).netloc.lower() != request.host.lower():
            raise ApiError(grpc.StatusCode.PERMISSION_DENIED, f"cross-site request from {origin}")
    return await handler(request)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


# ---------------------------------------------------------------- handlers


async def rpc(request: web.Request) -> web.Response:
    """``POST /api/rpc/{Method}``: the body as the request (proto JSON), the answer as
    proto JSON; a request id filled in when the method has one and the body none. An
    ``X-AMK-Break-Glass`` header is the person's reason for acting outside their
    centre's regions on this one call (docs/web-console.md, "Break-glass")."""
    name = request.match_info["method"]
    method = METHODS.get(name)
    if method is None:
        raise ApiError(grpc.StatusCode.NOT_FOUND, f"{name}: not a method of the web console")
    session = request.app[AUTH].session(request)
    message = parse_request(method, await read_json(request))
    fill_request_id(method, message)
    claims = session.claims
    started = time.monotonic()
    code = "OK"
    stated = request.headers.get(BREAK_GLASS_HTTP)
    try:
        break_glass = stated_break_glass(stated)  # refused here: logged below too
        answer = await request.app[GATEWAYS].call(
            method, message, session.token, claims.sub, session.origin, break_glass
        )
    except ApiError as exc:
        code = exc.code.name
        raise
    finally:
        log.info(
            "web_rpc",
            user=claims.sub,
            role=claims.role,
            method=name,
            code=code,
            ms=round((time.monotonic() - started) * 1000, 1),
            peer=request.remote,
            break_glass_stated=stated is not None,
        )
    return json_response(to_json(answer))


def _file(path: Path) -> web.FileResponse:
    headers = {"Cache-Control": "no-cache"}
    if content_type := CONTENT_TYPES.get(path.suffix.lower()):
        headers["Content-Type"] = content_type
    return web.FileResponse(path, headers=headers)


async def index(request: web.Request) -> web.StreamResponse:
    """``GET /``: the page (it shows its login form when ``/api/me`` says 401)."""
    page = STATIC / INDEX
    if not page.is_file():
        raise ApiError(grpc.StatusCode.UNAVAILABLE, f"the page is not built ({page} is missing)")
    return _file(page)


async def static(request: web.Request) -> web.StreamResponse:
    """``GET /static/...``: files under clients/web/static/, nothing outside it and no
    hidden file."""
    rel = request.match_info["path"]
    root = STATIC  # resolved once, at import
    target = (root / rel).resolve()
    hidden = any(part.startswith(".") for part in Path(rel).parts)
    if hidden or not target.is_relative_to(root) or not target.is_file():
        raise web.HTTPNotFound()
    return _file(target)


# ---------------------------------------------------------------- the application


def loopback_hosts(address: str) -> frozenset[str]:
    """The ``Host`` values served when listening on loopback (empty: any, since on
    another address the names it is reached by are the operator's)."""
    host, port = split_address(address)
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return frozenset()
    names = {"127.0.0.1", "localhost", "[::1]", f"[{host}]" if ":" in host else host}
    return frozenset(f"{name}:{port}" for name in names)


def make_app(config: ClusterConfig, regions_geo: bytes | None = None) -> web.Application:
    """The application for ``config`` (its gateways, issuer, roles table and seed; the
    map's regions built here unless ``regions_geo`` is given)."""
    app = web.Application(middlewares=[api_errors, same_site_only], client_max_size=MAX_BODY)
    app[CONFIG] = config
    app[AUTH] = Auth(config)
    app[GATEWAYS] = Gateways.for_config(config)
    app[LIVE_STREAMS] = set()
    app[LOOPBACK_HOSTS] = loopback_hosts(config.web_address) if config.web_address else frozenset()
    ref.install(app, config, regions_geo)
    app.on_response_prepare.append(_security_headers)
    app.on_shutdown.append(stop_streams)
    app.on_cleanup.append(_close_gateways)
    app.router.add_get("/", index)
    app.router.add_get("/static/{path:.+}", static)
    app.router.add_post("/api/login", login)
    app.router.add_get("/api/login/oidc", oidc)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_get("/api/reference", ref.reference)
    app.router.add_get("/api/geo/regions", ref.regions_geo)
    app.router.add_post("/api/rpc/{method}", rpc)
    app.router.add_get("/api/live", live)
    return app


async def _close_gateways(app: web.Application) -> None:
    await app[GATEWAYS].close()


def url_of(config: ClusterConfig) -> str:
    return f"http://{config.web_address}/"


async def start_web(config: ClusterConfig) -> web.AppRunner:
    """Serve the console on ``config.web_address``; a taken port is a ConfigError naming
    the port and the setting. Returns the runner for :func:`stop_web`."""
    if not config.web_address:
        raise ConfigError(f"the web console is off ({SETTING})")
    host, port = split_address(config.web_address)
    # The map of the running seed (about 0.1 s for the whole country): off the loop.
    regions_geo = await asyncio.to_thread(regions_geojson, config.seed)
    runner = web.AppRunner(
        make_app(config, regions_geo),
        handler_cancellation=True,  # a closed page ends its stream's tasks at once
        access_log=None,  # each API call is logged as web_rpc, with the user
        shutdown_timeout=SHUTDOWN_S,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"web console port {config.web_address} is taken ({SETTING})"
            ) from exc
        raise ConfigError(
            f"web console cannot listen on {config.web_address}: {exc.strerror} ({SETTING})"
        ) from exc
    log.info("web_started", url=url_of(config), dev_login=config.web_dev_login)
    if not loopback_hosts(config.web_address):
        log.warning(
            "web_not_loopback",
            address=config.web_address,
            detail="plain HTTP: put a TLS proxy in front, tokens and patient data cross it",
        )
    if config.web_dev_login:
        log.warning("web_dev_login_on", detail="anyone reaching the port can pick a role")
    return runner


async def stop_web(runner: web.AppRunner) -> None:
    """Stop serving: open streams end at once, requests in flight get ``SHUTDOWN_S``."""
    await runner.cleanup()
