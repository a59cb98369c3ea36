"""Structured logs (structlog): JSON lines to a file for machines, readable lines for people.

Loggers are bound with ``centre``, ``region``, ``incident`` and ``token`` where they
apply, so one grep follows a region through a failover.

Every process of a deployment writes its own file in the state folder's ``logs``
folder: the launcher ``amk.log``, each centre ``centre-{id}.log``, each gateway
``gateway-{port}.log``, the supervisor ``supervisor.log``, a major incident
``major-{id}.log`` (a site other than ``main`` adds ``@{site}``). Before, a centre's
``region_taken`` or ``centre_hung`` went only to Ray's worker files under
``/tmp/ray/session_latest/logs``, named by worker id, where an on-call engineer does not
look. A restarted process appends to its predecessor's file. Files rotate at
:data:`ROTATE_BYTES` and keep :data:`ROTATE_KEEP` old ones, so months of service do not
fill the disk. A process that also logs to stderr (the actors: Ray keeps that in its
worker files) writes readable lines there.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

import structlog

ROTATE_BYTES = 32 * 1024 * 1024
ROTATE_KEEP = 4


def process_log(home: Path, kind: str, name: str = "", site: str = "main") -> Path:
    """The log file of one process of the deployment whose state folder is ``home``."""
    stem = f"{kind}-{name}" if name else kind
    if site != "main":
        stem += f"@{site}"
    return home / "logs" / f"{stem}.log"


def configure(level: str = "info", *, json_file: Path | None = None, console: bool = True) -> None:
    """Configure structlog for this process (the launcher, or a Ray actor's worker):
    readable lines on stderr with ``console``, JSON lines in ``json_file``."""
    lvl = getattr(logging, level.upper(), logging.INFO)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handlers: list[logging.Handler] = []
    if console:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processor=structlog.dev.ConsoleRenderer(colors=False), foreign_pre_chain=shared
            )
        )
        handlers.append(handler)
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            json_file, maxBytes=ROTATE_BYTES, backupCount=ROTATE_KEEP
        )
        handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processor=structlog.processors.JSONRenderer(), foreign_pre_chain=shared
            )
        )
        handlers.append(handler)
    logging.basicConfig(level=lvl, handlers=handlers, force=True)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
