"""Action cards: which criteria codes alert fire (110) and police (112) (trippelvarsling),
and the legevakt (116117) on a red response.

The cards are data (``data/action_cards.toml``, sources named in its header), checked
against the criteria table on load, so a card can never name a code triage does not
know. A card names its codes, or an urgency (every code of that urgency in the table,
but for the chapters it excepts): either way it is expanded to codes on load, so
matching stays a pure lookup: criteria code -> the cards it is on.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from actors.domain.model import AlertService, Urgency
from actors.domain.triage import CriteriaTable, default_table

DEFAULT_CARDS = Path(__file__).resolve().parent / "data" / "action_cards.toml"


@dataclass(frozen=True, slots=True)
class ActionCard:
    id: str
    title: str
    services: tuple[AlertService, ...]
    codes: frozenset[str]


class ActionCards:
    """The loaded cards, indexed by criteria code."""

    def __init__(self, cards: list[ActionCard], version: str, table: CriteriaTable) -> None:
        self.version = version
        self.cards = {c.id: c for c in cards}
        if len(self.cards) != len(cards):
            raise ValueError("action cards: an id is listed twice")
        self._by_code: dict[str, list[ActionCard]] = {}
        for card in cards:
            if not card.services:
                raise ValueError(f"action card {card.id}: names no service")
            for code in sorted(card.codes):
                if code not in table.criteria:
                    raise ValueError(f"action card {card.id}: {code} is not a criteria code")
                self._by_code.setdefault(code, []).append(card)

    @classmethod
    def load(cls, path: Path | None = None, table: CriteriaTable | None = None) -> ActionCards:
        data = tomllib.loads((path or DEFAULT_CARDS).read_text(encoding="utf-8"))
        table = table or default_table()
        cards = [
            ActionCard(
                c["id"],
                c["title"],
                tuple(AlertService(s) for s in c["services"]),
                _codes(c, table),
            )
            for c in data["cards"]
        ]
        return cls(cards, data["meta"]["version"], table)

    def match(self, criteria_code: str) -> list[tuple[AlertService, ActionCard]]:
        """Each service ``criteria_code`` calls for, with the first card that calls for
        it (cards in file order); empty when no card matches."""
        out: dict[AlertService, ActionCard] = {}
        for card in self._by_code.get(criteria_code, []):
            for service in card.services:
                out.setdefault(service, card)
        return sorted(out.items(), key=lambda kv: kv[0].value)


def _codes(card: dict, table: CriteriaTable) -> frozenset[str]:
    """A card's codes: those it names, and every code of the urgencies it names (but
    for the chapters it excepts). A card that matches no code is refused (it would never
    match, silently), and so is an unknown urgency or chapter."""
    try:
        urgencies = {Urgency(u) for u in card.get("urgencies", [])}
    except ValueError as err:
        raise ValueError(f"action card {card['id']}: {err}") from None
    excepted = set(card.get("except_chapters", []))
    unknown = excepted - set(table.chapters)
    if unknown:
        raise ValueError(f"action card {card['id']}: no chapter {sorted(unknown, key=str)}")
    by_urgency = {
        code
        for code, c in table.criteria.items()
        if c.urgency in urgencies and c.chapter not in excepted
    }
    codes = frozenset(card.get("codes", [])) | by_urgency
    if not codes:
        raise ValueError(f"action card {card['id']}: matches no criteria code")
    return codes


@cache
def default_cards() -> ActionCards:
    return ActionCards.load()
