"""Alerts to other services (issue #19): the state table, action-card matching, and the
pure decisions on an incident's alerts."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from actors.domain import alert_lifecycle as lc
from actors.domain import alerts
from actors.domain.action_cards import ActionCards, default_cards
from actors.domain.errors import (
    IllegalTransitionError,
    InvalidArgumentError,
    NotFoundError,
    PreconditionError,
)
from actors.domain.model import (
    AlertService,
    Incident,
    IncidentStatus,
    Position,
)
from actors.domain.model import AlertState as S
from actors.domain.triage import default_table

pytestmark = pytest.mark.timeout(30)

FIRE, POLICE = AlertService.FIRE_110, AlertService.POLICE_112
LEGEVAKT = AlertService.LEGEVAKT_116117
T0 = 1_700_000_000.0

# The lifecycle as documented in alert_lifecycle.py, written out independently.
EXPECTED: dict[S, set[S]] = {
    S.PROPOSED: {S.SENT, S.CANCELLED},
    S.SENT: {S.ACKNOWLEDGED, S.ESCALATED, S.CANCELLED, S.DECLINED},
    S.ESCALATED: {S.ACKNOWLEDGED, S.CANCELLED, S.DECLINED},
    S.ACKNOWLEDGED: set(),
    S.CANCELLED: set(),
    S.DECLINED: set(),  # an air ambulance request the AMK-LA refused
}


def incident(code: str = "A.35.01", status: IncidentStatus = IncidentStatus.TRIAGED) -> Incident:
    return Incident(
        id="oslo-000001",
        region="oslo",
        status=status,
        position=Position(59.91, 10.75),
        created_at=T0,
        updated_at=T0,
        criteria_code=code,
    )


# ---------------------------------------------------------------- the table


def test_table_is_the_documented_lifecycle() -> None:
    assert set(lc.TRANSITIONS) == set(S)
    assert {k: set(v) for k, v in lc.TRANSITIONS.items()} == EXPECTED
    assert lc.TERMINAL == {S.ACKNOWLEDGED, S.CANCELLED, S.DECLINED}


@pytest.mark.parametrize(("a", "b"), [(a, b) for a in S for b in S if b in EXPECTED[a]])
def test_allowed_moves(a: S, b: S) -> None:
    assert lc.transition("a1", a, b) is b


@pytest.mark.parametrize(("a", "b"), [(a, b) for a in S for b in S if b not in EXPECTED[a]])
def test_forbidden_moves_raise(a: S, b: S) -> None:
    with pytest.raises(IllegalTransitionError, match=f"alert a1: cannot go from {a} to {b}"):
        lc.transition("a1", a, b)


# ---------------------------------------------------------------- action cards


def test_every_card_code_is_a_criteria_code_and_every_card_names_a_service() -> None:
    cards = default_cards()
    table = default_table()
    assert cards.cards, "the cards file is not empty"
    for card in cards.cards.values():
        assert card.services and card.codes <= set(table.criteria), card.id


@pytest.mark.parametrize(
    ("code", "services", "card"),
    [
        ("A.35.01", {FIRE, POLICE}, "road-traffic"),  # trapped after a collision
        ("A.06.01", {FIRE, POLICE}, "building-fire"),
        ("A.13.02", {FIRE, POLICE}, "drowning"),
        ("A.36.01", {FIRE, POLICE}, "avalanche"),
        ("A.37.03", {POLICE}, "ongoing-violence"),
        ("A.24.03", {FIRE, POLICE}, "cbrne"),
        ("A.05.03", {FIRE, POLICE}, "major-transport"),
    ],
)
def test_trippelvarsling_codes_match_their_card(code: str, services: set, card: str) -> None:
    matched = [(s, c) for s, c in default_cards().match(code) if s is not LEGEVAKT]
    assert {s for s, _ in matched} == services
    assert {c.id for _, c in matched} == {card}


def test_every_red_response_alerts_the_legevakt_but_a_transport_a_doctor_asked_for() -> None:
    table = default_table()
    cards = default_cards()
    for code, criterion in table.criteria.items():
        got = {s: c.id for s, c in cards.match(code)}.get(LEGEVAKT)
        if criterion.urgency.value == "akutt" and criterion.chapter != 40:
            assert got == "red-response-legevakt", code
        else:
            assert got is None, code  # yellow and green: the dispatcher decides, by hand
    assert {s for s, _ in cards.match("A.11.01")} == {LEGEVAKT}  # chest pain, red


@pytest.mark.parametrize("code", ["V.35.01", "H.35.02", "A.40.01", "nonsense"])
def test_other_codes_match_no_card(code: str) -> None:
    assert default_cards().match(code) == []


def test_a_card_by_urgency_must_name_known_chapters_and_some_codes(tmp_path: Path) -> None:
    bad = tmp_path / "cards.toml"
    head = '[meta]\nversion = "x"\n[[cards]]\nid = "x"\ntitle = "x"\nservices = ["116117"]\n'
    bad.write_text(head + 'urgencies = ["akutt"]\nexcept_chapters = [99]\n')
    with pytest.raises(ValueError, match=r"no chapter \[99\]"):
        ActionCards.load(bad)
    for body in (
        "",
        'urgencies = ["akutt"]\nexcept_chapters = ['
        + ", ".join(str(n) for n in range(1, 41))
        + "]\n",
    ):
        bad.write_text(head + body)  # nothing named, or everything excepted
        with pytest.raises(ValueError, match="matches no criteria code"):
            ActionCards.load(bad)
    bad.write_text(head + 'urgencies = ["red"]\n')
    with pytest.raises(ValueError, match="action card x: 'red' is not a valid Urgency"):
        ActionCards.load(bad)
    bad.write_text(head + 'urgencies = ["akutt"]\nexcept_chapters = ["40"]\n')
    with pytest.raises(ValueError, match=r"no chapter \['40'\]"):
        ActionCards.load(bad)


def test_a_card_naming_an_unknown_code_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "cards.toml"
    bad.write_text(
        '[meta]\nversion = "x"\n[[cards]]\nid = "x"\ntitle = "x"\n'
        'services = ["110"]\ncodes = ["A.99.99"]\n'
    )
    with pytest.raises(ValueError, match=r"A\.99\.99 is not a criteria code"):
        ActionCards.load(bad)


# ---------------------------------------------------------------- decisions


def test_a_road_accident_proposes_fire_and_police() -> None:
    inc = incident("A.35.01")
    before = copy.deepcopy(inc)
    new = alerts.propose(inc, default_cards(), T0 + 1)
    assert inc == before  # input untouched
    assert [(a.id, a.service, a.state, a.action_card) for a in new.alerts] == [
        ("a1", FIRE, S.PROPOSED, "road-traffic"),
        ("a2", POLICE, S.PROPOSED, "road-traffic"),
        ("a3", LEGEVAKT, S.PROPOSED, "red-response-legevakt"),
    ]
    assert all(a.proposed_at == T0 + 1 and a.criteria_code == "A.35.01" for a in new.alerts)


def test_proposing_again_adds_nothing_and_a_cancelled_service_stays_decided() -> None:
    new = alerts.propose(incident("A.35.01"), default_cards(), T0)
    assert alerts.propose(new, default_cards(), T0 + 1) is new
    cancelled = alerts.cancel(new, "a1", "kari", "fire already on scene", T0 + 2)
    cancelled.criteria_code = "A.06.01"  # re-triaged to a building fire: 110 again
    assert len(alerts.propose(cancelled, default_cards(), T0 + 3).alerts) == 3


def test_no_proposal_for_other_codes_or_closed_incidents() -> None:
    plain = incident("H.11.01")
    assert alerts.propose(plain, default_cards(), T0) is plain
    closed = incident("A.35.01", IncidentStatus.CLOSED)
    assert alerts.propose(closed, default_cards(), T0) is closed


def test_send_the_proposed_alert_then_acknowledge() -> None:
    inc = alerts.propose(incident(), default_cards(), T0)
    sent, alert = alerts.send(inc, POLICE, "112:oslo", "kari", T0 + 5)
    assert (alert.id, alert.state, alert.sent_at, alert.sent_by) == ("a2", S.SENT, T0 + 5, "kari")
    assert alert.recipient == "112:oslo" and inc.alerts[1].state is S.PROPOSED
    acked = alerts.acknowledge(sent, "a2", "112 Oslo, operator 7", T0 + 9)
    got = alerts.find(acked, "a2")
    assert (got.state, got.acknowledged_at, got.acknowledged_by) == (
        S.ACKNOWLEDGED,
        T0 + 9,
        "112 Oslo, operator 7",
    )
    with pytest.raises(IllegalTransitionError):
        alerts.acknowledge(acked, "a2", "again", T0 + 10)


def test_send_without_a_proposal_makes_a_manual_alert() -> None:
    inc = incident("A.11.01")
    sent, alert = alerts.send(inc, FIRE, "110", "kari", T0, reason="smoke seen by the crew")
    assert (alert.id, alert.action_card, alert.reason) == ("a1", "", "smoke seen by the crew")
    assert sent.alerts == [alert]


def test_an_alert_given_by_phone_is_sent_and_acknowledged_at_once() -> None:
    inc = alerts.propose(incident(), default_cards(), T0)
    told, alert = alerts.phoned(inc, POLICE, "  112 Oslo, operator 7 ", "kari", T0 + 5)
    assert (alert.id, alert.state, alert.recipient) == ("a2", S.ACKNOWLEDGED, alerts.BY_PHONE)
    assert (alert.sent_at, alert.sent_by, alert.acknowledged_at, alert.acknowledged_by) == (
        T0 + 5,
        "kari",
        T0 + 5,
        "112 Oslo, operator 7",
    )
    assert alerts.find(told, "a2") == alert and inc.alerts[1].state is S.PROPOSED
    with pytest.raises(InvalidArgumentError) as err:
        alerts.phoned(inc, POLICE, " ", "kari", T0 + 5)
    assert err.value.field == "phoned_to"
    # As for a sent alert: not on a closed incident.
    with pytest.raises(PreconditionError, match="nothing to alert"):
        alerts.phoned(incident(status=IncidentStatus.CLOSED), FIRE, "110 Oslo", "kari", T0)


def test_an_alert_sent_through_a_link_that_is_down_is_acknowledged_by_phone() -> None:
    sent, alert = alerts.send(incident(), FIRE, "110:oslo", "kari", T0)
    told, same = alerts.phoned(sent, FIRE, "110 Oslo, operator 4", "ola", T0 + 90)
    assert (same.id, same.state, same.recipient) == (alert.id, S.ACKNOWLEDGED, "110:oslo")
    assert (same.acknowledged_at, same.acknowledged_by) == (T0 + 90, "110 Oslo, operator 4")
    assert "by phone" in same.note and len(told.alerts) == 1


def test_one_open_alert_per_service_and_none_on_a_closed_incident() -> None:
    sent, _ = alerts.send(incident(), FIRE, "110", "kari", T0)
    with pytest.raises(PreconditionError, match="a1 to 110 is sent"):
        alerts.send(sent, FIRE, "110", "kari", T0 + 1)
    with pytest.raises(PreconditionError, match="nothing to alert"):
        alerts.send(incident(status=IncidentStatus.CLOSED), FIRE, "110", "kari", T0)


def test_escalation_only_after_its_time() -> None:
    sent, _ = alerts.send(incident(), FIRE, "110", "kari", T0)
    assert alerts.due_for_escalation(sent, T0 + 59, 60) == []
    with pytest.raises(PreconditionError):
        alerts.escalate(sent, "a1", T0 + 59, 60)
    assert alerts.due_for_escalation(sent, T0 + 60, 60) == ["a1"]
    esc = alerts.escalate(sent, "a1", T0 + 60, 60)
    assert alerts.find(esc, "a1").state is S.ESCALATED
    assert alerts.due_for_escalation(esc, T0 + 600, 60) == []  # escalated once
    late = alerts.acknowledge(esc, "a1", "110 Øst", T0 + 70)  # a late ack still counts
    assert alerts.find(late, "a1").acknowledged_at == T0 + 70


def test_unknown_alert_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="oslo-000001/a9"):
        alerts.cancel(incident(), "a9", "kari", "", T0)


def test_alerts_survive_the_json_form() -> None:
    sent, _ = alerts.send(alerts.propose(incident(), default_cards(), T0), FIRE, "110", "k", T0)
    assert Incident.decode(sent.encode()).alerts == sent.alerts
