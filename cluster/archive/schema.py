"""The archive's one schema, as an ordered list of migrations both engines run.

Each migration is written once: plain SQL that SQLite (>= 3.25, for window functions and
``ON CONFLICT``) and PostgreSQL both accept. The few spellings that differ are the
:class:`Dialect`'s: the byte-string column type (``BLOB`` / ``BYTEA``), the parameter
marker (``?`` / ``%s``), how to ask whether a table exists and how to read a field of a
journal entry's JSON. Migration SQL names its byte columns ``{bytes}`` and that field
``{entry_command}``; everything else is the same text on both engines.

``schema_migrations`` records each applied version, so ``migrate()`` applies only the
missing ones, all in one transaction: a crash halfway leaves the database at the last
version, never between two. A later schema change (like version 3, the access log of the
security issue) is one more :class:`Migration` at the end of :data:`MIGRATIONS`; a
published migration is never edited, since databases already at that version would not
run it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the engines in the SQL this package writes."""

    name: str
    bytes_type: str
    param: str
    # One row with one count: does the table named by the single parameter exist?
    table_exists: str
    # The "command" of a journal row's JSON entry (a byte column), as text.
    entry_command: str

    def sql(self, text: str) -> str:
        """``text`` (written with ``?`` markers) in this engine's parameter style."""
        return _convert(text, self.param)


@cache
def _convert(text: str, param: str) -> str:
    if param == "?":
        return text
    # psycopg reads ``%`` as the start of a marker: our SQL never holds a literal one.
    if "%" in text:
        raise ValueError(f"archive SQL must not contain '%': {text!r}")
    return text.replace("?", param)


