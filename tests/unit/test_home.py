"""Where the state folder is found when nothing names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.home import state_folder

pytestmark = pytest.mark.timeout(30)


def test_the_nearest_state_folder_here_or_above_else_here(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    docs = checkout / "docs" / "ops"
    docs.mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("")  # the checkout's root
    assert state_folder({}, docs) == docs / ".amk"  # none anywhere: here, made by amk up
    (checkout / ".amk").mkdir()
    assert state_folder({}, docs) == checkout / ".amk"  # a command run from docs/ops
    assert state_folder({}, checkout) == checkout / ".amk"
    (checkout / "docs" / ".amk").write_text("not a folder")
    assert state_folder({}, docs) == checkout / ".amk"
    given = tmp_path / "elsewhere"
    assert state_folder({"AMK_HOME": str(given)}, docs) == given  # named: as named


def test_a_state_folder_above_the_checkout_is_not_this_checkouts(tmp_path: Path) -> None:
    (tmp_path / ".amk").mkdir()  # e.g. ~/.amk, from an amk login run at home
    checkout = tmp_path / "projects" / "amk"
    (checkout / "docs").mkdir(parents=True)
    (checkout / ".git").mkdir()
    assert state_folder({}, checkout / "docs") == checkout / "docs" / ".amk"
    assert state_folder({}, tmp_path / "projects") == tmp_path / ".amk"  # no checkout: found
