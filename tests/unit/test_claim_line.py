"""The claim line: who claims a free region, and after how long."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from cluster import claim_line
from cluster.claim_line import claim_delay, claim_order

pytestmark = pytest.mark.timeout(30)

LINE = ("oslo", "innlandet", "vestre-viken")  # home, first backup, second backup
STAGGER = 0.2
GRACE = 10.0


def delay(me: str, *, last_owner: str = "", seen_owned: bool = True, **kw: float) -> float | None:
    timings = {"stagger_s": STAGGER, "grace_s": GRACE, **kw}
    return claim_delay(LINE, me, last_owner=last_owner, seen_owned=seen_owned, **timings)


def test_home_claims_at_once_and_each_backup_one_stagger_later() -> None:
    assert delay("oslo") == 0.0
    assert delay("innlandet") == pytest.approx(STAGGER)
    assert delay("vestre-viken") == pytest.approx(2 * STAGGER)


def test_delay_scales_with_the_stagger() -> None:
    assert delay("innlandet", stagger_s=1.5) == pytest.approx(1.5)
    assert delay("vestre-viken", stagger_s=1.5) == pytest.approx(3.0)
    assert delay("vestre-viken", stagger_s=0.0) == 0.0


def test_startup_grace_applies_to_backups_before_the_region_was_ever_seen_owned() -> None:
    assert delay("oslo", seen_owned=False) == 0.0  # the home centre never waits the grace
    assert delay("innlandet", seen_owned=False) == pytest.approx(STAGGER + GRACE)
    assert delay("vestre-viken", seen_owned=False) == pytest.approx(2 * STAGGER + GRACE)
    # Once the region has been seen owned, no grace.
    assert delay("innlandet", seen_owned=True) == pytest.approx(STAGGER)


def test_last_owner_goes_to_the_back_of_the_line() -> None:
    assert claim_order(LINE, "oslo") == ["innlandet", "vestre-viken", "oslo"]
    assert delay("innlandet", last_owner="oslo") == 0.0
    assert delay("vestre-viken", last_owner="oslo") == pytest.approx(STAGGER)
    assert delay("oslo", last_owner="oslo") == pytest.approx(2 * STAGGER)
    # A backup that lost the region lets the others go first, the home centre at once.
    assert delay("oslo", last_owner="innlandet") == 0.0
    assert delay("vestre-viken", last_owner="innlandet") == pytest.approx(STAGGER)
    assert delay("innlandet", last_owner="innlandet") == pytest.approx(2 * STAGGER)


def test_home_that_lost_the_region_keeps_no_grace_but_waits_its_turn() -> None:
    # The grace keys on the line's first (home) centre, not on the claim order.
    assert delay("oslo", last_owner="oslo", seen_owned=False) == pytest.approx(2 * STAGGER)
    assert delay("innlandet", last_owner="oslo", seen_owned=False) == pytest.approx(GRACE)


def test_last_owner_outside_the_line_changes_nothing() -> None:
    assert claim_order(LINE, "nord") == list(LINE)
    assert claim_order(LINE, "") == list(LINE)
    assert delay("oslo", last_owner="nord") == 0.0
    assert delay("innlandet", last_owner="nord") == pytest.approx(STAGGER)
    assert delay("vestre-viken", last_owner="nord") == pytest.approx(2 * STAGGER)


def test_a_centre_not_in_the_line_never_claims() -> None:
    assert delay("nord") is None
    assert delay("nord", last_owner="oslo", seen_owned=False) is None
    assert (
        claim_delay((), "oslo", last_owner="", seen_owned=False, stagger_s=0.2, grace_s=1.0) is None
    )


def test_negative_timings_are_refused() -> None:
    with pytest.raises(ValueError):
        delay("oslo", stagger_s=-0.1)
    with pytest.raises(ValueError):
        delay("oslo", grace_s=-1.0)


def test_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(claim_line.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