SQLITE = Dialect(
    name="sqlite",
    bytes_type="BLOB",
    param="?",
    table_exists="SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
    # As text: SQLite 3.45+ reads a BLOB given to json_extract as its binary JSONB.
    entry_command="json_extract(CAST(entry AS TEXT), '$.command')",
)
POSTGRES = Dialect(
    name="postgresql",
    bytes_type="BYTEA",
    param="%s",
    # current_schema(): the first schema of the search path, where CREATE TABLE puts it.
    table_exists="SELECT COUNT(*) FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_name = ?",
    # json, not jsonb: it keeps the text as it is (jsonb refuses a NUL escape).
    entry_command="convert_from(entry, 'UTF8')::json ->> 'command'",
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema version: statements run in order inside the migrating transaction."""

    version: int
    description: str
    statements: tuple[str, ...]

    def for_dialect(self, dialect: Dialect) -> list[str]:
        """The statements with this engine's spellings filled in."""
        return [
            s.format(bytes=dialect.bytes_type, entry_command=dialect.entry_command)
            for s in self.statements
        ]


# The table that records applied versions; created before any migration runs.
MIGRATIONS_TABLE = "schema_migrations"
CREATE_MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " description TEXT NOT NULL,"
    " applied_at DOUBLE PRECISION NOT NULL)"
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "records, journal and record versions",
        (
            # An entity's final state when it left etcd; a reopened and re-closed entity
            # comes back with a newer revision, a new row.
            "CREATE TABLE records ("
            " key TEXT NOT NULL,"
            " kind TEXT NOT NULL,"
            " region TEXT NOT NULL,"
            " id TEXT NOT NULL,"
            " revision BIGINT NOT NULL,"
            " at DOUBLE PRECISION NOT NULL,"
            " value {bytes} NOT NULL,"
            " archived_at DOUBLE PRECISION NOT NULL,"
            " PRIMARY KEY (key, revision))",
            "CREATE INDEX records_kind_id ON records (kind, id)",
            "CREATE INDEX records_kind_at ON records (kind, at)",
            # One row per journal entry; its etcd key holds the region and a time stamp.
            "CREATE TABLE journal ("
            " key TEXT PRIMARY KEY,"
            " region TEXT NOT NULL,"
            " at DOUBLE PRECISION NOT NULL,"
            " revision BIGINT NOT NULL,"
            " entry {bytes} NOT NULL)",
            "CREATE INDEX journal_region_at ON journal (region, at)",
            "CREATE INDEX journal_at ON journal (at)",
            # What each journal entry wrote (value NULL: it deleted the key). (key,
            # revision) is unique in practice: etcd writes a key once per transaction.
            # journal_key is in the key anyway, so a group-commit batch whose entries
            # share one revision can never collide.
            "CREATE TABLE record_versions ("
            " key TEXT NOT NULL,"
            " revision BIGINT NOT NULL,"
            " kind TEXT NOT NULL,"
            " region TEXT NOT NULL,"
            " id TEXT NOT NULL,"
            " at DOUBLE PRECISION NOT NULL,"
            " value {bytes},"
            " journal_key TEXT NOT NULL,"
            " PRIMARY KEY (key, revision, journal_key))",
            "CREATE INDEX record_versions_kind_id ON record_versions (kind, id)",
            "CREATE INDEX record_versions_at ON record_versions (at)",
            "CREATE INDEX record_versions_journal_key ON record_versions (journal_key)",
        ),
    ),
    Migration(
        2,
        "records archived while etcd keeps them (idempotency records until retention)",
        (
            # A request record is archived with its journal entry but stays in etcd
            # until its retention ends; a row here until the archiver deleted it there.
            "CREATE TABLE held_live ("
            " key TEXT PRIMARY KEY,"
            " region TEXT NOT NULL,"
            " revision BIGINT NOT NULL,"
            " at DOUBLE PRECISION NOT NULL)",
            "CREATE INDEX held_live_region_at ON held_live (region, at)",
        ),
    ),
    Migration(
        3,
        "access log (Normen): who read which patient record, when, why, from where",
        (
            # One row per record read by one request (a list of 30 incidents: 30 rows),
            # so "who looked at incident X" and "who looked at caller Y" are one index
            # lookup each. ``id`` makes a retried batch idempotent; the caller number is
            # kept as a hash (``caller_hash``), enough to answer the patient's question
            # without copying the number into one more table.
            "CREATE TABLE access_log ("
            " id TEXT PRIMARY KEY,"
            " at DOUBLE PRECISION NOT NULL,"
            " user_id TEXT NOT NULL,"
            " user_name TEXT NOT NULL,"
            " role TEXT NOT NULL,"
            " centre TEXT NOT NULL,"
            " method TEXT NOT NULL,"
            " record_kind TEXT NOT NULL,"
            " record_id TEXT NOT NULL,"
            " region TEXT NOT NULL,"
            " caller_hash TEXT NOT NULL,"
            " why TEXT NOT NULL,"
            " reason TEXT NOT NULL,"
            " peer TEXT NOT NULL,"
            " gateway TEXT NOT NULL)",
            "CREATE INDEX access_log_user_at ON access_log (user_id, at)",
            "CREATE INDEX access_log_record_at ON access_log (record_id, at)",
            "CREATE INDEX access_log_caller_at ON access_log (caller_hash, at)",
            "CREATE INDEX access_log_at ON access_log (at)",
        ),
    ),
    Migration(
        4,
        "access log reviews (Normen): who checked which period of the log, when, and what",
        (
            # One row per signed-off review; ``id`` is the request id, so a retried
            # sign-off is one review. ``findings`` is how many flags the signer saw.
            "CREATE TABLE access_reviews ("
            " id TEXT PRIMARY KEY,"
            " at DOUBLE PRECISION NOT NULL,"
            " reviewer TEXT NOT NULL,"
            " reviewer_name TEXT NOT NULL,"
            " period_from DOUBLE PRECISION NOT NULL,"
            " period_to DOUBLE PRECISION NOT NULL,"
            " rows_read BIGINT NOT NULL,"
            " findings INTEGER NOT NULL,"
            " note TEXT NOT NULL)",
            "CREATE INDEX access_reviews_at ON access_reviews (at)",
        ),
    ),
    Migration(
        5,
        "revoked client certificates: which serial, whose, why, by whom and when",
        (
            # One row per certificate (its serial, upper-case hex): revoking one twice
            # keeps the first. Gateways read the whole table (a handful of rows a year).
            "CREATE TABLE revoked_certificates ("
            " serial TEXT PRIMARY KEY,"
            " at DOUBLE PRECISION NOT NULL,"
            " common_name TEXT NOT NULL,"
            " not_after DOUBLE PRECISION NOT NULL,"
            " reason TEXT NOT NULL,"
            " revoked_by TEXT NOT NULL,"
            " revoked_by_name TEXT NOT NULL)",
        ),
    ),
    Migration(
        6,
        "people suspended and reinstated: every decision kept, the latest one in force",
        (
            # One row per decision (``id`` is the request id: a retry is one decision);
            # a person's state is their latest row. Gateways read the whole table.
            "CREATE TABLE person_suspensions ("
            " id TEXT PRIMARY KEY,"
            " at DOUBLE PRECISION NOT NULL,"
            " user_id TEXT NOT NULL,"
            " suspended INTEGER NOT NULL,"
            " reason TEXT NOT NULL,"
            " decided_by TEXT NOT NULL,"
            " decided_by_name TEXT NOT NULL)",
            "CREATE INDEX person_suspensions_user_at ON person_suspensions (user_id, at)",
        ),
    ),
    Migration(
        7,
        "the highest etcd revision each centre's archiver has seen",
        (
            # One row per centre, raised every archive pass: what a restore of etcd from
            # a backup must move the revision past (cluster/restore.py), since etcd
            # issues the revisions after its snapshot again and clients have seen them.
            "CREATE TABLE etcd_revisions_seen ("
            " centre TEXT PRIMARY KEY,"
            " revision BIGINT NOT NULL,"
            " at DOUBLE PRECISION NOT NULL)",
        ),
    ),
    Migration(
        8,
        "records by kind, region and time (a search of one region's past incidents)",
        ("CREATE INDEX records_kind_region_at ON records (kind, region, at)",),
    ),
    Migration(
        9,
        "each journal row's command, and an index to read a few commands of a region",
        (
            # Nearly every journal row is a crew's position report; the KPIs read the
            # few dispatch commands among them. Rows archived before this version get
            # theirs from their entry (every entry is JSON: the archiver parsed it).
            # One pass over the journal, once, inside the migrating transaction, with
            # no statement time limit: on a large archive the upgrade takes that long.
            "ALTER TABLE journal ADD COLUMN command TEXT NOT NULL DEFAULT ''",
            "UPDATE journal SET command = COALESCE({entry_command}, '')",
            "CREATE INDEX journal_region_command_at ON journal (region, command, at)",
        ),
    ),
    Migration(
        10,
        "record versions by kind, key and time (the board at a past moment, key by key)",
        (
            # The board then is each key's newest version at or before a moment: two
            # look-ups per key through this index (cluster/archive/board.py) instead of
            # ranking every version ever written, nearly all of them position reports.
            "CREATE INDEX record_versions_kind_key_at ON record_versions (kind, key, at)",
        ),
    ),
)


def latest_version() -> int:
    """The newest schema version this code knows."""
    return MIGRATIONS[-1].version if MIGRATIONS else 0


def check_ordered(migrations: tuple[Migration, ...] = MIGRATIONS) -> None:
    """Refuse a migration list that is not 1, 2, 3, ... (a typo would skip or repeat one)."""
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"archive migrations must be numbered 1, 2, 3, ...: got {versions}")
