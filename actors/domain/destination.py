"""Which hospital to take a patient to: by capability and ETA, with a reason a dispatcher
can read back (issue #19). Pure: hospitals, a position and a condition in, a ranking out.

Capabilities come from the seed (``cluster/seed/helse_sor_ost.toml``, each fact with
its public source); a fact the sources do not settle is flagged there, and every reason
built on it says "uncertain" rather than presenting it as a fact.

**The transport leg** (:func:`travel`) uses the ETA model of :mod:`actors.domain.eta`
without turnout (the patient is already in the vehicle): road ambulances and cars the
road leg (bands, fjords), a helicopter the straight line at cruise speed. Boats and
fixed-wing aircraft hand the patient to a road ambulance at a quay or an airport,
which the model does not know: :class:`NotBuiltError`, never a made-up time.

**The rules** (thresholds in :class:`DestinationRules`; assumptions, tunable):

trauma (meets the trauma team criteria)
    The national trauma system has two hospital levels: the regional trauma centre
    (OUS Ullevål in Helse Sør-Øst) and acute hospitals with trauma function (Nasjonal
    traumeplan). The centre comes first when it can be reached within
    ``trauma_centre_within_s`` (45 min: the figure debated in Stortinget, Innst. 276 S
    (2016-2017), for when the local hospital must have trauma function; a tunable
    assumption, not a rule quoted from the plan); beyond that the nearest hospital with
    trauma function comes first and the centre second. Hospitals without a trauma
    level are not listed.
stroke
    Hospitals that give thrombolysis, or do thrombectomy, by ETA: time is brain, and
    which patient needs thrombectomy (a large vessel occlusion) is the stroke doctor's
    call, not the model's. The reason names thrombectomy where the site has it.
stemi (heart attack, ST elevation on the ECG)
    PCI hospitals by ETA. When none is within ``pci_within_s`` (120 min from the
    diagnosis: the 2017 ESC STEMI guideline, beyond which fibrinolysis comes first),
    the nearest emergency hospital is added at the end with that note.
other
    The nearest emergency hospitals by ETA.

Ties are broken by hospital id. Each destination also has ``expected_arrival`` when a
departure time is given: an absolute time, as the hospital plans against the clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from actors.domain.errors import InvalidArgumentError, NotBuiltError
from actors.domain.eta import DEFAULT_PARAMETERS, ROAD_KINDS, EtaParameters, haversine_km
from actors.domain.eta.road import road_leg
from actors.domain.model import PatientCondition, UnitKind, Urgency
from actors.domain.phrases import EN, NB, Said, Words, say

ESC_STEMI = EN.esc_stemi


class TraumaLevel(StrEnum):
    REGIONAL_TRAUMA_CENTRE = "regional_trauma_centre"
    ACUTE_TRAUMA = "acute_trauma"  # akuttsykehus med traumefunksjon
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Hospital:
    """A hospital as the domain sees it (the seed's ``HospitalSeed``, as plain data)."""

    id: str
    name: str
    region: str
    lat: float
    lon: float
    trauma_level: TraumaLevel
    stroke_thrombolysis: bool
    stroke_thrombectomy: bool
    pci: bool
    uncertain: bool = False
    uncertain_why: str = ""

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any]) -> Hospital:
        """From the seed's record as a mapping (``HospitalSeed.model_dump()``): the
        domain does not import the configuration."""
        return cls(
            id=d["id"],
            name=d["name"],
            region=d["region"],
            lat=float(d["lat"]),
            lon=float(d["lon"]),
            trauma_level=TraumaLevel(d["trauma_level"]),
            stroke_thrombolysis=bool(d["stroke_thrombolysis"]),
            stroke_thrombectomy=bool(d.get("stroke_thrombectomy", False)),
            pci=bool(d["pci"]),
            uncertain=bool(d.get("uncertain", False)),
            uncertain_why=str(d.get("uncertain_why", "")),
        )

    def capable(self, condition: PatientCondition) -> bool:
        if condition is PatientCondition.TRAUMA:
            return self.trauma_level is not TraumaLevel.NONE
        if condition is PatientCondition.STROKE:
            return self.stroke_thrombolysis or self.stroke_thrombectomy
        if condition is PatientCondition.STEMI:
            return self.pci
        return True

    def uncertain_fields(self, condition: PatientCondition) -> list[str]:
        """The capability fields that matter for ``condition`` and are flagged uncertain."""
        if not self.uncertain:
            return []
        fields = {
            PatientCondition.TRAUMA: ("trauma_level",),
            PatientCondition.STROKE: ("stroke_thrombolysis", "stroke_thrombectomy"),
            PatientCondition.STEMI: ("pci",),
            PatientCondition.OTHER: (),
        }[condition]
        return [f for f in fields if f"{f}:" in self.uncertain_why]


