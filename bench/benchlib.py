"""Shared by the benchmarks: a private etcd and Ray, a deployment, closed-loop load,
percentiles, per-process CPU and memory, the machine's description, JSON output.

Every benchmark starts its own etcd (a fresh data folder under /tmp, a free port on
127.0.0.1) and its own local Ray, each deployment under its own key prefix and Ray
namespace, and removes them when it ends, even on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
DEFAULT_SEED = REPO / "cluster" / "seed" / "helse_sor_ost.toml"
DEFAULT_TABLE = REPO / "actors" / "domain" / "data" / "access.toml"  # the shipped roles
OSLO = (59.9139, 10.7522)


# ---------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """min / p50 / p90 / p99 / max / mean of durations given in seconds, in ms."""
    if not seconds:
        return {"n": 0}
    ms = [x * 1000.0 for x in seconds]
    return {
        "n": len(ms),
        "min_ms": round(min(ms), 3),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(sum(ms) / len(ms), 3),
    }


def summary_s(seconds: Sequence[float]) -> dict[str, Any]:
    """min / median / p99 / max of durations in seconds (failover times)."""
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "min_s": round(min(seconds), 4),
        "median_s": round(percentile(seconds, 50), 4),
        "p99_s": round(percentile(seconds, 99), 4),
        "max_s": round(max(seconds), 4),
    }


# ---------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def all_processes_cpu() -> dict[int, tuple[str, float]]:
    """Every process's name and CPU seconds (user + system), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, float]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            raw = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        name = raw[raw.find("(") + 1 : raw.rfind(")")]
        fields = raw.rsplit(")", 1)[1].split()
        out[int(d)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores, all processes) since boot."""
    with contextlib.suppress(OSError, ValueError):
        v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    return 0.0


def mem_available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class CpuMeter:
    """CPU seconds used by named processes (a pid, or a list of pids added up) between
    ``start`` and ``stop``, and by the whole machine."""

    def __init__(self, pids: dict[str, int | list[int]]) -> None:
        self.pids = {k: (v if isinstance(v, list) else [v]) for k, v in pids.items() if v}
        self._t0: dict[str, float] = {}
        self._all0: dict[int, tuple[str, float]] = {}
        self._wall = 0.0

    def _now(self) -> dict[str, float]:
        now = {k: sum(cpu_seconds(p) for p in ps) for k, ps in self.pids.items()}
        now["(whole machine)"] = machine_busy_seconds()
        return now

    def start(self) -> None:
        self._t0 = self._now()
        self._all0 = all_processes_cpu()
        self._wall = time.monotonic()

    def _others(self) -> list[dict[str, Any]]:
        """The processes outside the named ones that used the most CPU meanwhile: the
        kernel's threads (I/O, network), our untracked actors, or other work."""
        mine = {p for ps in self.pids.values() for p in ps}
        used: dict[str, float] = {}
        for pid, (name, cpu) in all_processes_cpu().items():
            if pid in mine:
                continue
            before = self._all0.get(pid, (name, 0.0))[1]
            label = f"{name} ({pid})"
            if cpu - before > 0.0:
                used[label] = cpu - before
        top = sorted(used.items(), key=lambda kv: -kv[1])[:4]
        return [{"process": k, "cpu_s": round(v, 3)} for k, v in top]

    def stop(self) -> dict[str, Any]:
        """CPU seconds per process since ``start``, and cores kept busy on average."""
        wall = time.monotonic() - self._wall
        # "(whole machine)": busy time of every process; what the other rows do not
        # explain is the kernel and other work sharing the machine.
        used = {k: v - self._t0[k] for k, v in self._now().items()}
        others = self._others()
        return {
            "top_other_processes": others,
            "wall_s": round(wall, 3),
            "cpu_s": {k: round(v, 3) for k, v in used.items()},
            "cores_busy": {k: round(v / wall, 2) for k, v in used.items()} if wall else {},
            "machine_load1": round(os.getloadavg()[0], 2),
        }


