"""Structured logs (structlog): JSON lines to a file for machines, readable lines for people.

Loggers are bound with ``centre``, ``region``, ``incident`` and ``token`` where they
apply, so one grep follows a region through a failover.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import structlog


def configure(level: str = "info", *, json_file: Path | None = None, console: bool = True) -> None:
    """Configure structlog for this process (the launcher, or a Ray actor's worker)."""
    lvl = getattr(logging, level.upper(), logging.INFO)
    handlers: list[logging.Handler] = []
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(json_file))
    logging.basicConfig(level=lvl, handlers=handlers, format="%(message)s", force=True)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_file is not None and not console
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
