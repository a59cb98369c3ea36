"""What ``amk etcd restore`` and ``settle`` take from the archive before they change
anything (``clients.cli_backup._from_archive``), on a real SQLite archive and on a
PostgreSQL address nobody answers."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import pytest

from clients.cli_backup import _from_archive
from cluster.archive import ArchiveError, open_archive
from cluster.errors import ConfigError
from tests.helpers import find_free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@dataclass
class Config:
    url: str

    def archive_location(self) -> str:
        return self.url


@dataclass
class Manifest:
    revision: int = 100
    taken_at: float = 1000.0


def ctx(floor: int | None = None, *, alone: bool = False, margin: int = 500):
    args = argparse.Namespace(revision_floor=floor, no_roll_forward=alone, revision_margin=margin)
    return argparse.Namespace(args=args)


@pytest.fixture
def archive_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = open_archive(url)
    archive.migrate()
    archive.note_revision("oslo", 900, 2000.0)  # told after the backup was taken
    archive.close()
    return url


def test_the_floor_is_the_archives_figure_plus_the_margin_and_what_it_holds_is_read(archive_url):
    floor, since = _from_archive(ctx(), Config(archive_url), Manifest())
    assert floor == 1400 and since is not None and since.revision == 100
    # An operator's floor replaces the figure, never below what the archive holds.
    assert _from_archive(ctx(5000), Config(archive_url), Manifest())[0] == 5000
    assert _from_archive(ctx(10), Config(archive_url), Manifest())[0] == 900
    assert _from_archive(ctx(alone=True), Config(archive_url), Manifest())[1] is None


def test_an_archive_told_before_the_backup_cannot_give_the_floor(archive_url):
    with pytest.raises(ConfigError, match="before the backup"):
        _from_archive(ctx(), Config(archive_url), Manifest(taken_at=3000.0))


def test_an_archive_that_does_not_answer_stops_a_restore_that_would_roll_forward():
    nobody = Config(f"postgresql://amk@127.0.0.1:{find_free_port()}/amk?connect_timeout=2")
    with pytest.raises(ArchiveError):
        _from_archive(ctx(), nobody, Manifest())
    with pytest.raises(ArchiveError):  # a floor alone is not enough: nothing rolled forward
        _from_archive(ctx(5000), nobody, Manifest())
    assert _from_archive(ctx(5000, alone=True), nobody, Manifest()) == (5000, None)
