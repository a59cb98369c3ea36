"""A command for a region its centre is loading waits for the load (a takeover's first
writes land as soon as the region is loaded, not one router backoff later), and one for
a region not loading does not wait at all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from actors.centre.core import CentreCore
from actors.centre.region_state import RegionState as S
from cluster.config import ClusterConfig

pytestmark = pytest.mark.asyncio(loop_scope="session")


def core(tmp_path: Path) -> CentreCore:
    return CentreCore(ClusterConfig.load(home=tmp_path), "oslo")


async def test_a_waiter_returns_when_the_region_leaves_loading(tmp_path: Path) -> None:
    c = core(tmp_path)
    c.set_state("oslo", S.WAITING)
    c.set_state("oslo", S.LOADING)
    waiter = asyncio.ensure_future(c.until_loaded("oslo"))
    await asyncio.sleep(0.05)
    assert not waiter.done(), "returned while the region was still loading"
    c.set_state("oslo", S.SERVING)
    await asyncio.wait_for(waiter, 1.0)


async def test_a_failed_load_releases_the_waiter_too(tmp_path: Path) -> None:
    c = core(tmp_path)
    c.set_state("oslo", S.LOADING)
    waiter = asyncio.ensure_future(c.until_loaded("oslo"))
    await asyncio.sleep(0.01)
    c.set_state("oslo", S.FOLLOWING)  # fenced while loading: the command is refused
    await asyncio.wait_for(waiter, 1.0)


async def test_no_wait_for_a_region_not_loading(tmp_path: Path) -> None:
    c = core(tmp_path)
    await asyncio.wait_for(c.until_loaded("oslo"), 0.01)  # never loaded
    c.set_state("oslo", S.LOADING)
    c.set_state("oslo", S.SERVING)
    await asyncio.wait_for(c.until_loaded("oslo"), 0.01)  # loaded
    c.set_state("oslo", S.FOLLOWING)
    c.set_state("oslo", S.LOADING)  # loading again: a new wait
    waiter = asyncio.ensure_future(c.until_loaded("oslo"))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    c.set_state("oslo", S.SERVING)
    await asyncio.wait_for(waiter, 1.0)
