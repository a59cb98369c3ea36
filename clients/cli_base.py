"""What every ``amk`` command shares: exit codes, the run context, option helpers."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message
from rich.console import Console, RenderableType
from rich.text import Text

from clients.client import AmkClient
from clients.render import to_json_doc
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.tls import TlsFiles, client_identity, env_insecure

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_REQUEST = 2
EXIT_UNAVAILABLE = 3

_EXIT_BY_CODE: dict[grpc.StatusCode, int] = {
    # Refused: the same command again will be refused again (a script must not retry).
    grpc.StatusCode.INVALID_ARGUMENT: EXIT_BAD_REQUEST,
    grpc.StatusCode.NOT_FOUND: EXIT_BAD_REQUEST,
    grpc.StatusCode.FAILED_PRECONDITION: EXIT_BAD_REQUEST,
    grpc.StatusCode.ALREADY_EXISTS: EXIT_BAD_REQUEST,
    grpc.StatusCode.PERMISSION_DENIED: EXIT_BAD_REQUEST,
    grpc.StatusCode.UNAUTHENTICATED: EXIT_BAD_REQUEST,
    grpc.StatusCode.UNAVAILABLE: EXIT_UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: EXIT_UNAVAILABLE,
}


def exit_code_for(code: grpc.StatusCode) -> int:
    """Process exit status for a failed call's gRPC status."""
    return _EXIT_BY_CODE.get(code, EXIT_ERROR)


# ---------------------------------------------------------------- running a command


#: Columns for tables written to a pipe or a file (no terminal to ask, no $COLUMNS): at
#: rich's 80 the cluster status squeezed its Alive and PID columns to nothing, so a dead
#: centre did not show in ``amk status | tee`` or a cron job's mail.
PIPE_WIDTH = 200


def console() -> Console:
    """Rich's console, as wide as the terminal; written elsewhere, :data:`PIPE_WIDTH`
    unless ``$COLUMNS`` says otherwise."""
    found = Console()
    if found.is_terminal or os.environ.get("COLUMNS"):
        return found
    return Console(width=PIPE_WIDTH)


@dataclass
class Context:
    """What a command handler needs: its arguments, a console, a client made on demand
    (``amk up`` and ``--help`` must not need a reachable gateway)."""

    args: argparse.Namespace
    console: Console = field(default_factory=console)
    _client: AmkClient | None = None

    def client(self) -> AmkClient:
        if self._client is None:
            self._client = AmkClient(
                self.args.gateway or configured_gateways(),
                timeout_s=self.args.timeout,
                identity=self.args.identity,
                break_glass=getattr(self.args, "break_glass", "") or "",
                tls=configured_tls(self.args),
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def emit(self, result: Message | list[Any], human: Callable[[Any], RenderableType]) -> int:
        """Print a result: one JSON document, or the human rendering."""
        if self.args.json:
            print(json.dumps(to_json_doc(result), indent=2, ensure_ascii=False))
        else:
            self.console.print(human(result))
        return EXIT_OK


def configured_gateways() -> list[str] | None:
    """The gateways of the settings (``$AMK_GATEWAY``, the settings file), or None."""
    # The settings file written for ``amk up`` may move the gateways off the default
    # port; fall back to the client's own default (AMK_GATEWAY, then localhost) if the
    # settings cannot be read: talking to a cluster must not depend on them.
    try:
        return ClusterConfig.load().gateways
    except ConfigError:
        return None


def configured_tls(args: argparse.Namespace) -> TlsFiles | None:
    """The console's identity: ``--pki`` / ``$AMK_PKI`` / the settings' pki folder, or
    None (plaintext) with ``--insecure``, ``$AMK_INSECURE=1`` or ``insecure = true``."""
    try:
        config: ClusterConfig | None = ClusterConfig.load()
    except ConfigError:
        config = None  # as for the gateways: a console must not depend on the settings
    insecure = bool(getattr(args, "insecure", False)) or env_insecure()
    if insecure or (config is not None and config.insecure):
        return None
    pki = getattr(args, "pki", None) or (config.pki_folder() if config is not None else None)
    return client_identity(pki, insecure=False)


def _listing(
    render: Callable[[Any], RenderableType], empty: str
) -> Callable[[Any], RenderableType]:
    def human(items: list[Any]) -> RenderableType:
        return render(items) if items else Text(empty, style="dim")

    return human


def _regions(args: argparse.Namespace) -> list[str]:
    return list(args.region or [])


# ---------------------------------------------------------------- the parser


def _global_options(parser: argparse.ArgumentParser, *, in_subcommand: bool) -> None:
    # Added twice: to the top parser with real defaults, and to every subcommand with
    # SUPPRESS, so `amk --json incident list` and `amk incident list --json` both work
    # without the subcommand's absent flag overwriting the top-level one.
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if in_subcommand else value

    parser.add_argument(
        "--gateway",
        metavar="ADDR[,ADDR]",
        default=default(None),
        help="gateway address(es) to use, tried in order "
        "(default: $AMK_GATEWAY, the settings file, else 127.0.0.1:50051,127.0.0.1:50052)",
    )
    parser.add_argument(
        "--pki",
        metavar="DIR",
        default=default(None),
        help="folder of the CA and this console's certificate (ca.crt, console.crt, "
        "console.key; default: $AMK_PKI, the settings' pki_dir, else $AMK_HOME/pki)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        default=default(False),
        help="plaintext, no certificate: only for a cluster started with --insecure "
        "(development only; also $AMK_INSECURE=1)",
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=_positive_float,
        default=default(5.0),
        help="time budget per command in seconds, retries included (default: 5)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print one JSON document instead of tables",
    )
    parser.add_argument(
        "--identity",
        metavar="NAME",
        default=default(os.environ.get("AMK_IDENTITY", "console")),
        help="who is acting, recorded with every change on a cluster with auth off "
        "(default: $AMK_IDENTITY or console); with auth on, the token says who",
    )
    parser.add_argument(
        "--break-glass",
        metavar="REASON",
        default=default(""),
        help="act outside your centre's regions, for this stated reason (logged and flagged; "
        "only shortly after amk login)",
    )


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _request_id_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--request-id",
        metavar="ID",
        help="idempotency key; repeating a command with the same id changes nothing twice "
        "(default: a fresh random id)",
    )


def _region_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--region",
        metavar="R",
        action="append",
        help=f"only {what} of this region; repeat or comma-separate for several (default: all)",
    )


def _health_region_option(
    parser: argparse.ArgumentParser, what: str, *, grouped: bool = True
) -> None:
    parser.add_argument(
        "--health-region",
        metavar="ID",
        action="append",
        help=f"only {what} of this health region (helse-sor-ost, helse-vest, "
        "helse-midt-norge, helse-nord: the running seed's); repeat or comma-separate "
        f"for several (default: all{', grouped by health region' if grouped else ''})",
    )


def etcd_endpoints(arg: str | None, config: Any) -> list[str]:
    """``--etcd`` as given, else the configured endpoints, else the embedded etcd's."""
    given = [e.strip() for e in (arg or "").split(",") if e.strip()]
    return given or config.etcd_endpoints or [f"127.0.0.1:{config.etcd_client_port}"]
