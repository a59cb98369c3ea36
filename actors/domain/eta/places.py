"""The towns and airports the ETA model knows, as plain data.

Towns only feed the recommender's "in town" threshold for considering air; airports are
where a fixed-wing flight lands before the road leg. Coordinates are approximate.
"""

from __future__ import annotations

from typing import NamedTuple


class Town(NamedTuple):
    """A built-up area: a centre and a radius (used for the "in town" rule)."""

    name: str
    lat: float
    lon: float
    radius_km: float


class Airport(NamedTuple):
    """An airport a fixed-wing flight can land at (``id`` is its ICAO code, lower case)."""

    id: str
    name: str
    lat: float
    lon: float


# Built-up areas of Helse Sør-Øst (centre, radius; approximate). Used only by the
# recommender's "in town" threshold for considering air.
DEFAULT_TOWNS: tuple[Town, ...] = (
    Town("Oslo", 59.913, 10.752, 10.0),
    Town("Bærum (Sandvika)", 59.891, 10.524, 5.0),
    Town("Asker", 59.834, 10.435, 3.0),
    Town("Lørenskog/Lillestrøm", 59.944, 11.000, 5.0),
    Town("Ski", 59.719, 10.835, 3.0),
    Town("Jessheim", 60.142, 11.175, 3.0),
    Town("Drammen", 59.744, 10.204, 5.0),
    Town("Kongsberg", 59.668, 9.650, 3.0),
    Town("Hønefoss", 60.168, 10.256, 3.0),
    Town("Moss", 59.434, 10.658, 3.0),
    Town("Fredrikstad", 59.218, 10.934, 4.0),
    Town("Sarpsborg", 59.284, 11.110, 3.0),
    Town("Halden", 59.123, 11.387, 3.0),
    Town("Tønsberg", 59.267, 10.407, 4.0),
    Town("Sandefjord", 59.131, 10.216, 3.0),
    Town("Larvik", 59.053, 10.027, 3.0),
    Town("Skien/Porsgrunn", 59.170, 9.630, 5.0),
    Town("Kristiansand", 58.146, 7.996, 5.0),
    Town("Arendal", 58.461, 8.772, 3.0),
    Town("Hamar", 60.795, 11.068, 3.0),
    Town("Gjøvik", 60.795, 10.692, 3.0),
    Town("Lillehammer", 61.115, 10.466, 3.0),
)


# The airports of the seed (cluster/seed/helse_sor_ost.toml); a unit test keeps them equal.
DEFAULT_AIRPORTS: tuple[Airport, ...] = (
    Airport("engm", "Oslo lufthavn Gardermoen", 60.1939, 11.1004),
    Airport("ento", "Sandefjord lufthavn Torp", 59.1867, 10.2586),
    Airport("enry", "Moss lufthavn Rygge", 59.3789, 10.7856),
    Airport("encn", "Kristiansand lufthavn Kjevik", 58.2042, 8.0854),
    Airport("ensn", "Skien lufthavn Geiteryggen", 59.1850, 9.5669),
    Airport("enno", "Notodden lufthavn Tuven", 59.5657, 9.2122),
    Airport("enfg", "Fagernes lufthavn Leirin", 61.0156, 9.2881),
    Airport("endi", "Geilo lufthavn Dagali", 60.4167, 8.5135),
    Airport("enha", "Hamar flyplass Stafsberg", 60.8181, 11.0680),
    Airport("enro", "Røros lufthavn", 62.5784, 11.3423),
)
