"""The HTTP(S) server of a gateway's metrics endpoint, and who it lets scrape.

HTTPS with a client certificate from our CA required, like every other port (issue
#13); plain HTTP only when the cluster runs ``insecure``. A revoked certificate is
refused here too (403, with the revocation's reason, logged as ``access_refused``), as
at the gRPC ports: a stolen Prometheus or service key must not go on reading the
cluster's figures (they name regions, centres and load, no patient) for the year it is
good. Serving is prometheus_client's WSGI app on a thread of its own; this module
assembles the server instead of ``start_http_server`` only so the request handler can
pass the peer's certificate to the check.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.registry import Collector

from cluster.errors import ConfigError
from cluster.pki import TlsFiles
from cluster.ports import split_address
from cluster.tls import https_server_context

log = structlog.get_logger("amk.metrics")
access_log = structlog.get_logger("amk.access")

SHUTDOWN_JOIN_S = 2.0
HANDSHAKE_TIMEOUT_S = 10.0  # a scraper's TLS handshake and request, per connection
PEER_CERT = "amk.peer_certificate"  # the WSGI environ key of the client's DER certificate

#: Why a DER certificate is refused ("" when it is not).
Refusal = Callable[[bytes], str]


class _PeerHandler(WSGIRequestHandler):
    """Hands the app the client's certificate; logs no line per scrape. The TLS
    handshake happens here, on the connection's own thread and within ``timeout``: a
    client that connects and never completes it holds only its own thread, not the
    endpoint."""

    timeout = HANDSHAKE_TIMEOUT_S

    def setup(self) -> None:
        super().setup()  # applies ``timeout`` to the connection
        handshake = getattr(self.connection, "do_handshake", None)
        if handshake is not None:
            handshake()

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        peer = getattr(self.connection, "getpeercert", None)
        environ[PEER_CERT] = peer(binary_form=True) if peer is not None else None
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        """Nothing per request: a scrape every few seconds is not news."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape in progress does not hold the gateway's exit

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that failed its handshake or hung up: a line, not a traceback."""
        log.info("metrics_client_failed", peer=str(client_address[0]) if client_address else "")


def guarded(app: Callable[..., Iterable[bytes]], refuse: Refusal) -> Callable[..., Iterable[bytes]]:
    """``app`` behind the revocation check of the scraping certificate."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        der = environ.get(PEER_CERT)
        why = refuse(der) if der else ""
        if why:
            access_log.warning(
                "access_refused",
                # repr: the path is the client's, decoded (a newline could fake a line)
                method=repr(
                    f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"[:200]
                ),
                peer=environ.get("REMOTE_ADDR", ""),
                reason=why,
            )
            body = f"{why}\n".encode()
            start_response(
                "403 Forbidden",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return serve


class MetricsServer:
    """An HTTP server for one gateway's registry on ``address`` (``host:port``)."""

    def __init__(
        self,
        address: str,
        collector: Collector,
        tls: TlsFiles | None = None,
        refuse: Refusal | None = None,
    ) -> None:
        self.address = address
        self.tls = tls  # None: plain HTTP (insecure, development only)
        self.refuse = refuse  # None: no certificate is refused beyond the CA's check
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> None:
        """Take the address (a ConfigError if it is taken or the TLS files are bad) but
        answer nobody yet: the gateway binds early, so a clash fails its start before
        the gRPC port opens, and serves (:meth:`serve`) once it has read the revoked
        certificates."""
        host, port = split_address(self.address)
        app = make_wsgi_app(self.registry)
        if self.refuse is not None:
            app = guarded(app, self.refuse)

        class Server(_Server):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        try:
            context = https_server_context(self.tls) if self.tls is not None else None
            server = make_server(host, port, app, Server, handler_class=_PeerHandler)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"metrics endpoint cannot bind {self.address}: {exc}") from exc
        if context is not None:
            server.socket = context.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._server = server

    def serve(self) -> None:
        """Answer scrapes, from a thread of its own."""
        if self._server is None:
            self.bind()
        assert self._server is not None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        log.info("metrics_serving", address=self.address, tls=self.tls is not None)

    def start(self) -> None:
        """Bind and serve at once (tests; a gateway binds early and serves later)."""
        self.bind()
        self.serve()

    async def stop(self) -> None:
        """Stop serving; ``shutdown`` waits for the serving loop, so not on the loop."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        if thread is not None:  # shutdown waits for a serving loop that was started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.to_thread(server.shutdown), SHUTDOWN_JOIN_S)
        server.server_close()
        if thread is not None:
            await asyncio.to_thread(thread.join, SHUTDOWN_JOIN_S)