@dataclass(frozen=True)
class DestinationRules:
    """Thresholds of the destination rules (assumptions, tunable; see the module)."""

    trauma_centre_within_s: float = 45 * 60.0
    pci_within_s: float = 120 * 60.0


DEFAULT_RULES = DestinationRules()


@dataclass(frozen=True, slots=True)
class Travel:
    """The transport leg to a hospital: seconds, km, mode and the numbers in words."""

    eta_s: float
    distance_km: float
    mode: str
    words: str
    words_nb: str = ""  # the same in Norwegian (actors/domain/phrases.py)


@dataclass(frozen=True, slots=True)
class Destination:
    rank: int  # 1-based
    hospital: Hospital
    eta_s: float
    distance_km: float
    mode: str
    capable: bool  # has the capability the condition asks for
    reason: str  # capability and ETA in words, e.g. "regional trauma centre, ETA 23 min"
    note: str  # the rule that put it here
    uncertain: tuple[str, ...] = ()  # capability fields behind the reason flagged uncertain
    expected_arrival: float = 0.0  # departure + eta_s, when a departure time was given
    reason_nb: str = ""  # reason and note in Norwegian (actors/domain/phrases.py)
    note_nb: str = ""


def minutes(seconds: float) -> str:
    """``23 min``, ``1 h 20 min``: how a dispatcher says an ETA."""
    return EN.hm(seconds)


def travel(
    lat: float,
    lon: float,
    to_lat: float,
    to_lon: float,
    kind: UnitKind = UnitKind.ROAD_AMBULANCE,
    params: EtaParameters = DEFAULT_PARAMETERS,
) -> Travel:
    """The transport leg from (lat, lon) with the patient aboard ``kind``: no turnout."""
    if kind in ROAD_KINDS:
        leg = road_leg(params, lat, lon, to_lat, to_lon)
        if leg.why_not:
            return Travel(math.inf, leg.km, "road", leg.why_not)
        en, nb = (w.leg_road.format(km=w.num(leg.km)) for w in (EN, NB))
        return Travel(leg.seconds, leg.km, "road", en, nb)
    if kind is UnitKind.HELICOPTER:
        km = haversine_km(lat, lon, to_lat, to_lon)
        t = 3600.0 * km / params.heli_speed_kmh
        en, nb = (w.leg_air.format(km=w.num(km), kmh=w.g(params.heli_speed_kmh)) for w in (EN, NB))
        return Travel(t, km, "air", en, nb)
    raise NotBuiltError(
        f"ETA to hospital by {kind.value} (the leg from the quay or airport is not modelled)"
    )


_CONDITION_BY_CHAPTER: dict[int, PatientCondition] = {
    11: PatientCondition.STEMI,  # chest pain: a PCI hospital until the ECG says otherwise
    28: PatientCondition.STROKE,
    34: PatientCondition.TRAUMA,  # serious or multiple injury
    35: PatientCondition.TRAUMA,  # road traffic injury
    36: PatientCondition.TRAUMA,  # outdoor, mountain and avalanche accident
}


def condition_of(
    criteria_code: str, chapter: int, urgency: Urgency | None
) -> tuple[PatientCondition, str]:
    """The condition a dispatcher would start from, and why: an akutt criterion of the
    chest pain, stroke or injury chapters; anything else is ``other``. A suggestion
    for :func:`recommend` when the console gives none, never for a pre-notification
    (the dispatcher states the condition there)."""
    found = _CONDITION_BY_CHAPTER.get(chapter)
    if found is None or urgency is not Urgency.AKUTT:
        why = f"criteria code {criteria_code}" if criteria_code else "no criteria code yet"
        return PatientCondition.OTHER, f"{why}: no pathway of its own"
    return found, f"akutt criteria code {criteria_code} (chapter {chapter})"


