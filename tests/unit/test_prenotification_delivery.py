"""What the hospital's answer means for the outbox (``post_document``: a 2xx that is
not JSON is taken, not acknowledged; no answer or not 2xx raises, so the document stays
owed), and what the API says is owed (``alert_pb``: after arrival, nothing). The
answers come from a real HTTP server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from actors.centre.alerting import post_document
from actors.domain import prenotify as pn
from actors.gateway.convert import alert_pb
from tests.unit.test_prenotify import T0, sent

pytestmark = pytest.mark.timeout(30)

ANSWERS = {
    "/json": (200, b'{"acknowledged": true, "acknowledged_by": "slagvakt"}'),
    "/text": (200, b"OK"),
    "/empty": (202, b""),
    "/down": (503, b"out of service"),
}


@pytest.fixture(scope="module")
def hospital() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = ANSWERS[self.path]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_2xx_is_taken_json_or_not_and_anything_else_raises(hospital: str) -> None:
    post = lambda path: post_document(hospital + path, b"{}", {}, 5.0)  # noqa: E731
    assert post("/json") == {"acknowledged": True, "acknowledged_by": "slagvakt"}
    assert post("/text") is None  # taken, not acknowledged: not a failure to retry
    assert post("/empty") == {}
    with pytest.raises(OSError, match="503"):
        post("/down")


def test_the_api_says_what_is_owed_and_nothing_after_arrival() -> None:
    inc, alert, _ = sent()
    later = pn.TransportEta(alert.prenotification.expected_arrival + 300, 900.0, "x")
    moved = pn.update_eta(pn.mark_delivered(inc, alert.id, 1, T0), alert.id, later, 60.0, T0 + 9)
    owed = alert_pb(inc.id, moved.alerts[0]).prenotification
    assert (owed.documents_due, owed.documents_delivered) == (2, 1)
    assert owed.delivered_at.seconds == int(T0)
    arrived = pn.mark_arrived(moved, "u1", T0 + 600)  # the update never taken: moot now
    done = alert_pb(inc.id, arrived.alerts[0]).prenotification
    assert (done.documents_due, done.documents_delivered) == (1, 1)
