"""Telephone-guided CPR on an incident, as the CLI shows it (``amk incident show``).

Its own module for the size of ``clients.render``, which uses it."""

from __future__ import annotations

from rich.text import Text

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.render_time import format_age, format_time


def cpr_text(g: pb.CprGuidance) -> Text:
    """Telephone-guided CPR: when it started and the compressions did, and who recorded
    each."""
    out = Text()
    if g.HasField("not_given_at"):
        out.append(
            f"not given {format_time(g.not_given_at)} (recorded by {g.not_given_by or '?'}): "
        )
        out.append(g.not_given_reason)
        if not g.HasField("started_at"):
            return out
        out.append("; then ")
    out.append(f"started {format_time(g.started_at)} (recorded by {g.started_by or '?'})")
    if g.bystander:
        out.append("; compressions were under way already")
    elif g.HasField("compressions_at"):
        after = g.compressions_at.ToSeconds() - g.started_at.ToSeconds()
        out.append(f"; first compression {format_time(g.compressions_at)} (recorded by ")
        out.append(f"{g.compressions_by or '?'}, {format_age(after)} later)")
    else:
        out.append("; no compressions recorded")
    return out
