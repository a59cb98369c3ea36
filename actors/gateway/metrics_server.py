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
import socket
import ssl
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

log = structlog.get_logger("amk.metrics")
access_log = structlog.get_logger("amk.access")

SHUTDOWN_JOIN_S = 2.0
PEER_CERT = "amk.peer_certificate"  # the WSGI environ key of the client's DER certificate

#: Why a DER certificate is refused ("" when it is not).
Refusal = Callable[[bytes], str]


class _PeerHandler(WSGIRequestHandler):
    """Hands the app the client's certificate; logs no line per scrape."""

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        peer = getattr(self.connection, "getpeercert", None)
        environ[PEER_CERT] = peer(binary_form=True) if peer is not None else None
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        """Nothing per request: a scrape every few seconds is not news."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape in progress does not hold the gateway's exit


def _tls_context(tls: TlsFiles) -> ssl.SSLContext:
    """Server side: our certificate, and a client certificate of our CA required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(tls.cert), str(tls.key))
    context.load_verify_locations(cafile=str(tls.ca))
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def guarded(app: Callable[..., Iterable[bytes]], refuse: Refusal) -> Callable[..., Iterable[bytes]]:
    """``app`` behind the revocation check of the scraping certificate."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        der = environ.get(PEER_CERT)
        why = refuse(der) if der else ""
        if why:
            access_log.warning(
                "access_refused",
                method=f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}",
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

    def start(self) -> None:
        host, _, port = self.address.rpartition(":")
        host = host.strip("[]")
        app = make_wsgi_app(self.registry)
        if self.refuse is not None:
            app = guarded(app, self.refuse)

        class Server(_Server):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        try:
            server = make_server(host, int(port), app, Server, handler_class=_PeerHandler)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"metrics endpoint cannot bind {self.address}: {exc}") from exc
        if self.tls is not None:
            server.socket = _tls_context(self.tls).wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        log.info("metrics_serving", address=self.address, tls=self.tls is not None)

    async def stop(self) -> None:
        """Stop serving; ``shutdown`` waits for the serving loop, so not on the loop."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        if thread is not None:
            await asyncio.to_thread(thread.join, SHUTDOWN_JOIN_S)
