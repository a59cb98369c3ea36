"""A recommendation's words in English and Norwegian (``actors.domain.phrases``)."""

from __future__ import annotations

import dataclasses
import string

import pytest

from actors.domain import destination
from actors.domain.destination import Hospital
from actors.domain.eta import estimate
from actors.domain.model import PatientCondition, UnitKind, UnitStatus, Urgency
from actors.domain.phrases import EN, NB
from actors.domain.recommend import recommend
from cluster.config import Seed
from tests.unit.test_recommend import NESODDTANGEN, seed_unit, seed_units, unit


def fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize(
    "name", [f.name for f in dataclasses.fields(EN) if f.name not in {"decimal", "fields"}]
)
def test_each_norwegian_template_fills_the_same_fields_as_the_english(name: str) -> None:
    """A field missing in one language would raise (or drop a number) only for the
    units that reach that rule."""
    en, nb = getattr(EN, name), getattr(NB, name)
    assert nb.strip(), name
    assert fields_of(nb) == fields_of(en), name


def test_a_road_reason_reads_in_norwegian_with_a_decimal_comma() -> None:
    ski = seed_unit("osl-a31")  # Ski, at station
    est = estimate(ski, 59.80, 11.00)
    assert est.reason.startswith("road ") and "90 s turnout at station" in est.reason
    assert est.reason_nb.startswith("vei ") and "90 s utrykning fra stasjon" in est.reason_nb
    assert "km/t" in est.reason_nb and "km/h" not in est.reason_nb
    minutes = est.eta_s / 60.0
    assert est.reason.endswith(f"= {minutes:.1f} min")
    assert est.reason_nb.endswith(f"= {minutes:.1f} min".replace(".", ","))


def said_in_both(reason: str, reason_nb: str, note: str, note_nb: str) -> None:
    """Both Norwegian texts are there and differ from the English, and the reason says
    the same numbers, each with a decimal comma."""
    assert reason_nb and note_nb and reason_nb != reason and note_nb != note, (reason, note)

    def numbers(text: str) -> list[str]:
        return [w for w in text.replace("(", " ").split() if w[0].isdigit()]

    assert [n.replace(".", ",") for n in numbers(reason)] == numbers(reason_nb), (
        reason,
        reason_nb,
    )


def test_every_kind_of_reason_and_note_has_its_norwegian_words() -> None:
    """Boat, helicopter and fixed wing reasons, and the notes of each urgency's rules:
    the Norwegian is there, and says the same numbers."""
    units = seed_units(UnitStatus.AVAILABLE_AT_STATION)
    for urgency in (None, Urgency.AKUTT, Urgency.HASTER, Urgency.VANLIG):
        for lat, lon in (NESODDTANGEN, (61.6364, 8.3125), (59.668, 9.650)):
            for r in recommend(units, lat, lon, urgency, remote=True, limit=12):
                said_in_both(r.reason, r.reason_nb, r.note, r.note_nb)


def test_notes_name_the_rule_in_both_languages() -> None:
    far = unit("far", UnitKind.ROAD_AMBULANCE, 61.0, 8.0)
    heli = unit("heli", UnitKind.HELICOPTER, 60.0, 10.0)
    ranked = recommend([far, heli], 60.0, 10.1, Urgency.HASTER, limit=2)
    by_id = {r.unit_id: r for r in ranked}
    assert by_id["far"].note == "haster: road ambulances first, by ETA"
    assert by_id["far"].note_nb == "haster: bilambulanser først, etter ankomsttid"
    assert by_id["heli"].note.startswith("air: no road ambulance within ")
    assert by_id["heli"].note_nb.startswith("luftambulanse: ingen bilambulanse innen ")


def test_hospital_destinations_have_their_norwegian_words_with_the_same_numbers() -> None:
    """Each condition's rules (trauma near and far from the trauma centre, STEMI with
    and without PCI in reach, stroke, other) in both languages."""
    hospitals = [Hospital.from_mapping(h.model_dump()) for h in Seed.load().hospitals]
    places = [(59.9139, 10.7522), (62.2760, 10.7750), (58.2970, 6.6630)]
    seen_notes: set[str] = set()
    for condition in PatientCondition:
        for lat, lon in places:
            for kind in (UnitKind.ROAD_AMBULANCE, UnitKind.HELICOPTER):
                for dest in destination.recommend(hospitals, condition, lat, lon, kind=kind):
                    said_in_both(dest.reason, dest.reason_nb, dest.note, dest.note_nb)
                    seen_notes.add(dest.note)
    assert len(seen_notes) >= 6, seen_notes  # the rules above were reached
