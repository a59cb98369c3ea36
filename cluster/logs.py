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


class _SizeRotatingHandler(logging.handlers.RotatingFileHandler):
    """Rotates by the file's size so far, without rendering the record a second time
    and asking the file system twice per line, as the standard handler does on Python
    3.11 (a centre's event loop writes these lines; it also sends the lease
    keepalives). A file may end one line past the size."""

    def shouldRollover(self, record: logging.LogRecord) -> int:
        if self.stream is None:
            self.stream = self._open()
        return int(self.maxBytes > 0 and self.stream.tell() >= self.maxBytes)


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
        try:
            json_file.parent.mkdir(parents=True, exist_ok=True)
            handler = _SizeRotatingHandler(
                json_file, maxBytes=ROTATE_BYTES, backupCount=ROTATE_KEEP
            )
        except OSError as exc:  # a folder this node cannot write: stderr only, said once
            print(f"log file {json_file} not writable ({exc}): stderr only", file=sys.stderr)
        else:
            handler.setFormatter(
                structlog.stdlib.ProcessorFormatter(
                    processors=[
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,  # the traceback, as text
                        structlog.processors.JSONRenderer(),
                    ],
                    foreign_pre_chain=shared,
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
