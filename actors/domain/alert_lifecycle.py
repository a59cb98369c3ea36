"""The alert lifecycle as a transition table (issue #19).

proposed -> sent -> acknowledged, with escalated when a sent alert stays
unacknowledged longer than ``alert_escalate_after_s``, and cancelled before it is
acknowledged. Choices, as a dispatcher works:

- escalated -> acknowledged: a late acknowledgement is still the fact the journal must
  hold (when the other centre knew), so escalation is a flag for the console, not an end;
- proposed -> cancelled: the card matched but the dispatcher knows better (fire is
  already there, the police called us);
- sent / escalated -> cancelled: alerted in error, or the incident turned out otherwise;
  the other centre is not told by this step (it answers its own alert);
- acknowledged and cancelled are final: a new alert to the same service is a new record;
- sent / escalated -> declined (air ambulance requests only, issue #19): the AMK-LA
  answered no. A final state of its own, not "acknowledged" with a note: a declined
  request leaves the patient without the aircraft the dispatcher asked for, so the
  console must show it as a refusal (and the dispatcher may ask again or send another
  resource), and the journal must say the base said no, not only that it answered.
  Not "cancelled" either: that is the requesting side's own withdrawal. Trippelvarsling
  partners acknowledge and never decline, so nothing else reaches it
  (``actors/domain/air.py`` is the only caller).

An unknown or illegal change raises :class:`IllegalTransitionError`; nothing is
silently ignored.
"""

from __future__ import annotations

from actors.domain.errors import checked_step
from actors.domain.model import AlertState as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.PROPOSED: frozenset({S.SENT, S.CANCELLED}),
    S.SENT: frozenset({S.ACKNOWLEDGED, S.ESCALATED, S.CANCELLED, S.DECLINED}),
    S.ESCALATED: frozenset({S.ACKNOWLEDGED, S.CANCELLED, S.DECLINED}),
    S.ACKNOWLEDGED: frozenset(),
    S.CANCELLED: frozenset(),
    S.DECLINED: frozenset(),
}

TERMINAL: frozenset[S] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# Sent and not yet answered: the other centre may not know.
AWAITING: frozenset[S] = frozenset({S.SENT, S.ESCALATED})


def transition(alert_id: str, current: S, requested: S) -> S:
    """The new state, or IllegalTransitionError."""
    return checked_step("alert", alert_id, TRANSITIONS, current, requested)
