"""Telephone-guided CPR (telefonveiledet HLR): the dispatcher's record of it, and the
times the quality review reads from it.

When a caller describes someone who is unconscious and not breathing normally, the
dispatcher guides the caller through chest compressions until the ambulance arrives;
every minute without compressions costs the patient's chance of survival, so the two
moments that matter are recorded as they happen, on the incident:

- ``started``: the dispatcher began guiding (the cardiac arrest recognised);
- ``compressions``: the caller's first chest compressions.

Each is recorded once (a second click answers FAILED_PRECONDITION, naming when it was
recorded, instead of moving the time), compressions only after the guidance started,
and only on an open incident. The order and the single time are the review's: a time
that could be moved afterwards would say nothing.

The review's figures (:func:`delays`) run from the 113 call's answer to each moment,
per region and urgency; an incident with no call is counted apart (its start is not the
caller's). This project knows no national target for them: they are reported for the
review, not held to one.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

from actors.domain import incident_lifecycle
from actors.domain.enums import CprStep, Urgency
from actors.domain.errors import PreconditionError
from actors.domain.model import CprGuidance, Incident

#: The steps in the order they happen.
ORDER: tuple[CprStep, ...] = (CprStep.STARTED, CprStep.COMPRESSIONS)


def record(inc: Incident, step: CprStep, who: str, now: float) -> Incident:
    """``inc`` with ``step`` recorded at ``now`` by ``who``; PreconditionError when the
    incident is closed, the step was recorded before, or comes before its turn."""
    if not incident_lifecycle.is_open(inc.status):
        raise PreconditionError(inc.id, f"incident is {inc.status.value}")
    held = inc.cpr or CprGuidance()
    if step is CprStep.STARTED and held.started_at:
        raise PreconditionError(
            inc.id, f"CPR guidance already recorded as started at {_clock(held.started_at)}"
        )
    if step is CprStep.COMPRESSIONS:
        if not held.started_at:
            raise PreconditionError(inc.id, "CPR guidance not started: record its start first")
        if held.compressions_at:
            raise PreconditionError(
                inc.id, f"compressions already recorded at {_clock(held.compressions_at)}"
            )
    new = copy.deepcopy(inc)
    guidance = new.cpr if new.cpr is not None else CprGuidance()
    if step is CprStep.STARTED:
        guidance.started_at, guidance.started_by = now, who
    else:
        guidance.compressions_at, guidance.compressions_by = now, who
    new.cpr = guidance
    new.updated_at = now
    return new


def _clock(at: float) -> str:
    """A recorded time as people read it in a refusal (UTC: the domain knows no zone)."""
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%H:%M:%S UTC")


Delays = dict[tuple[str, Urgency | None], dict[CprStep, list[float]]]


def delays(
    incidents: Iterable[Incident],
    answered_at: Mapping[str, float],
    *,
    since: float | None = None,
) -> tuple[Delays, dict[str, int]]:
    """Per (region, urgency): seconds from the 113 call's answer (``answered_at`` by
    incident id) to each recorded step; and per region, the incidents with guidance but
    no answered call (counted apart)."""
    out: Delays = defaultdict(lambda: {step: [] for step in ORDER})
    no_call: dict[str, int] = defaultdict(int)
    for inc in incidents:
        guidance = inc.cpr
        if guidance is None or (since is not None and inc.created_at < since):
            continue
        start = answered_at.get(inc.id)
        if start is None:
            no_call[inc.region] += 1
            continue
        times = {
            CprStep.STARTED: guidance.started_at,
            CprStep.COMPRESSIONS: guidance.compressions_at,
        }
        for step, at in times.items():
            if at:
                out[(inc.region, inc.urgency)][step].append(max(0.0, at - start))
    return dict(out), dict(no_call)
