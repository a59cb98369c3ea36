"""The access log review's rules (actors/domain/access_review.py), on made-up sums: what
is flagged and what is not."""

from __future__ import annotations

from actors.domain import access_review as r


def volume(user: str, records: int, role: str = "dispatcher", centre: str = "oslo"):
    return r.ReaderVolume(user, user.title(), role, centre, records, 100.0, 200.0)


def test_a_heavy_reader_is_measured_against_the_others_of_the_role() -> None:
    people = [volume("a", 40), volume("b", 60), volume("c", 50), volume("d", 400)]
    (flag,) = r.heavy_readers(people)
    assert (flag.kind, flag.user, flag.records) == ("heavy-reader", "d", 400)
    assert "median of 3" in flag.detail and "50" in flag.detail
    # The same 400 among people who all read about as much: nobody stands out.
    assert r.heavy_readers([volume("a", 350), volume("b", 380), volume("d", 400)]) == []
    # Another role's habits are not the yardstick: a supervisor alone flags nobody.
    assert r.heavy_readers([volume("a", 10), volume("s", 900, role="supervisor")]) == []
    # Nor another centre's: Oslo's busy dispatchers against Sørlandet's quiet ones.
    two = [volume("a", 300), volume("b", 320), volume("c", 40, centre="sorlandet")]
    assert r.heavy_readers([*two, volume("d", 30, centre="sorlandet")]) == []
    # Exactly three times the median is not above it.
    assert r.heavy_readers([volume("a", 50), volume("b", 50), volume("c", 150)]) == []
    assert [f.user for f in r.heavy_readers([volume("a", 50), volume("c", 151)])] == ["c"]


def test_a_small_count_is_no_finding_however_far_above_the_median() -> None:
    people = [volume("a", 1), volume("b", 2), volume("c", r.HEAVY_MIN - 1)]
    assert r.heavy_readers(people) == []
    people[-1] = volume("c", r.HEAVY_MIN)
    assert [f.user for f in r.heavy_readers(people)] == ["c"]


def test_findings_put_every_break_glass_first_then_heavy_readers_then_callers() -> None:
    uses = [
        r.BreakGlassUse("ola", "Ola", "dispatcher", "oslo", "storulykke", 3, 500.0, 600.0),
        r.BreakGlassUse("kari", "Kari", "call-taker", "innlandet", "overført", 1, 100.0, 100.0),
    ]
    least = r.SAME_CALLER_MIN
    callers = [
        r.SameCaller("per", "Per", "dispatcher", "oslo", "ab" * 16, least, 1.0, 9.0),
        r.SameCaller("liv", "Liv", "dispatcher", "oslo", "cd" * 16, least - 1, 1.0, 9.0),
    ]
    people = [volume("a", 10), volume("b", 12), volume("h", 300)]
    found = r.findings(uses, people, callers)
    assert [(f.kind, f.user) for f in found] == [
        ("break-glass", "kari"),
        ("break-glass", "ola"),
        ("heavy-reader", "h"),
        ("same-caller", "per"),
    ]
    assert found[1].reason == "storulykke" and found[1].records == 3
    assert "abababab" in found[3].detail and "ab" * 16 not in found[3].detail


def test_the_next_review_is_due_an_interval_after_the_last() -> None:
    day = 86400.0
    # Never reviewed: an interval after the oldest read logged; nothing logged: not due.
    assert r.due(None, 30, now=1000.0) == (1000.0 + 30 * day, False)
    assert r.due(None, 30, now=29 * day, logged_since=0.0) == (30 * day, False)
    assert r.due(None, 30, now=31 * day, logged_since=0.0) == (30 * day, True)
    # A review signed off counts from its period's end, not from the oldest read.
    assert r.due(0.0, 30, now=31 * day, logged_since=20 * day) == (30 * day, True)
    assert r.due(0.0, 30, now=29 * day) == (30 * day, False)
    assert r.due(0.0, 30, now=31 * day) == (30 * day, True)
