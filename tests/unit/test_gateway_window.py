"""The time with no gateway at all, from hand-made health-check samples (no gRPC).

Two gateways, A and B; samples are (time, address, serving). The prober of a kill starts
just before it, so its first sample of each address says how things stood at the kill.
"""

from __future__ import annotations

from chaos.gateway_probe import (
    Sample,
    first_serving,
    no_gateway_after,
    no_gateway_windows,
    probe_gaps,
)

A, B = "127.0.0.1:1", "127.0.0.1:2"


def samples(*rows: tuple[float, str, bool]) -> list[Sample]:
    return [Sample(t, a, ok) for t, a, ok in rows]


# A was killed at 25.0 and is still down; B is killed at 25.5; A is back at 26.31.
BOTH = samples(
    (25.49, A, False),
    (25.49, B, True),  # B answers a moment after its kill
    (25.51, A, False),
    (25.52, B, False),  # from here no gateway
    (25.90, B, False),
    (26.29, A, False),
    (26.31, A, True),
    (26.40, B, False),
    (26.90, B, True),
)


def test_no_window_while_some_address_serves() -> None:
    rows = samples((1.0, A, False), (1.0, B, True), (1.1, A, True), (1.2, B, True))
    assert no_gateway_windows(rows, [A, B]) == []


def test_window_runs_from_all_down_to_the_first_serving_answer() -> None:
    assert no_gateway_windows(BOTH, [A, B]) == [(25.52, 26.31)]


def test_an_address_never_probed_counts_as_serving() -> None:
    assert no_gateway_windows(samples((1.0, A, False)), [A, B]) == []


def test_a_window_with_no_answer_yet_stays_open() -> None:
    rows = samples((1.0, A, False), (1.0, B, False), (1.1, A, False))
    assert no_gateway_windows(rows, [A, B]) == [(1.0, None)]


def test_the_second_kill_opens_the_time_with_no_gateway_from_the_kill() -> None:
    found = no_gateway_after(BOTH, [A, B], killed=B, kill_at=25.5)
    assert found["no_gateway_s"] == 0.81  # 25.5 -> 26.31, not from the all-down sample
    assert found["all_down_seen_after_s"] == 0.02
    assert found["no_gateway_at"] == [25.5, 26.31]
    assert found["first_back"] == A


def test_a_kill_while_the_other_gateway_serves_opens_nothing() -> None:
    # The kill of A at 25.0: B answered its first check, so A's kill left a gateway up,
    # even though B's later kill opened a window inside A's probing.
    rows = [*samples((25.01, A, True), (25.01, B, True), (25.03, A, False)), *BOTH]
    assert no_gateway_after(rows, [A, B], killed=A, kill_at=25.0) == {"no_gateway_s": 0.0}


def test_the_other_gateway_already_back_means_no_window() -> None:
    rows = samples((5.51, A, True), (5.51, B, True), (5.53, B, False), (6.2, B, True))
    assert no_gateway_after(rows, [A, B], killed=B, kill_at=5.5) == {"no_gateway_s": 0.0}


def test_serving_again_needs_the_address_seen_down_first() -> None:
    # B still answered right after its kill: that is the old process, not the new one.
    assert first_serving(BOTH, B, after=25.5) == 26.90
    assert first_serving(BOTH, A, after=25.5) == 26.31
    assert first_serving(BOTH, B, after=26.95) is None


def test_probe_gaps_are_reported_in_milliseconds() -> None:
    rows = samples((0.0, A, True), (0.02, A, True), (0.04, A, True), (0.10, A, True))
    assert probe_gaps(rows, A) == {"probe_gap_median_ms": 20.0, "probe_gap_max_ms": 60.0}
    assert probe_gaps(rows, B) == {}