# ---------------------------------------------------------------- the machine


def _version(cmd: list[str], marker: str) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return out.split(marker)[-1].split()[0] if marker in out else "?"


def ray_daemon_pids() -> list[int]:
    """pids of the local Ray's own processes (GCS, raylet, monitors), started by us."""
    import ray

    node = getattr(ray._private.worker, "_global_node", None)
    if node is None:
        return []
    return [p.process.pid for procs in node.all_processes.values() for p in procs if p.process]


def machine() -> dict[str, Any]:
    """What the figures were measured on, including how busy it was at the time."""
    import ray

    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
    from cluster.etcd_server import find_etcd_binary

    try:
        etcd_bin, etcd_version = find_etcd_binary()
    except Exception:  # no etcd: the benchmark will say so itself
        etcd_bin, etcd_version = Path("?"), "?"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ray": ray.__version__,
        "grpcio": grpc.__version__,
        "etcd": etcd_version,
        "etcd_binary": str(etcd_bin),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


# ---------------------------------------------------------------- output


def base_parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help="small sizes, ~1 s points (develop)")
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    return ap


def emit(result: dict[str, Any], out: Path | None) -> None:
    """Print the result as JSON on stdout, and write it to ``out`` if given."""
    text = json.dumps(result, indent=2, default=str)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    print(text, flush=True)


def quiet_logs() -> None:
    """Our structlog lines go to stderr at warning level: stdout carries only JSON."""
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    from cluster.logs import configure

    configure("warning")


def note(msg: str) -> None:
    """Progress for the person running the benchmark (stderr)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- etcd and Ray


# Security for benchmark runs (a private etcd with TLS and auth; the cost of TLS): kept
# apart for size, re-exported here where the benchmarks look for them. A benchmark run
# as a script has bench/ on its path, not the repository: put it there first.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from bench.bench_security import (  # noqa: E402, F401
    BENCH_KEY_ROOT,
    bench_pki,
    etcd_client,
    etcd_tls,
    private_etcd,
    secure_etcd,
    tls_cost,
)
from chaos.processes import memory_of  # noqa: E402, F401 - the benchmarks' bl.memory_of


@contextlib.contextmanager
def private_ray(namespace: str) -> Iterator[None]:
    import ray

    from cluster.ray_local import loopback_only, services_first

    loopback_only()
    services_first()
    ray.init(
        address="local",
        include_dashboard=False,
        log_to_driver=False,
        namespace=namespace,
        configure_logging=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


def bench_seed(folder: Path, extra_units: dict[str, int]) -> Path:
    """The Helse Sør-Øst seed plus ``n`` synthetic road ambulances per region (ids
    ``bench-{region code}-{i}``), so per-client unit workloads never share a unit."""
    from cluster.config import Seed

    seed = Seed.load(DEFAULT_SEED)
    centre_of = {r.id: r for r in seed.regions}
    lines = [DEFAULT_SEED.read_text(), "\n# ---- synthetic units added by bench/benchlib.py\n"]
    for region, n in extra_units.items():
        r = centre_of[region]
        for i in range(n):
            lat = (r.boundary[0][0] if r.boundary else OSLO[0]) - 0.001 * (i % 50)
            lon = (r.boundary[0][1] if r.boundary else OSLO[1]) + 0.001 * (i // 50)
            lines.append(
                "[[units]]\n"
                f'id = "bench-{r.code.lower()}-{i:04d}"\n'
                f'call_sign = "Bench {r.code} {i}"\n'
                f'region = "{region}"\n'
                'kind = "road_ambulance"\n'
                'crew = "paramedic"\n'
                'station = "bench"\n'
                f"lat = {lat:.5f}\nlon = {lon:.5f}\n\n"
            )
    path = folder / "bench_seed.toml"
    path.write_text("".join(lines))
    return path


@dataclass
class Cluster:
    """A running deployment (supervisor, five centres, gateway) in the private Ray."""

    config: Any
    deployment: Any
    endpoint: str
    tag: str
    home: Path
    pids: dict[str, Any] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return self.config.gateways[0]

    @property
    def tls(self) -> Any:
        """The console identity for this deployment's gateways (None: insecure)."""
        from cluster.tls import console_identity

        return console_identity(self.config)

    @functools.cached_property
    def room(self) -> Any:
        """Every centre's consoles (clients/console_tokens.py): tokens from this
        deployment's issuer; a fresh deployment's regions are owned by their homes."""
        from clients.console_tokens import ConsoleRoom

        return ConsoleRoom(self.config)

    def token(self, region: str, role: str = "dispatcher") -> str | None:
        """A token of ``role`` at the centre serving ``region`` (None: auth off)."""
        return self.room.token_for(region, role)

    async def refresh_pids(self, etcd_pid: int = 0) -> dict[str, Any]:
        """pids of the gateway, every centre, the bench process, etcd and Ray's daemons."""
        pids: dict[str, Any] = {"bench_client": os.getpid(), "ray_daemons": ray_daemon_pids()}
        if etcd_pid:
            pids["etcd"] = etcd_pid
        for g in await self.deployment.gateway_states():
            if g.address == self.gateway:
                pids["gateway"] = g.pid
        for cid, h in self.deployment.centres.items():
            with contextlib.suppress(Exception):
                h.forget()
                pids[f"centre:{cid}"] = (await h.status(timeout_s=5)).pid
        self.pids = pids
        return pids


