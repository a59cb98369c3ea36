"""Searching incidents, live and archived: the dispatcher's "what has happened here
before" (pure: the gateway gathers the candidates, this decides which match).

A dispatcher sending a crew to an address asks whether the AMK has been there before:
a patient known to the service, a place where a crew was threatened, the third call
from one flat this week. The board shows only what is open now and the caller history
only what came from one telephone number; this looks at every incident of the regions,
open or archived, created in a time window, at or near a place or with given words in
its address or notes.

A search must name a place (within 2 km) or words (one of at least three characters,
matched as whole words) (:func:`check`): a time window alone, or a word like "e", would
be a list of every patient of the regions, which is what Normen's data minimisation asks
us not to hand out. Every incident returned is a read in the access log, as any other,
and a search is a read the person chose, which the periodic access review looks at
(``access_review.CHOSEN_READS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from actors.domain.errors import InvalidArgumentError
from actors.domain.eta.geodesy import haversine_km
from actors.domain.model import Incident, Position

# 90 days back at most: every incident of a region in the window is read from the
# archive and matched in the gateway (no geographic index), so the window bounds it.
MAX_WINDOW_S = 90 * 86400.0
MAX_RADIUS_M = 2_000.0  # a place and its neighbourhood, not a region
MIN_WORD = 3  # at least one word this long: "e" would match nearly every incident
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class Query:
    """What to look for: created in ``[since, until)``, within ``radius_m`` of ``near``
    (when given), with every word of ``words`` in the address or a note (when given)."""

    since: float
    until: float
    near: Position | None = None
    radius_m: float = 0.0
    words: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT


def check(
    since: float,
    until: float,
    near: Position | None,
    radius_m: float,
    text: str,
    limit: int,
) -> Query:
    """The query, or :class:`InvalidArgumentError` naming the field at fault."""
    if until <= since:
        raise InvalidArgumentError("since", "must be before until (default: now)")
    if until - since > MAX_WINDOW_S:
        raise InvalidArgumentError(
            "since", f"the window is longer than {MAX_WINDOW_S / 86400:g} days"
        )
    if near is None and radius_m:
        raise InvalidArgumentError("near", "is required with radius_m")
    if near is not None and not 0.0 < radius_m <= MAX_RADIUS_M:
        raise InvalidArgumentError("radius_m", f"{radius_m} is outside (0, {MAX_RADIUS_M:g}]")
    if len(text) > MAX_TEXT:
        raise InvalidArgumentError("text", f"is longer than {MAX_TEXT} characters")
    words = tuple(words_of(text))
    if near is None and not words:
        raise InvalidArgumentError("near", "a search names a place (near) or words (text)")
    if words and max(len(w) for w in words) < MIN_WORD:
        raise InvalidArgumentError("text", f"needs a word of at least {MIN_WORD} characters")
    if not 0 <= limit <= MAX_LIMIT:
        raise InvalidArgumentError("limit", f"{limit} is outside 0..{MAX_LIMIT}")
    return Query(since, until, near, radius_m, words, limit or DEFAULT_LIMIT)


def distance_m(query: Query, inc: Incident) -> float | None:
    """How far the incident is from the query's place (None without one)."""
    if query.near is None:
        return None
    p = inc.position
    return 1000.0 * haversine_km(query.near.lat, query.near.lon, p.lat, p.lon)


def matches(query: Query, inc: Incident) -> bool:
    """Whether ``inc`` is one the query asks for."""
    if not query.since <= inc.created_at < query.until:
        return False
    far = distance_m(query, inc)
    if far is not None and far > query.radius_m:
        return False
    if query.words:
        said = set(words_of(" ".join([inc.address, *(n.text for n in inc.notes)])))
        if not all(w in said for w in query.words):
            return False
    return True


def words_of(text: str) -> list[str]:
    """The words of ``text``, any case: runs of letters and digits ("Storgata 5B, 2.
    etg." is storgata, 5b, 2, etg). Whole words match, so 5 is not 15."""
    return re.findall(r"\w+", text.casefold())


def search(query: Query, candidates: Iterable[Incident]) -> tuple[list[Incident], bool]:
    """The matching incidents, newest first, at most ``query.limit``; and whether more
    matched (:func:`newest` of those :func:`matches` keeps)."""
    return newest(query, (inc for inc in candidates if matches(query, inc)))


def newest(query: Query, matched: Iterable[Incident]) -> tuple[list[Incident], bool]:
    """Incidents already matched, newest first, at most ``query.limit``; and whether
    there were more. One seen twice (live, and archived before it was reopened) counts
    once, the later revision."""
    best: dict[str, Incident] = {}
    for inc in matched:
        seen = best.get(inc.id)
        if seen is None or inc.revision > seen.revision:
            best[inc.id] = inc
    found = sorted(best.values(), key=lambda i: (i.created_at, i.id), reverse=True)
    return found[: query.limit], len(found) > query.limit
