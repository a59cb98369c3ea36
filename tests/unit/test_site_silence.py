"""When the site-loss fast path presumes another site lost (``SilenceDetector``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actors.supervisor.site_watch import SilenceDetector, SiteWatch
from cluster import starvation
from cluster.config import ClusterConfig
from cluster.keys import Keys


def test_a_site_silent_past_the_limit_is_due_once_and_rearmed_when_heard() -> None:
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    d.heard("a", 10.0, revision=10)
    assert d.due(10.5, own_beat_at=10.45, late_by=0.0) == []  # 0.5 s: still in time
    assert d.due(10.7, own_beat_at=10.65, late_by=0.0) == ["a"]
    assert d.due(10.9, own_beat_at=10.85, late_by=0.0) == []  # once per silence
    d.acted("a", revision=15)
    assert d.heard("a", 11.0, revision=20)
    assert d.due(11.7, own_beat_at=11.65, late_by=0.0) == ["a"]


def test_nothing_is_due_while_our_own_beats_fail_or_our_check_ran_late() -> None:
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    d.heard("a", 10.0, revision=30)
    assert d.due(11.0, own_beat_at=10.95, late_by=0.3) == []  # our loop stalled
    assert d.due(11.05, own_beat_at=11.0, late_by=0.0) == ["a"]


def test_after_our_own_beats_failed_the_others_get_a_fresh_silence() -> None:
    """We were the one cut off: when our beats go through again, the others' beats have
    not reached our watch yet. They are due only after a full silence from then."""
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    d.heard("a", 10.0, revision=40)
    assert d.due(11.0, own_beat_at=10.3, late_by=0.0) == []  # we may be the cut-off one
    assert d.due(11.05, own_beat_at=11.0, late_by=0.0) == []  # back: a fresh silence
    assert d.due(11.5, own_beat_at=11.45, late_by=0.0) == []
    d.heard("a", 11.3, revision=50)  # its beats arrive: alive, nothing to do
    assert d.due(11.8, own_beat_at=11.75, late_by=0.0) == []
    assert d.due(12.0, own_beat_at=11.95, late_by=0.0) == ["a"]  # silent 0.7 s since


def test_a_site_never_heard_is_never_due() -> None:
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    assert d.due(100.0, own_beat_at=99.9, late_by=0.0) == []


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SilenceDetector(silence_s=0.0, late_s=0.1)


def test_a_beat_written_before_the_loss_was_acted_on_does_not_rearm_the_site() -> None:
    """A lagging watch delivers the lost site's last beats after it was suspected: they
    are stale news, and must not make a second 'loss' of the same site later."""
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    assert d.heard("a", 10.0, revision=100)
    assert d.due(10.7, own_beat_at=10.65, late_by=0.0) == ["a"]
    assert not d.heard("a", 10.71, revision=101)  # acting: the revision not read yet
    d.acted("a", revision=105)
    assert not d.heard("a", 10.8, revision=104)  # written before we acted
    assert d.due(11.5, own_beat_at=11.45, late_by=0.0) == []  # still the one loss
    assert d.heard("a", 11.6, revision=106)  # written after: alive again
    assert d.due(12.3, own_beat_at=12.25, late_by=0.0) == ["a"]


def test_a_failed_revocation_leaves_the_site_due_at_the_next_check() -> None:
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    d.heard("a", 10.0, revision=1)
    assert d.due(10.7, own_beat_at=10.65, late_by=0.0) == ["a"]
    d.retry("a")
    assert d.due(10.75, own_beat_at=10.7, late_by=0.0) == ["a"]


def test_an_excused_site_is_put_off_half_a_silence_at_most_starved_max_times() -> None:
    d = SilenceDetector(silence_s=0.6, late_s=0.1, starved_max=2)
    d.heard("a", 10.0, revision=1)
    assert d.due(10.7, own_beat_at=10.65, late_by=0.0) == ["a"]
    assert d.excuse("a", 10.7)
    assert d.due(10.95, own_beat_at=10.9, late_by=0.0) == []  # put off to 11.0
    assert d.due(11.05, own_beat_at=11.0, late_by=0.0) == ["a"]
    assert d.excuse("a", 11.05)
    assert d.due(11.4, own_beat_at=11.35, late_by=0.0) == ["a"]
    assert not d.excuse("a", 11.4)  # two in a row: suspected now
    d.acted("a", revision=5)
    assert d.heard("a", 12.0, revision=6)  # heard: the excuses start again
    assert d.due(12.7, own_beat_at=12.65, late_by=0.0) == ["a"]
    assert d.excuse("a", 12.7)


def test_only_a_supervisor_on_this_host_is_sampled_and_a_stopped_one_is_not_starved() -> None:
    """The beat names its host and pid; the watcher samples only a supervisor its own
    ``/proc`` shows. A stopped process wants no CPU: its silence is never excused."""
    watch = SiteWatch(ClusterConfig(), client=None, keys=Keys("t"), revoke_site=None)  # type: ignore[arg-type]
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        os.kill(child.pid, signal.SIGSTOP)
        stat = Path(f"/proc/{child.pid}/stat")
        deadline = time.monotonic() + 10
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "T":  # stopped, not runnable
            assert time.monotonic() < deadline, "the child did not stop"
            time.sleep(0.01)
        beat = {"site": "a", "seq": 1, "at": 0.0, "host": starvation.host_id(), "pid": child.pid}
        watch.detector.heard("a", 10.0, revision=1)
        watch._beat_seen("a", json.dumps(beat).encode())
        assert watch._local_pids == {"a": child.pid}
        watch._sample_quiet(10.5)
        assert watch._samples["a"] is not None
        time.sleep(0.2)  # more than a beat's period between the samples: a real window
        assert watch._starved("a") is None
        watch._beat_seen("a", json.dumps({**beat, "host": "elsewhere"}).encode())
        assert watch._local_pids == {} and watch._starved("a") is None
        watch._beat_seen("a", b"not json")
        assert watch._local_pids == {}
    finally:
        child.kill()
        child.wait()


def test_a_beat_seen_while_a_failed_revocation_was_tried_counts_as_heard() -> None:
    """Beats set aside as stale while acting may have been news: when nothing was
    revoked, the latest counts, as before (else a live site is revoked next round)."""
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    d.heard("a", 10.0, revision=1)
    assert d.due(10.7, own_beat_at=10.65, late_by=0.0) == ["a"]
    assert not d.heard("a", 10.72, revision=2)  # acting: set aside
    d.retry("a")  # the revocation failed
    assert d.due(10.75, own_beat_at=10.7, late_by=0.0) == []  # heard at 10.72
    assert d.due(11.4, own_beat_at=11.35, late_by=0.0) == ["a"]


def test_our_own_gap_starts_the_excuses_over() -> None:
    d = SilenceDetector(silence_s=0.6, late_s=0.1, starved_max=1)
    d.heard("a", 10.0, revision=1)
    assert d.due(10.7, own_beat_at=10.65, late_by=0.0) == ["a"]
    assert d.excuse("a", 10.7)
    assert d.due(11.5, own_beat_at=10.8, late_by=0.0) == []  # our own beats stopped
    assert d.due(11.55, own_beat_at=11.5, late_by=0.0) == []  # back: a fresh silence
    assert d.due(12.2, own_beat_at=12.15, late_by=0.0) == ["a"]
    assert d.excuse("a", 12.2)  # its one excuse again, not used up before the gap
