"""Session fixtures of the integration tests beyond tests/conftest.py's etcd and Ray."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.processes import RayHead


@pytest.fixture(scope="session")
def ray_head_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayHead]:
    """The session's second Ray cluster (started on first use, once)."""
    head = RayHead(tmp_path_factory.mktemp("ray-head"), Path(sys.executable).parent / "ray")
    try:
        yield head
    finally:
        head.stop()


@pytest.fixture
def ray_head(ray_head_session: RayHead) -> RayHead:
    """The second Ray cluster, running (started again if a test killed it)."""
    return ray_head_session.ensure()
