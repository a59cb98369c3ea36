"""The board at a past moment from archived record versions, one key at a time.

Each journal entry leaves a version of every record it wrote; the board at ``at`` is each
key's newest version at or before it. Ranking every version written before ``at``
costs what the archive holds, and nearly all of it is crews' position reports: each one
a version of its unit. So the query walks the keys instead, through the index on
(kind, key, at) (archive schema version 10):

- the next key of a kind is one index look-up (``MIN(key) ... WHERE key > previous``, a
  recursive walk, since neither engine skips through an index by itself);
- that key's newest moment at or before ``at`` is another (``MAX(at)``);
- the rows at that moment are read by the same index.

Its cost grows with the number of records ever written (incidents, units, owners), not
with the number of times each was written. Versions that share a key's newest moment (a
group commit's entries share a revision; two centres' clocks may agree) are ranked here,
as the ranking query did: the newest revision, then the newest journal key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# Every kind present, one index look-up each (for ``versions_at`` without kinds).
KINDS_SQL = (
    "WITH RECURSIVE walk(kind) AS ("
    " SELECT MIN(kind) FROM record_versions"
    " UNION ALL"
    " SELECT (SELECT MIN(v.kind) FROM record_versions v WHERE v.kind > walk.kind)"
    " FROM walk WHERE walk.kind IS NOT NULL"
    ") SELECT kind FROM walk WHERE kind IS NOT NULL"
)


def newest_sql(kind_count: int) -> str:
    """The rows at each key's newest moment at or before the last parameter, for the
    ``kind_count`` kinds given as the first parameters; ties are left to :func:`newest`."""
    if kind_count < 1:
        raise ValueError("newest_sql: at least one kind")
    seeds = " UNION ALL ".join("SELECT CAST(? AS TEXT) AS kind" for _ in range(kind_count))
    return (
        "WITH RECURSIVE walk(kind, k) AS ("
        " SELECT s.kind, (SELECT MIN(v.key) FROM record_versions v WHERE v.kind = s.kind)"
        f" FROM ({seeds}) s"
        " UNION ALL"
        " SELECT walk.kind, (SELECT MIN(v.key) FROM record_versions v"
        "  WHERE v.kind = walk.kind AND v.key > walk.k)"
        " FROM walk WHERE walk.k IS NOT NULL"
        ") SELECT v.key, v.kind, v.region, v.id, v.revision, v.at, v.value, v.journal_key"
        " FROM walk JOIN record_versions v ON v.kind = walk.kind AND v.key = walk.k"
        " AND v.at = (SELECT MAX(m.at) FROM record_versions m"
        "  WHERE m.kind = walk.kind AND m.key = walk.k AND m.at <= ?)"
    )


def newest(rows: Iterable[Sequence[Any]]) -> list[Sequence[Any]]:
    """One of :func:`newest_sql`'s rows per key, ordered by key: among rows at the same
    moment, the newest revision, then the newest journal key."""
    best: dict[str, tuple[int, str, Sequence[Any]]] = {}
    for row in rows:
        rank = (int(row[4]), str(row[7]))
        held = best.get(row[0])
        if held is None or rank > held[:2]:
            best[row[0]] = (*rank, row)
    return [best[key][2] for key in sorted(best)]
