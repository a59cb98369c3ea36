"""A partner that takes our alerts: a 110 fire or 112 police centre (trippelvarsling),
a legevakt (116117) or a hospital (pre-notification), the other party in tests of issue
#19, not a mock of our own code.

It listens on loopback for what ``actors/centre/alerting.py`` and
``actors/centre/prenotifying.py`` send: an HTTP POST of one JSON document, a NENA EIDO
document for 110/112, an ``amk.prenotification/1`` document for a hospital. It checks
the document with the validator it is given (the tests give a partner centre NENA's
own schema, ``/work/shared/specs/eido``, and a hospital
``actors.domain.prenotification_doc.validate``; the package never loads a schema at
runtime), keeps what it received with its kind (``X-Amk-Kind``: prenotification,
eta_update, withdrawn; empty for EIDO), and answers as the other side would:
``{"acknowledged": true, "acknowledged_by": ...}``, or with ``acknowledge=False`` a
202 without an acknowledgement (an operator who has not taken it yet). A document that
fails validation gets 400 with the errors, and is kept apart. While ``down`` is set,
every document is turned away with 503 and counted in ``turned_away`` (a receiving
system that is out: the sender must try again).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Validate = Callable[[dict[str, Any]], None]
MAX_BODY = 1_000_000


@dataclass
class Received:
    """One document the partner took: the alert it answers, when, and the document."""

    incident: str
    alert: str
    document: dict[str, Any]
    at: float
    kind: str = ""  # a hospital document's kind; "" for EIDO


@dataclass
class PartnerCentre:
    """A 110 or 112 centre on ``127.0.0.1:<port>`` (``start`` picks a free port)."""

    name: str  # who acknowledges, e.g. "110 Øst, operator 4"
    validate: Validate
    acknowledge: bool = True
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # validation errors, one per document
    down: bool = False  # turn every document away with 503
    turned_away: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/alerts"

    def start(self) -> PartnerCentre:
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if partner.down:
                    with partner._lock:
                        partner.turned_away += 1
                    self._answer(503, {"error": "receiving system out of service"})
                    return
                if not 0 < length <= MAX_BODY:
                    self._answer(400, {"error": f"body of {length} bytes"})
                    return
                try:
                    doc = json.loads(self.rfile.read(length))
                    partner.validate(doc)
                except Exception as exc:  # not JSON, or not a valid EIDO document
                    with partner._lock:
                        partner.refused.append(str(exc))
                    self._answer(400, {"error": str(exc)[:2000]})
                    return
                got = Received(
                    self.headers.get("X-Amk-Incident", ""),
                    self.headers.get("X-Amk-Alert", ""),
                    doc,
                    time.time(),
                    self.headers.get("X-Amk-Kind", ""),
                )
                with partner._lock:
                    partner.received.append(got)
                if partner.acknowledge:
                    self._answer(200, {"acknowledged": True, "acknowledged_by": partner.name})
                else:
                    self._answer(202, {"acknowledged": False})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def documents_for(self, incident_id: str, kind: str | None = None) -> list[Received]:
        """What arrived about ``incident_id`` (of one ``kind`` if given), in order."""
        with self._lock:
            return [
                r
                for r in self.received
                if r.incident == incident_id and (kind is None or r.kind == kind)
            ]
