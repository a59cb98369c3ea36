"""A small TCP proxy on loopback, put between ONE centre and etcd to cut or slow its link.

Why a proxy and not iptables: the drills run unprivileged on a developer's machine, and
only one centre must lose etcd (the others, the supervisor and the gateways keep theirs),
which :attr:`cluster.config.ClusterConfig.centre_etcd` allows by giving that centre the
proxy's address instead of etcd's.

Modes:

- ``pass``      forward bytes both ways (the normal state);
- ``blackhole`` keep connections open, accept new ones, forward nothing (a partition as
  a stuck network looks: no reset, the peer only notices by timeouts);
- ``delay``     forward every chunk ``delay_ms`` late, in order;
- ``drop``      close every connection and close new ones at once (a partition with
  resets: the peer notices at once).

Leaving ``blackhole`` closes the connections that lost bytes meanwhile: an HTTP/2 stream
with a hole in it cannot be resumed, the client must reconnect.

The proxy runs its own event loop in a thread, so a busy or blocked drill loop cannot
stall the centre's etcd traffic by accident.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass

import structlog

from cluster.etcd_server import find_free_port

log = structlog.get_logger("amk.chaos.proxy")

MODES = ("pass", "blackhole", "delay", "drop")


@dataclass(eq=False)  # identity hash: links live in a set
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tainted: bool = False  # lost bytes in blackhole mode: must be closed on recovery


class TcpProxy:
    """Forward ``127.0.0.1:listen_port`` to ``upstream``, with a mode that can change."""

    def __init__(self, upstream: str, listen_port: int = 0) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream_host = host or "127.0.0.1"
        self.upstream_port = int(port)
        self.listen_port = listen_port or find_free_port()
        self.mode = "pass"
        self.delay_ms = 0.0
        self.stats = {"connections": 0, "bytes": 0, "dropped_bytes": 0, "closed": 0}
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.listen_port}"

    # ------------------------------------------------------------ lifecycle

    def start(self) -> TcpProxy:
        self._thread = threading.Thread(target=self._run, name="amk-chaos-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("proxy did not start")
        log.info("proxy_started", listen=self.endpoint, upstream=self._upstream)
        return self

    @property
    def _upstream(self) -> str:
        return f"{self.upstream_host}:{self.upstream_port}"

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._serve())
        self._loop.run_forever()
        self._loop.close()

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)
        self._ready.set()

    def stop(self) -> None:
        if self._loop is None:
            return

        async def _close() -> None:
            if self._server is not None:
                self._server.close()
            self._close_all()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    # ------------------------------------------------------------ control

    def set_mode(self, mode: str, delay_ms: float = 0.0) -> None:
        """Switch mode (thread safe). Leaving blackhole closes the connections it broke."""
        if mode not in MODES:
            raise ValueError(f"proxy mode must be one of {MODES}, not {mode!r}")
        assert self._loop is not None, "proxy not started"
        done = threading.Event()

        def _apply() -> None:
            self.mode, self.delay_ms = mode, delay_ms
            if mode == "drop":
                self._close_all()
            elif mode in ("pass", "delay"):
                for link in [lk for lk in self._links if lk.tainted]:
                    self._close(link)
            done.set()

        self._loop.call_soon_threadsafe(_apply)
        done.wait(5)
        log.info("proxy_mode", mode=mode, delay_ms=delay_ms, listen=self.endpoint)

    def _close(self, link: _Link) -> None:
        for w in (link.client, link.server):
            with contextlib.suppress(Exception):
                w.close()
        if link in self._links:
            self._links.discard(link)
            self.stats["closed"] += 1

    def _close_all(self) -> None:
        for link in list(self._links):
            self._close(link)

    # ------------------------------------------------------------ forwarding

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "drop":
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            writer.close()
            return
        link = _Link(writer, up_writer)
        self._links.add(link)
        self.stats["connections"] += 1
        await asyncio.gather(
            self._pump(reader, up_writer, link),
            self._pump(up_reader, writer, link),
            return_exceptions=True,
        )
        self._close(link)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link
    ) -> None:
        """Copy one direction; chunks keep their order also when delayed."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def sender() -> None:
            while (item := await queue.get()) is not None:
                due, data = item
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        send_task = asyncio.create_task(sender())
        try:
            while data := await reader.read(65536):
                if self.mode in ("blackhole", "drop"):
                    link.tainted = True
                    self.stats["dropped_bytes"] += len(data)
                    continue
                self.stats["bytes"] += len(data)
                delay = self.delay_ms / 1000 if self.mode == "delay" else 0.0
                await queue.put((time.monotonic() + delay, data))
        except (ConnectionError, OSError):
            pass
        finally:
            await queue.put(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(send_task, 5)
            self._close(link)
