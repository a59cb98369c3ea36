"""Telephone-guided CPR on an incident, as the CLI shows it (``amk incident show``).

Its own module for the size of ``clients.render``, which uses it."""

from __future__ import annotations

from rich.text import Text

from actors.domain import cpr_guidance
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.enums import CPR_END, enum_name, enum_value
from clients.render_time import format_age, format_time


def cpr_text(g: pb.CprGuidance) -> Text:
    """Telephone-guided CPR: when it started and the compressions did, how it ended, and
    who recorded each."""
    out = Text()
    if g.HasField("not_given_at"):
        out.append(
            f"not given {format_time(g.not_given_at)} (recorded by {g.not_given_by or '?'}): "
        )
        out.append(g.not_given_reason)
        if g.HasField("started_at"):
            out.append("; then ")
    if g.HasField("started_at"):
        out.append(f"started {format_time(g.started_at)} (recorded by {g.started_by or '?'})")
        if g.bystander:
            out.append("; compressions were under way already")
        elif g.HasField("compressions_at"):
            after = g.compressions_at.ToSeconds() - g.started_at.ToSeconds()
            out.append(f"; first compression {format_time(g.compressions_at)} (recorded by ")
            out.append(f"{g.compressions_by or '?'}, {format_age(after)} later)")
        else:
            out.append("; no compressions recorded")
    if g.HasField("ended_at"):
        how = "corrected" if g.end in CORRECTIONS else "ended"
        out.append(f"; {how} {format_time(g.ended_at)} (recorded by {g.ended_by or '?'}): ")
        out.append(END_WORDS.get(g.end, enum_name(g.end, CPR_END)))
    return out


#: How the guidance ended, in the words of the EIDO note (the domain's), by API value.
END_WORDS: dict[int, str] = {
    enum_value(CPR_END, end.value): text for end, text in cpr_guidance.END_TEXT.items()
}
#: Ends that correct the record (the domain's ``cpr_guidance.CORRECTIONS``).
CORRECTIONS = {enum_value(CPR_END, end.value) for end in cpr_guidance.CORRECTIONS}