def _capability_words(w: Words, h: Hospital, condition: PatientCondition) -> str:
    if condition is PatientCondition.TRAUMA:
        return {
            TraumaLevel.REGIONAL_TRAUMA_CENTRE: w.regional_trauma_centre,
            TraumaLevel.ACUTE_TRAUMA: w.trauma_function,
            TraumaLevel.NONE: w.no_trauma_function,
        }[h.trauma_level]
    if condition is PatientCondition.STROKE:
        parts = [w.thrombolysis] if h.stroke_thrombolysis else []
        if h.stroke_thrombectomy:
            parts.append(w.thrombectomy)
        return w.and_.join(parts) or w.no_stroke_treatment
    if condition is PatientCondition.STEMI:
        return w.pci if h.pci else w.no_pci
    return w.emergency_department


def _check_position(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InvalidArgumentError("position.lat", "must be between -90 and 90")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InvalidArgumentError("position.lon", "must be between -180 and 180")


def recommend(
    hospitals: Iterable[Hospital],
    condition: PatientCondition,
    lat: float,
    lon: float,
    *,
    kind: UnitKind = UnitKind.ROAD_AMBULANCE,
    params: EtaParameters = DEFAULT_PARAMETERS,
    rules: DestinationRules = DEFAULT_RULES,
    limit: int = 5,
    departure: float = 0.0,
) -> list[Destination]:
    """Hospitals for a patient at (lat, lon) with ``condition``, best first (see the
    module docstring); ``departure`` (epoch s) adds each one's expected arrival."""
    _check_position(lat, lon)
    if limit < 1:
        raise InvalidArgumentError("limit", "must be at least 1")
    legs: list[tuple[float, str, Hospital, Travel]] = []
    for h in hospitals:
        leg = travel(lat, lon, h.lat, h.lon, kind, params)
        if leg.eta_s != math.inf:
            legs.append((leg.eta_s, h.id, h, leg))
    legs.sort(key=lambda x: (x[0], x[1]))
    capable = [x for x in legs if x[2].capable(condition)]
    notes: dict[str, Said] = {}
    if condition is PatientCondition.TRAUMA:
        centre = next(
            (x for x in capable if x[2].trauma_level is TraumaLevel.REGIONAL_TRAUMA_CENTRE), None
        )
        within = rules.trauma_centre_within_s
        if centre is not None and centre[0] <= within:
            capable.remove(centre)
            capable.insert(0, centre)
            notes[centre[1]] = say("trauma_centre_direct", Words.hm, within=within)
            base = say("trauma_further")
        elif centre is not None and capable and capable[0] is not centre:
            notes[capable[0][1]] = say("trauma_centre_far", Words.hm, away=centre[0], within=within)
            capable.remove(centre)
            capable.insert(1, centre)
            notes[centre[1]] = say("trauma_definitive")
            base = say("trauma_further")
        else:
            base = say("trauma_hospitals")
        ranked = capable[:limit]
    elif condition is PatientCondition.STEMI:
        ranked = capable[:limit]
        base = say("stemi_pci")
        if not capable or capable[0][0] > rules.pci_within_s:
            nearest = next((x for x in legs if not x[2].pci), None)
            if nearest is not None:
                if len(ranked) >= limit:
                    ranked = ranked[: limit - 1]
                ranked.append(nearest)
                en, nb = (
                    w.stemi_no_pci.format(within=w.hm(rules.pci_within_s), source=w.esc_stemi)
                    for w in (EN, NB)
                )
                notes[nearest[1]] = (en, nb)
    elif condition is PatientCondition.STROKE:
        ranked = capable[:limit]
        base = say("stroke")
    else:
        ranked = legs[:limit]
        base = say("nearest_emergency")
    out = []
    for i, (eta, hid, h, leg) in enumerate(ranked, start=1):
        doubt = tuple(h.uncertain_fields(condition))
        reason, reason_nb = (
            w.destination.format(
                capability=_capability_words(w, h, condition), eta=w.hm(eta), leg=leg_words
            )
            + (w.uncertain.format(fields=", ".join(map(w.field_name, doubt))) if doubt else "")
            for w, leg_words in ((EN, leg.words), (NB, leg.words_nb))
        )
        note, note_nb = notes.get(hid, base)
        out.append(
            Destination(
                rank=i,
                hospital=h,
                eta_s=eta,
                distance_km=leg.distance_km,
                mode=leg.mode,
                capable=h.capable(condition),
                reason=reason,
                note=note,
                reason_nb=reason_nb,
                note_nb=note_nb,
                uncertain=doubt,
                expected_arrival=departure + eta if departure else 0.0,
            )
        )
    return out
