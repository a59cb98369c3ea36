"""The words of a recommendation, in English and Norwegian bokmål: an ETA's reason
("road 13.1 km ... + 90 s turnout at station = 11.9 min") and the note naming the rule
that put a unit on the list; likewise a hospital destination's reason ("PCI, ETA 23 min
(road 21.4 km)") and its rule's note.

Why here, in both languages, rather than in the console: the reason spells out every
number that went into the time, so it is built where the numbers are; a console
translating English text would have to parse it. The recommender formats only the units
it returns (ten by default), so a second language costs ten more strings, not one per
unit considered (a destination list, five hospitals). English stays the API's text
(`reason`, `note`); the Norwegian goes beside it (`reason_nb`, `note_nb`) for the
console in Norwegian.

Numbers are written as each language writes them: 13.1 km, 13,1 km.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Words:
    """One language's templates (``str.format`` fields) and its decimal mark."""

    decimal: str
    # an ETA's parts
    turnout_station: str
    turnout_mobile: str
    launch_quay: str
    launch_under_way: str
    launch_base: str
    launch_airborne: str
    road: str
    road_around: str
    via: str
    water: str
    helicopter: str
    fixed_wing: str
    total: str
    minutes: str
    # the notes of the recommender's rules
    boat_faster: str
    air_remote: str
    air_no_road_unit: str
    air_best_road: str
    in_town: str
    outside_towns: str
    air_no_ambulance_within: str
    level_untriaged: str
    by_eta_any_crew: str
    doctor_rule: str
    best_ambulance_kept: str
    car_after_ambulances: str
    ambulances_first: str
    # a hospital destination (actors/domain/destination.py)
    hours: str
    leg_road: str
    leg_air: str
    regional_trauma_centre: str
    trauma_function: str
    no_trauma_function: str
    thrombolysis: str
    thrombectomy: str
    and_: str
    no_stroke_treatment: str
    pci: str
    no_pci: str
    emergency_department: str
    destination: str
    uncertain: str
    trauma_centre_direct: str
    trauma_further: str
    trauma_centre_far: str
    trauma_definitive: str
    trauma_hospitals: str
    stemi_pci: str
    stemi_no_pci: str
    stroke: str
    nearest_emergency: str
    esc_stemi: str  # the source of the STEMI rule's 120 minutes
    # a hospital's capability fields as a dispatcher reads them ("" : the field's name)
    fields: Mapping[str, str] = field(default_factory=dict)

    def num(self, value: float, digits: int = 1) -> str:
        """``value`` with ``digits`` decimals and this language's decimal mark."""
        return f"{value:.{digits}f}".replace(".", self.decimal)

    def g(self, value: float) -> str:
        """``value`` as ``{:g}`` writes it (50, 1.3), with this language's mark."""
        return f"{value:g}".replace(".", self.decimal)

    def min(self, seconds: float) -> str:
        """Whole minutes: "12 min"."""
        return self.minutes.format(m=f"{seconds / 60.0:.0f}")

    def field_name(self, name: str) -> str:
        return self.fields.get(name, name)

    def hm(self, seconds: float) -> str:
        """How a dispatcher says a transport time: "23 min", "1 h 20 min" ("1 t 20 min")."""
        m = round(seconds / 60.0)
        return (
            self.minutes.format(m=m) if m < 60 else self.hours.format(h=m // 60, m=f"{m % 60:02d}")
        )


EN = Words(
    decimal=".",
    turnout_station="turnout at station",
    turnout_mobile="turnout (mobile)",
    launch_quay="launch at quay",
    launch_under_way="launch (under way)",
    launch_base="launch at base",
    launch_airborne="launch (airborne)",
    road=("road {km} km ({urban_km} km ×{du} at {vu} km/h + {rural_km} km ×{dr} at {vr} km/h)"),
    road_around=(
        "road {km} km around {barrier}{way} ({legs_km} km of straight legs ×{du}: "
        "{urban_km} km at {vu} km/h + {rural_km} km at {vr} km/h; straight line {straight_km} km)"
    ),
    via=" via {via}",
    water=(
        "water {km} km ({straight_km} km ×{detour}) at {kn} kn + {turn} + {shore} s quay to patient"
    ),
    helicopter="air {km} km at {kmh} km/h + {turn}",
    fixed_wing=(
        "air {km} km to {airport} at {kmh} km/h + {turn} + {ground} s landing and handover, "
        "then {road}"
    ),
    total="{body} = {min} min",
    minutes="{m} min",
    boat_faster="boat: faster than the best road ambulance (water shortcut)",
    air_remote="air: remote (dispatcher)",
    air_no_road_unit="air: no road unit available",
    air_best_road="air: best road ETA {best} > {limit} ({where})",
    in_town="in {town}",
    outside_towns="outside towns",
    air_no_ambulance_within="air: no road ambulance within {within}",
    level_untriaged="untriaged (treated as akutt)",
    by_eta_any_crew="{level}: by ETA, any crew",
    doctor_rule="doctor-staffed: akutt rule (within {within})",
    best_ambulance_kept="{urgency}: the best road ambulance, kept on the list",
    car_after_ambulances="{urgency}: rapid-response car after the ambulances",
    ambulances_first="{urgency}: road ambulances first, by ETA",
    hours="{h} h {m} min",
    leg_road="road {km} km",
    leg_air="air {km} km at {kmh} km/h",
    regional_trauma_centre="regional trauma centre",
    trauma_function="trauma function",
    no_trauma_function="no trauma function",
    thrombolysis="thrombolysis",
    thrombectomy="thrombectomy",
    and_=" and ",
    no_stroke_treatment="no stroke treatment",
    pci="PCI",
    no_pci="no PCI",
    emergency_department="emergency department",
    destination="{capability}, ETA {eta} ({leg})",
    uncertain="; uncertain: {fields}",
    trauma_centre_direct="trauma: regional trauma centre within {within}, direct",
    trauma_further="trauma: further hospitals with trauma function, by ETA",
    trauma_centre_far=(
        "trauma: regional trauma centre {away} away (over {within}): "
        "nearest with trauma function first"
    ),
    trauma_definitive="trauma: the regional trauma centre, for definitive care",
    trauma_hospitals="trauma: hospitals with trauma function, by ETA",
    stemi_pci="stemi: PCI hospitals, by ETA",
    stemi_no_pci="stemi: no PCI within {within} ({source})",
    stroke="stroke: thrombolysis or thrombectomy, by ETA (time is brain)",
    nearest_emergency="nearest emergency hospitals, by ETA",
    esc_stemi=(
        "2017 ESC STEMI guideline: primary PCI within 120 min of diagnosis, else fibrinolysis"
    ),
)

NB = Words(
    decimal=",",
    turnout_station="utrykning fra stasjon",
    turnout_mobile="utrykning (mobil)",
    launch_quay="avgang fra kai",
    launch_under_way="avgang (underveis)",
    launch_base="avgang fra base",
    launch_airborne="avgang (i lufta)",
    road=("vei {km} km ({urban_km} km ×{du} i {vu} km/t + {rural_km} km ×{dr} i {vr} km/t)"),
    road_around=(
        "vei {km} km rundt {barrier}{way} ({legs_km} km rette strekk ×{du}: "
        "{urban_km} km i {vu} km/t + {rural_km} km i {vr} km/t; luftlinje {straight_km} km)"
    ),
    via=" via {via}",
    water=(
        "sjø {km} km ({straight_km} km ×{detour}) i {kn} knop + {turn} + {shore} s kai til pasient"
    ),
    helicopter="flyging {km} km i {kmh} km/t + {turn}",
    fixed_wing=(
        "flyging {km} km til {airport} i {kmh} km/t + {turn} + {ground} s landing og overlevering, "
        "så {road}"
    ),
    total="{body} = {min} min",
    minutes="{m} min",
    boat_faster="båt: raskere enn beste bilambulanse (snarvei over sjøen)",
    air_remote="luftambulanse: avsidesliggende (operatørens valg)",
    air_no_road_unit="luftambulanse: ingen ledig bilenhet",
    air_best_road="luftambulanse: beste ankomsttid på vei {best} > {limit} ({where})",
    in_town="i {town}",
    outside_towns="utenfor tettsted",
    air_no_ambulance_within="luftambulanse: ingen bilambulanse innen {within}",
    level_untriaged="ikke vurdert (behandlet som akutt)",
    by_eta_any_crew="{level}: etter ankomsttid, uansett bemanning",
    doctor_rule="legebemannet: akuttregelen (innen {within})",
    best_ambulance_kept="{urgency}: beste bilambulanse, beholdt på listen",
    car_after_ambulances="{urgency}: akuttbil etter ambulansene",
    ambulances_first="{urgency}: bilambulanser først, etter ankomsttid",
    hours="{h} t {m} min",
    leg_road="vei {km} km",
    leg_air="flyging {km} km i {kmh} km/t",
    regional_trauma_centre="regionalt traumesenter",
    trauma_function="traumefunksjon",
    no_trauma_function="ingen traumefunksjon",
    thrombolysis="trombolyse",
    thrombectomy="trombektomi",
    and_=" og ",
    no_stroke_treatment="ingen slagbehandling",
    pci="PCI",
    no_pci="ingen PCI",
    emergency_department="akuttmottak",
    destination="{capability}, ankomst om {eta} ({leg})",
    uncertain="; usikkert: {fields}",
    trauma_centre_direct="traume: regionalt traumesenter innen {within}, direkte",
    trauma_further="traume: øvrige sykehus med traumefunksjon, etter ankomsttid",
    trauma_centre_far=(
        "traume: regionalt traumesenter {away} unna (over {within}): "
        "nærmeste med traumefunksjon først"
    ),
    trauma_definitive="traume: det regionale traumesenteret, for endelig behandling",
    trauma_hospitals="traume: sykehus med traumefunksjon, etter ankomsttid",
    stemi_pci="hjerteinfarkt (STEMI): PCI-sykehus, etter ankomsttid",
    stemi_no_pci="hjerteinfarkt (STEMI): ingen PCI innen {within} ({source})",
    stroke="hjerneslag: trombolyse eller trombektomi, etter ankomsttid (tid er hjerne)",
    nearest_emergency="nærmeste akuttsykehus, etter ankomsttid",
    esc_stemi=(
        "ESC-retningslinjen for STEMI 2017: primær PCI innen 120 min etter diagnose, "
        "ellers trombolyse"
    ),
    fields={
        "trauma_level": "traumenivå",
        "stroke_thrombolysis": "trombolyse",
        "stroke_thrombectomy": "trombektomi",
        "pci": "PCI",
    },
)

LANGUAGES = (EN, NB)

#: A rule's words: English, Norwegian.
Said = tuple[str, str]


def say(
    template: str, when: Callable[[Words, float], str] = Words.min, **fields: float | str
) -> Said:
    """The ``template`` (a :class:`Words` field) in both languages. A field given as a
    number is a time in seconds, written by ``when`` (whole minutes by default;
    ``Words.hm`` says hours too); a string goes in as it is."""

    def said(w: Words) -> str:
        return getattr(w, template).format(
            **{k: v if isinstance(v, str) else when(w, v) for k, v in fields.items()}
        )

    return said(EN), said(NB)
