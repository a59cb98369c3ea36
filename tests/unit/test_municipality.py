"""Which municipality a place is in (Kartverket's 2024 outlines), and urban or rural by
the list of municipalities with a settlement of more than 10,000 inhabitants."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from actors.domain import municipality as mun
from actors.domain.model import Position
from actors.domain.response_time import RURAL, UNKNOWN, URBAN

OSLO = Position(59.9139, 10.7522)
SANDVIKA = Position(59.889, 10.523)  # Bærum: part of Oslo's settlement
LOM = Position(61.838, 8.567)  # a mountain village
NORTH_SEA = Position(58.5, 3.0)


def test_all_municipalities_of_2024_load() -> None:
    found = mun.municipalities()
    assert len(found) == 357
    assert len({m.number for m in found}) == 357


@pytest.mark.parametrize(
    ("where", "number", "name"),
    [(OSLO, "0301", "Oslo"), (SANDVIKA, "3201", "Bærum"), (LOM, "3434", "Lom")],
)
def test_a_place_is_found_in_its_municipality(where: Position, number: str, name: str) -> None:
    m = mun.municipality_of(where)
    assert m is not None and (m.number, m.name) == (number, name)


def test_at_sea_there_is_no_municipality_and_the_area_is_unknown() -> None:
    assert mun.municipality_of(NORTH_SEA) is None
    assert mun.area_of(NORTH_SEA) == UNKNOWN


def test_every_listed_urban_municipality_exists() -> None:
    numbers = {m.number for m in mun.municipalities()}
    assert mun.urban_list().numbers <= numbers
    assert {"0301", "4601", "5001", "1103"} <= mun.urban_list().numbers


def test_an_unlisted_municipality_is_unknown_while_the_list_is_incomplete(tmp_path: Path) -> None:
    assert mun.area_of(OSLO) == URBAN and mun.area_of(SANDVIKA) == URBAN
    assert not mun.urban_list().complete
    assert mun.area_of(LOM) == UNKNOWN  # never assumed rural
    # With a complete list, an unlisted municipality is rural.
    complete = tmp_path / "urban.toml"
    complete.write_text(
        'complete = true\nsource = "test"\n[[municipality]]\nkommunenummer = "0301"\n'
    )
    listed = mun.urban_list(complete)
    assert listed.complete and listed.numbers == {"0301"}
    assert mun.area_of(LOM, listed) == RURAL
    assert mun.area_of(OSLO, listed) == URBAN
    assert mun.area_of(SANDVIKA, listed) == RURAL  # not on this list
    assert mun.area_of(NORTH_SEA, listed) == UNKNOWN


def test_the_grid_finds_what_a_scan_of_every_municipality_finds() -> None:
    def scan(p: Position) -> mun.Municipality | None:
        return next((m for m in mun.municipalities() if m.contains(p.lon, p.lat)), None)

    rng = random.Random(7)
    points = [Position(rng.uniform(57.8, 71.3), rng.uniform(4.0, 31.5)) for _ in range(3000)] + [
        Position(59.9139, 10.7522),
        Position(58.0, 2.0),
    ]  # Oslo, the North Sea
    found = [mun.municipality_of(p) for p in points]
    assert found == [scan(p) for p in points]
    assert sum(f is not None for f in found) > 300  # the points reached land too
