"""``amk up --ray-address`` joins a Ray cluster started with ``ray start --head``, as the
README's "Running on several machines" says, with Ray's token authentication on.

Before: the joining process had no token (Ray's default for a process that joins) and
``ray.init`` printed ``Failed to get cluster ID from GCS server: Unauthenticated`` once
a second, forever. Now the token is found where Ray keeps it (or passed with
``--ray-token-file``), and a missing or wrong one is one line and exit 2, before
anything starts; a head that does not answer is one line and exit 3.

The Ray head is the session's second Ray cluster (``ray_head``: on loopback, token
authentication on, its own temp folder and HOME holding its token).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from clients.client import AmkClient
from clients.up_guard import EXIT_REFUSED, EXIT_UNAVAILABLE
from cluster.etcd_server import find_free_port
from tests.integration.processes import (
    RayHead,
    start_up,
    stop_up,
    up_env,
    up_home,
    up_refused,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

START_WITHIN_S = 120  # a safety net for a stuck start, not a measurement


def test_up_joins_a_token_protected_head_as_the_readme_says(
    ray_head: RayHead, tmp_path: Path
) -> None:
    """On the head's machine (its ~/.ray/auth_token is there): `amk up --ray-address`."""
    state = up_home(tmp_path, "amk-join-test")
    gateway = f"127.0.0.1:{find_free_port()}"
    env = up_env(state, gateway, ray_head.home)
    proc, text = start_up(
        ["--ray-address", ray_head.address], env, tmp_path / "up.out", START_WITHIN_S
    )
    try:
        assert f"Ray at {ray_head.address}: token authentication, token from" in text
        assert f"Ray joined at {ray_head.address}" in text
        assert "Unauthenticated" not in text
        assert "niceness" not in text  # the session's Ray, so the head, runs workers at 0
        with AmkClient([gateway], timeout_s=10) as client:
            incident = client.create_incident(region="oslo", lat=59.91, lon=10.75)
            assert client.get_incident(incident.id).region == "oslo"
    finally:
        stop_up(proc)
    assert proc.returncode == 0, (tmp_path / "up.out").read_text()[-3000:]


def test_a_wrong_token_is_one_line_and_exit_2(ray_head: RayHead, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.token"
    wrong.write_text(secrets.token_hex(32))
    code, lines = up_refused(
        tmp_path, ray_head.home, "--ray-address", ray_head.address, "--ray-token-file", str(wrong)
    )
    assert code == EXIT_REFUSED, lines
    assert len(lines) == 1 and lines[0].startswith("error:"), lines
    assert f"refused the token from --ray-token-file {wrong}" in lines[0]


def test_no_token_is_one_line_and_exit_2(ray_head: RayHead, tmp_path: Path) -> None:
    """Another machine, where nobody copied the head's token."""
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    code, lines = up_refused(tmp_path, elsewhere, "--ray-address", ray_head.address)
    assert code == EXIT_REFUSED, lines
    assert len(lines) == 1 and "requires a token" in lines[0], lines
    assert "--ray-token-file" in lines[0]


def test_the_right_token_file_from_elsewhere_is_accepted(ray_head: RayHead, tmp_path: Path) -> None:
    """The check alone (no cluster started): the copied token file is what Ray wants."""
    from clients.ray_join import plan_join

    copied = tmp_path / "ray_head.token"
    copied.write_text((ray_head.home / ".ray" / "auth_token").read_text())
    plan = plan_join(ray_head.address, copied, env={}, home=tmp_path)
    assert plan.env == {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(copied)}


def test_a_head_that_does_not_answer_is_one_line_and_exit_3(tmp_path: Path) -> None:
    address = f"127.0.0.1:{find_free_port()}"
    code, lines = up_refused(tmp_path, tmp_path, "--ray-address", address)
    assert code == EXIT_UNAVAILABLE, lines
    assert len(lines) == 1 and f"Ray at {address} does not answer" in lines[0], lines
