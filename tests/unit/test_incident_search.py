"""Searching incidents (``actors/domain/incident_search``): the checks that name the
field at fault, and which incidents match, on hand-made incidents."""

from __future__ import annotations

import dataclasses

import pytest

from actors.domain import incident_search as s
from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Incident, IncidentStatus, Note, Position

HUK = Position(59.9050, 10.6830)
T0 = 1_800_000_000.0


def inc(id_: str, at: float, where: Position = HUK, address: str = "", *notes: str) -> Incident:
    return Incident(
        id=id_,
        region="oslo",
        status=IncidentStatus.RECEIVED,
        position=where,
        created_at=at,
        updated_at=at,
        address=address,
        notes=[Note(n, "kari", at) for n in notes],
    )


def query(**kw) -> s.Query:
    args = {"since": T0 - 3600, "until": T0, "near": None, "radius_m": 0.0, "text": "", "limit": 0}
    return s.check(**{**args, **kw})


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({}, "near"),  # neither a place nor words: every patient of the regions
        ({"until": T0 - 7200, "text": "huk"}, "since"),
        ({"since": T0 - 91 * 86400, "text": "huk"}, "since"),
        ({"radius_m": 100.0, "text": "huk"}, "near"),
        ({"near": HUK}, "radius_m"),
        ({"near": HUK, "radius_m": 2_500.0}, "radius_m"),  # a place, not a region
        ({"text": "e 5"}, "text"),  # words that match nearly everything
        ({"text": "x" * 201}, "text"),
        ({"text": "huk", "limit": 501}, "limit"),
    ],
)
def test_a_bad_query_names_its_field(kw: dict, field: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        query(**kw)
    assert err.value.field == field


def test_near_a_place_within_the_radius_and_the_window() -> None:
    q = query(near=HUK, radius_m=200.0)
    assert q.limit == s.DEFAULT_LIMIT
    assert s.matches(q, inc("OSL-1", T0 - 60, Position(59.9053, 10.6835)))  # about 40 m
    assert not s.matches(q, inc("OSL-2", T0 - 60, Position(59.9139, 10.7522)))  # 4 km
    assert not s.matches(q, inc("OSL-3", T0 - 7200))  # before the window
    assert not s.matches(q, inc("OSL-4", T0))  # until is not included


def test_every_word_in_the_address_or_a_note_in_any_case() -> None:
    q = query(text="hund  HUK")
    assert s.matches(q, inc("OSL-1", T0 - 60, HUK, "Huk aveny 35", "Hund i gangen"))
    assert not s.matches(q, inc("OSL-2", T0 - 60, HUK, "Huk aveny 37"))  # no dog
    # Whole words: the house number 5 is not 15, and "hund" is not "hundre".
    numbered = query(text="storgata 5")
    assert s.matches(numbered, inc("OSL-3", T0 - 60, HUK, "Storgata 5, 2. etg."))
    assert not s.matches(numbered, inc("OSL-4", T0 - 60, HUK, "Storgata 15"))
    assert not s.matches(query(text="hund"), inc("OSL-5", T0 - 60, HUK, "", "hundre meter"))


def test_newest_first_one_each_and_the_limit_says_when_more_matched() -> None:
    older = inc("OSL-1", T0 - 300, HUK, "Huk")
    live = dataclasses.replace(inc("OSL-2", T0 - 100, HUK, "Huk"), revision=20)
    archived_copy = dataclasses.replace(live, revision=10, status=IncidentStatus.CLOSED)
    found, more = s.search(query(text="huk"), [older, archived_copy, live])
    assert [(i.id, i.revision) for i in found] == [("OSL-2", 20), ("OSL-1", 0)]
    assert not more
    found, more = s.search(query(text="huk", limit=1), [older, live])
    assert [i.id for i in found] == ["OSL-2"] and more
