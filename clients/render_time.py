"""Times as the CLI shows them: local wall-clock times and compact ages."""

from __future__ import annotations

from datetime import UTC

from google.protobuf.timestamp_pb2 import Timestamp


def format_time(ts: Timestamp) -> str:
    """Local wall-clock time; ``-`` for an unset timestamp."""
    if not ts.seconds and not ts.nanos:
        return "-"
    return ts.ToDatetime(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_age(seconds: float) -> str:
    """Compact age (``42s``, ``3m12s``, ``1h05m``) for board columns."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