@contextlib.asynccontextmanager
async def deployment(
    endpoint: str, *, seed_file: Path | None = None, gateways: int = 1, **overrides: Any
) -> AsyncIterator[Cluster]:
    """Start a deployment (``gateways`` of them) under a fresh key prefix and namespace;
    stop it afterwards."""
    from clients.launcher import Deployment
    from cluster.config import ClusterConfig
    from cluster.etcd_server import find_free_port

    tag = uuid.uuid4().hex[:8]
    home = Path(tempfile.mkdtemp(prefix="amk-bench-home-"))
    config = ClusterConfig.load(
        home=home,
        key_prefix=f"{BENCH_KEY_ROOT}{tag}/",
        pki_dir=bench_pki(),
        ray_namespace=f"amk-bench-{tag}",
        gateways=[f"127.0.0.1:{find_free_port()}" for _ in range(gateways)],
        seed_file=seed_file,
        log_level="info",
        access_table=DEFAULT_TABLE,  # the real policy, whatever the environment says
        **overrides,
    )
    dep = Deployment(config, [endpoint])
    t0 = time.monotonic()
    try:
        await dep.start()
        note(f"deployment {tag} up in {time.monotonic() - t0:.1f} s (gateways {config.gateways})")
        yield Cluster(config, dep, endpoint, tag, home)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(dep.stop(), 30)
        shutil.rmtree(home, ignore_errors=True)


def channel(target: str, tls: Any, token: str | None = None) -> grpc.aio.Channel:
    """A client channel with a connection of its own (not shared with other channels),
    with ``tls`` (a ``TlsFiles``; None: plaintext, an insecure deployment) and ``token``
    on every call (a benchmark's console acts for one region's centre: ``Cluster.token``)."""
    from cluster.tls import open_channel

    return open_channel(target, tls, [("grpc.use_local_subchannel_pool", 1)], token=token)


# ---------------------------------------------------------------- closed-loop load


@dataclass
class LoadResult:
    concurrency: int
    duration_s: float
    ops: int
    errors: dict[str, int]
    latency: dict[str, Any]
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.ops / self.duration_s if self.duration_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "duration_s": round(self.duration_s, 3),
            "ops": self.ops,
            "throughput_per_s": round(self.throughput, 1),
            "latency": self.latency,
            "errors": self.errors,
            **self.extra,
        }


Op = Callable[[int], Awaitable[str | None]]


