"""Sites in the configuration: claim lines of seats, and the checks on site names."""

from __future__ import annotations

import pytest

from cluster.claim_line import claim_order
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.ownership import OwnerRecord


def test_one_site_keeps_the_line_of_centres() -> None:
    config = ClusterConfig.load()
    region = config.seed.region("oslo")
    assert config.seats("oslo") == [f"{c}@main" for c in (region.home, *region.backups)]


def test_the_home_centre_in_each_site_comes_before_any_backup() -> None:
    config = ClusterConfig.load(site="b", sites=["a", "b"], centre_sites={"oslo": ["b", "a"]})
    line = config.seats("oslo")
    backups = config.seed.region("oslo").backups
    assert line[:2] == ["oslo@b", "oslo@a"]  # Oslo's own order
    assert line[2:4] == [f"{backups[0]}@a", f"{backups[0]}@b"]  # the sites' order
    assert len(line) == 2 * (1 + len(backups))
    # A site lost: its seat goes to the back after its loss, as a lost centre did.
    assert claim_order(line, "oslo@b")[0] == "oslo@a"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"site": "c", "sites": ["a", "b"]}, "is not in sites"),
        ({"site": "a", "sites": ["a", "a"]}, "twice"),
        ({"site": "a", "sites": ["a", "B"]}, "bad site name"),
        ({"site": "a", "sites": ["a", "b"], "centre_sites": {"oslo": ["a"]}}, "every site"),
    ],
)
def test_bad_sites_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ClusterConfig.load(**settings)


def test_owner_records_name_their_site_and_old_ones_read_as_the_one_site() -> None:
    new = OwnerRecord("oslo", "oslo-1", 7, 0.0, "127.0.0.1:1", "b")
    assert OwnerRecord.decode(new.encode()) == new and new.seat("a") == "oslo@b"
    old = OwnerRecord.decode(b'{"centre": "oslo", "instance": "i", "lease": 1, "since": 0}')
    assert old.site == "" and old.seat("main") == "oslo@main"
    assert b"site" not in OwnerRecord("oslo", "i", 1, 0.0).encode()
