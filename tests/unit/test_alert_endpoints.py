"""Where an alert goes (``ClusterConfig.alert_endpoint``): the most specific endpoint
configured (a municipality's legevakt, a region's 110 or 112, one for all), and the
checks on the keys, since a misspelt key would never match."""

from __future__ import annotations

import pytest

from cluster.config import ClusterConfig
from cluster.errors import ConfigError

ENDPOINTS = {
    "116117:0301": "http://oslo-legevakt",
    "116117:innlandet": "http://innlandet-legevakter",
    "110": "http://110",
    "110:innlandet": "http://110-innlandet",
}


def test_the_most_specific_endpoint_wins() -> None:
    config = ClusterConfig.load(alert_endpoints=ENDPOINTS)
    assert config.alert_endpoint("116117", "oslo", "0301") == (
        "116117:0301",
        "http://oslo-legevakt",
    )
    assert config.alert_endpoint("116117", "innlandet", "3403") == (
        "116117:innlandet",
        "http://innlandet-legevakter",
    )
    assert config.alert_endpoint("116117", "oslo", "") is None  # at sea, no region key
    assert config.alert_endpoint("110", "innlandet")[0] == "110:innlandet"
    assert config.alert_endpoint("110", "oslo", "0301")[0] == "110"  # then the service
    assert config.alert_endpoint("112", "oslo") is None


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("113", "names no service we alert"),
        ("legevakt", "names no service we alert"),
        ("116117:301", "a region of the seed or a kommunenummer"),
        ("110:Oslo", "a region of the seed or a kommunenummer"),
    ],
)
def test_a_key_that_would_never_match_is_refused(key: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        ClusterConfig.load(alert_endpoints={key: "http://x"})
