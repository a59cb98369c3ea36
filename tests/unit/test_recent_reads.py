"""A Watch stream logs each record it delivers once per relog period, and remembers no
more than that period's records however long it stays connected."""

from __future__ import annotations

from actors.gateway.access_log import RecentReads


def rec(i: int) -> tuple[str, str, str, str]:
    return ("incident", f"OSL-{i:06d}", "oslo", "")


def test_a_record_is_logged_again_only_after_the_period() -> None:
    seen = RecentReads(relog_s=3600)
    assert seen.fresh([rec(1), rec(2)], now=0) == [rec(1), rec(2)]
    assert seen.fresh([rec(1)], now=10) == []
    assert seen.fresh([rec(1), rec(3)], now=3599) == [rec(3)]
    assert seen.fresh([rec(1)], now=3600) == [rec(1)]


def test_a_stream_connected_for_days_remembers_one_period_only() -> None:
    seen = RecentReads(relog_s=3600)
    for minute in range(3 * 24 * 60):  # three days, a new incident a minute
        seen.fresh([rec(minute)], now=minute * 60.0)
    assert len(seen) == 60  # before: every incident the console ever showed (4,320)


def test_a_record_logged_again_moves_to_the_back_and_is_not_forgotten_early() -> None:
    seen = RecentReads(relog_s=100)
    seen.fresh([rec(1)], now=0)
    seen.fresh([rec(2)], now=50)
    seen.fresh([rec(1)], now=100)  # logged again: remembered from 100 on
    seen.fresh([rec(3)], now=160)  # rec(2) (50) expired and is forgotten
    assert len(seen) == 2
    assert seen.fresh([rec(1)], now=190) == []  # still within its period
    assert seen.fresh([rec(2)], now=190) == [rec(2)]