async def closed_loop(
    op: Op,
    concurrency: int,
    duration_s: float,
    *,
    warmup_s: float = 0.5,
    meter: CpuMeter | None = None,
) -> LoadResult:
    """``concurrency`` tasks, each calling ``op(task index)`` back to back.

    After ``warmup_s``, every call that starts and ends inside the next ``duration_s``
    is counted and timed. ``op`` returns None, or a label: the call was one of several
    kinds (its latency is also kept under that label, e.g. assign and release).
    Stops by itself: each task ends after its call in flight at the window's end.
    """
    lat: list[float] = []
    by_label: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    t_start = time.monotonic() + warmup_s
    t_end = t_start + duration_s
    cpu: dict[str, Any] = {}

    async def timer() -> None:
        if meter is None:
            return
        await asyncio.sleep(max(0.0, t_start - time.monotonic()))
        meter.start()
        await asyncio.sleep(max(0.0, t_end - time.monotonic()))
        cpu.update(meter.stop())

    async def worker(i: int) -> None:
        while True:
            t0 = time.monotonic()
            if t0 >= t_end:
                return
            try:
                label = await op(i)
            except grpc.aio.AioRpcError as err:
                if t0 >= t_start:
                    key = err.code().name
                    errors[key] = errors.get(key, 0) + 1
                await asyncio.sleep(0.01)
                continue
            except Exception as err:  # a bench bug must not hang the run
                errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
                await asyncio.sleep(0.01)
                continue
            t1 = time.monotonic()
            if t0 >= t_start and t1 <= t_end:
                lat.append(t1 - t0)
                if label:
                    by_label.setdefault(label, []).append(t1 - t0)

    await asyncio.gather(timer(), *(worker(i) for i in range(concurrency)))
    res = LoadResult(concurrency, duration_s, len(lat), errors, summary_ms(lat))
    if len(by_label) > 1:
        res.extra["by_command"] = {
            k: {"ops": len(v), "throughput_per_s": round(len(v) / duration_s, 1), **summary_ms(v)}
            for k, v in sorted(by_label.items())
        }
    if cpu:
        cpu["cpu_ms_per_op"] = (
            {k: round(v * 1000 / len(lat), 3) for k, v in cpu["cpu_s"].items()} if lat else {}
        )
        res.extra["cpu"] = cpu
    return res


async def wait_for(
    check: Callable[[], Awaitable[bool]], timeout_s: float, what: str, interval_s: float = 0.02
) -> float:
    """Poll ``check`` until true; returns the seconds it took; TimeoutError otherwise."""
    t0 = time.monotonic()
    while True:
        try:
            if await check():
                return time.monotonic() - t0
        except Exception:  # not ready yet (actor restarting, region moving)
            pass
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError(f"{what}: not within {timeout_s} s")
        await asyncio.sleep(interval_s)


def run_benchmark(
    name: str,
    script: str,
    args: argparse.Namespace,
    body: Callable[[str], Awaitable[dict[str, Any]]],
    **extra: Any,
) -> None:
    """The frame every benchmark runs in: quiet logs, the machine described, a private
    etcd and Ray for the run, and one JSON document out with what ran and how long."""
    quiet_logs()
    t0 = time.monotonic()
    started = machine()
    with private_etcd() as etcd, private_ray(f"amk-bench-{name}-{uuid.uuid4().hex[:6]}"):
        result = asyncio.run(body(etcd.endpoint))
    finish(name, script, args, started, t0, result, **extra)


def finish(
    name: str,
    script: str,
    args: argparse.Namespace,
    started: dict[str, Any],
    t0: float,
    result: dict[str, Any],
    **extra: Any,
) -> None:
    """One benchmark's JSON document out: what ran (its command), the machine before
    (``started``, from :func:`machine`) and its load after, the result, how long."""
    emit(
        {
            "benchmark": name,
            "quick": args.quick,
            "command": " ".join([".venv/bin/python", f"bench/{script}", *sys.argv[1:]]),
            **extra,
            "machine": started,
            "machine_load_after": [round(x, 2) for x in os.getloadavg()],
            **result,
            "elapsed_s": round(time.monotonic() - t0, 1),
        },
        args.out,
    )
