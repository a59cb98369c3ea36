"""Gateway restart: a gateway is killed, and the supervisor serves on its address again.

One deployment with two gateways, idle (no load: the figure is the supervisor's and the
gateway's own start, not a load's queueing). Each repetition kills the gateway on one
address, the two addresses in turn, through its current ``GatewayHandle`` (``ray.kill``,
as the ``kill-gateway`` failpoint does), and measures from the kill until that address
answers the standard gRPC health check (``grpc.health.v1``, service ``""``) SERVING
again, probing it every 10 ms from here. A SERVING answer counts only after the address
was first seen not serving: the dying process may answer for a moment after the kill.

Also per repetition, from the supervisor's ``GatewayState``: when it saw the death
(``last_lost_at``, as seconds after the kill) and its own ``last_restart_s`` (death
seen -> serving again), the new pid, its restarts and last error; and whether the other
address kept serving throughout (where clients go meanwhile).

Target: kill -> serving again ≤ 2 s at p99.

    .venv/bin/python bench/gateway_bench.py [--quick] [--reps N] [--out FILE]
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import benchlib as bl

from chaos.gateway_probe import HealthProber, probe_gaps
from cluster.tls import console_identity

TARGET_P99_S = 2.0
PROBE_S = 0.01


async def repetition(dep: Any, address: str, other: str) -> dict[str, Any]:
    before = await dep.gateway_state(address)
    prober = HealthProber(
        [address, other], tls=console_identity(dep.config), interval_s=PROBE_S
    ).start()
    try:
        await asyncio.sleep(0.1)  # a few SERVING answers before the kill
        handle = await dep.gateway(address)
        t_kill = time.time()
        handle.kill()
        back = await prober.wait_serving(address, t_kill, timeout_s=30)
    finally:
        samples = await prober.stop()
    if back is None:
        raise TimeoutError(f"{address} not serving again within 30 s of the kill")
    down = min(s.t for s in samples if s.address == address and s.t >= t_kill and not s.serving)
    # The supervisor records the restart just after the gateway serves again.
    state = await dep.wait_gateway_restarted(address, before.restarts, timeout_s=2) or before
    return {
        "address": address,
        "kill_to_serving_s": round(back - t_kill, 4),
        "kill_to_seen_down_s": round(down - t_kill, 4),
        "supervisor_saw_death_after_s": (
            round(state.last_lost_at - t_kill, 4) if state.last_lost_at >= t_kill else None
        ),
        "supervisor_last_restart_s": (
            state.last_restart_s if state.restarts > before.restarts else None
        ),
        "old_pid": before.pid,
        "new_pid": state.pid,
        "restarts": state.restarts,
        "last_error": state.last_error,
        "other_serving_throughout": all(s.serving for s in samples if s.address == other),
        **probe_gaps(samples, address),
    }


async def run(args: Any, endpoint: str) -> dict[str, Any]:
    reps = args.reps or (2 if args.quick else 5)
    rows: list[dict[str, Any]] = []
    async with bl.deployment(endpoint, gateways=2) as cluster:
        dep = cluster.deployment
        addresses = dep.config.gateways
        # Both serving before the first kill.
        prober = HealthProber(addresses, tls=cluster.tls, interval_s=PROBE_S).start()
        await bl.wait_for(
            lambda: _true(
                all(any(s.serving for s in prober.samples if s.address == a) for a in addresses)
            ),
            30,
            "both gateways serving",
        )
        await prober.stop()
        for i in range(reps):
            address, other = addresses[i % 2], addresses[(i + 1) % 2]
            row = await repetition(dep, address, other)
            bl.note(
                f"rep {i + 1}/{reps} {address}: kill -> SERVING {row['kill_to_serving_s']:.3f} s "
                f"(supervisor restart {row['supervisor_last_restart_s']} s)"
            )
            rows.append(row)
            await asyncio.sleep(1.0)
        config = {
            "gateways": addresses,
            "gateway_restart_retry": dep.config.gateway_restart_retry.model_dump(),
        }
    serving = [r["kill_to_serving_s"] for r in rows]
    restart = [r["supervisor_last_restart_s"] for r in rows if r["supervisor_last_restart_s"]]
    p99 = bl.percentile(serving, 99)
    return {
        "reps": reps,
        "load": "idle (no client load)",
        "kill": "GatewayHandle.kill() (ray.kill), the two addresses in turn",
        "probe_every_ms": PROBE_S * 1000,
        "config": config,
        "repetitions": rows,
        "kill_to_serving": {**bl.summary_s(serving), "p50_s": bl.percentile(serving, 50)},
        "supervisor_last_restart": {
            **bl.summary_s(restart),
            "p50_s": bl.percentile(restart, 50),
        },
        "summary": {
            "kill_to_serving_p50_s": round(bl.percentile(serving, 50), 4),
            "kill_to_serving_p99_s": round(p99, 4),
            "kill_to_serving_max_s": round(max(serving), 4),
            "target_p99_s": TARGET_P99_S,
            "met": p99 <= TARGET_P99_S,
            "other_gateway_serving_throughout": all(r["other_serving_throughout"] for r in rows),
        },
    }


async def _true(value: bool) -> bool:
    return value


def main() -> None:
    ap = bl.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=0, help="kills (5; quick 2)")
    args = ap.parse_args()
    bl.run_benchmark("gateway", "gateway_bench.py", args, lambda endpoint: run(args, endpoint))


if __name__ == "__main__":
    main()
