"""Joining a Ray cluster someone else started (``amk up --ray-address``): find out, in
seconds and before anything starts, whether it answers and which credentials it wants.

Why: Ray 2.59+ turns token authentication on for ``ray start --head`` (the head writes
a token to its ``~/.ray/auth_token``), while a process that joins defaults to no token
unless ``RAY_AUTH_MODE=token`` is set. ``ray.init`` then prints ``Failed to get cluster
ID from GCS server: Unauthenticated`` once a second, forever; a wrong token does the
same. This module asks the head's GCS itself (``NodeInfoGcsService.GetClusterId``, the
call ``ray.init`` makes first) on a short deadline, without and then with a token:

- no answer: :class:`UpRefused` (exit 3) naming the address;
- answers without a token: the cluster runs without authentication (a warning);
- wants a token: the token is taken where Ray itself looks for it, in Ray's order
  (``--ray-token-file`` / ``ray_auth_token_file`` first, then ``RAY_AUTH_TOKEN``,
  ``RAY_AUTH_TOKEN_PATH``, ``~/.ray/auth_token``) and tried; accepted, this process is
  switched to token mode for ``ray.init``; missing or refused, one line saying which and
  where it looked (exit 2). The token itself is never printed.

Ray's TLS (``--ray-tls``, or ``RAY_USE_TLS=1``) is checked first, on the same port
(clients/ray_tls.py): a head that speaks TLS to a process without it, or plaintext to
one with it, or shows a certificate of another CA, is one line and exit 2; with TLS on,
the token probes above go over a secure channel with our certificate.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

import grpc

from clients.ray_tls import USE_TLS_ENV, RayTls, check_head, find_tls, sniff, tls_requested
from clients.up_guard import EXIT_UNAVAILABLE, UpRefused
from cluster.tokens import bearer_header

GET_CLUSTER_ID = "/ray.rpc.NodeInfoGcsService/GetClusterId"
PROBE_TIMEOUT_S = 3.0
AUTH_MODE = "RAY_AUTH_MODE"
TOKEN_ENV = "RAY_AUTH_TOKEN"
TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"


@dataclass(frozen=True)
class Token:
    value: str
    source: str  # where it came from, for messages (never the value)
    path: Path | None  # the file, when it came from one


@dataclass(frozen=True)
class JoinPlan:
    """What ``ray.init`` needs to join: the environment to set, and a line for people."""

    env: dict[str, str]
    message: str


def probe(
    address: str,
    token: str | None,
    timeout_s: float = PROBE_TIMEOUT_S,
    credentials: grpc.ChannelCredentials | None = None,
) -> grpc.StatusCode:
    """The status of ``GetClusterId`` at the GCS ``address`` (``OK`` if it answered),
    over TLS with ``credentials`` when given (a head with Ray's TLS on)."""
    metadata = (bearer_header(token),) if token is not None else None
    channel = (
        grpc.insecure_channel(address)
        if credentials is None
        else grpc.secure_channel(address, credentials)
    )
    with channel:
        call = channel.unary_unary(
            GET_CLUSTER_ID, request_serializer=lambda b: b, response_deserializer=lambda b: b
        )
        try:
            call(b"", timeout=timeout_s, metadata=metadata)
        except grpc.RpcError as exc:
            return exc.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def find_token(token_file: Path | None, env: Mapping[str, str], home: Path) -> Token | None:
    """The token Ray would use, in Ray's own order; ``token_file`` (ours) comes first."""
    if token_file is not None:
        return _read(token_file, f"--ray-token-file {token_file}")
    if env.get(TOKEN_ENV, "").strip():
        return Token(env[TOKEN_ENV].strip(), TOKEN_ENV, None)
    if env.get(TOKEN_PATH_ENV):
        return _read(Path(env[TOKEN_PATH_ENV]), f"{TOKEN_PATH_ENV}={env[TOKEN_PATH_ENV]}")
    default = home / ".ray" / "auth_token"
    return _read(default, str(default)) if default.exists() else None


def _read(path: Path, source: str) -> Token:
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise UpRefused(f"cannot read the Ray token file ({source}): {exc.strerror}") from exc
    if not value:
        raise UpRefused(f"the Ray token file ({source}) is empty")
    return Token(value, source, path)


def plan_join(
    address: str,
    token_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    *,
    ray_tls: bool = False,
    pki: Path | None = None,
) -> JoinPlan:
    """Check the Ray cluster at ``address`` and what joining it takes, or UpRefused.

    ``ray_tls`` (or ``RAY_USE_TLS=1`` in ``env``): join with Ray's TLS, the files from
    Ray's variables or the ``pki`` folder (clients/ray_tls.py)."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    where = f"Ray at {address}"
    tls = check_tls(address, ray_tls, env, pki)
    credentials = tls.credentials() if tls is not None else None
    first = probe(address, None, credentials=credentials)
    if first in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        if tls is not None:  # it speaks TLS with our CA's certificate, and refused ours
            raise UpRefused(
                f"the Ray head at {address} refused our Ray certificate {tls.files.cert} "
                f"({first.name}): is it signed by the CA the head trusts?"
            )
        raise no_answer(address, first.name)
    tls_env = tls.env() if tls is not None else {}
    tls_note = f"; Ray TLS on ({tls.source})" if tls is not None else ""
    if first is grpc.StatusCode.OK:
        return JoinPlan(
            {**tls_env, **({AUTH_MODE: "disabled"} if env.get(AUTH_MODE) != "token" else {})},
            f"{where} runs WITHOUT token authentication: anyone who reaches it can run code "
            f"in it (set RAY_AUTH_MODE=token on its nodes){tls_note}",
        )
    if first is not grpc.StatusCode.UNAUTHENTICATED:
        raise UpRefused(f"{where} answered {first.name} to GetClusterId: is it a Ray GCS?")
    if env.get(AUTH_MODE) == "disabled":
        raise UpRefused(f"{where} requires token authentication, but RAY_AUTH_MODE=disabled")
    token = find_token(token_file, env, home)
    if token is None:
        raise UpRefused(
            f"{where} requires a token (token authentication) and none was found: pass "
            f"--ray-token-file FILE (the head's ~/.ray/auth_token; `ray get-auth-token` "
            f"on the head prints it) or set {TOKEN_ENV} (looked in {TOKEN_ENV}, "
            f"{TOKEN_PATH_ENV}, {home / '.ray' / 'auth_token'})"
        )
    second = probe(address, token.value, credentials=credentials)
    if second is grpc.StatusCode.UNAUTHENTICATED:
        raise UpRefused(
            f"{where} refused the token from {token.source}: it is not this cluster's token "
            "(`ray get-auth-token` on the head prints the right one)"
        )
    if second is not grpc.StatusCode.OK:
        raise UpRefused(f"{where} answered {second.name} with our token", EXIT_UNAVAILABLE)
    plan_env = {**tls_env, AUTH_MODE: "token"}
    if token.path is not None:
        plan_env[TOKEN_PATH_ENV] = str(token.path)
    else:
        plan_env[TOKEN_ENV] = token.value
    return JoinPlan(plan_env, f"{where}: token authentication, token from {token.source}{tls_note}")


def no_answer(address: str, why: str) -> UpRefused:
    """Exit 3: nothing at ``address`` answers (``why``: the connection's or gRPC's word)."""
    return UpRefused(
        f"Ray at {address} does not answer ({why}): is `ray start --head --port "
        f"{address.rpartition(':')[2]}` running there, and is the port reachable?",
        EXIT_UNAVAILABLE,
    )


def check_tls(
    address: str, ray_tls: bool, env: Mapping[str, str], pki: Path | None
) -> RayTls | None:
    """Our Ray TLS files if we join with TLS (None without), after checking that the
    head's port speaks what we do and, with TLS, shows our CA's certificate for it."""
    wanted = ray_tls or tls_requested(env)
    tls = find_tls(pki, env) if wanted else None
    try:
        head = sniff(address, PROBE_TIMEOUT_S, tls.files if tls is not None else None)
    except OSError as exc:
        raise no_answer(address, exc.strerror or type(exc).__name__) from exc
    if head.tls and tls is None:
        raise UpRefused(
            f"the Ray head at {address} uses TLS; pass --ray-tls (and the CA that signed its "
            "certificate: `amk cert ray` from that CA, or RAY_TLS_CA_CERT)"
        )
    if not head.tls and tls is not None:
        given = "--ray-tls" if ray_tls else f"{USE_TLS_ENV}=1"
        raise UpRefused(f"the Ray head at {address} does not use TLS but {given} was given")
    if tls is not None:
        check_head(address, head.cert, tls)
    return tls


def apply(plan: JoinPlan, environ: MutableMapping[str, str] | None = None) -> None:
    """Put the plan's variables in this process's environment before ``ray.init``, and
    have Ray's already-imported config read them again (it reads RAY_AUTH_MODE once, at
    import, as Ray's own ``_enable_token_auth`` does)."""
    environ = os.environ if environ is None else environ
    environ.update(plan.env)
    if environ is os.environ:
        from ray._raylet import Config

        Config.initialize("")


# ---------------------------------------------------------------- once joined

NICENESS_TIMEOUT_S = 20.0  # a worker per node starts for the check (about a second each)


def worker_niceness(timeout_s: float = NICENESS_TIMEOUT_S) -> dict[str, int | None]:
    """Node -> the niceness the workers of that node run at, for every live node of the
    Ray this process joined; None for a node that did not answer in time or whose task
    failed (a check that only warns must not stop ``amk up``). A node is named by its
    address and, after it, the start of its node id (two nodes may share an address).

    Why: every worker's niceness is the ``RAY_worker_niceness`` its node's raylet was
    started with, 15 by default, and the gateway and the centres run as such workers.
    A local Ray is started at 0 (``cluster.ray_local.services_first``); a Ray started
    by hand is whatever its operator gave it, which ``amk up`` can only report."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=0, max_retries=0)
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, 0)

    refs = {
        f"{node['NodeManagerAddress']} ({node['NodeID'][:8]})": niceness.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
        ).remote()
        for node in ray.nodes()
        if node.get("Alive")
    }
    ready, late = ray.wait(list(refs.values()), num_returns=len(refs), timeout=timeout_s)
    for ref in late:
        ray.cancel(ref, force=True)
    done = set(ready)
    found: dict[str, int | None] = {}
    for node, ref in refs.items():
        try:
            found[node] = ray.get(ref) if ref in done else None
        except ray.exceptions.RayError:
            found[node] = None
    return found


def niceness_warnings(found: Mapping[str, int | None]) -> list[str]:
    """One line per node whose workers run below normal priority (niceness above 0), or
    whose niceness could not be read."""
    lines = []
    for node, value in sorted(found.items()):
        if value is None:
            lines.append(f"warning: could not read the niceness of Ray's workers on {node}")
        elif value > 0:
            lines.append(
                f"warning: Ray's workers on {node} run at niceness {value}: the gateway and "
                f"the centres there yield the CPU to any other process (start that node's "
                f"Ray with RAY_worker_niceness=0, README 'Ray between machines')"
            )
    return lines
