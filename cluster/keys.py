"""The etcd key layout, in one place.

Under a configurable prefix (default ``/amk/v1/``; tests use one prefix each):

- ``regions/{region}/owner``      owner record, on the owner's lease; its mod
  revision is the region's fencing token (see ``ownership.py``)
- ``regions/{region}/takeover``   the last takeover: who, from whom, how long it took
- ``incidents/{region}/{id}``     current state of an incident
- ``units/{region}/{id}``         current state of a unit
- ``calls/{region}/{id}``         a 113 call: waiting, answered, completed, abandoned
- ``air_missions/{region}/{id}``  an air ambulance mission, in its AMK-LA region
- ``regions/{region}/sharing``    present while the region shares new calls with partners
- ``majors/{id}/record``          a major incident; ``majors/{id}/owner`` fences its actor
- ``counters/{region}``           the region's last issued incident number
- ``seeded/{region}``             marker: the region's fleet was seeded from the data file
- ``journal/{region}/{stamp}``    one entry per accepted command, in the same transaction
- ``requests/{request_id}``       idempotency record: the first result of a request id
- ``restores/{stamp}``            a restore from a backup: what it found and changed
"""

from __future__ import annotations

from dataclasses import dataclass


def prefix_range_end(prefix: bytes) -> bytes:
    """The etcd range end that selects every key starting with ``prefix``."""
    end = bytearray(prefix)
    for i in reversed(range(len(end))):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"


_ENTITY_KINDS = (b"incidents", b"units", b"regions", b"calls", b"air_missions")
_ENTITY_NAMES = tuple(k.decode() for k in _ENTITY_KINDS)


@dataclass(frozen=True, slots=True)
class Keys:
    """Key builder bound to one deployment's prefix."""

    prefix: str = "/amk/v1/"

    def _k(self, *parts: str) -> bytes:
        return (self.prefix + "/".join(parts)).encode()

    def owner(self, region: str) -> bytes:
        return self._k("regions", region, "owner")

    def takeover(self, region: str) -> bytes:
        return self._k("regions", region, "takeover")

    def regions_prefix(self) -> bytes:
        return self._k("regions", "")

    def incident(self, region: str, incident_id: str) -> bytes:
        return self._k("incidents", region, incident_id)

    def incidents_prefix(self, region: str | None = None) -> bytes:
        return self._k("incidents", region, "") if region else self._k("incidents", "")

    def unit(self, region: str, unit_id: str) -> bytes:
        return self._k("units", region, unit_id)

    def units_prefix(self, region: str | None = None) -> bytes:
        return self._k("units", region, "") if region else self._k("units", "")

    def call(self, region: str, call_id: str) -> bytes:
        return self._k("calls", region, call_id)

    def calls_prefix(self, region: str | None = None) -> bytes:
        return self._k("calls", region, "") if region else self._k("calls", "")

    def mission(self, region: str, mission_id: str) -> bytes:
        return self._k("air_missions", region, mission_id)

    def missions_prefix(self, region: str | None = None) -> bytes:
        return self._k("air_missions", region, "") if region else self._k("air_missions", "")

    def sharing(self, region: str) -> bytes:
        return self._k("regions", region, "sharing")

    def major(self, major_id: str) -> bytes:
        return self._k("majors", major_id, "record")

    def major_owner(self, major_id: str) -> bytes:
        return self._k("majors", major_id, "owner")

    def majors_prefix(self) -> bytes:
        return self._k("majors", "")

    def counter(self, region: str) -> bytes:
        return self._k("counters", region)

    def seeded(self, region: str) -> bytes:
        return self._k("seeded", region)

    def journal(self, region: str, stamp: str) -> bytes:
        return self._k("journal", region, stamp)

    def journal_prefix(self, region: str | None = None) -> bytes:
        return self._k("journal", region, "") if region else self._k("journal", "")

    def request(self, request_id: str) -> bytes:
        return self._k("requests", request_id)

    def restore(self, stamp: str) -> bytes:
        return self._k("restores", stamp)

    def all(self) -> bytes:
        return self.prefix.encode()

    def split(self, key: bytes) -> tuple[bytes, bytes, bytes] | None:
        """Split an entity key into (kind, region, id) as bytes, for :meth:`parse`'s kinds.

        The gateway's watches call this for every write in the deployment (most of them
        journal, request-id and counter keys nobody watches for): a prefix check and a
        bytes split, no decode, so an unwanted key costs next to nothing.
        """
        prefix = self.prefix.encode()
        if not key.startswith(prefix):
            return None
        parts = key[len(prefix) :].split(b"/")
        if len(parts) == 3 and parts[0] in _ENTITY_KINDS:
            return parts[0], parts[1], parts[2]
        return None

    def parse(self, key: bytes) -> tuple[str, str, str] | None:
        """Split an entity key into (kind, region, id); None for other keys."""
        try:
            text = key.decode()
        except UnicodeDecodeError:  # not a key this layout writes
            return None
        if not text.startswith(self.prefix):
            return None
        parts = text[len(self.prefix) :].split("/")
        if len(parts) == 3 and parts[0] in _ENTITY_NAMES:
            return parts[0], parts[1], parts[2]
        return None
