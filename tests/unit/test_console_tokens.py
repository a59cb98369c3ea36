"""The console room of drills, benchmarks and the load generator (clients/console_tokens.py):
a token per centre from the deployment's issuer, each region's serving centre as last
seen. Its retry after a region moved runs in the drills (tests/integration/test_drill.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.console_tokens import CALL_TAKER, SUPERVISOR, ConsoleRoom
from cluster.config import ClusterConfig
from cluster.errors import ConfigError
from cluster.tokens import TokenVerifier


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClusterConfig:
    for name in ("AMK_PKI", "AMK_AUTH", "AMK_INSECURE", "AMK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return ClusterConfig.load(home=tmp_path)


def test_each_region_goes_with_a_token_of_its_serving_centre(config: ClusterConfig) -> None:
    room = ConsoleRoom(config)
    verifier = TokenVerifier(
        config.oidc_issuer, config.oidc_audience, config.oidc_jwks_location(), 30
    )
    claims = verifier.verify(room.token_for("sorlandet", CALL_TAKER) or "")
    assert (claims.role, claims.centre) == (CALL_TAKER, "sorlandet")  # its home, at first
    room.set_owners(
        pb.ClusterStatus(regions=[pb.RegionStatus(id="sorlandet", owner_centre="vestre-viken")])
    )
    claims = verifier.verify(room.token_for("sorlandet", SUPERVISOR) or "")
    assert (claims.role, claims.centre) == (SUPERVISOR, "vestre-viken")
    assert room.metadata("sorlandet")[0][0] == "authorization"
    assert room.token("oslo") == room.token("oslo")  # issued once, until half its life


def test_a_region_failing_over_falls_back_to_its_home_and_watch_events_count(
    config: ClusterConfig,
) -> None:
    room = ConsoleRoom(config)
    room.set_owner("oslo", "innlandet")
    assert room.centre_of("oslo") == "innlandet"
    room.set_owners(pb.ClusterStatus(regions=[pb.RegionStatus(id="oslo", owner_centre="")]))
    assert room.centre_of("oslo") == "oslo"
    event = pb.WatchEvent(
        kind=pb.WatchEvent.KIND_REGION_OWNER_CHANGED,
        region_status=pb.RegionStatus(id="oslo", owner_centre="vestre-viken"),
    )
    room.note_event(event)
    assert room.centre_of("oslo") == "vestre-viken"


def test_no_tokens_with_auth_off_and_none_for_another_issuer(config: ClusterConfig) -> None:
    off = ConsoleRoom(config.model_copy(update={"auth": "off"}))
    assert off.token_for("oslo") is None and off.metadata("oslo") == ()
    helseid = config.model_copy(update={"oidc_jwks": Path("/etc/amk/helseid-jwks.json")})
    with pytest.raises(ConfigError, match="local issuer"):
        ConsoleRoom(helseid)
