"""Finding PostgreSQL's server binaries, and the message when there are none (the
PostgreSQL tests must fail saying what to do, not skip)."""

from __future__ import annotations

import os
import stat

import pytest

from cluster.archive import pg_server
from cluster.errors import ConfigError


def _fake_bin(folder):
    folder.mkdir(parents=True)
    for name in ("initdb", "postgres"):
        (folder / name).write_text("#!/bin/sh\n")
        (folder / name).chmod(stat.S_IRWXU)
    return folder


def test_no_binaries_says_to_run_dev_setup(tmp_path, monkeypatch):
    monkeypatch.setattr(pg_server, "DEBIAN_DIR", tmp_path / "none")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("AMK_PG_BIN", raising=False)
    with pytest.raises(ConfigError, match=r"no PostgreSQL server binaries.*\./dev setup"):
        pg_server.find_pg_bin()


def test_the_newest_debian_major_wins_and_amk_pg_bin_first(tmp_path, monkeypatch):
    debian = tmp_path / "lib"
    _fake_bin(debian / "9.6" / "bin")
    newest = _fake_bin(debian / "15" / "bin")
    (debian / "13" / "bin").mkdir(parents=True)  # a leftover folder without binaries
    monkeypatch.setattr(pg_server, "DEBIAN_DIR", debian)
    monkeypatch.delenv("AMK_PG_BIN", raising=False)
    assert pg_server.find_pg_bin() == newest
    mine = _fake_bin(tmp_path / "mine")
    monkeypatch.setenv("AMK_PG_BIN", os.fspath(mine))
    assert pg_server.find_pg_bin() == mine


def test_a_database_name_is_checked_before_it_reaches_sql(tmp_path):
    with pytest.raises(ConfigError, match="database name"):
        pg_server.EmbeddedPostgres(tmp_path, 5432, database='x"; DROP')
