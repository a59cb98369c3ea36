"""When the site-loss fast path presumes another site lost (``SilenceDetector``)."""

from __future__ import annotations

import pytest

from actors.supervisor.site_watch import SilenceDetector


def test_a_site_silent_past_the_limit_is_due_once_and_rearmed_when_heard() -> None:
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    d.heard("a", 10.0)
    assert d.due(10.5, own_beat_at=10.45, late_by=0.0) == []  # 0.5 s: still in time
    assert d.due(10.7, own_beat_at=10.65, late_by=0.0) == ["a"]
    assert d.due(10.9, own_beat_at=10.85, late_by=0.0) == []  # once per silence
    d.heard("a", 11.0)
    assert d.due(11.7, own_beat_at=11.65, late_by=0.0) == ["a"]


def test_nothing_is_due_while_our_own_beats_fail_or_our_check_ran_late() -> None:
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    d.heard("a", 10.0)
    assert d.due(11.0, own_beat_at=10.95, late_by=0.3) == []  # our loop stalled
    assert d.due(11.05, own_beat_at=11.0, late_by=0.0) == ["a"]


def test_after_our_own_beats_failed_the_others_get_a_fresh_silence() -> None:
    """We were the one cut off: when our beats go through again, the others' beats have
    not reached our watch yet. They are due only after a full silence from then."""
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    d.heard("a", 10.0)
    assert d.due(11.0, own_beat_at=10.3, late_by=0.0) == []  # we may be the cut-off one
    assert d.due(11.05, own_beat_at=11.0, late_by=0.0) == []  # back: a fresh silence
    assert d.due(11.5, own_beat_at=11.45, late_by=0.0) == []
    d.heard("a", 11.3)  # its beats arrive: alive, nothing to do
    assert d.due(11.8, own_beat_at=11.75, late_by=0.0) == []
    assert d.due(12.0, own_beat_at=11.95, late_by=0.0) == ["a"]  # silent 0.7 s since


def test_a_site_never_heard_is_never_due() -> None:
    d = SilenceDetector(silence_s=0.6, late_s=0.1)
    assert d.due(100.0, own_beat_at=99.9, late_by=0.0) == []


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SilenceDetector(silence_s=0.0, late_s=0.1)
