"""The archiver drill, short, against the session's etcd and Ray: two centres killed
between the archive write and the etcd delete, and nothing lost or doubled across etcd
and the archive. Then the checker is shown to fail when something is taken away or put
back behind its back: a checker that cannot fail proves nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from chaos import archive_check
from chaos.archive_drill import ArchiveDrillSpec, run_archive_drill
from chaos.drill import EXIT_OK
from clients.loadgen import History
from cluster.archive import open_archive
from cluster.etcd import EtcdClient, op_delete, op_put
from cluster.keys import Keys
from tests.helpers import TEST_KEY_ROOT, session_pki

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.timeout(180),
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def drill(etcd_server, ray_session, tmp_path_factory) -> dict[str, Any]:
    """One short drill for the module; its deployment is stopped when it returns, so
    etcd and the archive stay still for the tampering test."""
    report_dir = tmp_path_factory.mktemp("archive-drill")
    spec = ArchiveDrillSpec(seconds=8.0, crashes=2, rate=20.0, seed=3)
    result = await run_archive_drill(
        spec,
        report_dir,
        [etcd_server.endpoint],
        pki_dir=session_pki(),
        key_root=f"{TEST_KEY_ROOT}drill/",
    )
    result["report_dir"] = report_dir
    return result


async def test_two_archivers_killed_mid_batch_lose_and_double_nothing(drill) -> None:
    chk = drill["check"]
    print("\n", chk["counts"], drill["moved"])
    assert drill["exit_code"] == EXIT_OK, chk["violations"]
    assert chk["counts"]["lost"] == 0, chk["lost"]
    assert chk["counts"]["duplicated"] == 0, chk["duplicated"]
    assert chk["counts"]["stale_accepted"] == 0, chk["stale_accepted"]
    assert chk["counts"]["closed_still_live"] == 0
    # Closed work did move, and the live side still holds the incidents left open.
    assert chk["counts"]["incidents_archived"] == chk["counts"]["acked_incidents_ended"] > 0
    assert chk["counts"]["journal_archived"] > 0
    # Both crashes were taken, each killed a centre, its regions changed owner.
    crashes = drill["crashes"]
    assert len(crashes) == 2
    for c in crashes:
        assert c["taken"] is not None and c["centre"] and not c.get("problem"), c
        assert c["instance_after"] != c["instance_before"], "the centre was restarted"
        assert set(c["served_again"]) == set(c["regions"]), c
        for s in c["served_again"].values():
            assert s["token"] > s["token_before"] and s["centre"] != c["centre"], s
        assert c["archive_rows_moved_since"] > 0 and all(c["new_owner_archiving"].values())
    report = (drill["report_dir"] / "report.md").read_text()
    assert "## Archiver crashes" in report and "**PASS**" in report


async def _check(drill: dict[str, Any], client: EtcdClient) -> dict[str, Any]:
    archive = open_archive(drill["archive"])
    try:
        history = History.load(Path(drill["report_dir"]) / "history.jsonl")
        ids = {r["incident"] for r in history if r.get("ok") and r.get("incident")}
        view = await archive_check.collect(client, Keys(drill["key_prefix"]), archive, ids)
        return archive_check.check(history, view)
    finally:
        archive.close()


async def test_the_checker_catches_a_lost_and_a_doubled_incident(drill, etcd) -> None:
    assert drill["check"]["ok"], "the untouched drill must pass for this test to mean much"
    archive = open_archive(drill["archive"])
    try:
        gone, back = archive.stored("incidents")[:2]
    finally:
        archive.close()
    db = sqlite3.connect(drill["archive"].removeprefix("sqlite://"))
    try:
        # Lost: an archived incident's row deleted behind the checker's back.
        db.execute("DELETE FROM records WHERE key = ? AND revision = ?", (gone.key, gone.revision))
        db.commit()
        # Doubled: another archived incident written back into etcd.
        await etcd.txn([], [op_put(back.key.encode(), back.value)])
        verdict = await _check(drill, etcd)
    finally:
        await etcd.txn([], [op_delete(back.key.encode())])
        db.execute(
            "INSERT INTO records (key, kind, region, id, revision, at, value, archived_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            (gone.key, gone.kind, gone.region, gone.id, gone.revision, gone.at, gone.value),
        )
        db.commit()
        db.close()
    assert not verdict["ok"]
    assert {"lost", "duplicated"} <= set(verdict["violations"])
    missing = [x for x in verdict["lost"] if x.get("incident") == gone.id]
    assert [x["why"] for x in missing] == ["incident missing"], verdict["lost"]
    doubled = [x for x in verdict["duplicated"] if x.get("key") == back.key]
    assert [x["why"] for x in doubled] == ["incident live and archived"], verdict["duplicated"]
    # Put back as it was, the picture passes again.
    assert (await _check(drill, etcd))["ok"]
