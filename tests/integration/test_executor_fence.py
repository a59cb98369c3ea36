"""The executor's cache against etcd, on a centre run without Ray against real etcd: a
centre that stopped serving a region while a command ran writes nothing there (it never
borrows the region's token from etcd), a commit whose answer was lost leaves no stale
copy behind once its retry is answered from the stored outcome, and a fleet seeded in
slices is cached at each slice's own revision."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from actors.centre.centre import Centre
from actors.centre.core import NoPeers
from actors.domain.commands import CreateIncident, TriageIncident
from actors.domain.model import Outcome, Position
from cluster.config import ClusterConfig
from cluster.errors import NotOwnerError
from cluster.etcd_server import EmbeddedEtcd
from tests.helpers import assert_eventually, key_prefix_for, session_pki

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def centre(etcd_server: EmbeddedEtcd, tmp_path) -> AsyncIterator[Centre]:
    config = ClusterConfig.load(
        home=tmp_path, key_prefix=key_prefix_for("xf"), pki_dir=session_pki()
    )
    c = Centre(config, "oslo", NoPeers())
    await c.start([etcd_server.endpoint])
    yield c
    await c.stop()


async def test_a_dropped_region_is_not_written_under_the_owner_token_read_from_etcd(
    centre: Centre, etcd
):
    out = await centre.execute(
        "oslo", CreateIncident(uuid.uuid4().hex, "oslo", Position(59.91, 10.75))
    )
    inc = out.require_incident()
    # The command has decided (triaged) when the centre stops serving oslo: here the
    # drop is local (a session no longer trusted), so etcd's owner key still names
    # this centre's token, which the write must not borrow.
    owner = await etcd.get(centre.core.keys.owner("oslo"))
    assert owner is not None
    revision = await etcd.revision()
    cmd = TriageIncident(uuid.uuid4().hex, inc.id, "A.11.01")
    # No await between the drop and the commit: the centre's own claim loop would take
    # the region back (its lease still holds the key) on a loaded machine.
    centre.ownership.drop("oslo", "test: session no longer trusted")
    with pytest.raises(NotOwnerError):
        await centre.executor.commit("oslo", cmd, [inc], Outcome(incident=inc))
    assert await etcd.revision() == revision, "nothing written"


async def test_a_retry_answered_from_the_stored_outcome_refreshes_the_cache(centre: Centre):
    created = await centre.execute(
        "oslo", CreateIncident(uuid.uuid4().hex, "oslo", Position(59.91, 10.75))
    )
    host = centre.core.hosts["oslo"]
    before = host.incidents[created.require_incident().id]
    triage = TriageIncident(uuid.uuid4().hex, before.id, "A.11.01")
    applied = (await centre.execute("oslo", triage)).require_incident()
    # The commit's answer lost on its way back (etcd applied it; the centre was told
    # "unavailable"): its records never reached the cache, nor the answer the recent list.
    host.incidents[before.id] = before
    centre.recent.pop(triage.request_id)
    again = (await centre.execute("oslo", triage)).require_incident()
    assert again.revision == applied.revision  # the first answer, from the journal
    cached = host.incidents[before.id]
    assert (cached.revision, cached.criteria_code) == (applied.revision, "A.11.01")
    assert cached.revision > before.revision


async def test_a_fleet_seeded_in_slices_is_cached_at_each_slice_revision(
    etcd_server: EmbeddedEtcd, etcd, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """Oslo's fleet in slices of three: every cached unit names the revision etcd has
    for it, so its first write is not refused as stale."""
    from actors.centre import ownership

    monkeypatch.setattr(ownership, "SEED_SLICE", 3)
    config = ClusterConfig.load(
        home=tmp_path, key_prefix=key_prefix_for("seed"), pki_dir=session_pki()
    )
    c = Centre(config, "oslo", NoPeers())
    await c.start([etcd_server.endpoint])
    try:
        host = c.core.hosts["oslo"]

        async def seeded() -> None:
            assert host.seeded

        await assert_eventually(seeded, timeout_s=30)
        units = dict(host.units)
        assert len(units) > 3  # more than one slice
        for unit_id, unit in units.items():
            kv = await etcd.get(c.core.keys.unit("oslo", unit_id))
            assert kv is not None and unit.revision == kv.mod_revision, unit_id
    finally:
        await c.stop()
