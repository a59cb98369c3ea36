"""Major-incident restart: its actor is killed (SIGKILL) and the supervisor starts it
again; measured from the kill until a call to the major incident's actor is answered by
a new process.

One deployment, idle. The new incarnation must win the major incident's owner key,
which it can only do once the dead one's lease is gone: the supervisor does not revoke a
dead major incident's lease (it does a dead centre's), so the lease TTL bounds it.

    .venv/bin/python bench/major_bench.py [--quick] [--reps N] [--out FILE]
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from typing import Any

import benchlib as bl

from actors.major.handle import MajorHandle
from amk.coordination.v1 import coordination_pb2 as cpb
from amk.coordination.v1 import coordination_pb2_grpc as cpb_grpc
from amk.dispatch.v1 import dispatch_pb2 as pb
from cluster.errors import AmkError

POLL_S = 0.02


async def repetition(handle: MajorHandle) -> float:
    pid = (await handle.view()).actor_pid
    t_kill = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    while True:
        try:
            if (await handle.view(timeout_s=1.0)).actor_pid != pid:
                return time.monotonic() - t_kill
        except AmkError:
            pass
        await asyncio.sleep(POLL_S)


async def run(args: Any, endpoint: str) -> dict[str, Any]:
    reps = args.reps or (2 if args.quick else 5)
    async with bl.deployment(endpoint) as cluster:
        # Declaring is a supervisor's: Oslo's, serving the region.
        token = cluster.token("oslo", "supervisor")
        async with bl.channel(cluster.gateway, cluster.tls, token) as channel:
            coord = cpb_grpc.CoordinationServiceStub(channel)
            major = await coord.DeclareMajorIncident(
                cpb.DeclareMajorIncidentRequest(
                    request_id=uuid.uuid4().hex,
                    region="oslo",
                    position=pb.Position(lat=59.91, lon=10.75, accuracy_m=10),
                    kind="restart benchmark",
                    expected_patients=5,
                ),
                timeout=60,
            )
        handle = MajorHandle(major.id, cluster.config.ray_namespace)
        times = []
        for i in range(reps):
            took = await repetition(handle)
            bl.note(f"rep {i + 1}/{reps}: kill -> answering again {took:.2f} s")
            times.append(round(took, 3))
            await asyncio.sleep(1.0)
        ttl = cluster.config.lease_ttl_s
    return {
        "reps": reps,
        "load": "idle",
        "lease_ttl_s": ttl,
        "kill_to_answering": {**bl.summary_s(times), "values_s": times},
    }


def main() -> None:
    ap = bl.base_parser(__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=0, help="kills (5; quick 2)")
    args = ap.parse_args()
    bl.run_benchmark("major", "major_bench.py", args, lambda endpoint: run(args, endpoint))


if __name__ == "__main__":
    main()
