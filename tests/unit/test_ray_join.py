"""Where ``amk up --ray-address`` finds the joined cluster's token: Ray's own order, with
``--ray-token-file`` first; unreadable or empty files are a clear refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.ray_join import JoinPlan, apply, find_token, niceness_warnings
from clients.up_guard import UpRefused


def _home(tmp_path: Path, token: str | None) -> Path:
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    if token is not None:
        (home / ".ray" / "auth_token").write_text(token + "\n")
    return home


def test_order_is_flag_then_env_then_env_path_then_default(tmp_path: Path) -> None:
    home = _home(tmp_path, "from-default")
    flag = tmp_path / "flag"
    flag.write_text("from-flag")
    path = tmp_path / "path"
    path.write_text("from-path")
    env = {"RAY_AUTH_TOKEN": "from-env", "RAY_AUTH_TOKEN_PATH": str(path)}
    assert find_token(flag, env, home).value == "from-flag"  # type: ignore[union-attr]
    assert find_token(None, env, home).value == "from-env"  # type: ignore[union-attr]
    env.pop("RAY_AUTH_TOKEN")
    found = find_token(None, env, home)
    assert found is not None and found.value == "from-path" and found.path == path
    found = find_token(None, {}, home)
    assert found is not None and found.value == "from-default"  # stripped of its newline
    assert str(home / ".ray" / "auth_token") == found.source


def test_nothing_found_is_none(tmp_path: Path) -> None:
    assert find_token(None, {"RAY_AUTH_TOKEN": "  "}, _home(tmp_path, None)) is None


def test_an_empty_or_missing_named_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(UpRefused, match="is empty"):
        find_token(empty, {}, tmp_path)
    with pytest.raises(UpRefused, match="cannot read the Ray token file"):
        find_token(None, {"RAY_AUTH_TOKEN_PATH": str(tmp_path / "nope")}, tmp_path)


def test_apply_sets_the_environment_it_is_given() -> None:
    environ: dict[str, str] = {"RAY_AUTH_MODE": "disabled"}
    apply(JoinPlan({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": "/t"}, ""), environ)
    assert environ == {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": "/t"}


def test_a_node_below_normal_priority_gets_one_warning_line() -> None:
    found = {"10.0.0.6 (b)": 15, "10.0.0.5 (a)": 0, "10.0.0.7 (c)": 5, "10.0.0.8 (d)": None}
    lines = niceness_warnings(found)
    assert len(lines) == 3
    assert lines[0].startswith("warning: Ray's workers on 10.0.0.6 (b) run at niceness 15")
    assert "10.0.0.7 (c) run at niceness 5" in lines[1]
    assert all("RAY_worker_niceness=0" in line for line in lines[:2])
    assert lines[2] == "warning: could not read the niceness of Ray's workers on 10.0.0.8 (d)"
