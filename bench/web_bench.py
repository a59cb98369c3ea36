"""The web console in a real browser: draw time, responsiveness, write -> screen (issue #14).

One deployment (private etcd with TLS, private Ray, five centres, one gateway), its web
server, and Debian's chromium driven by Playwright at 1920x1080:

1. **Draw:** ``--incidents`` open incidents and units up to ``--units`` in the Oslo
   centre's regions. A dispatcher of Oslo opens the map ``--loads`` times. Each time the
   page reports ``window.amk.timings.snapshotDrawnMs``, from the first byte of the
   stream to the snapshot drawn. Target: <= 1,000 ms.
2. **Responsive:** with everything drawn, the mouse drags the map for two seconds. The
   page records the gaps between animation frames; the longest and the p95 are reported
   (a gap over 100 ms is one a dispatcher notices).
3. **Write -> screen:** ``--rate`` writes a second (notes on distinct incidents, through
   the gateway) for ``--seconds``. Each write's latency runs from just before the call
   to ``window.amk.lastApplied(id)`` on the page's clock (``performance.timeOrigin`` +
   ``now``; browser and bench share the machine's clock). Target: p99 <= 500 ms at 20
   writes/s.

    PYTHONPATH=$PWD .venv/bin/python bench/web_bench.py --out bench/results/web.json
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is on the path, the repo is not
    sys.path.insert(0, str(REPO))

from bench import benchlib as bl  # noqa: E402

REGION = "oslo"
#: Records the gaps between animation frames while the mouse drags the map.
FRAME_PROBE = """
() => new Promise((resolve) => {
  const gaps = [];
  let last = null;  // the first frame only starts the clock (its time may precede now())
  let end = null;
  function frame(t) {
    if (last !== null) gaps.push(t - last); else end = t + 2000;
    last = t;
    if (t < end) requestAnimationFrame(frame); else resolve(gaps);
  }
  requestAnimationFrame(frame);
})
"""


def seed_units_of_oslo() -> int:
    """Units of the shipped seed in the regions the Oslo centre owns at start."""
    from cluster.config import Seed

    seed = Seed.load(bl.DEFAULT_SEED)
    regions = {r.id for r in seed.regions if r.home == REGION}
    return sum(1 for u in seed.units if u.region in regions)


def position_in_oslo(i: int) -> tuple[float, float]:
    """Spread over Oslo, Akershus and Østfold (a grid, so markers do not sit on one spot)."""
    return 59.3 + 0.9 * ((i * 37) % 100) / 100, 10.4 + 1.4 * ((i * 53) % 100) / 100


async def create_incidents(cluster: bl.Cluster, n: int) -> list[str]:
    """``n`` incidents in Oslo through the gateway, 32 at a time."""
    from amk.dispatch.v1 import dispatch_pb2 as pb
    from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc

    ids: list[str] = []
    channel = bl.channel(cluster.gateway, cluster.tls, cluster.token(REGION))
    stub = pb_grpc.DispatchServiceStub(channel)
    sem = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        lat, lon = position_in_oslo(i)
        async with sem:
            inc = await stub.CreateIncident(
                pb.CreateIncidentRequest(
                    request_id=uuid.uuid4().hex,
                    region=REGION,
                    position=pb.Position(lat=lat, lon=lon, accuracy_m=30),
                    address=f"Benkvei {i}",
                    criteria_code=("A.10.01", "H.10.01", "V.10.01")[i % 3],
                ),
                timeout=30,
            )
            ids.append(inc.id)

    await asyncio.gather(*(one(i) for i in range(n)))
    await channel.close()
    return ids


async def writes_to_screen(
    cluster: bl.Cluster, page: Any, ids: list[str], rate: float, seconds: float
) -> dict[str, Any]:
    """Notes on distinct incidents at ``rate``/s; the latency of each to the page."""
    from amk.dispatch.v1 import dispatch_pb2 as pb
    from amk.dispatch.v1 import dispatch_pb2_grpc as pb_grpc

    channel = bl.channel(cluster.gateway, cluster.tls, cluster.token(REGION))
    stub = pb_grpc.DispatchServiceStub(channel)
    n = min(int(rate * seconds), len(ids))
    sent: dict[str, float] = {}
    t0 = time.monotonic()

    async def one(k: int) -> None:
        await asyncio.sleep(max(0.0, t0 + k / rate - time.monotonic()))
        iid = ids[k]
        sent[iid] = time.time() * 1000
        await stub.AddIncidentNote(
            pb.AddIncidentNoteRequest(request_id=uuid.uuid4().hex, incident_id=iid, text="bench"),
            timeout=10,
        )

    await asyncio.gather(*(one(k) for k in range(n)))
    await asyncio.sleep(2.0)  # the last writes' events reach the page
    seen = await page.evaluate(
        "(ids) => ids.map((id) => { const t = window.amk.lastApplied(id);"
        " return t == null ? null : performance.timeOrigin + t; })",
        list(sent),
    )
    await channel.close()
    lat = [(s - sent[i]) / 1000 for i, s in zip(sent, seen, strict=True) if s is not None]
    return {
        "writes": n,
        "rate_per_s": rate,
        "seen": len(lat),
        "missed": n - len(lat),
        "latency_ms": bl.summary_ms(lat),
    }


async def open_map(browser: Any, url: str, token: str) -> tuple[Any, Any]:
    from clients.web.chromium import DESK

    context = await browser.new_context(viewport=DESK)
    page = await context.new_page()
    await page.goto(f"{url}/?screen=map")
    await page.fill("#login-token", token)
    await page.click("#login-submit")
    await page.wait_for_function(
        "() => window.amk && window.amk.timings && window.amk.timings.snapshotDrawnMs != null",
        timeout=60_000,
    )
    return context, page


async def run(args: Any, endpoint: str, seed: Path) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from clients.web.chromium import launch
    from clients.web.server import start_web
    from cluster.etcd_server import find_free_port

    async with bl.deployment(endpoint, seed_file=seed) as cluster:
        bl.note(f"creating {args.incidents} incidents")
        ids = await create_incidents(cluster, args.incidents)
        address = f"127.0.0.1:{find_free_port()}"
        runner = await start_web(cluster.config.model_copy(update={"web_address": address}))
        token = cluster.token(REGION)
        result: dict[str, Any] = {"incidents": len(ids)}
        try:
            async with async_playwright() as pw:
                browser = await launch(pw)
                draws, drawn = [], {}
                for _ in range(args.loads):
                    context, page = await open_map(browser, f"http://{address}", token)
                    draws.append(await page.evaluate("window.amk.timings.snapshotDrawnMs") / 1000)
                    drawn = await page.evaluate("window.amk.drawn")
                    await context.close()
                result["drawn"] = drawn
                result["snapshot_drawn_ms"] = bl.summary_ms(draws)
                context, page = await open_map(browser, f"http://{address}", token)
                box = await page.locator("#map").bounding_box()
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                probe = asyncio.ensure_future(page.evaluate(FRAME_PROBE))
                await page.mouse.move(x, y)
                await page.mouse.down()
                for k in range(40):
                    await page.mouse.move(x + 200 * ((k % 10) / 10), y + 5 * (k % 3), steps=2)
                await page.mouse.up()
                gaps = await probe
                result["drag_frame_gap_ms"] = bl.summary_ms([g / 1000 for g in gaps])
                bl.note("write -> screen")
                result["write_to_screen"] = await writes_to_screen(
                    cluster, page, ids, args.rate, args.seconds
                )
                await context.close()
                await browser.close()
        finally:
            await runner.cleanup()
        return result


def main() -> None:
    ap = bl.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=2000)
    ap.add_argument("--units", type=int, default=500, help="units in the Oslo centre's regions")
    ap.add_argument("--loads", type=int, default=5, help="times the map is opened")
    ap.add_argument("--rate", type=float, default=20.0, help="writes a second")
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    if args.quick:
        args.incidents, args.loads, args.seconds = 200, 2, 5.0
    bl.quiet_logs()
    t0 = time.monotonic()
    started = bl.machine()
    folder = Path(tempfile.mkdtemp(prefix="amk-bench-seed-"))
    try:
        seed = bl.bench_seed(folder, {REGION: max(0, args.units - seed_units_of_oslo())})
        with contextlib.ExitStack() as stack:
            etcd = stack.enter_context(bl.private_etcd(secure=True))
            stack.enter_context(bl.private_ray(f"amk-bench-web-{uuid.uuid4().hex[:6]}"))
            body = asyncio.run(run(args, etcd.endpoint, seed))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    bl.finish(
        "web",
        "web_bench.py",
        args,
        started,
        t0,
        body,
    )


if __name__ == "__main__":
    main()
