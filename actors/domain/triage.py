"""Triage: a criteria code maps to one urgency, from a table that is data.

The table (``data/criteria.toml``) is written by this project; its structure follows
Norsk indeks for medisinsk nødhjelp (chapters; codes level.chapter.criterion such as
A.11.03, where the letter is the level: A = Akutt, H = Haster, V = Vanlig). The wording
is our own.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from actors.domain.errors import InvalidArgumentError
from actors.domain.model import Urgency

DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "criteria.toml"
CODE_RE = re.compile(r"^([AHV])\.(\d{2})\.(\d{2})\Z")
LEVELS = {"A": Urgency.AKUTT, "H": Urgency.HASTER, "V": Urgency.VANLIG}


@dataclass(frozen=True, slots=True)
class Criterion:
    code: str
    chapter: int
    urgency: Urgency
    text: str
    text_no: str  # Norwegian bokmål, what the console shows in Norwegian


@dataclass(frozen=True, slots=True)
class Chapter:
    number: int
    title: str
    title_no: str


class CriteriaTable:
    """The loaded criteria table; validated on load so every code has one urgency."""

    def __init__(self, chapters: list[Chapter], criteria: list[Criterion], version: str) -> None:
        self.version = version
        self.chapters = {c.number: c for c in chapters}
        self.criteria: dict[str, Criterion] = {}
        for c in criteria:
            m = CODE_RE.match(c.code)
            if m is None:
                raise ValueError(f"criteria table: malformed code {c.code!r}")
            if c.code in self.criteria:
                raise ValueError(f"criteria table: code {c.code} listed twice")
            if LEVELS[m.group(1)] is not c.urgency:
                raise ValueError(f"criteria table: {c.code} level disagrees with {c.urgency}")
            if int(m.group(2)) != c.chapter or c.chapter not in self.chapters:
                raise ValueError(f"criteria table: {c.code} names an unknown chapter")
            if not c.text.strip() or not c.text_no.strip():
                raise ValueError(f"criteria table: {c.code} needs both text and text_no")
            self.criteria[c.code] = c

    @classmethod
    def load(cls, path: Path | None = None) -> CriteriaTable:
        if path is None:
            path = DEFAULT_TABLE
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode())
        chapters = [Chapter(c["number"], c["title"], c["title_no"]) for c in data["chapters"]]
        criteria = [
            Criterion(
                c["code"], c["chapter"], Urgency(c["urgency"]), c["text"], c.get("text_no", "")
            )
            for c in data["criteria"]
        ]
        return cls(chapters, criteria, data["meta"]["version"])

    def lookup(self, code: str, field: str = "criteria_code") -> Criterion:
        """The criterion for ``code``; InvalidArgumentError naming ``field`` otherwise."""
        if not CODE_RE.match(code):
            raise InvalidArgumentError(field, f"{code!r} is not a code like A.11.03")
        crit = self.criteria.get(code)
        if crit is None:
            raise InvalidArgumentError(field, f"{code} is not in criteria table {self.version}")
        return crit

    def urgency_of(self, code: str) -> Urgency:
        return self.lookup(code).urgency


@cache
def default_table() -> CriteriaTable:
    return CriteriaTable.load()
